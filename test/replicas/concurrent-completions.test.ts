// Concurrent completions of one production upload, through two app instances sharing one PostgreSQL database and
// one bucket on radosgw (two replicas behind a load balancer, a browser retrying and the main backend completing
// too): every call answers the same 200, and one image.confirmed is written (issue 16, item 3). Once with the
// bucket owner's keys (S3 answers NoSuchKey for the staging object another completion removed), once with only the
// guide's IAM policy (no ListBucket: AccessDenied for it).
import { PutBucketPolicyCommand } from '@aws-sdk/client-s3'
import t, { type Test } from 'tap'
import { AUTH, build } from '../helpers/build.js'
import { postForm } from '../helpers/form.js'
import { png } from '../helpers/images.js'
import { adminQuery, postgresUnavailable, testSchema } from '../helpers/postgres.js'
import { createTestBucket, guidePolicies, OTHER_CREDENTIALS, productionEnv, s3Target } from '../helpers/s3.js'

const skip = await postgresUnavailable()
const UPLOADS = Number(process.env.CC_UPLOADS ?? 5)
const CALLS = 20

async function run (t: Test, opts: { guide: boolean }): Promise<void> {
  const target = s3Target(t)
  if (target === undefined) return
  const { bucket, client } = await createTestBucket(t, target)
  if (opts.guide) await client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: guidePolicies(bucket, 'other') }))
  const { schema, url } = await testSchema(t)
  const env = { ...productionEnv(target, bucket, opts.guide ? OTHER_CREDENTIALS : target), DATABASE_URL: url, IMAGE_CONCURRENCY: '4' }
  const replicas = [await build(t, env), await build(t, env)]
  await Promise.all(replicas.map(async (r) => { await r.ready() }))

  for (let u = 0; u < UPLOADS; u++) {
    const res = await replicas[u % 2]!.inject({ method: 'POST', url: '/v1/uploads', headers: AUTH, payload: { ownerId: `owner-${u}`, contentType: 'image/png' } })
    t.equal(res.statusCode, 201)
    const ticket = res.json<{ uploadId: string, upload: { url: string, fields: Record<string, string> } }>()
    t.equal((await postForm(ticket.upload, png(64 + u, 48), 'image/png')).status, 201, 'the form: 201')
    const answers = await Promise.all(Array.from({ length: CALLS }, async (_, i) =>
      await replicas[i % 2]!.inject({ method: 'POST', url: `/v1/uploads/${ticket.uploadId}/complete` })))
    const failed = answers.filter((a) => a.statusCode !== 200).map((a) => `${a.statusCode} ${a.body}`)
    t.same(failed, [], `upload ${u}: every completion answers 200`)
    t.equal(new Set(answers.map((a) => a.body)).size, 1, `upload ${u}: the same answer`)
    const events = await adminQuery<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.outbox WHERE upload_id = $1`, [ticket.uploadId])
    t.equal(events[0]?.n, 1, `upload ${u}: one image.confirmed`)
  }
}

t.test('~20 concurrent completions of one upload across two replicas: all 200, the same answer, one event', { skip }, async (t) => {
  await run(t, { guide: false })
})

t.test('the same with only the guide\'s IAM policy', { skip }, async (t) => {
  await run(t, { guide: true })
})
