// Bearer service tokens for internal endpoints. Several tokens are accepted at once so they can be rotated.
import type { FastifyBaseLogger, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { timingSafeEqual } from 'node:crypto'
import type { Config } from '../config.js'
import { appError } from '../errors.js'

type Hook = (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void

/**
 * Compares a presented token with every configured one in constant time: each is zero-padded to the longest, the
 * presented one is written into a buffer of that width, and lengths are compared as numbers. The work does not
 * depend on where, or whether, the bytes differ. (No digest per request: hashing cost more than the rest of
 * the check.)
 */
export function tokenMatcher (tokens: readonly string[]): (given: string) => boolean {
  const width = Math.max(0, ...tokens.map((t) => Buffer.byteLength(t)))
  const padded = tokens.map((t) => ({ bytes: Buffer.concat([Buffer.from(t), Buffer.alloc(width - Buffer.byteLength(t))]), length: Buffer.byteLength(t) }))
  const scratch = Buffer.alloc(width)
  return (given) => {
    scratch.fill(0)
    scratch.write(given)
    const length = Buffer.byteLength(given)
    let ok = false
    for (const t of padded) ok = (timingSafeEqual(t.bytes, scratch) && t.length === length) || ok
    return ok
  }
}

/** A callback hook, not an async one: no promise per request on the hot path. */
export function serviceAuth (config: Config, log: FastifyBaseLogger): Hook {
  if (config.serviceTokens.length === 0) {
    log.warn('SERVICE_TOKENS is unset: internal endpoints are open (development only)')
    return (_req, _reply, done) => { done() }
  }
  const matches = tokenMatcher(config.serviceTokens)
  return (req, _reply, done) => {
    const header = req.headers.authorization
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null
    done(match !== null && matches(match[1] ?? '') ? undefined : appError('UNAUTHORIZED'))
  }
}
