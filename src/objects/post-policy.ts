// Browser-upload POST policies (AWS Signature Version 4), built once for both modes:
// - sign: the same fields and signature @aws-sdk/s3-presigned-post's createPresignedPost returns for the same
//   inputs and clock (test/objects/post-policy.test.ts proves it byte for byte), without the SDK's async hops;
// - verify: what S3 checks on the form, for the development upload endpoint.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { appError } from '../errors.js'
import { fastSignPostPolicy } from '../fast/post-policy.js'
import { ALGORITHM, signingKey } from './sigv4.js'

export interface Credentials { accessKeyId: string, secretAccessKey: string, sessionToken?: string }

export interface PolicyInput {
  bucket: string
  key: string
  /** Exact-match fields the browser must send (Content-Type, acl, success_action_status). */
  fields: Readonly<Record<string, string>>
  /** Further conditions (content-length-range). */
  conditions: readonly unknown[]
  expiresSeconds: number
  credentials: Credentials
  region: string
  now: Date
}

/**
 * What every form for a content type and size range requires: exact Content-Type, a 201 answer, `minBytes` (1, or
 * the declared size) up to `maxBytes`.
 */
export function formConditions (contentType: string, maxBytes: number, minBytes = 1): Pick<PolicyInput, 'fields' | 'conditions'> {
  return {
    fields: { 'Content-Type': contentType, success_action_status: '201' },
    conditions: [['content-length-range', minBytes, maxBytes]]
  }
}

/** When a policy signed at `nowMs` for `seconds` expires: its expiration has whole seconds. */
export const policyExpiry = (nowMs: number, seconds: number) => new Date(Math.floor((nowMs + seconds * 1000) / 1000) * 1000)

export const signPostPolicy = (input: PolicyInput): Record<string, string> => fastSignPostPolicy(input)

export interface VerifiedPolicy {
  /** The bucket the policy was signed for. */
  bucket: string
  key: string
  contentType: string
  minBytes: number
  maxBytes: number
}

export interface VerifyOptions {
  bucket: string
  credentials: Credentials
  region: string
  now: Date
}

// Form fields S3 does not ask the policy to cover.
const UNCOVERED = new Set(['policy', 'x-amz-signature', 'file'])

/** Checks a posted form as S3 does; throws the AppError S3's answer corresponds to. */
export function verifyPostPolicy (form: Record<string, string>, opts: VerifyOptions): VerifiedPolicy {
  const fields = new Map(Object.entries(form).map(([k, v]) => [k.toLowerCase(), v]))
  const need = (name: string) => {
    const v = fields.get(name.toLowerCase())
    if (v === undefined) throw appError('POLICY_INVALID', `the form has no "${name}" field; send every field of upload.fields before the file`)
    return v
  }
  const policy = need('Policy')
  const signature = need('X-Amz-Signature')
  const credential = need('X-Amz-Credential')
  if (need('X-Amz-Algorithm') !== ALGORITHM) throw appError('POLICY_INVALID', `X-Amz-Algorithm must be ${ALGORITHM}`)
  const [accessKeyId, shortDate = '', region, service, terminator] = credential.split('/')
  if (accessKeyId !== opts.credentials.accessKeyId || region !== opts.region || service !== 's3' || terminator !== 'aws4_request' || !/^\d{8}$/.test(shortDate)) {
    throw appError('SIGNATURE_MISMATCH', 'X-Amz-Credential is not one this service issued')
  }
  const expected = createHmac('sha256', signingKey(opts.credentials.secretAccessKey, shortDate, region)).update(policy).digest()
  if (!/^[0-9a-f]{64}$/.test(signature)) throw appError('SIGNATURE_MISMATCH', 'X-Amz-Signature must be 64 hex digits')
  if (!need('X-Amz-Date').startsWith(shortDate)) throw appError('SIGNATURE_MISMATCH', 'X-Amz-Date does not match the date of X-Amz-Credential')
  const given = Buffer.from(signature, 'hex')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw appError('SIGNATURE_MISMATCH')

  let doc: { expiration?: unknown, conditions?: unknown }
  try { doc = JSON.parse(Buffer.from(policy, 'base64').toString('utf8')) } catch { throw appError('POLICY_DOCUMENT_INVALID', 'Policy is not base64 JSON') }
  const expiration = typeof doc.expiration === 'string' ? Date.parse(doc.expiration) : NaN
  if (!Number.isFinite(expiration) || !Array.isArray(doc.conditions)) throw appError('POLICY_DOCUMENT_INVALID', 'Policy has no expiration or conditions')
  if (expiration <= opts.now.getTime()) throw appError('POLICY_EXPIRED', `it expired at ${new Date(expiration).toISOString()}`)

  const value = (name: string) => (name === 'bucket' ? opts.bucket : fields.get(name))
  const covered = new Set<string>()
  let minBytes = 0
  let maxBytes = Number.MAX_SAFE_INTEGER
  for (const cond of doc.conditions as unknown[]) {
    if (Array.isArray(cond) && cond[0] === 'content-length-range') {
      minBytes = Number(cond[1]); maxBytes = Number(cond[2])
      if (!Number.isSafeInteger(minBytes) || !Number.isSafeInteger(maxBytes)) throw appError('POLICY_DOCUMENT_INVALID', 'content-length-range must hold two integers')
      continue
    }
    const [op, field, expect] = Array.isArray(cond)
      ? [String(cond[0]), String(cond[1]).replace(/^\$/, '').toLowerCase(), String(cond[2])]
      : ['eq', ...Object.entries(cond as Record<string, string>).map(([k, v]) => [k.toLowerCase(), String(v)])[0] ?? ['', '']]
    const actual = value(field ?? '')
    const ok = actual !== undefined && (op === 'eq' ? actual === expect : op === 'starts-with' ? actual.startsWith(expect ?? '') : false)
    if (!ok) throw appError('POLICY_CONDITION_FAILED', `field "${field}" must ${op === 'starts-with' ? 'start with' : 'equal'} the value in upload.fields`)
    covered.add(field ?? '')
  }
  for (const name of fields.keys()) {
    if (!UNCOVERED.has(name) && !name.startsWith('x-ignore-') && !covered.has(name)) {
      throw appError('POLICY_CONDITION_FAILED', `field "${name}" is not allowed by the policy; send only the fields of upload.fields`)
    }
  }
  return { bucket: opts.bucket, key: need('key'), contentType: need('Content-Type'), minBytes, maxBytes }
}
