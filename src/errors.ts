// The error catalogue: every error the service answers with has a stable code, a status and a message that
// says what was wrong and what is expected. One handler (app.ts) renders them as { statusCode, error, code, message };
// the development upload endpoint renders them as S3's XML instead (routes/s3-answers.ts).
import { STATUS_CODES } from 'node:http'

export const ErrorCodes = {
  UNAUTHORIZED: { status: 401, message: 'missing or invalid bearer token; send Authorization: Bearer <one of SERVICE_TOKENS>' },
  VALIDATION: { status: 400, message: 'the request is not valid' },
  CONTENT_TYPE_NOT_ALLOWED: { status: 400, message: 'contentType is not an allowed image type' },
  TOO_LARGE: { status: 413, message: 'the image is larger than allowed' },
  UPLOAD_NOT_FOUND: { status: 404, message: 'no upload with this id' },
  NOT_UPLOADED: { status: 409, message: 'nothing has been uploaded for this ticket yet; POST the form to upload.url first' },
  TICKET_EXPIRED: { status: 410, message: 'the upload ticket expired before anything was uploaded; ask for a new one' },
  UPLOAD_GONE: { status: 410, message: 'this upload no longer has an image' },
  NOT_AN_IMAGE: { status: 422, message: 'the uploaded bytes are not the declared image type; the file was removed' },
  IMAGE_CORRUPT: { status: 422, message: 'the image is corrupt or truncated and cannot be decoded; the file was removed, upload the complete file with a new ticket' },
  TOO_MANY_PIXELS: { status: 422, message: 'the image has more pixels than MAX_IMAGE_PIXELS allows; the file was removed, upload a smaller image' },
  BAD_DIMENSIONS: { status: 422, message: 'the image is wider or taller than the service processes; the file was removed, upload a picture with neither side over 16,383 pixels' },
  TOO_MANY_FRAMES: { status: 422, message: 'the animation has more frames than MAX_IMAGE_FRAMES allows; the file was removed, upload a shorter animation' },
  SIZE_OUT_OF_RANGE: { status: 422, message: 'the uploaded file\'s size is outside what the ticket allowed; the file was removed' },
  // The development upload endpoint's refusals; routes/s3-answers.ts gives each S3's status and Code.
  POLICY_INVALID: { status: 400, message: 'the upload form is not valid' },
  POLICY_DOCUMENT_INVALID: { status: 400, message: 'the Policy field is not a valid policy document; post the Policy of upload.fields unchanged' },
  FORM_MALFORMED: { status: 400, message: 'the body is not well-formed multipart/form-data; send every field of upload.fields, then the file' },
  FORM_FIELDS_TOO_LARGE: { status: 400, message: 'the form fields before the file are too many or too large; send only the fields of upload.fields, then the file' },
  NOT_MULTIPART: { status: 412, message: 'the form must be sent as multipart/form-data: every field of upload.fields, then the file' },
  SIGNATURE_MISMATCH: { status: 403, message: 'the policy signature does not match; post every field of upload.fields unchanged' },
  POLICY_EXPIRED: { status: 403, message: 'the upload policy has expired; ask for a new ticket' },
  POLICY_CONDITION_FAILED: { status: 403, message: 'the form does not satisfy the signed policy' },
  ENTITY_TOO_LARGE: { status: 400, message: 'the file is larger than the policy allows' },
  ENTITY_TOO_SMALL: { status: 400, message: 'the file is smaller than the policy allows' },
  NO_FILE: { status: 400, message: 'the form has no file part; send every field of upload.fields, then a part named "file"' },
  TOO_MANY_FILES: { status: 400, message: 'the form has more than one file part; send exactly one part named "file", last' },
  // The development form's total size cap (limits/form-cap.ts), checked from Content-Length before the body is read.
  FORM_TOO_LARGE: { status: 413, message: 'the form is larger than any upload allows (fields and file together); send only the fields of upload.fields, then a file of at most MAX_UPLOAD_BYTES' },
  LENGTH_REQUIRED: { status: 411, message: 'the form must be sent with a Content-Length header, as browsers send FormData (chunked transfer encoding is not accepted)' },
  // Rate limits (limits/rate-limits.ts): the detail names the limit; Retry-After and RateLimit-* headers are set.
  RATE_LIMITED: { status: 429, message: 'too many requests; retry after the Retry-After seconds' },
  // What Fastify itself refuses (its FST_ codes never reach a client: plugins/fastify-errors.ts maps them here).
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'the body must be JSON, sent with Content-Type: application/json' },
  BODY_INVALID: { status: 400, message: 'the body must be a JSON object, sent with Content-Type: application/json' },
  BODY_TOO_LARGE: { status: 413, message: 'the body is larger than a JSON request may be' },
  BAD_URL: { status: 400, message: 'the URL is not valid; percent-encode it (a "%" must start an escape such as %20)' },
  BAD_REQUEST: { status: 400, message: 'the request is not valid' },
  // Development image files (@fastify/static): conditional and range requests it cannot satisfy.
  FORBIDDEN: { status: 403, message: 'this path may not be read; image paths are /uploads/profile/{filename}' },
  PRECONDITION_FAILED: { status: 412, message: 'the request\'s condition (If-Match, If-Unmodified-Since) does not hold for this image' },
  RANGE_NOT_SATISFIABLE: { status: 416, message: 'the Range asks for bytes beyond the end of the image; ask within its size' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'this path does not take this method; use one the Allow header lists' },
  NOT_FOUND: { status: 404, message: 'not found' },
  EVENT_NOT_FOUND: { status: 404, message: 'no dead webhook event with this id' },
  INTERNAL: { status: 500, message: 'internal error' },
  UNAVAILABLE: { status: 503, message: 'the service is temporarily unavailable; retry later' },
  BUSY: { status: 503, message: 'the service is busy processing other images; retry after the Retry-After seconds' }
} as const satisfies Record<string, { status: number, message: string }>

export type ErrorCode = keyof typeof ErrorCodes

/** Seconds a client waits before retrying an answer of this code (sent as Retry-After). */
const RETRY_AFTER: Partial<Record<ErrorCode, number>> = { BUSY: 2, UNAVAILABLE: 5 }

export class AppError extends Error {
  readonly code: ErrorCode
  readonly statusCode: number
  readonly retryAfter: number | undefined
  constructor (code: ErrorCode, detail?: string) {
    const entry = ErrorCodes[code]
    super(detail === undefined ? entry.message : `${entry.message}: ${detail}`)
    this.code = code
    this.statusCode = entry.status
    this.retryAfter = RETRY_AFTER[code]
  }
}

export const appError = (code: ErrorCode, detail?: string) => new AppError(code, detail)

export interface ErrorBody { statusCode: number, error: string, code: string, message: string }

export function errorBody (statusCode: number, code: string, message: string): ErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', code, message }
}
