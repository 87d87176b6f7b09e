// The bodies the service reads: JSON, and nothing where a route needs no body. A POST without a body (completion
// from a browser, `curl -X POST -d ''`) is not an error whatever its Content-Type; any other body that is not JSON
// (a form, text) is refused with UNSUPPORTED_MEDIA_TYPE, saying what the route expects. The development upload
// route adds its own multipart parser, which takes precedence.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { appError } from '../errors.js'
import { expectedBody, sentAs } from './fastify-errors.js'

// JSON is UTF-8 (RFC 8259); Fastify would decode any other charset as UTF-8 and answer with a misleading parse error.
const UTF8 = new Set(['utf-8', 'utf8', 'us-ascii'])
const charsetOf = (type = '') => /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(type)?.[1]?.toLowerCase()

const isEmpty = (req: FastifyRequest) => req.headers['transfer-encoding'] === undefined &&
  (req.headers['content-length'] === undefined || req.headers['content-length'] === '0')

export function installBodyParsers (app: FastifyInstance): void {
  // Fastify's own parser for the rest (with its prototype-poisoning guard).
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '') { done(null, undefined); return }
    const charset = charsetOf(req.headers['content-type'])
    if (charset !== undefined && !UTF8.has(charset)) {
      done(appError('UNSUPPORTED_MEDIA_TYPE', `it came as application/json in charset ${charset}; JSON is read in UTF-8 only: send it in UTF-8 (charset=utf-8, or no charset)`), undefined)
      return
    }
    parseJson(req, body as string, done)
  })
  // Fastify reads text/plain as a string, which a route's schema then refuses as "body must be object".
  app.removeContentTypeParser('text/plain')
  app.addContentTypeParser('*', (req, _payload, done) => {
    if (isEmpty(req)) { done(null, undefined); return }
    done(appError('UNSUPPORTED_MEDIA_TYPE', `it came as ${sentAs(req)}; ${expectedBody(req)}`), undefined)
  })
}
