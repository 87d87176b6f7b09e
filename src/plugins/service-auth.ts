// Bearer service tokens for internal endpoints. Several tokens are accepted at once so they can be rotated.
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import { createHash, timingSafeEqual } from 'node:crypto'
import type { Config } from '../config.js'
import { appError } from '../errors.js'

// Compared as SHA-256 digests: equal lengths for timingSafeEqual, and no early exit on length.
const digest = (s: string) => createHash('sha256').update(s).digest()

export function serviceAuth (config: Config, log: FastifyBaseLogger) {
  const tokens = config.serviceTokens.map(digest)
  if (tokens.length === 0) {
    log.warn('SERVICE_TOKENS is unset: internal endpoints are open (development only)')
    return async () => {}
  }
  return async (req: FastifyRequest, _reply: FastifyReply) => {
    const header = req.headers.authorization
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null
    if (match === null) throw appError('UNAUTHORIZED')
    const given = digest(match[1] ?? '')
    let ok = false
    for (const t of tokens) ok = timingSafeEqual(t, given) || ok
    if (!ok) throw appError('UNAUTHORIZED')
  }
}
