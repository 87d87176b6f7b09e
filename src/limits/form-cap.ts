// The development form's total size cap: fields and file together may be slightly more than MAX_UPLOAD_BYTES, no
// more. Checked from Content-Length before a byte of the body is read (Node's parser never reads past it), so a form
// with a huge field, wherever it is, costs nothing: the answer goes out and the connection closes. A body without
// Content-Length (chunked) is refused as S3 refuses it; browsers always send FormData with one.
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { appError } from '../errors.js'

/** Room for the policy fields and the multipart framing around the file; a real form needs a few KiB. */
export const FORM_OVERHEAD_BYTES = 64 * 1024

export const formCapBytes = (maxUploadBytes: number) => maxUploadBytes + FORM_OVERHEAD_BYTES

/** An onRequest hook (a callback: no promise per request). */
export function formCap (maxUploadBytes: number) {
  const cap = formCapBytes(maxUploadBytes)
  return (req: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
    const declared = req.headers['content-length']
    if (declared === undefined) {
      // No body at all is the form route's own refusal (not multipart); a streamed one has no length to check.
      done(req.headers['transfer-encoding'] === undefined ? undefined : appError('LENGTH_REQUIRED'))
      return
    }
    const length = Number(declared)
    done(length > cap ? appError('FORM_TOO_LARGE', `Content-Length is ${declared} bytes; at most ${cap} are accepted`) : undefined)
  }
}
