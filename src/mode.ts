// The service's mode, from the environment alone: the entry point (server.ts) reads it before anything else is
// loaded, so it lives apart from config.ts and its schema library.
export type Mode = 'development' | 'production'

// As config.ts reads variables: surrounding spaces trimmed, an empty value counts as unset.
const value = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim())

export function modeOf (env: { ENVIRONMENT?: string | undefined, DEBUG?: string | undefined }): Mode {
  const environment = value(env.ENVIRONMENT)
  if (environment !== undefined) return environment.toLowerCase() === 'production' ? 'production' : 'development'
  const debug = value(env.DEBUG)
  return debug !== undefined && /^(false|0)$/i.test(debug) ? 'production' : 'development'
}
