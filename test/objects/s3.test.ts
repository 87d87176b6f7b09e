// S3Storage below the routes: signing with rotating temporary credentials (no network), and the reads,
// deletes, promotion and readiness checks completion relies on, against the gateway.
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import t, { type Test } from 'tap'
import { loadConfig } from '../../src/config.js'
import { createS3Storage, S3Storage, s3ClientConfig } from '../../src/objects/s3.js'
import { TOKEN } from '../helpers/build.js'
import { png } from '../helpers/images.js'
import { createTestBucket, OTHER_CREDENTIALS, s3Target, type S3TestTarget, productionEnv } from '../helpers/s3.js'

const KEY = 'profile-images/0123456789abcdef0123456789abcdef.png'
const STAGING = 'profile-images/incoming/0123456789abcdef0123456789abcdef.png'
const production = (extra: Record<string, string> = {}) => loadConfig({ ENVIRONMENT: 'production', SERVICE_TOKENS: TOKEN, AWS_S3_BUCKET: 'images-1', AWS_REGION: 'eu-west-1', ...extra })
const policyOf = (fields: Record<string, string>) => JSON.parse(Buffer.from(fields.Policy ?? '', 'base64').toString()) as { expiration: string, conditions: unknown[] }

t.test('temporary credentials: the form never outlives them, and rotated ones are used', async (t) => {
  const config = production()
  let expiresInMs = 4 * 60_000
  let issued = 0
  // An IAM role: the SDK renews credentials that expire within 5 minutes, so each call here gets new ones.
  const client = new S3Client({
    ...s3ClientConfig(config.s3),
    credentials: async () => ({ accessKeyId: `ASIA${++issued}`, secretAccessKey: `secret-${issued}`, sessionToken: `token-${issued}`, expiration: new Date(Date.now() + expiresInMs) })
  })
  const storage = new S3Storage(client, config, 'https://images-1.s3.eu-west-1.amazonaws.com/')
  t.teardown(() => storage.close())
  const ticket = { key: KEY, contentType: 'image/png', maxBytes: 1024, expiresAt: new Date(Date.now() + 600_000) }

  const first = await storage.createUploadTarget(ticket)
  const second = await storage.createUploadTarget(ticket)
  for (const { fields } of [first, second]) {
    const n = /^token-(\d+)$/.exec(fields['X-Amz-Security-Token'] ?? '')?.[1]
    t.match(fields['X-Amz-Credential'], new RegExp(`^ASIA${n}/`), 'the session token and its access key')
  }
  t.not(second.fields['X-Amz-Security-Token'], first.fields['X-Amz-Security-Token'], 'rotated credentials sign the next form')
  const limit = Date.now() + expiresInMs - 60_000
  t.ok(first.expiresAt.getTime() <= limit, 'expiresAt is clamped a minute before the credentials expire')
  t.ok(first.expiresAt < ticket.expiresAt, 'earlier than the ticket asked')
  t.equal(policyOf(first.fields).expiration, first.expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z'), 'the policy says the same expiry')

  expiresInMs = 30_000
  await t.rejects(storage.createUploadTarget(ticket), { code: 'UNAVAILABLE', statusCode: 503 }, 'credentials about to expire: no form')
})

t.test('static credentials: the ticket\'s expiry, the staging key, no acl field', async (t) => {
  for (const acl of ['public-read', 'none']) {
    const config = production({ AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', S3_ACL: acl })
    const storage = new S3Storage(new S3Client(s3ClientConfig(config.s3)), config, 'https://images-1.s3.eu-west-1.amazonaws.com/')
    t.teardown(() => storage.close())
    const expiresAt = new Date(Date.now() + 600_000)
    const target = await storage.createUploadTarget({ key: KEY, contentType: 'image/png', maxBytes: 1024, expiresAt })
    // The policy's expiration has whole seconds.
    t.ok(Math.abs(target.expiresAt.getTime() - expiresAt.getTime()) <= 1000, `S3_ACL=${acl}: the ticket's expiry, to the second`)
    t.equal(policyOf(target.fields).expiration, target.expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z'), 'the policy says the same expiry')
    t.equal(target.fields.key, STAGING, `S3_ACL=${acl}: the form writes the staging key, not the ticket's`)
    t.equal(target.fields.acl, undefined, `S3_ACL=${acl}: no acl field (the staging object stays private)`)
    t.same(policyOf(target.fields).conditions.slice(0, 3), [['content-length-range', 1, 1024], { 'Content-Type': 'image/png' }, { success_action_status: '201' }])
    t.notOk('X-Amz-Security-Token' in target.fields, 'no session token')
  }
})

async function gatewayStorage (t: Test, target: S3TestTarget, bucket: string, extra: Record<string, string> = {}) {
  const storage = await createS3Storage(loadConfig({ ...productionEnv(target, bucket), SERVICE_TOKENS: TOKEN, S3_SELF_CHECK: 'false', ...extra }))
  t.teardown(() => storage.close())
  return storage
}

t.test('head, read, delete, readiness against the gateway', async (t) => {
  const target = s3Target(t)
  if (target === undefined) return
  const { bucket, client } = await createTestBucket(t, target)
  const storage = await gatewayStorage(t, target, bucket)
  const image = png(32, 32)
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: KEY, Body: image, ContentType: 'image/png' }))

  t.match(await storage.head(KEY), { size: image.length, contentType: 'image/png', etag: /^"[0-9a-f]{32}"$/ })
  t.equal(await storage.head('profile-images/ffffffffffffffffffffffffffffffff.png'), undefined, 'missing → undefined')
  t.ok((await storage.read(KEY, image.length))?.body?.equals(image), 'read: the whole object')
  t.same(await storage.read(KEY, image.length - 1), { size: image.length }, 'larger than allowed: its size, not its bytes')
  t.equal(await storage.read('profile-images/ffffffffffffffffffffffffffffffff.png', 100), undefined, 'read of a missing key → undefined')
  await storage.delete(KEY)
  t.equal(await storage.head(KEY), undefined, 'deleted')
  await storage.delete(KEY)
  t.pass('deleting again is no error')

  await storage.check()
  await storage.check()
  t.pass('readiness: marker written once, then read')

  const wrongSecret = await gatewayStorage(t, target, bucket, { AWS_SECRET_ACCESS_KEY: 'not-the-secret' })
  await t.rejects(wrongSecret.head(KEY), { name: 'SignatureDoesNotMatch' }, 'bad credentials are an error, not a missing object')
  await t.rejects(wrongSecret.check(), { name: 'SignatureDoesNotMatch' }, 'readiness fails with bad credentials')
  const outsider = await gatewayStorage(t, target, bucket, { AWS_ACCESS_KEY_ID: OTHER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: OTHER_CREDENTIALS.secretAccessKey })
  await t.rejects(outsider.check(), { name: 'AccessDenied' }, 'readiness fails without access to the bucket')
})

t.test('put publishes with the ACL and a long cache lifetime', async (t) => {
  const target = s3Target(t)
  if (target === undefined) return
  const { bucket, client } = await createTestBucket(t, target)
  const storage = await gatewayStorage(t, target, bucket)
  t.equal(storage.uploadedKey(KEY), STAGING, 'staging under the prefix')
  const image = png(8, 8)
  await storage.put(KEY, image, 'image/png')
  const published = await client.send(new GetObjectCommand({ Bucket: bucket, Key: KEY }))
  t.equal(published.ContentType, 'image/png', 'its Content-Type')
  t.equal(published.CacheControl, 'public, max-age=31536000, immutable', 'cacheable for good')
  t.ok(Buffer.from(await published.Body?.transformToByteArray() ?? []).equals(image), 'its bytes')
  t.equal((await fetch(`${target.endpoint}/${bucket}/${KEY}`)).status, 200, 'public-read')
  const none = await gatewayStorage(t, target, bucket, { S3_ACL: 'none' })
  await none.put(STAGING, image, 'image/png')
  t.not((await fetch(`${target.endpoint}/${bucket}/${STAGING}`)).status, 200, 'S3_ACL=none: no acl, private')
})
