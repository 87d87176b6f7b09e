// The ticket's answer is the ticket as JSON.stringify writes it, its form fields in the order they are posted.
import t from 'tap'
import { AUTH, build } from '../helpers/build.js'

t.test('tickets the service issues, in both modes', async (t) => {
  for (const env of [{}, { ENVIRONMENT: 'production', AWS_S3_BUCKET: 'bkt', AWS_REGION: 'ap-southeast-1', AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'to/ken+=', AWS_S3_ENDPOINT: 'http://127.0.0.1:1', S3_SELF_CHECK: 'false', S3_KEY_PREFIX: 'pics/' }]) {
    const app = await build(t, env)
    const res = await app.inject({ method: 'POST', url: '/v1/uploads', headers: AUTH, payload: { ownerId: 'o', contentType: 'image/jpeg' } })
    t.equal(res.statusCode, 201)
    t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
    t.equal(res.body, JSON.stringify(res.json()), `${env.ENVIRONMENT ?? 'development'}: JSON.stringify's text`)
    t.same(Object.keys(res.json()), ['uploadId', 'key', 'upload', 'publicUrl', 'expiresAt', 'maxBytes'])
    t.same(Object.keys(res.json().upload.fields).slice(-3), ['key', 'Policy', 'X-Amz-Signature'], 'the file is posted after the signed fields')
  }
})
