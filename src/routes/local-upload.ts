// Development: the browser posts the same multipart form it would post to S3. The form's fields are checked
// against the signed policy before a byte is written; the file streams to a temporary file that becomes visible
// only when complete and within the size range. Anything refused leaves nothing behind.
import multipart from '@fastify/multipart'
import { Type } from '@sinclair/typebox'
import type { App } from '../app.js'
import { AppError, appError } from '../errors.js'
import type { LocalStorage } from '../storage/local.js'
import type { VerifiedPolicy } from '../storage/post-policy.js'
import { errors } from './schemas.js'

export default async function localUploadRoute (app: App, opts: { storage: LocalStorage }) {
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
    schema: {
      operationId: 'postUploadForm',
      tags: ['development'],
      summary: 'Development upload endpoint (the local stand-in for the S3 bucket)',
      description: 'multipart/form-data: every field of upload.fields, then one part named "file". Answers 201 like S3 with success_action_status=201.',
      consumes: ['multipart/form-data'],
      response: {
        201: Type.Object({ key: Type.String(), location: Type.String({ format: 'uri' }) }, { examples: [{ key: 'profile-images/3f6c0c1e9b2a4d7f8e5a6b7c8d9e0f1a.png', location: 'http://localhost:3000/uploads/profile/3f6c0c1e9b2a4d7f8e5a6b7c8d9e0f1a.png' }] }),
        ...errors(400, 403)
      }
    }
  }, async (req, reply) => {
    if (!req.isMultipart()) throw appError('POLICY_INVALID', 'send multipart/form-data: every field of upload.fields, then the file')
    const form: Record<string, string> = {}
    let stored: { policy: VerifiedPolicy, size: number, etag: string } | undefined
    try {
      for await (const part of req.parts()) {
        if (part.type === 'field') {
          // S3 ignores fields after the file; so does this endpoint.
          if (stored === undefined) form[part.fieldname] = String(part.value)
          continue
        }
        if (stored !== undefined || part.fieldname !== 'file') throw appError('TOO_MANY_FILES')
        const policy = storage.verify(form)
        const { size, etag } = await storage.write(policy.key, part.file, policy.minBytes, Math.min(policy.maxBytes, app.config.upload.maxBytes))
        stored = { policy, size, etag }
      }
    } catch (err) {
      if (stored !== undefined) await storage.delete(stored.policy.key)
      // The rest of a refused body is not read: the connection closes after the answer.
      reply.header('connection', 'close')
      app.metrics.uploads.inc({ outcome: 'refused' })
      throw asUploadError(err)
    }
    if (stored === undefined) throw appError('NO_FILE')
    app.metrics.uploads.inc({ outcome: 'stored' })
    req.log.info({ key: stored.policy.key, size: stored.size }, 'stored development upload')
    return await reply.code(201).send({ key: stored.policy.key, location: storage.publicUrl(stored.policy.key) })
  })
}

/** Maps multipart's own limit errors to the catalogue. */
function asUploadError (err: unknown): unknown {
  if (err instanceof AppError) return err
  const code = (err as { code?: string }).code
  if (code === 'FST_REQ_FILE_TOO_LARGE') return appError('ENTITY_TOO_LARGE')
  if (code === 'FST_FILES_LIMIT') return appError('TOO_MANY_FILES')
  if (code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') return appError('POLICY_INVALID', 'too many form fields; send only the fields of upload.fields and the file')
  if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') return appError('POLICY_INVALID', 'send multipart/form-data')
  // busboy's own parse errors (truncated or malformed forms) are the client's; disk errors stay 5xx.
  if (err instanceof Error && (err as NodeJS.ErrnoException).syscall === undefined) return appError('POLICY_INVALID', `the multipart form could not be read (${err.message})`)
  return err
}
