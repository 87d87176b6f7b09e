// The development upload endpoint answers as S3 answers a browser POST with success_action_status=201, so browser
// code and upload widgets written against S3 (which read the XML) run unchanged: a PostResponse on success, and
// for each refusal S3's status and an XML Error with S3's Code. The Message starts with S3's own text and adds the
// catalogue's, which says what was wrong and what is expected. Installed on that route only (local-upload.ts):
// every other route answers JSON. Statuses and codes: S3's error-code list (API Reference, "Error responses") and
// the answers S3 gives to browser POSTs.
import { Type } from '@sinclair/typebox'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, appError, type ErrorCode } from '../errors.js'
import { closeAfterAnswer } from '../limits/lingering-close.js'

export interface S3Refusal {
  status: number
  code: string
  /** S3's message; the catalogue's follows it. */
  message: string
}

const ONE_FILE = 'POST requires exactly one file upload per request.'

/** S3's answer for each refusal of the upload endpoint, by catalogue code. */
export const S3_REFUSALS: Partial<Record<ErrorCode, S3Refusal>> = {
  ENTITY_TOO_LARGE: { status: 400, code: 'EntityTooLarge', message: 'Your proposed upload exceeds the maximum allowed size.' },
  ENTITY_TOO_SMALL: { status: 400, code: 'EntityTooSmall', message: 'Your proposed upload is smaller than the minimum allowed size.' },
  SIGNATURE_MISMATCH: { status: 403, code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.' },
  POLICY_EXPIRED: { status: 403, code: 'AccessDenied', message: 'Invalid according to Policy: Policy expired.' },
  POLICY_CONDITION_FAILED: { status: 403, code: 'AccessDenied', message: 'Invalid according to Policy:' },
  POLICY_DOCUMENT_INVALID: { status: 400, code: 'InvalidPolicyDocument', message: 'Invalid Policy:' },
  // A field missing or with a value S3 does not accept (S3: "Bucket POST must contain a field named 'key'. …").
  POLICY_INVALID: { status: 400, code: 'InvalidArgument', message: '' },
  FORM_MALFORMED: { status: 400, code: 'MalformedPOSTRequest', message: 'The body of your POST request is not well-formed multipart/form-data.' },
  FORM_FIELDS_TOO_LARGE: { status: 400, code: 'MaxPostPreDataLengthExceeded', message: 'Your POST request fields preceding the upload file were too large.' },
  NOT_MULTIPART: { status: 412, code: 'PreconditionFailed', message: 'At least one of the pre-conditions you specified did not hold: Bucket POST must be of the enclosure-type multipart/form-data.' },
  // The total size cap: S3 answers an over-long POST 400 EntityTooLarge; 413 says it to proxies and HTTP clients too.
  FORM_TOO_LARGE: { status: 413, code: 'EntityTooLarge', message: 'Your proposed upload exceeds the maximum allowed size.' },
  LENGTH_REQUIRED: { status: 411, code: 'MissingContentLength', message: 'You must provide the Content-Length HTTP header.' },
  NO_FILE: { status: 400, code: 'InvalidArgument', message: ONE_FILE },
  TOO_MANY_FILES: { status: 400, code: 'InvalidArgument', message: ONE_FILE }
}

const INTERNAL: S3Refusal = { status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.' }
const SLOW_DOWN: S3Refusal = { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' }
const UNAVAILABLE: S3Refusal = { status: 503, code: 'ServiceUnavailable', message: 'Service is unable to handle request.' }

/** S3's message, then ours (a sentence of its own after a full stop, else after a space). */
function joined (s3: string, ours: string): string {
  if (s3 === '') return sentence(ours)
  return `${s3} ${s3.endsWith('.') ? sentence(ours) : ours}`
}
const sentence = (text: string) => text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? '' : '.')

/** The S3 answer to an error thrown while handling the upload endpoint (never internal detail for a 5xx). */
export function s3Refusal (err: unknown): S3Refusal & { retryAfter?: number } {
  // A body the parsers refuse (JSON that does not parse, text, other types: plugins/body-parsers.ts) before the
  // route runs: for S3 that is a POST that is not multipart/form-data.
  const fe = err as Partial<FastifyError>
  const notParsed = err instanceof AppError ? err.code === 'UNSUPPORTED_MEDIA_TYPE' : typeof fe.code === 'string' && fe.code.startsWith('FST_ERR_CTP_')
  const refused = notParsed ? appError('NOT_MULTIPART') : err
  const status = refused instanceof AppError ? refused.statusCode : typeof fe.statusCode === 'number' ? fe.statusCode : 500
  const retryAfter = refused instanceof AppError ? refused.retryAfter : undefined
  if (status === 429) return { ...SLOW_DOWN, message: joined(SLOW_DOWN.message, (refused as Error).message), ...(retryAfter !== undefined ? { retryAfter } : {}) }
  if (status === 503 && refused instanceof AppError) return { ...UNAVAILABLE, message: joined(UNAVAILABLE.message, refused.message), ...(retryAfter !== undefined ? { retryAfter } : {}) }
  if (status >= 500 || status < 400) return INTERNAL
  if (refused instanceof AppError) {
    const s3 = S3_REFUSALS[refused.code]
    if (s3 !== undefined) return { ...s3, message: joined(s3.message, refused.message) }
  }
  // A client error without an S3 counterpart (Fastify's own): its message says what was wrong.
  return { status: 400, code: 'InvalidRequest', message: sentence(String((refused as Error).message ?? 'the request is not valid')) }
}

// Characters XML 1.0 does not allow at all (control characters, lone surrogates, U+FFFE/U+FFFF): replaced.
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' }
/** Element text: &, < and > escaped (quotes need none in text; S3 leaves the ETag's quotes as they are). */
export const xmlText = (value: string) => value.replace(NOT_XML, '\uFFFD').replace(/[&<>]/g, (c) => ESCAPES[c] ?? c)

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

export interface PostResponse { location: string, bucket: string, key: string, etag: string }

export function postResponseXml (r: PostResponse): string {
  return `${XML_DECLARATION}<PostResponse><Location>${xmlText(r.location)}</Location><Bucket>${xmlText(r.bucket)}</Bucket><Key>${xmlText(r.key)}</Key><ETag>${xmlText(r.etag)}</ETag></PostResponse>`
}

export function errorXml (e: { code: string, message: string, requestId: string }): string {
  return `${XML_DECLARATION}<Error><Code>${xmlText(e.code)}</Code><Message>${xmlText(e.message)}</Message><RequestId>${xmlText(e.requestId)}</RequestId></Error>`
}

/** 201 with S3's PostResponse, and its ETag and Location headers as S3 sends them. */
export async function sendPostResponse (req: FastifyRequest, reply: FastifyReply, r: PostResponse): Promise<FastifyReply> {
  return await reply.code(201)
    .header('etag', r.etag)
    .header('location', r.location)
    .header('x-amz-request-id', req.id)
    // A page on another origin (CORS_ORIGINS) may read them, as from a bucket whose CORS rule exposes them.
    .header('access-control-expose-headers', 'ETag, Location, x-amz-request-id')
    .type('application/xml')
    .send(postResponseXml(r))
}

/** The route's error handler: S3's status and XML Error. Unexpected errors are logged, and answered generically. */
export function s3ErrorHandler (err: FastifyError | AppError, req: FastifyRequest, reply: FastifyReply) {
  const answer = s3Refusal(err)
  if (answer.status >= 500 && answer.code !== 'SlowDown') req.log.error({ err }, 'request failed')
  if (answer.retryAfter !== undefined) reply.header('retry-after', String(answer.retryAfter))
  // Refused before the body was read to its end (rate limit, size cap, a refusal while the file streams): the
  // connection closes after the answer, and the rest of the body is never parsed.
  if (!req.raw.complete) closeAfterAnswer(req, reply)
  return reply.code(answer.status)
    .header('x-amz-request-id', req.id)
    .type('application/xml')
    .send(errorXml({ code: answer.code, message: answer.message, requestId: req.id }))
}

// For the OpenAPI document: the two XML documents, with S3's element names, each with an example answer.
const EXAMPLE_FILE = '3f6c0c1e9b2a4d7f8e5a6b7c8d9e0f1a.png'
const EXAMPLE_URL = `http://localhost:3000/uploads/profile/${EXAMPLE_FILE}`
const EXAMPLE_ETAG = '"0d4a118500000000000000000000000b"' // the ETag of "hello world"

const PostResponseSchema = Type.Object({
  Location: Type.String({ format: 'uri', description: 'where the image will be served once completed (S3: the URL of the posted, still private, object)' }),
  Bucket: Type.String({ description: 'the bucket the policy was signed for ("local" in development)' }),
  Key: Type.String({ description: 'the posted key: the private staging key, never served' }),
  ETag: Type.String({ description: 'an opaque tag of the posted bytes in S3\'s shape (32 hex digits in quotes): their CRC-32 and length, not an MD5' })
}, { xml: { name: 'PostResponse' }, description: 'S3\'s PostResponse document for success_action_status=201' })

const S3ErrorSchema = Type.Object({
  Code: Type.String({ description: 'S3\'s error code (AccessDenied, SignatureDoesNotMatch, EntityTooLarge, …)' }),
  Message: Type.String({ description: 'S3\'s message, then what was wrong and what is expected' }),
  RequestId: Type.String({ description: 'the request id (also in the x-request-id and x-amz-request-id headers)' })
}, { xml: { name: 'Error' }, description: 'S3\'s XML Error document' })

/** The route's 201: S3's PostResponse, and the ETag and Location headers. */
export const postResponseDoc = (description: string) => ({
  description,
  headers: {
    ETag: { type: 'string', description: 'an opaque tag of the posted bytes (their CRC-32 and length, not an MD5)', example: EXAMPLE_ETAG },
    Location: { type: 'string', format: 'uri', description: 'where the image will be served once completed', example: EXAMPLE_URL }
  },
  content: {
    'application/xml': {
      schema: PostResponseSchema,
      example: postResponseXml({ location: EXAMPLE_URL, bucket: 'local', key: `profile-images/incoming/${EXAMPLE_FILE}`, etag: EXAMPLE_ETAG })
    }
  }
})

/** A refusal: S3's XML Error; the example is the answer to the catalogue code `example`. */
export function errorDoc (description: string, example: ErrorCode, detail?: string) {
  const s3 = s3Refusal(appError(example, detail))
  return {
    description,
    content: {
      'application/xml': {
        schema: S3ErrorSchema,
        example: errorXml({ code: s3.code, message: s3.message, requestId: '5b8f0e9c-2d1a-4c3b-9e7f-6a5d4c3b2a19' })
      }
    }
  }
}
