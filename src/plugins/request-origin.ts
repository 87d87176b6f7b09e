// The origin a client reached this instance at (scheme and Host; X-Forwarded-Proto/-Host only from TRUST_PROXY's
// proxies, as Fastify reads them): where a page served by the service, or its API docs, can call it back.
import type { FastifyRequest } from 'fastify'

// A host name, IPv4 or bracketed IPv6 address, with an optional port: anything else is not echoed back.
const HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

/** `http://127.0.0.1:3000`, or undefined when the request's Host is missing or not a plain host. */
export function requestOrigin (req: FastifyRequest): string | undefined {
  const host = req.host
  return typeof host === 'string' && HOST.test(host) ? `${req.protocol}://${host}` : undefined
}
