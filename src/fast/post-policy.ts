// Speed trick (docs/performance.md, "Speed tricks"): the POST policy signed with what tickets of one second share
// made once. The same fields and signature as createPresignedPost (test/objects/post-policy.test.ts, byte for
// byte), but: dates formatted once per second, the signing key kept per day, the policy text up to the key and its
// base64 kept per second and form, and the HMAC written by hand over buffers kept for the purpose.
import { hash } from 'node:crypto'
import type { Credentials, PolicyInput } from '../objects/post-policy.js'
import { ALGORITHM, signingKey } from '../objects/sigv4.js'

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

/** The signing key, kept for the day (and region and secret) it was derived for. */
function daySigningKey (secret: string, shortDate: string, region: string): Buffer {
  const id = `${shortDate}/${region}/${secret}`
  if (cachedKey?.id !== id) cachedKey = { id, key: signingKey(secret, shortDate, region) }
  return cachedKey.key
}

/**
 * HMAC-SHA256 (RFC 2104) of messages that all start with the same prefix, in two one-shot hashes over buffers kept
 * for the purpose: the inner one over key pad + prefix + rest, the outer over key pad + inner digest. Same bytes as
 * createHmac(key).update(prefix + rest); no Hash object and no buffer allocated per signature, which cost more
 * than hashing the prefix again. Synchronous, so the shared buffers are never used by two signatures at once.
 */
class PrefixedHmac {
  private inner: Buffer
  /** `inner` up to the end of the last message: messages are mostly of one length, so it is rarely made again. */
  private message: Buffer
  private readonly start: number
  private readonly outer: Buffer

  constructor (key: Buffer, prefix: string) {
    // A key of up to one block (64 bytes) is zero-padded to it; the signing key is a 32-byte digest.
    const pad = (byte: number) => {
      const padded = Buffer.alloc(64, byte)
      for (let i = 0; i < key.length; i++) padded[i] = byte ^ (key[i] ?? 0)
      return padded
    }
    this.start = 64 + Buffer.byteLength(prefix)
    this.inner = Buffer.alloc(this.start + 256)
    pad(0x36).copy(this.inner)
    this.inner.write(prefix, 64)
    this.message = this.inner.subarray(0, this.start)
    this.outer = Buffer.alloc(96)
    pad(0x5c).copy(this.outer)
  }

  hex (rest: string): string {
    const end = this.start + Buffer.byteLength(rest)
    if (end > this.inner.length) {
      const grown = Buffer.alloc(end * 2)
      this.inner.copy(grown, 0, 0, this.start)
      this.inner = grown
    }
    this.inner.write(rest, this.start)
    if (this.message.length !== end || this.message.buffer !== this.inner.buffer) this.message = this.inner.subarray(0, end)
    // As 'binary' (latin1) text, one char per byte, so exact: a Buffer result costs more than the hashing.
    this.outer.write(hash('sha256', this.message, 'binary'), 64, 'binary')
    return hash('sha256', this.outer, 'hex')
  }
}

/**
 * Everything of a policy but its key, shared by the tickets of one second with the same fields: the policy text up
 * to the key condition, and the base64 of its longest prefix of whole 3-byte groups (base64 of a concatenation
 * is the concatenation of the base64s when the first part is such a prefix).
 */
interface Template { id: string, credentials: Credentials, fields: Record<string, string>, b64: string, rest: string, hmac: PrefixedHmac }
const templates = new Map<string, Template>()

/** The last template used, with the inputs it was found for: tickets mostly ask for the same one. */
let last: { input: PolicyInput, amz: string, template: Template } | undefined

/** Fields with the same names and values, in the same order. */
function sameFields (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  if (a === b) return true
  const names = Object.keys(a)
  const others = Object.keys(b)
  return names.length === others.length && names.every((name, i) => name === others[i] && a[name] === b[name])
}

/** Conditions of equal primitives, or arrays of them (content-length-range); anything else compares by identity. */
function sameConditions (a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a === b) return true
  return a.length === b.length && a.every((x, i) => {
    const y = b[i]
    return x === y || (Array.isArray(x) && Array.isArray(y) && x.length === y.length && x.every((v, j) => typeof v !== 'object' && v === y[j]))
  })
}

function template (input: PolicyInput, amz: string): Template {
  const l = last
  if (l !== undefined && l.amz === amz && sameFields(l.input.fields, input.fields) && sameConditions(l.input.conditions, input.conditions) &&
    l.input.credentials === input.credentials && l.input.expiresSeconds === input.expiresSeconds && l.input.bucket === input.bucket && l.input.region === input.region) {
    return l.template
  }
  const found = lookUp(input, amz)
  last = { input, amz, template: found }
  return found
}

function lookUp (input: PolicyInput, amz: string): Template {
  const { credentials: c } = input
  const expiration = atSecond(input.now.getTime() + input.expiresSeconds * 1000).iso
  const id = `${amz} ${expiration} ${input.bucket} ${input.region} ${JSON.stringify(input.conditions)} ${JSON.stringify(input.fields)}`
  const found = templates.get(id)
  if (found !== undefined && found.credentials === c) return found
  if (templates.size >= 16) templates.clear()
  const shortDate = amz.slice(0, 8)
  const fields: Record<string, string> = Object.assign({}, input.fields)
  fields.bucket = input.bucket
  fields['X-Amz-Algorithm'] = ALGORITHM
  fields['X-Amz-Credential'] = `${c.accessKeyId}/${shortDate}/${input.region}/s3/aws4_request`
  fields['X-Amz-Date'] = amz
  if (c.sessionToken) fields['X-Amz-Security-Token'] = c.sessionToken
  // Same condition order and de-duplication as createPresignedPost, written as text: the bytes of
  // JSON.stringify({ [k]: v }) without building an object per field.
  const conditions: string[] = []
  const add = (condition: string) => { if (!conditions.includes(condition)) conditions.push(condition) }
  for (const x of input.conditions) add(JSON.stringify(x))
  for (const k in fields) add(`{${JSON.stringify(k)}:${JSON.stringify(fields[k])}}`)
  const head = Buffer.from(`{"expiration":"${expiration}","conditions":[${conditions.join(',')},`)
  const whole = head.length - (head.length % 3)
  let b64 = head.toString('base64', 0, whole)
  let rest = head.toString('latin1', whole)
  // The rest is re-encoded per ticket as UTF-8: exact only when it is ASCII (then latin1 and UTF-8 agree).
  if (Buffer.byteLength(rest) !== rest.length) { b64 = ''; rest = head.toString() }
  const made = { id, credentials: c, fields, b64, rest, hmac: new PrefixedHmac(daySigningKey(c.secretAccessKey, shortDate, input.region), b64) }
  templates.set(id, made)
  return made
}

// The UTF-8 bytes of each policy's tail pass through this buffer on their way to base64 (no buffer per ticket).
let scratch = Buffer.alloc(1024)
function base64 (text: string): string {
  if (text.length * 3 > scratch.length) scratch = Buffer.alloc(text.length * 3)
  return scratch.toString('base64', 0, scratch.write(text))
}

/** signPostPolicy (objects/post-policy.ts). */
export function fastSignPostPolicy (input: PolicyInput): Record<string, string> {
  // Whole seconds: a template is shared by the tickets of one second (its expiration included).
  if (!Number.isInteger(input.expiresSeconds)) throw new TypeError(`expiresSeconds must be an integer, not ${input.expiresSeconds}`)
  const t = template(input, atSecond(input.now.getTime()).amz)
  const fields = Object.assign({}, t.fields)
  const tail = base64(`${t.rest}{"key":${JSON.stringify(input.key)}}]}`)
  fields.key = input.key
  fields.Policy = t.b64 + tail
  fields['X-Amz-Signature'] = t.hmac.hex(tail)
  return fields
}
