// The bodies the service reads: JSON, and nothing where a route needs no body. A POST without a body (completion
// from a browser, `curl -X POST -d ''`) is not an error whatever its Content-Type; any other body that is not JSON
// (a form, text) is refused with UNSUPPORTED_MEDIA_TYPE, saying what the route expects. The development upload
// route adds its own multipart parser, which takes precedence.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { appError } from '../errors.js'
import { expectedBody, sentAs } from './fastify-errors.js'

const isEmpty = (req: FastifyRequest) => req.headers['transfer-encoding'] === undefined &&
  (req.headers['content-length'] === undefined || req.headers['content-length'] === '0')

export function installBodyParsers (app: FastifyInstance): void {
  // Fastify's own parser for the rest (with its prototype-poisoning guard).
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '') { done(null, undefined); return }
    parseJson(req, body as string, done)
  })
  // Fastify reads text/plain as a string, which a route's schema then refuses as "body must be object".
  app.removeContentTypeParser('text/plain')
  app.addContentTypeParser('*', (req, _payload, done) => {
    if (isEmpty(req)) { done(null, undefined); return }
    done(appError('UNSUPPORTED_MEDIA_TYPE', `it came as ${sentAs(req)}; ${expectedBody(req)}`), undefined)
  })
}
