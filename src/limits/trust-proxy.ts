// TRUST_PROXY → Fastify's `trustProxy`: whose X-Forwarded-For is believed for the client address (req.ip), and so
// which rate-limit bucket a browser request counts in. Unset, the socket's address counts: a client cannot pick
// its own bucket by sending the header.
import { isIP } from 'node:net'

export type TrustProxy = boolean | number | string[]

/** proxy-addr's names for address ranges. */
const NAMED = new Set(['loopback', 'linklocal', 'uniquelocal'])
export const HOPS_MAX = 100

export const TRUST_PROXY_SYNTAX = `true (every proxy), a hop count (1 to ${HOPS_MAX}), or comma-separated proxy addresses or CIDRs ` +
  '(10.0.0.0/8, 2001:db8::/32, loopback, linklocal, uniquelocal)'

function isAddressOrRange (entry: string): boolean {
  if (NAMED.has(entry)) return true
  const [address = '', prefix, ...rest] = entry.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return false
  if (prefix === undefined) return true
  // A mask (255.255.0.0) or a prefix length within the family's width.
  if (family === 4 && isIP(prefix) === 4) return true
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128)
}

/** The setting, or undefined when the text is not one. `false` and `0` turn it off. */
export function parseTrustProxy (text: string | undefined): TrustProxy | undefined {
  const value = (text ?? '').trim()
  if (value === '' || /^(false|no|0)$/i.test(value)) return false
  if (/^(true|yes)$/i.test(value)) return true
  if (/^\d+$/.test(value)) return Number(value) <= HOPS_MAX ? Number(value) : undefined
  const entries = value.split(',').map((s) => s.trim()).filter(Boolean)
  return entries.length > 0 && entries.every(isAddressOrRange) ? entries : undefined
}
