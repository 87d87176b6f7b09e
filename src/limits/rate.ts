// A rate as operators write it (TICKET_RATE_LIMIT, BROWSER_RATE_LIMIT): `N/30s`, `N/10m`, `N/1h`, `N/1d`
// (the count before the unit may be left out: `120/m`), or `0` for no limit.

export interface Rate {
  /** Requests allowed per window. */
  max: number
  windowMs: number
  /** The window in words: "30 minutes", "minute". */
  window: string
}

export const RATE_MAX = 1_000_000
const WINDOW_MAX_MS = 7 * 86_400_000

const UNITS: Record<string, { ms: number, name: string }> = {
  s: { ms: 1000, name: 'second' },
  m: { ms: 60_000, name: 'minute' },
  h: { ms: 3_600_000, name: 'hour' },
  d: { ms: 86_400_000, name: 'day' }
}

/** What the variable expects, in words, for configuration errors. */
export const RATE_SYNTAX = `a rate like 30/30m: requests (1 to ${RATE_MAX}) per window of seconds, minutes, hours or days ` +
  '(N/30s, N/10m, N/1h, N/1d; from 1 second to 7 days), or 0 for no limit'

/** The rate, null for `0` (no limit), or undefined when the text is not a rate. */
export function parseRate (text: string): Rate | null | undefined {
  const trimmed = text.trim()
  if (trimmed === '0') return null
  const m = /^(\d{1,7})\s*\/\s*(\d{0,6})\s*([smhd])$/i.exec(trimmed)
  if (m === null) return undefined
  const max = Number(m[1])
  const count = m[2] === '' ? 1 : Number(m[2])
  const unit = UNITS[(m[3] as string).toLowerCase()] as { ms: number, name: string }
  const windowMs = count * unit.ms
  if (max < 1 || max > RATE_MAX || count < 1 || windowMs > WINDOW_MAX_MS) return undefined
  return { max, windowMs, window: count === 1 ? unit.name : `${count} ${unit.name}s` }
}
