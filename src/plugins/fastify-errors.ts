// Fastify's own refusals (a body no parser takes, JSON that does not parse, a body over the limit, a URL that does
// not decode) carry FST_ codes that name Fastify's internals: clients get the catalogue's codes instead, with a
// message that says what the route expects.
import type { FastifyError, FastifyRequest } from 'fastify'
import { AppError, appError, type ErrorCode } from '../errors.js'

interface BodySchema { properties?: Record<string, unknown>, required?: string[] }

const words = (names: string[]) => names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`

/** What the route takes as its body, in words, from its schema. */
export function expectedBody (req: FastifyRequest): string {
  const body = req.routeOptions.schema?.body as BodySchema | undefined
  if (body?.properties === undefined) return 'this endpoint needs no body: send none'
  const required = body.required ?? []
  const optional = Object.keys(body.properties).filter((name) => !required.includes(name))
  return `expected: an object with ${words(required)}${optional.length > 0 ? ` (and optionally ${words(optional)})` : ''}`
}

/** The body's media type as sent (without parameters), for the message. */
export const sentAs = (req: FastifyRequest) => String(req.headers['content-type'] ?? '').split(';')[0]?.trim().slice(0, 100) || 'no type'

const KNOWN: Record<string, (req: FastifyRequest) => AppError> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (req) => appError('UNSUPPORTED_MEDIA_TYPE', `it came as ${sentAs(req)}; ${expectedBody(req)}`),
  FST_ERR_CTP_INVALID_JSON_BODY: (req) => appError('BODY_INVALID', `it is not valid JSON; ${expectedBody(req)}`),
  FST_ERR_CTP_EMPTY_JSON_BODY: (req) => appError('BODY_INVALID', `it is empty; ${expectedBody(req)}`),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => appError('BODY_INVALID', 'its length differs from its Content-Length header'),
  FST_ERR_CTP_BODY_TOO_LARGE: (req) => appError('BODY_TOO_LARGE', `at most ${req.routeOptions.bodyLimit ?? 'the limit of'} bytes`),
  FST_ERR_BAD_URL: () => appError('BAD_URL')
}

/** Catalogue codes for client errors without an entry of their own (from plugins), by status. */
const BY_STATUS: Partial<Record<number, ErrorCode>> = {
  403: 'FORBIDDEN', 404: 'NOT_FOUND', 405: 'METHOD_NOT_ALLOWED', 412: 'PRECONDITION_FAILED', 413: 'BODY_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE', 416: 'RANGE_NOT_SATISFIABLE', 429: 'RATE_LIMITED'
}

/** A catalogue error for one of Fastify's refusals; undefined when it is not one. */
export function fromFastifyError (err: FastifyError, req: FastifyRequest): AppError | undefined {
  return typeof err.code === 'string' ? KNOWN[err.code]?.(req) : undefined
}

/** The catalogue code a client error of `status` is answered with when nothing more precise is known. */
export const codeForStatus = (status: number): ErrorCode => BY_STATUS[status] ?? 'BAD_REQUEST'

/** A JSON body that is not an object at all (missing, an array, a string): said as such, not as a failed field. */
export function bodyNotAnObject (req: FastifyRequest): AppError {
  const body: unknown = req.body
  const what = body === undefined ? 'it is missing' : body === null ? 'it is null' : Array.isArray(body) ? 'it is an array' : `it is a ${typeof body}`
  return appError('BODY_INVALID', `${what}; ${expectedBody(req)}`)
}
