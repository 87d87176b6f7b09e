// Real S3 for tests: Ceph's RADOS Gateway, started by scripts/test.sh through scripts/s3-gateway.sh, which exports
// TEST_S3_ENDPOINT. Without it the S3 tests skip with a loud notice, except under CI=true where they fail.
// Why not an in-process fake, and what RGW does differently from AWS: /work/shared/S3-TESTING.md.
import { randomBytes } from 'node:crypto'
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  S3Client
} from '@aws-sdk/client-s3'
import type { Test } from 'tap'

export interface S3TestTarget {
  endpoint: string
  accessKeyId: string
  secretAccessKey: string
  region: string
}

/** A second gateway user (made by scripts/s3-gateway.sh) for "valid key, not the bucket owner" tests. */
export const OTHER_CREDENTIALS = { accessKeyId: 'other-access-key', secretAccessKey: 'other-secret-key' }

/**
 * The deployment guide's bucket policy (public read of the prefix, staging kept private) and IAM policy, the latter
 * for `user` (radosgw has no IAM: a bucket policy grants it). `deny`: S3 actions refused to `user` on the prefix (an
 * explicit Deny wins). `stagingPrivate: false` leaves out the guide's StagingIsPrivate statement, in the form radosgw
 * understands (NotPrincipal; it ignores the aws:PrincipalArn condition the guide gives for AWS), with the bucket owner
 * (`test`, whose client the tests look with) beside the service.
 */
export function guidePolicies (bucket: string, user: string, deny: string[] = [], opts: { stagingPrivate?: boolean } = {}): string {
  const prefix = `arn:aws:s3:::${bucket}/profile-images/*`
  const service = { AWS: [`arn:aws:iam:::user/${user}`] }
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'PublicReadGetObject', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: prefix },
      ...(opts.stagingPrivate ?? true ? [{ Sid: 'StagingIsPrivate', Effect: 'Deny', NotPrincipal: { AWS: [...service.AWS, 'arn:aws:iam:::user/test'] }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/profile-images/incoming/*` }] : []),
      { Sid: 'ServiceUser', Effect: 'Allow', Principal: service, Action: ['s3:PutObject', 's3:PutObjectAcl', 's3:GetObject', 's3:DeleteObject'], Resource: prefix },
      ...(deny.length > 0 ? [{ Sid: 'Denied', Effect: 'Deny', Principal: service, Action: deny, Resource: prefix }] : [])
    ]
  })
}

/**
 * The gateway to test against, or undefined when there is none; then the test has been skipped (plan 0) or, under
 * CI=true, failed, and the caller should return at once. Call it before any assertion in the test.
 */
export function s3Target (t: Test): S3TestTarget | undefined {
  const endpoint = process.env.TEST_S3_ENDPOINT
  if (!endpoint) {
    const why = 'radosgw not running (TEST_S3_ENDPOINT is unset); install ceph-mon ceph-osd radosgw and run ' +
      '`npm test`, which starts it with scripts/s3-gateway.sh'
    if (process.env.CI === 'true') {
      t.fail(`!!! CI=true but the S3 gateway is missing: ${why} !!!`)
    } else {
      process.stderr.write(`!!! S3 tests SKIPPED: ${why} !!!\n`)
      t.plan(0, `S3 tests SKIPPED: ${why}`)
    }
    return undefined
  }
  return {
    endpoint,
    accessKeyId: process.env.TEST_S3_ACCESS_KEY ?? 'test-access-key',
    secretAccessKey: process.env.TEST_S3_SECRET_KEY ?? 'test-secret-key',
    region: 'us-east-1'
  }
}

/** An SDK client for the gateway, with the target's keys unless others are given. */
export function s3Client (target: S3TestTarget, credentials = { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey }): S3Client {
  return new S3Client({
    endpoint: target.endpoint,
    region: target.region,
    credentials,
    forcePathStyle: true,
    // RGW 16 answers 411 to the aws-chunked bodies with trailing checksums that newer SDKs send by default
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED'
  })
}

/**
 * Creates a bucket with a unique name, optionally with a CORS rule allowing POST/GET/PUT/HEAD and every header from
 * `origins` (default any), and removes it with everything in it when `t` ends.
 */
export async function createTestBucket (
  t: Test,
  target: S3TestTarget,
  opts: { cors?: boolean, origins?: string[] } = {}
): Promise<{ bucket: string, client: S3Client }> {
  const client = s3Client(target)
  const bucket = `test-${process.pid}-${randomBytes(6).toString('hex')}`
  await client.send(new CreateBucketCommand({ Bucket: bucket }))
  t.teardown(async () => {
    try {
      await emptyBucket(client, bucket)
      await client.send(new DeleteBucketCommand({ Bucket: bucket }))
    } finally {
      client.destroy()
    }
  })
  if (opts.cors ?? opts.origins !== undefined) {
    await client.send(new PutBucketCorsCommand({
      Bucket: bucket,
      CORSConfiguration: {
        CORSRules: [{
          AllowedOrigins: opts.origins ?? ['*'],
          AllowedMethods: ['POST', 'GET', 'PUT', 'HEAD'],
          AllowedHeaders: ['*'],
          ExposeHeaders: ['ETag'],
          MaxAgeSeconds: 600
        }]
      }
    }))
  }
  return { bucket, client }
}

/** Deletes every object and unfinished multipart upload (one by one: tests store few objects). */
async function emptyBucket (client: S3Client, bucket: string): Promise<void> {
  let token: string | undefined
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }))
    for (const object of page.Contents ?? []) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key }))
    }
    token = page.NextContinuationToken
  } while (token)
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))
  for (const upload of uploads.Uploads ?? []) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }))
  }
}

/** The environment of the service in production mode against the gateway's `bucket` (keys: the target's own). */
export function productionEnv (target: S3TestTarget, bucket: string, keys: { accessKeyId: string, secretAccessKey: string } = target): Record<string, string> {
  return {
    ENVIRONMENT: 'production',
    AWS_S3_BUCKET: bucket,
    AWS_S3_ENDPOINT: target.endpoint,
    AWS_S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: keys.accessKeyId,
    AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    AWS_REGION: target.region
  }
}
