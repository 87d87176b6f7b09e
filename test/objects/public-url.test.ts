// Every public URL form of CONTRACT.md ("Public image URLs"), and for S3 the same address the SDK posts to.
import { S3Client } from '@aws-sdk/client-s3'
import { createPresignedPost } from '@aws-sdk/s3-presigned-post'
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { publicUrlBuilder } from '../../src/objects/public-url.js'
import { s3ClientConfig } from '../../src/objects/s3.js'

const KEY = 'profile-images/0123456789abcdef0123456789abcdef.png'
const PRODUCTION = { ENVIRONMENT: 'production', SERVICE_TOKENS: 'token-0123456789abcdef', AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' }

const CASES: Array<{ name: string, env: Record<string, string>, url: string, sdkAddressed: boolean }> = [
  {
    name: 'bucket URL, ap-southeast-1 (the guide\'s form)',
    env: { AWS_S3_BUCKET: 'pixelperfectui-profile-images', AWS_REGION: 'ap-southeast-1' },
    url: `https://pixelperfectui-profile-images.s3.ap-southeast-1.amazonaws.com/${KEY}`,
    sdkAddressed: true
  },
  {
    name: 'bucket URL, default region',
    env: { AWS_S3_BUCKET: 'pixelperfectui-profile-images' },
    url: `https://pixelperfectui-profile-images.s3.ap-southeast-1.amazonaws.com/${KEY}`,
    sdkAddressed: true
  },
  {
    name: 'bucket URL, us-east-1 (regional host too)',
    env: { AWS_S3_BUCKET: 'images-1', AWS_REGION: 'us-east-1' },
    url: `https://images-1.s3.us-east-1.amazonaws.com/${KEY}`,
    sdkAddressed: true
  },
  {
    name: 'bucket with dots: path style on the regional host (the *.s3 certificate would not match)',
    env: { AWS_S3_BUCKET: 'images.example.com', AWS_REGION: 'eu-west-1' },
    url: `https://s3.eu-west-1.amazonaws.com/images.example.com/${KEY}`,
    sdkAddressed: true
  },
  {
    name: 'custom domain (CloudFront)',
    env: { AWS_S3_BUCKET: 'pixelperfectui-profile-images', AWS_S3_CUSTOM_DOMAIN: 'd1234567890.cloudfront.net' },
    url: `https://d1234567890.cloudfront.net/${KEY}`,
    sdkAddressed: false
  },
  {
    name: 'custom domain wins over an endpoint',
    env: { AWS_S3_BUCKET: 'images-1', AWS_S3_CUSTOM_DOMAIN: 'cdn.example.com', AWS_S3_ENDPOINT: 'http://127.0.0.1:9000' },
    url: `https://cdn.example.com/${KEY}`,
    sdkAddressed: false
  },
  {
    name: 'endpoint, path style',
    env: { AWS_S3_BUCKET: 'images-1', AWS_S3_ENDPOINT: 'http://127.0.0.1:9000/', AWS_S3_FORCE_PATH_STYLE: 'true', AWS_REGION: 'us-east-1' },
    url: `http://127.0.0.1:9000/images-1/${KEY}`,
    sdkAddressed: true
  },
  {
    name: 'endpoint with a base path, path style',
    env: { AWS_S3_BUCKET: 'images-1', AWS_S3_ENDPOINT: 'https://storage.example.com/s3', AWS_S3_FORCE_PATH_STYLE: 'true' },
    url: `https://storage.example.com/s3/images-1/${KEY}`,
    sdkAddressed: true
  },
  {
    name: 'endpoint, virtual-hosted',
    env: { AWS_S3_BUCKET: 'images-1', AWS_S3_ENDPOINT: 'https://minio.example.com' },
    url: `https://images-1.minio.example.com/${KEY}`,
    sdkAddressed: true
  },
  {
    name: 'endpoint, virtual-hosted, bucket with dots: path style',
    env: { AWS_S3_BUCKET: 'images.example.com', AWS_S3_ENDPOINT: 'https://minio.example.com' },
    url: `https://minio.example.com/images.example.com/${KEY}`,
    sdkAddressed: true
  },
  {
    name: 'a custom key prefix',
    env: { AWS_S3_BUCKET: 'images-1', S3_KEY_PREFIX: 'avatars/v2/' },
    url: 'https://images-1.s3.ap-southeast-1.amazonaws.com/avatars/v2/0123456789abcdef0123456789abcdef.png',
    sdkAddressed: true
  }
]

for (const c of CASES) {
  t.test(c.name, async (t) => {
    const config = loadConfig({ ...PRODUCTION, ...c.env })
    const key = KEY.replace('profile-images/', config.s3.keyPrefix)
    t.equal(publicUrlBuilder(config)(key), c.url)
    if (!c.sdkAddressed) return
    // The object's URL is the address the SDK posts the form to, followed by the key.
    const client = new S3Client(s3ClientConfig(config.s3))
    t.teardown(() => client.destroy())
    const { url } = await createPresignedPost(client, { Bucket: config.s3.bucket, Key: key })
    t.equal(c.url, `${url.replace(/\/$/, '')}/${key}`, 'same address as the SDK\'s')
  })
}

t.test('development: {PUBLIC_BASE_URL}/uploads/profile/{filename}', async (t) => {
  const config = loadConfig({ ENVIRONMENT: 'development', PUBLIC_BASE_URL: 'https://images.example.com/' })
  t.equal(publicUrlBuilder(config)(KEY), 'https://images.example.com/uploads/profile/0123456789abcdef0123456789abcdef.png')
  t.equal(publicUrlBuilder(loadConfig({ PORT: '8080' }))(KEY), 'http://localhost:8080/uploads/profile/0123456789abcdef0123456789abcdef.png')
})
