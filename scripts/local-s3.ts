// Sets up the local S3 gateway's bucket (scripts/local-s3.sh) as docs/production.md sets one up on AWS, and prints
// the service's production variables for it. The gateway's users come from scripts/s3-gateway.sh.
import { randomBytes } from 'node:crypto'
import { CreateBucketCommand, PutBucketCorsCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3'

const endpoint = process.argv[2]
if (endpoint === undefined) throw new Error('usage: tsx scripts/local-s3.ts ENDPOINT')
const bucket = process.env.LOCAL_S3_BUCKET ?? 'profile-images-local'
const user = 'test'
const keys = { accessKeyId: 'test-access-key', secretAccessKey: 'test-secret-key' }
const prefix = 'profile-images/'

const client = new S3Client({
  endpoint,
  region: 'us-east-1',
  credentials: keys,
  forcePathStyle: true,
  // radosgw answers 411 to the aws-chunked bodies newer SDKs send by default (/work/shared/S3-TESTING.md)
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED'
})

// No LocationConstraint: a local gateway has one region and refuses any other (InvalidLocationConstraint).
await client.send(new CreateBucketCommand({ Bucket: bucket }))
// Browsers post the form straight to the bucket from the page's origin: any origin, on this machine.
await client.send(new PutBucketCorsCommand({
  Bucket: bucket,
  CORSConfiguration: {
    CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['POST', 'GET', 'HEAD'], AllowedHeaders: ['*'], MaxAgeSeconds: 3000 }]
  }
}))
// docs/production.md's set-up A: the prefix is public through the bucket policy (S3_ACL=none), staging objects are
// not. radosgw knows no aws:PrincipalArn condition, so the staging Deny names the service's user with NotPrincipal.
await client.send(new PutBucketPolicyCommand({
  Bucket: bucket,
  Policy: JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'PublicReadGetObject', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/${prefix}*` },
      { Sid: 'StagingIsPrivate', Effect: 'Deny', NotPrincipal: { AWS: [`arn:aws:iam:::user/${user}`] }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/${prefix}incoming/*` }
    ]
  })
}))
client.destroy()

const variables = {
  ENVIRONMENT: 'production',
  AWS_S3_ENDPOINT: endpoint,
  AWS_S3_FORCE_PATH_STYLE: 'true',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: keys.accessKeyId,
  AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
  AWS_S3_BUCKET: bucket,
  S3_ACL: 'none',
  SERVICE_TOKENS: `local-${randomBytes(16).toString('hex')}`,
  // The demo page stands in for the main backend without a token: fine on this machine, never on a public service.
  DEMO: 'true'
}
process.stdout.write('# image-service, production mode against the local S3 gateway (npm run s3:local); for this machine only\n')
for (const [name, value] of Object.entries(variables)) process.stdout.write(`${name}=${value}\n`)
