// The start-up self-check's messages, each triggered for real against the gateway (radosgw). The one failure
// radosgw cannot show (a bucket with ACLs disabled) is injected by a proxy in front of it that answers as AWS does.
import { ListObjectsV2Command, PutBucketPolicyCommand } from '@aws-sdk/client-s3'
import { once } from 'node:events'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { loadConfig } from '../../src/config.js'
import { createS3Storage } from '../../src/objects/s3.js'
import { TOKEN } from '../helpers/build.js'
import { runServer } from '../helpers/server-process.js'
import { createTestBucket, guidePolicies, OTHER_CREDENTIALS, s3Target, type S3TestTarget, productionEnv } from '../helpers/s3.js'

function env (target: S3TestTarget, bucket: string, extra: Record<string, string> = {}, keys: { accessKeyId: string, secretAccessKey: string } = target): Record<string, string> {
  return { ...productionEnv(target, bucket, keys), SERVICE_TOKENS: TOKEN, ...extra }
}

/** The self-check's error for this environment (fails the test if the start succeeds). */
async function startFailure (t: Test, vars: Record<string, string>): Promise<string> {
  try {
    const storage = await createS3Storage(loadConfig(vars))
    await storage.close()
    t.fail('the start should have failed')
    return ''
  } catch (err) {
    return (err as Error).message
  }
}

/** A closed port on loopback: nothing listens there. */
async function closedPort (): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1')
  await once(s, 'listening')
  const { port } = s.address() as AddressInfo
  await new Promise((resolve) => s.close(resolve))
  return port
}

/**
 * A proxy to the gateway that behaves like an AWS bucket with ACLs disabled (Object Ownership "Bucket owner
 * enforced"): a request setting an ACL other than bucket-owner-full-control gets AccessControlListNotSupported.
 */
async function aclsDisabledProxy (t: Test, upstream: string): Promise<string> {
  const to = new URL(upstream)
  const server: Server = createServer((req, res) => {
    const acl = req.headers['x-amz-acl']
    if (acl !== undefined && acl !== 'bucket-owner-full-control') {
      req.resume()
      res.writeHead(400, { 'content-type': 'application/xml' })
      res.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessControlListNotSupported</Code><Message>The bucket does not allow ACLs</Message><RequestId>R</RequestId><HostId>H</HostId></Error>')
      return
    }
    // Headers go through unchanged (the signature covers Host), to the gateway's port.
    const forward = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers)
      up.pipe(res)
    })
    forward.on('error', () => res.destroy())
    req.pipe(forward)
  }).listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

t.test('each failure stops the start with a message naming what to fix', async (t) => {
  const target = s3Target(t)
  if (target === undefined) return
  const { bucket } = await createTestBucket(t, target)

  t.match(await startFailure(t, env(target, bucket, { AWS_SECRET_ACCESS_KEY: 'not-the-secret' })),
    /SignatureDoesNotMatch.*Check AWS_SECRET_ACCESS_KEY/, 'wrong secret')
  t.match(await startFailure(t, env(target, bucket, { AWS_ACCESS_KEY_ID: 'unknown-access-key' })),
    /InvalidAccessKeyId.*Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/, 'unknown access key')
  t.match(await startFailure(t, env(target, `${bucket}-missing`)),
    /NoSuchBucket.*does not exist.*AWS_S3_ENDPOINT=.*fix AWS_S3_BUCKET/, 'missing bucket')
  const denied = await startFailure(t, env(target, bucket, { AWS_ACCESS_KEY_ID: OTHER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: OTHER_CREDENTIALS.secretAccessKey }))
  t.match(denied, /AccessDenied.*may not PutObject/, 'a user without access to the bucket')
  t.match(denied, `Grant s3:PutObject, s3:PutObjectAcl, s3:GetObject, s3:DeleteObject on arn:aws:s3:::${bucket}/profile-images/*`, 'lists the IAM actions and the resource')
  t.match(await startFailure(t, env(target, bucket, { AWS_S3_ENDPOINT: `http://127.0.0.1:${await closedPort()}` })),
    /cannot reach S3.*ECONNREFUSED.*Check AWS_S3_ENDPOINT/, 'nothing listening at the endpoint')
})

t.test('ACLs disabled on the bucket: set S3_ACL=none (which then passes) or enable ACLs', async (t) => {
  const target = s3Target(t)
  if (target === undefined) return
  const { bucket } = await createTestBucket(t, target)
  const proxy = await aclsDisabledProxy(t, target.endpoint)
  t.match(await startFailure(t, env(target, bucket, { AWS_S3_ENDPOINT: proxy })),
    /AccessControlListNotSupported.*set S3_ACL=none and make the images public with the bucket policy.*or enable ACLs/, 'the advice')
  const storage = await createS3Storage(loadConfig(env(target, bucket, { AWS_S3_ENDPOINT: proxy, S3_ACL: 'none' })))
  t.teardown(() => storage.close())
  t.pass('S3_ACL=none starts')
})

t.test('the self-check passes on a good bucket, leaves nothing behind, and can be skipped', async (t) => {
  const target = s3Target(t)
  if (target === undefined) return
  const { bucket, client } = await createTestBucket(t, target)
  const good = await createS3Storage(loadConfig(env(target, bucket)))
  await good.close()
  t.equal((await client.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount, 0, 'the probe object was deleted')

  const skipped = await createS3Storage(loadConfig(env(target, bucket, { AWS_SECRET_ACCESS_KEY: 'not-the-secret', S3_SELF_CHECK: 'false' })))
  t.teardown(() => skipped.close())
  await t.rejects(skipped.check(), { name: 'SignatureDoesNotMatch' }, 'S3_SELF_CHECK=false starts; readiness then fails')
})

t.test('a bucket policy that makes staging public stops the start; the guide\'s StagingIsPrivate statement passes', async (t) => {
  const target = s3Target(t)
  if (target === undefined) return
  const { bucket, client } = await createTestBucket(t, target)
  // The guide's set-up with the bucket policy (S3_ACL=none), run as the service's own user.
  const vars = env(target, bucket, { S3_ACL: 'none' }, OTHER_CREDENTIALS)
  await client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: guidePolicies(bucket, 'other', [], { stagingPrivate: false }) }))
  t.match(await startFailure(t, vars), /S3 self-check failed: http:\/\/.*\/profile-images\/incoming\/\.self-check-[0-9a-f]+ answered 200 without credentials: uploads waiting in profile-images\/incoming\/ .* are public\. .*"StagingIsPrivate" Deny statement of docs\/production\.md/, 'public staging: refused, naming the fix')
  await client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: guidePolicies(bucket, 'other') }))
  const good = await createS3Storage(loadConfig(vars))
  await good.close()
  t.equal((await client.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount, 0, 'both probes deleted')
})

t.test('the server process exits with the self-check message', async (t) => {
  const target = s3Target(t)
  if (target === undefined) return
  const { bucket } = await createTestBucket(t, target)
  const run = await runServer(t, env(target, bucket, { AWS_SECRET_ACCESS_KEY: 'not-the-secret' }))
  t.equal(run.code, 1, 'exit code 1')
  t.match(run.stderr, /image-service: failed to start: S3 self-check failed: .*SignatureDoesNotMatch.*AWS_SECRET_ACCESS_KEY/, 'the message on stderr')
})
