// The fast signer against the SDK's createPresignedPost (byte for byte, same clock), and the development verifier.
import { S3Client } from '@aws-sdk/client-s3'
import { createPresignedPost } from '@aws-sdk/s3-presigned-post'
import t from 'tap'
import { signPostPolicy, verifyPostPolicy, type Credentials } from '../../src/objects/post-policy.js'

const NOW = new Date('2025-03-14T15:09:26.535Z')
const BUCKET = 'pixelperfectui-profile-images'
const REGION = 'ap-southeast-1'
const STATIC: Credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }
const SESSION: Credentials = { ...STATIC, accessKeyId: 'ASIAIOSFODNN7EXAMPLE', sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE//////////wEaDmFwLXNvdXRoZWFzdC0x+/=' }

const CASES = [
  { key: 'profile-images/0123456789abcdef0123456789abcdef.png', contentType: 'image/png', acl: 'public-read', maxBytes: 5_242_880, expires: 600 },
  { key: 'profile-images/ffffffffffffffffffffffffffffffff.jpg', contentType: 'image/jpeg', acl: undefined, maxBytes: 1024, expires: 1 },
  { key: 'avatars/team/00000000000000000000000000000000.webp', contentType: 'image/webp', acl: 'public-read', maxBytes: 1, expires: 86_400 },
  // Longer than the signer's buffers start out, and not ASCII: they grow, and the bytes stay UTF-8.
  { key: `prøfile/${'0123456789abcdef'.repeat(40)}.png`, contentType: 'image/png', acl: undefined, maxBytes: 5_242_880, expires: 600 }
]

/** Runs `fn` with Date.now frozen at NOW (createPresignedPost reads the clock itself). */
async function frozen<T> (fn: () => Promise<T>): Promise<T> {
  const real = Date.now
  Date.now = () => NOW.getTime()
  try { return await fn() } finally { Date.now = real }
}

for (const credentials of [STATIC, SESSION]) {
  for (const c of CASES) {
    t.test(`same fields as createPresignedPost: ${c.contentType}, acl ${c.acl ?? 'none'}, ${credentials.sessionToken ? 'session token' : 'static keys'}`, async (t) => {
      const fields = { 'Content-Type': c.contentType, success_action_status: '201', ...(c.acl !== undefined ? { acl: c.acl } : {}) }
      const conditions = [['content-length-range', 1, c.maxBytes]]
      const client = new S3Client({ region: REGION, credentials })
      t.teardown(() => client.destroy())
      const sdk = await frozen(() => createPresignedPost(client, { Bucket: BUCKET, Key: c.key, Fields: fields, Conditions: conditions as never, Expires: c.expires }))
      const ours = signPostPolicy({ bucket: BUCKET, key: c.key, fields, conditions, expiresSeconds: c.expires, credentials, region: REGION, now: NOW })
      t.same(Object.keys(ours), Object.keys(sdk.fields), 'same fields in the same order')
      t.strictSame(ours, sdk.fields, 'same values, Policy and signature byte for byte')

      const policy = JSON.parse(Buffer.from(ours.Policy ?? '', 'base64').toString()) as { expiration: string, conditions: unknown[] }
      t.equal(policy.expiration, new Date(NOW.getTime() + c.expires * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'))
      t.same(policy.conditions[0], ['content-length-range', 1, c.maxBytes])
      t.same(policy.conditions.at(-1), { key: c.key }, 'exact key')
      t.equal(ours['X-Amz-Security-Token'], credentials.sessionToken, 'session token signed in when present')

      // A second ticket in the same second reuses the first one's policy text: still the SDK's bytes.
      const other = c.key.replace(/[0-9a-f]{32}/, 'a5'.repeat(16))
      const sdk2 = await frozen(() => createPresignedPost(client, { Bucket: BUCKET, Key: other, Fields: fields, Conditions: conditions as never, Expires: c.expires }))
      t.strictSame(signPostPolicy({ bucket: BUCKET, key: other, fields, conditions, expiresSeconds: c.expires, credentials, region: REGION, now: NOW }), sdk2.fields, 'the next key, same second')
    })
  }
}

t.test('verifyPostPolicy accepts the signed form and refuses tampering', async (t) => {
  const key = 'profile-images/0123456789abcdef0123456789abcdef.png'
  const form = signPostPolicy({
    bucket: BUCKET, key, fields: { 'Content-Type': 'image/png', success_action_status: '201' }, conditions: [['content-length-range', 1, 1024]], expiresSeconds: 600, credentials: SESSION, region: REGION, now: NOW
  })
  const opts = { bucket: BUCKET, credentials: SESSION, region: REGION, now: new Date(NOW.getTime() + 1000) }
  t.same(verifyPostPolicy(form, opts), { bucket: BUCKET, key, contentType: 'image/png', minBytes: 1, maxBytes: 1024 })

  const refused = (what: string, edit: Record<string, string>, code: string, o = opts) =>
    t.throws(() => verifyPostPolicy({ ...form, ...edit }, o), { code }, `${what} → ${code}`)
  refused('another key', { key: 'profile-images/ffffffffffffffffffffffffffffffff.png' }, 'POLICY_CONDITION_FAILED')
  refused('another Content-Type', { 'Content-Type': 'text/html' }, 'POLICY_CONDITION_FAILED')
  refused('another success_action_status', { success_action_status: '200' }, 'POLICY_CONDITION_FAILED')
  refused('a field the policy does not cover', { acl: 'public-read' }, 'POLICY_CONDITION_FAILED')
  refused('a tampered signature', { 'X-Amz-Signature': (form['X-Amz-Signature'] ?? '').replace(/^./, (c) => (c === '0' ? '1' : '0')) }, 'SIGNATURE_MISMATCH')
  const edited = Buffer.from(Buffer.from(form.Policy ?? '', 'base64').toString().replace('1024', '9999999')).toString('base64')
  refused('an edited policy', { Policy: edited }, 'SIGNATURE_MISMATCH')
  refused('another access key', { 'X-Amz-Credential': (form['X-Amz-Credential'] ?? '').replace('ASIA', 'AKIA') }, 'SIGNATURE_MISMATCH')
  refused('another secret', {}, 'SIGNATURE_MISMATCH', { ...opts, credentials: { ...SESSION, secretAccessKey: 'another-secret' } })
  refused('after the expiration', {}, 'POLICY_EXPIRED', { ...opts, now: new Date(NOW.getTime() + 600_000) })
})
