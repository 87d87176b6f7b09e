// The one error handler: catalogue errors keep their code and message; validation errors name the field;
// Fastify's own refusals get catalogue codes (fastify-errors.ts); anything unexpected is logged and answered with a
// generic 500 that echoes nothing internal.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, appError, errorBody, ErrorCodes } from '../errors.js'
import { bodyNotAnObject, codeForStatus, fromFastifyError } from './fastify-errors.js'
import type { RouteMethods } from './route-methods.js'

export function errorHandler (err: FastifyError | AppError, req: FastifyRequest, reply: FastifyReply) {
  const known = err instanceof AppError ? err : fromFastifyError(err, req) ?? validationError(err, req)
  if (known !== undefined) {
    if (known.statusCode >= 500 && known.code !== 'BUSY') req.log.error({ err }, 'request failed')
    if (known.retryAfter !== undefined) reply.header('retry-after', String(known.retryAfter))
    return reply.code(known.statusCode).send(errorBody(known.statusCode, known.code, known.message))
  }
  const fe = err as FastifyError
  const status = typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 600 ? fe.statusCode : isUnavailable(fe) ? 503 : 500
  // A plugin's client error (a static file's range or condition): the catalogue's code and words for its status.
  if (status < 500) {
    const code = codeForStatus(status)
    return reply.code(status).send(errorBody(status, code, ErrorCodes[code].status === status ? ErrorCodes[code].message : fe.message))
  }
  req.log.error({ err }, 'request failed')
  const code = status === 503 ? 'UNAVAILABLE' : 'INTERNAL'
  return reply.code(status).send(errorBody(status, code, ErrorCodes[code].message))
}

/** A schema validation failure: the first field named, or the body said to be no JSON object at all. */
function validationError (fe: FastifyError, req: FastifyRequest): AppError | undefined {
  if (fe.validation === undefined) return undefined
  const first = fe.validation[0]
  const where = fe.validationContext ?? 'request'
  if (where === 'body' && !first?.instancePath && first?.keyword === 'type') return bodyNotAnObject(req)
  const field = first?.instancePath ? `${where}${first.instancePath}` : where
  const extra = first?.keyword === 'additionalProperties' ? ` "${String((first.params as { additionalProperty?: string }).additionalProperty)}"` : ''
  return Object.assign(appError('VALIDATION'), { message: `${field} ${first?.message ?? 'is invalid'}${extra}` })
}

/**
 * No route for this method and path: 405 with Allow when the path has routes for other methods, else 404.
 */
export function notFoundHandler (routes: RouteMethods) {
  return function notFound (req: FastifyRequest, reply: FastifyReply) {
    const path = req.url.split('?')[0] ?? '/'
    const allowed = routes.allowed(path)
    if (allowed.length > 0 && !allowed.includes(req.method)) {
      const err = appError('METHOD_NOT_ALLOWED', `${path} takes ${allowed.join(', ')}, not ${req.method}`)
      return reply.code(405).header('allow', allowed.join(', ')).send(errorBody(405, err.code, err.message))
    }
    return reply.code(404).send(errorBody(404, 'NOT_FOUND', `no route for ${req.method} ${path}; see /docs`))
  }
}

// A dependency that cannot be reached (database down, network reset) is worth a retry: 503, not 500.
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', '57P01', '57P03', '08000', '08001', '08003', '08006'])
function isUnavailable (err: { code?: string, message?: string, $retryable?: unknown, $metadata?: { httpStatusCode?: number } }): boolean {
  return (err.code !== undefined && (UNREACHABLE.has(err.code) || err.code.startsWith('SQLITE_BUSY'))) ||
    // AWS SDK: throttling and S3's own 5xx.
    err.$retryable !== undefined || (err.$metadata?.httpStatusCode ?? 0) >= 500 ||
    /Connection terminated|timeout exceeded when trying to connect/i.test(err.message ?? '')
}
