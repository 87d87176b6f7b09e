// pino options: JSON logs with request ids; credentials never reach a log line.
import type { FastifyServerOptions } from 'fastify'

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["webhook-signature"]',
  'headers.authorization',
  'headers["webhook-signature"]',
  '*.secretAccessKey',
  '*.sessionToken',
  '*.signingSecret',
  '*.secrets',
  '*.Policy',
  '*["X-Amz-Signature"]',
  '*["X-Amz-Security-Token"]'
]

// Upload ids are completion credentials: logged URLs keep only a prefix.
const maskUploadIds = (url: string) => url.replace(/(upl_[A-Za-z0-9_-]{4})[A-Za-z0-9_-]+/g, '$1…')

export function loggerOptions (level: string): NonNullable<FastifyServerOptions['logger']> {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      req: (req: { method: string, url: string, id: string, ip?: string }) => ({ method: req.method, url: maskUploadIds(req.url), id: req.id, ip: req.ip })
    }
  }
}
