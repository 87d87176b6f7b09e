// The one error handler: catalogue errors keep their code and message; validation errors name the field;
// anything unexpected is logged and answered with a generic 500 that echoes nothing internal.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, errorBody, ErrorCodes } from '../errors.js'

export function errorHandler (err: FastifyError | AppError, req: FastifyRequest, reply: FastifyReply) {
  if (err instanceof AppError) {
    if (err.statusCode >= 500 && err.code !== 'BUSY') req.log.error({ err }, 'request failed')
    if (err.retryAfter !== undefined) reply.header('retry-after', String(err.retryAfter))
    return reply.code(err.statusCode).send(errorBody(err.statusCode, err.code, err.message))
  }
  const fe = err as FastifyError
  if (fe.validation !== undefined) {
    const first = fe.validation[0]
    const where = fe.validationContext ?? 'request'
    const field = first?.instancePath ? `${where}${first.instancePath}` : where
    const extra = first?.keyword === 'additionalProperties' ? ` "${String((first.params as { additionalProperty?: string }).additionalProperty)}"` : ''
    const message = `${field} ${first?.message ?? 'is invalid'}${extra}`
    return reply.code(400).send(errorBody(400, 'VALIDATION', message))
  }
  const status = typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 600 ? fe.statusCode : isUnavailable(fe) ? 503 : 500
  if (status < 500) return reply.code(status).send(errorBody(status, fe.code ?? 'BAD_REQUEST', fe.message))
  req.log.error({ err }, 'request failed')
  const code = status === 503 ? 'UNAVAILABLE' : 'INTERNAL'
  return reply.code(status).send(errorBody(status, code, ErrorCodes[code].message))
}

export function notFoundHandler (req: FastifyRequest, reply: FastifyReply) {
  return reply.code(404).send(errorBody(404, 'NOT_FOUND', `no route for ${req.method} ${req.url.split('?')[0]}; see /docs`))
}

// A dependency that cannot be reached (database down, network reset) is worth a retry: 503, not 500.
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', '57P01', '57P03', '08000', '08001', '08003', '08006'])
function isUnavailable (err: { code?: string, message?: string, $retryable?: unknown, $metadata?: { httpStatusCode?: number } }): boolean {
  return (err.code !== undefined && (UNREACHABLE.has(err.code) || err.code.startsWith('SQLITE_BUSY'))) ||
    // AWS SDK: throttling and S3's own 5xx.
    err.$retryable !== undefined || (err.$metadata?.httpStatusCode ?? 0) >= 500 ||
    /Connection terminated|timeout exceeded when trying to connect/i.test(err.message ?? '')
}
