// Production storage: S3 or an S3-compatible server (AWS_S3_ENDPOINT). Browsers POST the file straight to the
// bucket's private staging key with a policy signed by post-policy.ts; completion reads it back (GetObject),
// and publishes what the image pipeline made with PutObject and the configured ACL. The guide's four IAM actions
// cover it all: GetObject, PutObject, PutObjectAcl, DeleteObject.
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import { createPresignedPost } from '@aws-sdk/s3-presigned-post'
import type { Config } from '../config.js'
import { appError } from '../errors.js'
import { formConditions, policyExpiry, signPostPolicy } from './post-policy.js'
import { publicUrlBuilder } from './public-url.js'
import { explainS3Error, probeKey, s3SelfCheck } from './s3-self-check.js'
import { stagingKey } from '../uploads/keys.js'
import type { StagedObject, ObjectStore, StoredObject, UploadTarget, UploadTicket } from './object-store.js'

/** A form must stop being accepted this long before temporary credentials expire (the SDK renews 5 min ahead). */
const CREDENTIALS_MARGIN_MS = 60_000
/** The SDK renews temporary credentials this long before they expire; until then it answers with the same ones. */
const CREDENTIALS_RENEWAL_MS = 5 * 60_000

type AwsCredentialIdentity = Awaited<ReturnType<S3Client['config']['credentials']>>

const codeOf = (err: unknown) => (err as { name?: string }).name ?? ''
const statusOf = (err: unknown) => (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
/** S3's error code (AccessDenied, SlowDown, …), or the network's (ECONNREFUSED, TimeoutError). */
function s3Code (err: unknown): string {
  const e = (err ?? {}) as { Code?: string, code?: string, name?: string }
  return e.Code ?? (e.name !== undefined && e.name !== 'Error' ? e.name : undefined) ?? e.code ?? 'an error'
}

export function s3ClientConfig (s3: Config['s3']): S3ClientConfig {
  return {
    region: s3.region,
    // Unset: the SDK's default chain (environment, profile, IAM role on EC2/ECS/EKS).
    ...(s3.credentials !== undefined ? { credentials: s3.credentials } : {}),
    forcePathStyle: s3.forcePathStyle,
    // S3-compatible servers (RGW 16, older MinIO) refuse the aws-chunked bodies with trailing checksums.
    ...(s3.endpoint !== undefined ? { endpoint: s3.endpoint, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {}),
    requestHandler: { connectionTimeout: 5000, requestTimeout: 30_000 }
  }
}

export class S3Storage implements ObjectStore {
  readonly kind = 's3' as const
  readonly publicUrl: (key: string) => string
  private readonly s3: Config['s3']
  private readonly readyKey: string
  /** A marker beside the staging objects: readable when the service may read staging objects at all. */
  private readonly stagingProbeKey: string
  /** The SDK provider's last answer, reused until `renewAt` (IAM role credentials rotate after that). */
  private credentials: { value: AwsCredentialIdentity, renewAt: number } | undefined

  /** `formUrl`: where browsers POST, as the SDK resolves it for the bucket (learned once, see createS3Storage). */
  constructor (private readonly client: S3Client, config: Config, private readonly formUrl: string) {
    this.s3 = config.s3
    this.publicUrl = publicUrlBuilder(config)
    this.readyKey = probeKey(config.s3, 'ready')
    this.stagingProbeKey = stagingKey(this.readyKey)
  }

  createUploadTarget (t: UploadTicket): Promise<UploadTarget> {
    // Asking the SDK's provider costs an async hop per ticket: its answer is kept until the SDK would renew it.
    const cached = this.credentials
    if (cached !== undefined && Date.now() < cached.renewAt) {
      try {
        return Promise.resolve(this.target(t, cached.value))
      } catch (err) {
        return Promise.reject(err)
      }
    }
    return this.client.config.credentials().then((credentials) => {
      this.credentials = { value: credentials, renewAt: credentials.expiration === undefined ? Infinity : credentials.expiration.getTime() - CREDENTIALS_RENEWAL_MS }
      return this.target(t, credentials)
    })
  }

  private target (t: UploadTicket, credentials: AwsCredentialIdentity): UploadTarget {
    const now = Date.now()
    const byCredentials = credentials.expiration === undefined ? Infinity : credentials.expiration.getTime() - CREDENTIALS_MARGIN_MS - now
    // The ticket's expiry was computed a moment ago: rounded (a floor would lose its last second). The credentials'
    // expiry is a hard limit: floored.
    const seconds = Math.min(Math.round((t.expiresAt.getTime() - now) / 1000), Math.floor(byCredentials / 1000))
    if (seconds < 1) throw appError('UNAVAILABLE', 'the AWS credentials are about to expire')
    // The staging object stays private (no acl field, so a posted acl is refused too): promote() publishes.
    const fields = signPostPolicy({
      bucket: this.s3.bucket,
      key: this.uploadedKey(t.key),
      ...formConditions(t.contentType, t.maxBytes, t.minBytes),
      expiresSeconds: seconds,
      credentials,
      region: this.s3.region,
      // The SDK corrects its clock after a RequestTimeTooSkewed answer; the policy uses the same clock.
      now: new Date(now + this.client.config.systemClockOffset)
    })
    return { url: this.formUrl, fields, expiresAt: policyExpiry(now, seconds) }
  }

  uploadedKey (key: string): string { return stagingKey(key) }

  /** The images' (a custom domain's, when set) and the bucket's own, where forms go. */
  browserOrigins (): string[] {
    return [...new Set([new URL(this.publicUrl(`${this.s3.keyPrefix}x`)).origin, new URL(this.formUrl).origin])]
  }

  async read (key: string, maxBytes: number): Promise<StagedObject | undefined> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.s3.bucket, Key: key }))
      const size = res.ContentLength ?? 0
      if (size > maxBytes) {
        // Not read: the body is dropped with its connection.
        (res.Body as { destroy?: () => void } | undefined)?.destroy?.()
        return { size }
      }
      const body = Buffer.from(await res.Body?.transformToByteArray() ?? [])
      return { size: body.length, body }
    } catch (err) {
      if (statusOf(err) === 404 || codeOf(err) === 'NoSuchKey') return undefined
      // Without s3:ListBucket (the guide's IAM policy) S3 answers AccessDenied for a key that does not exist, and
      // for a key the credentials may not read. A marker beside it tells which: when the service can read (and, if
      // missing, write) that one, the key is missing; otherwise the permissions are wrong and the upload, which may
      // well be there, must not pass for "nothing uploaded" (nor be expired by the sweeper).
      if (codeOf(err) === 'AccessDenied' && await this.probe(this.stagingProbeKey).then(() => true, () => false)) return undefined
      const explained = new Error(explainS3Error(err, 'GetObject', this.s3), { cause: err })
      throw Object.assign(appError('UNAVAILABLE', `S3 answered ${s3Code(err)} when the service read the uploaded file, which is kept; retry later`), { cause: explained })
    }
  }

  async put (key: string, body: Buffer, contentType: string): Promise<void> {
    await this.client.send(new PutObjectCommand({
      Bucket: this.s3.bucket,
      Key: key,
      Body: body,
      ContentType: contentType,
      // Keys are never reused (a new image gets a new key), so caches may keep them for good.
      CacheControl: 'public, max-age=31536000, immutable',
      ...(this.s3.acl !== 'none' ? { ACL: this.s3.acl } : {})
    }))
  }

  async head (key: string): Promise<StoredObject | undefined> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.s3.bucket, Key: key }))
      return { size: res.ContentLength ?? 0, ...(res.ContentType !== undefined ? { contentType: res.ContentType } : {}), ...(res.ETag !== undefined ? { etag: res.ETag } : {}) }
    } catch (err) {
      if (statusOf(err) === 404) return undefined
      // Without s3:ListBucket (the guide's IAM policy) S3 answers 403 for a key that does not exist, and a HEAD
      // answer has no body to say why: a ranged GET tells "AccessDenied" (missing) from bad credentials.
      if (statusOf(err) === 403) return await this.headByGet(key)
      throw err
    }
  }

  private async headByGet (key: string): Promise<StoredObject | undefined> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.s3.bucket, Key: key, Range: 'bytes=0-0' }))
      await res.Body?.transformToByteArray()
      const total = /\/(\d+)$/.exec(res.ContentRange ?? '')?.[1]
      return { size: Number(total ?? res.ContentLength ?? 0), ...(res.ContentType !== undefined ? { contentType: res.ContentType } : {}), ...(res.ETag !== undefined ? { etag: res.ETag } : {}) }
    } catch (err) {
      if (['AccessDenied', 'NoSuchKey'].includes(codeOf(err))) return undefined
      throw err
    }
  }

  async delete (key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.s3.bucket, Key: key }))
  }

  /**
   * Readiness within the guide's IAM policy (no HeadBucket/ListBucket): read a marker object under the prefix.
   * When it is missing (NoSuchKey, or AccessDenied without ListBucket) write it and read it again, so a denied
   * read never passes for a missing marker.
   */
  async check (): Promise<void> {
    await this.probe(this.readyKey)
  }

  /** Reads a marker object; when missing (or denied, which may mean missing), writes it and reads it again. */
  private async probe (key: string): Promise<void> {
    const read = async () => {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.s3.bucket, Key: key, Range: 'bytes=0-0' }))
      await res.Body?.transformToByteArray()
    }
    try {
      await read()
    } catch (err) {
      if (!['NoSuchKey', 'AccessDenied'].includes(codeOf(err))) throw err
      await this.client.send(new PutObjectCommand({ Bucket: this.s3.bucket, Key: key, Body: 'ok', ContentType: 'text/plain' }))
      await read()
    }
  }

  async close (): Promise<void> {
    this.client.destroy()
  }
}

/** The S3 client, the form URL, and (unless S3_SELF_CHECK=false) the start-up self-check. */
export async function createS3Storage (config: Config): Promise<ObjectStore> {
  const client = new S3Client(s3ClientConfig(config.s3))
  try {
    // Resolving the form URL exactly as the SDK does (virtual-hosted, path style for dotted names or when
    // forced, custom endpoints) also proves that credentials can be found.
    const { url } = await createPresignedPost(client, { Bucket: config.s3.bucket, Key: probeKey(config.s3, 'form'), Expires: 60 })
      .catch((err: unknown) => { throw new Error(`cannot sign S3 uploads: ${explainS3Error(err, 'resolve credentials', config.s3)}`, { cause: err }) })
    if (config.s3.selfCheck) await s3SelfCheck(client, config.s3, url)
    return new S3Storage(client, config, url)
  } catch (err) {
    client.destroy()
    throw err
  }
}
