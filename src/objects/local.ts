// Development storage, laid out like the production bucket: posted forms land privately in
// {UPLOADS_DIR}/.staging/ (S3's incoming/ keys), completion publishes what the image pipeline made into
// {UPLOADS_DIR}/profile/, the only folder served (routes/local-files.ts). Every file is written to {UPLOADS_DIR}/.incoming/
// first and renamed into place whole, so a partial file is never seen; what a killed process left there, and staged
// uploads nothing settled, are removed at start and by the sweeper (local-leftovers.ts).
import { mkdirSync } from 'node:fs'
import { open, rename, rm, stat, statfs, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Config } from '../config.js'
import { appError } from '../errors.js'
import { stagingKey } from '../uploads/keys.js'
import { formConditions, policyExpiry, signPostPolicy, verifyPostPolicy, type Credentials, type VerifiedPolicy } from './post-policy.js'
import { publicUrlBuilder } from './public-url.js'
import { contentTag } from './content-tag.js'
import { fileStat, openFile, safePath } from './safe-path.js'
import { writeProbe } from '../write-probe.js'
import { partName, removeLeftovers, STAGING_MARGIN_MS } from './local-leftovers.js'
import type { StagedObject, ObjectStore, StoredObject, UploadTarget, UploadTicket } from './object-store.js'

/** The local "bucket": the policy format is S3's, signed with UPLOAD_SIGNING_SECRET. */
const BUCKET = 'local'
const REGION = 'local'

/** A posted file, received whole into a temporary file and not yet staged. */
export interface ReceivedFile { size: number, etag: string, commit: () => Promise<void>, discard: () => Promise<void> }

export class LocalStorage implements ObjectStore {
  readonly kind = 'local' as const
  readonly profileDir: string
  private readonly stagingDir: string
  private readonly incomingDir: string
  private readonly credentials: Credentials
  readonly publicUrl: (key: string) => string
  readonly uploadUrl: string

  constructor (private readonly config: Config) {
    this.profileDir = resolve(config.upload.dir, 'profile')
    this.stagingDir = resolve(config.upload.dir, '.staging')
    this.incomingDir = resolve(config.upload.dir, '.incoming')
    for (const dir of [this.profileDir, this.stagingDir, this.incomingDir]) mkdirSync(dir, { recursive: true })
    this.credentials = { accessKeyId: 'local', secretAccessKey: config.upload.signingSecret }
    this.publicUrl = publicUrlBuilder(config)
    this.uploadUrl = `${config.publicBaseUrl}/uploads`
  }

  async createUploadTarget (t: UploadTicket): Promise<UploadTarget> {
    const now = new Date()
    const expiresSeconds = Math.max(1, Math.round((t.expiresAt.getTime() - now.getTime()) / 1000))
    const fields = signPostPolicy({
      bucket: BUCKET,
      key: this.uploadedKey(t.key),
      ...formConditions(t.contentType, t.maxBytes, t.minBytes),
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

  uploadedKey (key: string): string { return stagingKey(key) }

  browserOrigins (): string[] { return [new URL(this.uploadUrl).origin] }

  /** The file's final path for a key, or a 400 when the key is not one this service generates. */
  pathOf (key: string): string {
    const path = this.fileOf(key)
    if (path === undefined) throw appError('POLICY_INVALID', `key "${key}" is not a key this service issued`)
    return path
  }

  /**
   * Streams a posted `file` to a temporary file, checking the size and hashing it as it goes. Only when the whole
   * stream arrived within [minBytes, maxBytes] does it return: its size, its ETag (content-tag.ts), and
   * `commit`, which renames it to its staging key (a repeat post replaces it, as on S3), or `discard`. The rest of
   * the form decides which: a form refused after its file part leaves what was staged before, as on S3. Any failure
   * removes the temporary file.
   */
  async receive (key: string, file: Readable, minBytes: number, maxBytes: number): Promise<ReceivedFile> {
    if (!key.startsWith(stagingKey(this.config.s3.keyPrefix))) throw appError('POLICY_INVALID', `key "${key}" is not an upload key this service issued`)
    const target = this.pathOf(key)
    const temp = this.tempPath()
    const discard = async () => { await rm(temp, { force: true }) }
    const tag = contentTag()
    let size = 0
    // Opened before the stream starts: a stream opens its file asynchronously, and one destroyed at once (the first
    // chunk over the limit) could create the file after the removal below had run.
    const handle = await open(temp, 'wx')
    try {
      await pipeline(file, async function * (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          size += chunk.length
          if (size > maxBytes) throw appError('ENTITY_TOO_LARGE', `at most ${maxBytes} bytes`)
          tag.update(chunk)
          yield chunk
        }
      }, handle.createWriteStream())
      if (size < minBytes) throw appError('ENTITY_TOO_SMALL', `at least ${minBytes} bytes`)
    } catch (err) {
      await discard()
      throw err
    } finally {
      // The stream closes the handle when it ends or fails; a second close is harmless.
      await handle.close().catch(() => {})
    }
    const commit = async () => {
      try { await rename(temp, target) } finally { await discard() }
    }
    return { size, etag: tag.digest(), commit, discard }
  }

  async read (key: string, maxBytes: number): Promise<StagedObject | undefined> {
    const path = this.fileOf(key)
    // Opened once: the size and the bytes are the same file's (a concurrent completion may remove it meanwhile).
    const file = path === undefined ? undefined : await openFile(path)
    if (file === undefined) return undefined
    try {
      const { size } = file.stat
      return size > maxBytes ? { size } : { size, body: await file.handle.readFile() }
    } finally {
      await file.handle.close()
    }
  }

  async put (key: string, body: Buffer): Promise<void> {
    const target = this.pathOf(key)
    const temp = this.tempPath()
    try {
      await writeFile(temp, body, { flag: 'wx' })
      await rename(temp, target)
    } finally {
      await rm(temp, { force: true })
    }
  }

  private tempPath (): string {
    return join(this.incomingDir, partName())
  }

  /**
   * Temporary files whose writer died and staged uploads older than any ticket lives (local-leftovers.ts); at start
   * (`starting`, the factory) and by the sweeper.
   */
  async removeLeftovers (now: Date, starting = false): Promise<number> {
    const { ttlSeconds, graceSeconds } = this.config.upload
    const stagingMaxAgeMs = (ttlSeconds + graceSeconds) * 1000 + STAGING_MARGIN_MS
    return await removeLeftovers({ incoming: this.incomingDir, staging: this.stagingDir, stagingMaxAgeMs }, now, starting)
  }

  /** Keys carry the production prefix (one form for both modes); staging keys live in .staging/, the rest in profile/. */
  private fileOf (key: string): string | undefined {
    const prefix = this.config.s3.keyPrefix
    if (!key.startsWith(prefix)) return undefined
    const name = key.slice(prefix.length)
    return name.startsWith('incoming/') ? safePath(this.stagingDir, name.slice('incoming/'.length)) : safePath(this.profileDir, name)
  }

  async head (key: string): Promise<StoredObject | undefined> {
    const path = this.fileOf(key)
    const stat = path === undefined ? undefined : await fileStat(path)
    return stat === undefined ? undefined : { size: stat.size }
  }

  async delete (key: string): Promise<void> {
    const path = this.fileOf(key)
    if (path !== undefined) await rm(path, { force: true })
  }

  async check (): Promise<void> {
    await stat(this.profileDir)
  }

  /**
   * Room for one upload of MAX_UPLOAD_BYTES, and a temporary file can be written where every write starts (a full
   * disk, a read-only or foreign-owned folder fail here, not in the middle of an upload).
   */
  async checkWrites (): Promise<void> {
    const { bavail, bsize } = await statfs(this.incomingDir)
    if (bavail * bsize < this.config.upload.maxBytes) throw new Error(`ENOSPC: less than MAX_UPLOAD_BYTES (${this.config.upload.maxBytes} bytes) free under UPLOADS_DIR`)
    // A temporary file's name: a probe left by a killed process goes with the other leftovers.
    await writeProbe(this.tempPath())
  }

  async close (): Promise<void> {}
}
