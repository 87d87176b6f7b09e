// The service's mode, from the environment alone: the entry point (server.ts) reads it before anything else is
// loaded, so it lives apart from config.ts and its schema library. Also the boolean words every variable takes.
export type Mode = 'development' | 'production'

/** A mistyped mode (ENVIRONMENT=prod) or DEBUG value: the start stops, naming the variable (config.ts reports it). */
export class ModeError extends Error {
  override name = 'ModeError'
  constructor (readonly variable: 'ENVIRONMENT' | 'DEBUG', message: string) {
    super(`${variable}: ${message}`)
  }
}

/** The boolean words of every boolean variable (DEBUG included), any case. */
export const BOOLEAN_WORDS = 'true, false, yes, no, 1 or 0'

/** true, false, or undefined when `raw` is not one of the boolean words. */
export function booleanOf (raw: string): boolean | undefined {
  if (/^(true|1|yes)$/i.test(raw)) return true
  if (/^(false|0|no)$/i.test(raw)) return false
  return undefined
}

// As config.ts reads variables: surrounding spaces trimmed, an empty value counts as unset.
const value = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim())

/**
 * ENVIRONMENT (production or development, any case), else DEBUG (a false boolean → production). Throws a ModeError
 * for any other ENVIRONMENT, and for a DEBUG that is not a boolean when it decides: a mistyped production setting
 * must never quietly run development mode. With ENVIRONMENT set, DEBUG decides nothing and is not read.
 */
export function modeOf (env: { ENVIRONMENT?: string | undefined, DEBUG?: string | undefined }): Mode {
  const environment = value(env.ENVIRONMENT)
  if (environment !== undefined) {
    const mode = environment.toLowerCase()
    if (mode === 'production' || mode === 'development') return mode
    throw new ModeError('ENVIRONMENT', `"${environment}" is neither production nor development; set ENVIRONMENT=production (S3) or ENVIRONMENT=development (the local folder), any case, or leave it unset to let DEBUG decide`)
  }
  const debug = value(env.DEBUG)
  if (debug === undefined) return 'development'
  const on = booleanOf(debug)
  if (on === undefined) throw new ModeError('DEBUG', `"${debug}" is not a boolean: ${BOOLEAN_WORDS}; with ENVIRONMENT unset, a false DEBUG means production, a true one development`)
  return on ? 'development' : 'production'
}
