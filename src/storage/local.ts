// Development storage: images in {UPLOADS_DIR}/profile/, written by the service's own form endpoint
// (routes/local-upload.ts) and served by @fastify/static. Uploads stream into {UPLOADS_DIR}/.incoming/ and are
// linked into place only once every check passed, so a partial file is never visible. A key is written once:
// re-posting a ticket's form cannot swap a checked (or confirmed) image for unchecked bytes.
import { randomUUID } from 'node:crypto'
import { createWriteStream, mkdirSync } from 'node:fs'
import { link, open, rm, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Config } from '../config.js'
import { appError } from '../errors.js'
import { formConditions, policyExpiry, signPostPolicy, verifyPostPolicy, type Credentials, type VerifiedPolicy } from './post-policy.js'
import { publicUrlBuilder } from './public-url.js'
import { safePath } from './safe-path.js'
import type { Storage, StoredObject, UploadTarget, UploadTicket } from './storage.js'

/** The local "bucket": the policy format is S3's, signed with UPLOAD_SIGNING_SECRET. */
const BUCKET = 'local'
const REGION = 'local'

export class LocalStorage implements Storage {
  readonly kind = 'local' as const
  readonly profileDir: string
  private readonly incomingDir: string
  private readonly credentials: Credentials
  readonly publicUrl: (key: string) => string
  readonly uploadUrl: string

  constructor (private readonly config: Config) {
    this.profileDir = resolve(config.upload.dir, 'profile')
    this.incomingDir = resolve(config.upload.dir, '.incoming')
    mkdirSync(this.profileDir, { recursive: true })
    mkdirSync(this.incomingDir, { recursive: true })
    this.credentials = { accessKeyId: 'local', secretAccessKey: config.upload.signingSecret }
    this.publicUrl = publicUrlBuilder(config)
    this.uploadUrl = `${config.publicBaseUrl}/uploads`
  }

  async createUploadTarget (t: UploadTicket): Promise<UploadTarget> {
    const now = new Date()
    const expiresSeconds = Math.max(1, Math.round((t.expiresAt.getTime() - now.getTime()) / 1000))
    const fields = signPostPolicy({
      bucket: BUCKET,
      key: t.key,
      ...formConditions(t.contentType, t.maxBytes),
      expiresSeconds,
      credentials: this.credentials,
      region: REGION,
      now
    })
    return { url: this.uploadUrl, fields, expiresAt: policyExpiry(now.getTime(), expiresSeconds) }
  }

  verify (form: Record<string, string>): VerifiedPolicy {
    return verifyPostPolicy(form, { bucket: BUCKET, credentials: this.credentials, region: REGION, now: new Date() })
  }

  /** A key is written once, in place (see write()): nothing to stage or promote. */
  uploadedKey (key: string): string { return key }

  async promote (): Promise<void> {}

  /** The file's final path for a key, or a 400 when the key is not one this service generates. */
  pathOf (key: string): string {
    const path = this.fileOf(key)
    if (path === undefined) throw appError('POLICY_INVALID', `key "${key}" is not a key this service issued`)
    return path
  }

  /**
   * Streams `file` to a temporary file, checking the size as it goes, and links it into place only when the
   * whole stream arrived within [minBytes, maxBytes]. Any failure removes the temporary file.
   */
  async write (key: string, file: Readable, minBytes: number, maxBytes: number): Promise<number> {
    const target = this.pathOf(key)
    const temp = join(this.incomingDir, `${randomUUID()}.part`)
    let size = 0
    try {
      await pipeline(file, async function * (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          size += chunk.length
          if (size > maxBytes) throw appError('ENTITY_TOO_LARGE', `at most ${maxBytes} bytes`)
          yield chunk
        }
      }, createWriteStream(temp, { flags: 'wx' }))
      if (size < minBytes) throw appError('ENTITY_TOO_SMALL', `at least ${minBytes} bytes`)
      // link() fails with EEXIST instead of replacing, atomically.
      await link(temp, target).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'EEXIST' ? appError('KEY_EXISTS') : err
      })
      return size
    } finally {
      await rm(temp, { force: true })
    }
  }

  /** Keys carry the production prefix (one form for both modes); the file lives in profile/. */
  private fileOf (key: string): string | undefined {
    const prefix = this.config.s3.keyPrefix
    return key.startsWith(prefix) ? safePath(this.profileDir, key.slice(prefix.length)) : undefined
  }

  async head (key: string): Promise<StoredObject | undefined> {
    const path = this.fileOf(key)
    if (path === undefined) return undefined
    try {
      const s = await stat(path)
      return s.isFile() ? { size: s.size } : undefined
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
  }

  async readStart (key: string, bytes: number): Promise<Buffer> {
    const path = this.fileOf(key)
    if (path === undefined) return Buffer.alloc(0)
    const fh = await open(path, 'r')
    try {
      const buf = Buffer.alloc(bytes)
      const { bytesRead } = await fh.read(buf, 0, bytes, 0)
      return buf.subarray(0, bytesRead)
    } finally { await fh.close() }
  }

  async delete (key: string): Promise<void> {
    const path = this.fileOf(key)
    if (path !== undefined) await rm(path, { force: true })
  }

  async check (): Promise<void> {
    await stat(this.profileDir)
  }

  async close (): Promise<void> {}
}
