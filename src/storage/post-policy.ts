// Browser-upload POST policies (AWS Signature Version 4), built once for both modes:
// - sign: the same fields and signature @aws-sdk/s3-presigned-post's createPresignedPost returns for the same
//   inputs and clock (test/storage/post-policy.test.ts proves it byte for byte), but with the signing key cached
//   per day instead of derived with four HMACs and async hops per ticket;
// - verify: what S3 checks on the form, for the development upload endpoint.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { appError } from '../errors.js'

export interface Credentials { accessKeyId: string, secretAccessKey: string, sessionToken?: string }

export interface PolicyInput {
  bucket: string
  key: string
  /** Exact-match fields the browser must send (Content-Type, acl, success_action_status). */
  fields: Record<string, string>
  /** Further conditions (content-length-range). */
  conditions: unknown[]
  expiresSeconds: number
  credentials: Credentials
  region: string
  now: Date
}

const ALGORITHM = 'AWS4-HMAC-SHA256'

// ISO 8601 to the second (and its compact X-Amz-Date form), memoized: every ticket of one second shares them.
const seconds = new Map<number, { iso: string, amz: string }>()
function atSecond (ms: number): { iso: string, amz: string } {
  const second = Math.floor(ms / 1000)
  let found = seconds.get(second)
  if (found === undefined) {
    if (seconds.size >= 8) seconds.clear()
    const iso = new Date(second * 1000).toISOString().replace('.000Z', 'Z')
    found = { iso, amz: iso.replace(/[-:]/g, '') }
    seconds.set(second, found)
  }
  return found
}

let cachedKey: { id: string, key: Buffer } | undefined

function signingKey (secret: string, shortDate: string, region: string): Buffer {
  const id = `${shortDate}/${region}/${secret}`
  if (cachedKey?.id === id) return cachedKey.key
  const hmac = (k: string | Buffer, data: string) => createHmac('sha256', k).update(data).digest()
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, shortDate), region), 's3'), 'aws4_request')
  cachedKey = { id, key }
  return key
}

/** When a policy signed at `nowMs` for `seconds` expires: its expiration has whole seconds. */
export const policyExpiry = (nowMs: number, seconds: number) => new Date(Math.floor((nowMs + seconds * 1000) / 1000) * 1000)

export function signPostPolicy (input: PolicyInput): Record<string, string> {
  const { credentials: c, now } = input
  const amzDate = atSecond(now.getTime()).amz
  const shortDate = amzDate.slice(0, 8)
  // Built by assignment, not spreads: this runs once per ticket and spreads cost more than the signature.
  const fields: Record<string, string> = Object.assign({}, input.fields)
  fields.bucket = input.bucket
  fields['X-Amz-Algorithm'] = ALGORITHM
  fields['X-Amz-Credential'] = `${c.accessKeyId}/${shortDate}/${input.region}/s3/aws4_request`
  fields['X-Amz-Date'] = amzDate
  if (c.sessionToken) fields['X-Amz-Security-Token'] = c.sessionToken
  // Same condition order and de-duplication as createPresignedPost, written as text: the bytes of
  // JSON.stringify({ [k]: v }) without building an object per field.
  const conditions: string[] = []
  const add = (condition: string) => { if (!conditions.includes(condition)) conditions.push(condition) }
  for (const x of input.conditions) add(JSON.stringify(x))
  for (const k in fields) add(`{${JSON.stringify(k)}:${JSON.stringify(fields[k])}}`)
  add(`{"key":${JSON.stringify(input.key)}}`)
  const list = conditions.join(',')
  const expiration = atSecond(now.getTime() + input.expiresSeconds * 1000).iso
  const policy = Buffer.from(`{"expiration":"${expiration}","conditions":[${list}]}`).toString('base64')
  const signature = createHmac('sha256', signingKey(c.secretAccessKey, shortDate, input.region)).update(policy).digest('hex')
  fields.key = input.key
  fields.Policy = policy
  fields['X-Amz-Signature'] = signature
  return fields
}

export interface VerifiedPolicy {
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
  try { doc = JSON.parse(Buffer.from(policy, 'base64').toString('utf8')) } catch { throw appError('POLICY_INVALID', 'Policy is not base64 JSON') }
  const expiration = typeof doc.expiration === 'string' ? Date.parse(doc.expiration) : NaN
  if (!Number.isFinite(expiration) || !Array.isArray(doc.conditions)) throw appError('POLICY_INVALID', 'Policy has no expiration or conditions')
  if (expiration <= opts.now.getTime()) throw appError('POLICY_EXPIRED', `it expired at ${new Date(expiration).toISOString()}`)

  const value = (name: string) => (name === 'bucket' ? opts.bucket : fields.get(name))
  const covered = new Set<string>()
  let minBytes = 0
  let maxBytes = Number.MAX_SAFE_INTEGER
  for (const cond of doc.conditions as unknown[]) {
    if (Array.isArray(cond) && cond[0] === 'content-length-range') {
      minBytes = Number(cond[1]); maxBytes = Number(cond[2])
      if (!Number.isSafeInteger(minBytes) || !Number.isSafeInteger(maxBytes)) throw appError('POLICY_INVALID', 'content-length-range must hold two integers')
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
  return { key: need('key'), contentType: need('Content-Type'), minBytes, maxBytes }
}
