// Production start-up self-check: write (with the configured ACL), read and delete a probe object under the key
// prefix, using only the actions of the deployment guide's IAM policy; then check that a staging object (where
// uploads wait unchecked, EXIF and all) cannot be read without credentials. A failure stops the start with a message
// that says which variables or which bucket setting to fix (docs/production.md, "Troubleshooting").
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { randomBytes } from 'node:crypto'
import type { Config } from '../config.js'
import { stagingKey } from '../uploads/keys.js'

export class S3SelfCheckError extends Error {
  override name = 'S3SelfCheckError'
}

type S3Step = 'PutObject' | 'GetObject' | 'DeleteObject' | 'resolve credentials'

const IAM_ACTIONS = ['s3:PutObject', 's3:PutObjectAcl', 's3:GetObject', 's3:DeleteObject']

interface SdkError { name?: string, code?: string, Code?: string, message?: string, $metadata?: { httpStatusCode?: number }, $response?: { headers?: Record<string, string> } }

/** Where the service talks to, in the words of the variables that decide it. */
function target (s3: Config['s3']): string {
  return s3.endpoint !== undefined ? `AWS_S3_ENDPOINT=${s3.endpoint}` : `AWS_REGION=${s3.region}`
}

/** Turns an S3 (or network, or credential) failure into a sentence naming what to change. */
export function explainS3Error (err: unknown, step: S3Step, s3: Config['s3']): string {
  const e = (err ?? {}) as SdkError
  const code = e.name === 'CredentialsProviderError' ? e.name : (e.Code ?? e.code ?? e.name ?? 'Error')
  const status = e.$metadata?.httpStatusCode
  const resource = `arn:aws:s3:::${s3.bucket}/${s3.keyPrefix}*`
  const credentials = s3.credentials !== undefined ? 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY' : 'the default credential chain (IAM role; AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are unset)'
  const what = `S3 answered ${code}${status !== undefined ? ` (${status})` : ''} to ${step} on bucket "${s3.bucket}"`
  switch (code) {
    case 'CredentialsProviderError':
      return `no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run with an IAM role (${e.message ?? ''})`
    case 'InvalidAccessKeyId':
      return `${what}: the access key is unknown to ${target(s3)}. Check ${credentials}, and that AWS_S3_ENDPOINT is unset for AWS`
    case 'SignatureDoesNotMatch':
      return `${what}: the secret does not match the access key. Check AWS_SECRET_ACCESS_KEY (copy it again, without spaces or quotes)`
    case 'InvalidToken':
    case 'ExpiredToken':
    case 'TokenRefreshRequired':
      return `${what}: the session token is invalid or expired. Check AWS_SESSION_TOKEN, or unset the AWS_* key variables to use the IAM role`
    case 'NoSuchBucket':
      return `${what}: the bucket does not exist at ${target(s3)}. Create it (docs/production.md, Step 1) or fix AWS_S3_BUCKET`
    case 'PermanentRedirect':
    case 'AuthorizationHeaderMalformed':
    case 'IllegalLocationConstraintException': {
      const region = e.$response?.headers?.['x-amz-bucket-region']
      return `${what}: the bucket is in another region${region !== undefined ? ` (${region})` : ''}. Set AWS_REGION to the bucket's region`
    }
    case 'AccessControlListNotSupported':
      return `${what}: the bucket has ACLs disabled (Object Ownership "Bucket owner enforced", the AWS default since 2023), so S3_ACL=${s3.acl} cannot be applied. ` +
        'Either set S3_ACL=none and make the images public with the bucket policy (docs/production.md), or enable ACLs on the bucket (Object Ownership "ACLs enabled")'
    case 'AccessDenied':
    case 'AllAccessDisabled':
    case 'Forbidden':
      return `${what}: the credentials (${credentials}) may not ${step} there. Grant ${IAM_ACTIONS.join(', ')} on ${resource} (the IAM policy of docs/production.md, Step 2)` +
        (step === 'PutObject' && s3.acl === 'public-read' ? '. With S3_ACL=public-read, Block Public Access ("BlockPublicAcls") also denies the upload: turn it off for ACLs, or set S3_ACL=none and use the bucket policy' : '')
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'ETIMEDOUT':
    case 'TimeoutError':
    case 'ECONNRESET':
      return `cannot reach S3 for ${step} (${code}: ${e.message ?? ''}). Check ${s3.endpoint !== undefined ? 'AWS_S3_ENDPOINT' : 'AWS_REGION'} and the network (DNS, proxy, firewall)`
    default:
      return `${what}: ${e.message ?? 'unknown error'}. Check ${credentials}, AWS_S3_BUCKET, ${s3.endpoint !== undefined ? 'AWS_S3_ENDPOINT' : 'AWS_REGION'} and the IAM policy (docs/production.md)`
  }
}

/** Probe key under the prefix (the IAM policy covers only the prefix). */
export const probeKey = (s3: Config['s3'], name: string) => `${s3.keyPrefix}.${name}`

/**
 * Writes, reads and deletes a probe object, then checks that staging is private; throws S3SelfCheckError with an
 * actionable message. `bucketUrl`: the bucket's own URL (the form's), where an anonymous read is tried.
 */
export async function s3SelfCheck (client: S3Client, s3: Config['s3'], bucketUrl: string): Promise<void> {
  const key = probeKey(s3, `self-check-${randomBytes(8).toString('hex')}`)
  const body = `image-service self-check ${new Date().toISOString()}`
  const step = async <T>(name: S3Step, run: () => Promise<T>): Promise<T> => {
    try { return await run() } catch (err) { throw new S3SelfCheckError(`S3 self-check failed: ${explainS3Error(err, name, s3)}`, { cause: err }) }
  }
  await step('PutObject', () => client.send(new PutObjectCommand({
    Bucket: s3.bucket, Key: key, Body: body, ContentType: 'text/plain', ...(s3.acl !== 'none' ? { ACL: s3.acl } : {})
  })))
  let read: string | undefined
  try {
    read = await step('GetObject', async () => {
      const res = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }))
      return await res.Body?.transformToString()
    })
  } catch (err) {
    // The read failure is the one to report; still try not to leave the probe behind.
    await client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: key })).catch(() => {})
    throw err
  }
  await step('DeleteObject', () => client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: key })))
  if (read !== body) throw new S3SelfCheckError(`S3 self-check failed: the probe object ${key} read back different bytes; check that AWS_S3_ENDPOINT is an S3 server`)
  await stagingIsPrivate(client, s3, bucketUrl, step)
}

/**
 * A private object under {prefix}incoming/, as a browser's form leaves it, read without credentials from the bucket
 * itself: a bucket policy granting public read of the whole prefix also exposes it. When the bucket cannot be
 * reached anonymously from here (a proxy, a firewall), there is nothing to conclude and the start goes on.
 */
async function stagingIsPrivate (client: S3Client, s3: Config['s3'], bucketUrl: string, step: <T>(name: S3Step, run: () => Promise<T>) => Promise<T>): Promise<void> {
  const key = stagingKey(probeKey(s3, `self-check-${randomBytes(8).toString('hex')}`))
  await step('PutObject', () => client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: 'image-service staging probe', ContentType: 'text/plain' })))
  const url = `${bucketUrl.replace(/\/+$/, '')}/${key}`
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) }).catch(() => undefined)
    await res?.body?.cancel()
    if (res?.ok === true) {
      throw new S3SelfCheckError(`S3 self-check failed: ${url} answered ${res.status} without credentials: uploads waiting in ${stagingKey(s3.keyPrefix)} ` +
        'before they are checked and cleaned (EXIF and all) are public. The bucket policy\'s public read of the prefix covers them: add the ' +
        '"StagingIsPrivate" Deny statement of docs/production.md to the bucket policy')
    }
  } finally {
    await client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: key })).catch(() => {})
  }
}
