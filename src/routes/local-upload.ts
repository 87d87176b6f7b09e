// Development: the browser posts the same multipart form it would post to S3. The form's fields are checked
// against the signed policy before a byte is written; the file streams to a temporary file that becomes the
// (private) staging object only when complete, within the size range and the whole form accepted. Anything refused
// leaves nothing behind, and what an earlier post of the same form staged stays, as on S3.
// The answers are S3's own (s3-answers.ts): an XML PostResponse, or S3's status and XML Error.
import multipart from '@fastify/multipart'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { AppError, appError } from '../errors.js'
import { formCap, formCapBytes } from '../limits/form-cap.js'
import type { LocalStorage, ReceivedFile } from '../objects/local.js'
import type { VerifiedPolicy } from '../objects/post-policy.js'
import { errorDoc, postResponseDoc, s3ErrorHandler, sendPostResponse } from './s3-answers.js'
import { RATE_LIMIT_HEADERS } from './schemas.js'

const localUploadRoute: FastifyPluginAsyncTypebox<{ storage: LocalStorage }> = async (app, opts) => {
  const { storage } = opts
  await app.register(multipart, {
    limits: {
      fields: 20,
      fieldSize: 16 * 1024,
      // One more than allowed so a second file part is seen and refused instead of silently dropped.
      files: 2,
      // A backstop: the policy's own range is enforced while streaming.
      fileSize: app.config.upload.maxBytes + 1,
      parts: 30
    }
  })

  app.post('/uploads', {
    // S3's XML answers for this route only; every other route keeps the JSON error shape.
    errorHandler: s3ErrorHandler,
    // Before a byte of the body is read: BROWSER_RATE_LIMIT per client address, then the form's total size.
    onRequest: [...app.limits.browser, formCap(app.config.upload.maxBytes)],
    schema: {
      operationId: 'postUploadForm',
      tags: ['development'],
      summary: 'Development upload endpoint (the local stand-in for the S3 bucket)',
      description: 'multipart/form-data: every field of upload.fields, then one part named "file". Answers exactly as S3 does ' +
        'for success_action_status=201, so browser code written against S3 runs unchanged: 201 with an XML PostResponse ' +
        '(Location, Bucket, Key, ETag) and the ETag and Location headers; refusals carry S3\'s status and an XML Error with ' +
        'S3\'s Code, and a Message that adds what was wrong and what is expected. Key is the posted key, a private staging ' +
        'key that is never served; ETag is an opaque tag of the posted bytes in S3\'s shape (their CRC-32 and length; not an MD5, as S3\'s is not for encrypted or multipart objects). Unlike S3, whose Location is the URL of that ' +
        'staging object, Location is the URL the image will have once `POST /v1/uploads/{uploadId}/complete` has checked ' +
        'and published it (it answers 404 until then). A repeat post of a still-valid form replaces the staged bytes, as on S3. ' +
        `The form must come with a Content-Length of at most MAX_UPLOAD_BYTES + ${formCapBytes(0)} bytes (fields and file together), ` +
        'checked before the body is read; posts count against BROWSER_RATE_LIMIT per client address (default 120 per minute, with completion).',
      consumes: ['multipart/form-data'],
      response: {
        201: postResponseDoc('stored at the private staging key (S3\'s PostResponse)'),
        400: errorDoc('EntityTooLarge, EntityTooSmall, InvalidArgument (a field missing, or not exactly one file), InvalidPolicyDocument, MalformedPOSTRequest, MaxPostPreDataLengthExceeded', 'ENTITY_TOO_LARGE', 'at most 5242880 bytes'),
        403: errorDoc('AccessDenied (the form breaks the signed policy, or it expired), SignatureDoesNotMatch', 'POLICY_EXPIRED', 'it expired at 2026-11-28T08:10:00.000Z'),
        411: errorDoc('MissingContentLength: the body was sent without Content-Length (chunked)', 'LENGTH_REQUIRED'),
        412: errorDoc('PreconditionFailed: the body is not multipart/form-data', 'NOT_MULTIPART'),
        413: errorDoc('EntityTooLarge: Content-Length is over MAX_UPLOAD_BYTES plus room for the fields; refused before the body is read', 'FORM_TOO_LARGE', `Content-Length is 2147483648 bytes; at most ${formCapBytes(5242880)} are accepted`),
        500: errorDoc('InternalError (no detail: the cause is logged)', 'INTERNAL'),
        503: { ...errorDoc('SlowDown: rate limited (BROWSER_RATE_LIMIT per client address); retry after Retry-After seconds', 'RATE_LIMITED', 'at most 120 requests per minute per client address on the browser endpoints (BROWSER_RATE_LIMIT)'), headers: RATE_LIMIT_HEADERS }
      }
    }
  }, async (req, reply) => {
    if (!req.isMultipart()) throw appError('NOT_MULTIPART')
    const form: Record<string, string> = {}
    let stored: { policy: VerifiedPolicy, file: ReceivedFile } | undefined
    try {
      for await (const part of req.parts()) {
        if (part.type === 'field') {
          // S3 ignores fields after the file; so does this endpoint.
          if (stored === undefined) form[part.fieldname] = String(part.value)
          continue
        }
        if (stored !== undefined || part.fieldname !== 'file') throw appError('TOO_MANY_FILES')
        const policy = storage.verify(form)
        stored = { policy, file: await storage.receive(policy.key, part.file, policy.minBytes, Math.min(policy.maxBytes, app.config.upload.maxBytes)) }
      }
    } catch (err) {
      // Nothing was staged yet: what an earlier post of this form staged stays, as on S3.
      await stored?.file.discard()
      // The rest of a refused body is not read: the connection closes after the answer (s3ErrorHandler).
      app.metrics.uploads.inc({ outcome: 'refused' })
      throw asUploadError(err)
    }
    if (stored === undefined) throw appError('NO_FILE')
    await stored.file.commit()
    app.metrics.uploads.inc({ outcome: 'stored' })
    req.log.info({ key: stored.policy.key, size: stored.file.size }, 'stored development upload')
    const { key, bucket } = stored.policy
    return await sendPostResponse(req, reply, { location: storage.publicUrl(key), bucket, key, etag: stored.file.etag })
  })
}
export default localUploadRoute

/** Maps multipart's own limit and parse errors to the catalogue. */
function asUploadError (err: unknown): unknown {
  if (err instanceof AppError) return err
  const code = (err as { code?: string }).code
  if (code === 'FST_REQ_FILE_TOO_LARGE') return appError('ENTITY_TOO_LARGE')
  if (code === 'FST_FILES_LIMIT') return appError('TOO_MANY_FILES')
  if (code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') return appError('FORM_FIELDS_TOO_LARGE')
  if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') return appError('NOT_MULTIPART')
  // busboy's own parse errors (truncated or malformed forms: plain Errors) are the client's; disk errors and
  // programming errors (TypeError, …) stay 5xx.
  if (err instanceof Error && Object.getPrototypeOf(err) === Error.prototype && (err as NodeJS.ErrnoException).syscall === undefined) {
    return appError('FORM_MALFORMED', err.message)
  }
  return err
}
