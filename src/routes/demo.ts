// The demo page (on by default in development, DEMO=true elsewhere): a profile-settings form running the
// reference browser code of src/demo/. Its POST /demo/ticket stands in for the main backend, which in a real
// deployment holds the service token and calls POST /v1/uploads; a browser never holds that token. The ticket
// endpoint is unauthenticated, which is why the demo is off in production unless asked for.
import { Type } from '@sinclair/typebox'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { requestOrigin } from '../plugins/request-origin.js'
import { formatNames, formatOfType } from '../uploads/formats.js'
import { errors } from './schemas.js'

/** Every demo upload belongs to this owner, so each new one replaces the previous (as for a real person). */
export const DEMO_OWNER = 'demo-user'

// src/demo/ next to src/routes/ under tsx; dist/demo/ next to dist/routes/ after `npm run build` copies it.
const ASSETS = new URL('../demo/', import.meta.url)
const JS = 'text/javascript; charset=utf-8'
/** Served at /demo/{name}: the page's own files, and the ThumbHash decoder from the package the pipeline encodes with. */
const ASSET_FILES: Record<string, { type: string, file: URL | string }> = {
  'upload-form.js': { type: JS, file: new URL('upload-form.js', ASSETS) },
  'error-words.js': { type: JS, file: new URL('error-words.js', ASSETS) },
  // Resolved like an import from this file, so it is node_modules/thumbhash/ under tsx and after a build alike.
  'thumbhash.js': { type: JS, file: createRequire(import.meta.url).resolve('thumbhash') },
  'demo.css': { type: 'text/css; charset=utf-8', file: new URL('demo.css', ASSETS) }
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const demoRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { maxBytes, allowedContentTypes } = app.config.upload
  const mb = maxBytes / (1024 * 1024)
  const values: Record<string, string> = {
    maxBytes: String(maxBytes),
    types: allowedContentTypes.join(','),
    typeNames: formatNames(allowedContentTypes),
    // error-words.js runs in the browser: it gets the people's names of the accepted types from the format table.
    typeNamesJson: JSON.stringify(Object.fromEntries(allowedContentTypes.map((t) => [t, formatOfType(t)?.name ?? t]))),
    maxSize: mb >= 1 ? `${Number(mb.toFixed(1))} MB` : `${Math.ceil(maxBytes / 1024)} KB`
  }
  const template = await readFile(new URL('index.html', ASSETS), 'utf8')
  const page = template.replace(/\{\{(\w+)\}\}/g, (_m, name: string) => escapeHtml(values[name] ?? ''))
  const assets = new Map(await Promise.all(Object.entries(ASSET_FILES).map(async ([name, { type, file }]) =>
    [name, { type, body: await readFile(file) }] as const)))
  const origins = app.objects.browserOrigins().join(' ')
  // Whether the service takes the form itself at PUBLIC_BASE_URL/uploads, without a path before it (behind a proxy
  // that adds one, the page's own address may not lead to the service's /uploads): see POST /demo/ticket.
  const ownForm = app.objects.kind === 'local' && new URL(app.config.publicBaseUrl).pathname === '/'
  // No inline script or style anywhere, so the policy can be strict. Images: the chosen file's preview (blob:),
  // the ThumbHash placeholder the page decodes (data:) and the storage's.
  const csp = `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data: ${origins}; connect-src 'self' ${origins}; ` +
    "form-action 'none'; base-uri 'none'; frame-ancestors 'none'"

  app.get('/demo', { schema: { hide: true } }, async (_req, reply) => {
    return await reply
      .header('content-security-policy', csp)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(page)
  })

  app.get('/demo/:asset', {
    schema: { hide: true, params: Type.Object({ asset: Type.String() }) }
  }, async (req, reply) => {
    const asset = assets.get(req.params.asset)
    if (asset === undefined) return await reply.callNotFound()
    return await reply
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-cache')
      .type(asset.type)
      .send(asset.body)
  })

  app.post('/demo/ticket', {
    // No token, so counted as a browser endpoint (per client address), not per owner: every demo upload has one.
    onRequest: app.limits.browser,
    schema: {
      hide: true,
      body: Type.Object({
        contentType: Type.String({ minLength: 1, maxLength: 100 }),
        contentLength: Type.Integer({ minimum: 1 })
      }, { additionalProperties: false }),
      response: { 201: Type.Ref('UploadTicket'), ...errors(400, 413, 415, 429) }
    }
  }, async (req, reply) => {
    reply.code(201)
    const ticket = await app.uploads.create({ ownerId: DEMO_OWNER, ...req.body })
    // The service takes the form itself (development): the page posts it back to the address it was opened at
    // (127.0.0.1, a LAN address), which reaches this instance, rather than PUBLIC_BASE_URL's (by default
    // localhost), which would be another origin that CORS_ORIGINS does not list. The signed fields name no host.
    const origin = ownForm ? requestOrigin(req) : undefined
    return origin === undefined ? ticket : { ...ticket, upload: { ...ticket.upload, url: `${origin}/uploads` } }
  })
}
export default demoRoutes
