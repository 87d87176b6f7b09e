// The ticket's JSON text is JSON.stringify's, byte for byte, though the policy and signature skip its escape check.
import t from 'tap'
import { ticketJson } from '../../src/fast/ticket-json.js'
import type { UploadTicketView } from '../../src/uploads/service.js'
import { AUTH, build } from '../helpers/build.js'

t.test('tickets the service issues, in both modes', async (t) => {
  for (const env of [{}, { ENVIRONMENT: 'production', AWS_S3_BUCKET: 'bkt', AWS_REGION: 'ap-southeast-1', AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'to/ken+=', AWS_S3_ENDPOINT: 'http://127.0.0.1:1', S3_SELF_CHECK: 'false', S3_KEY_PREFIX: 'pics/' }]) {
    const app = await build(t, env)
    const ticket = await app.uploads.create({ ownerId: 'owner-1', contentType: 'image/png', contentLength: 10 })
    t.equal(ticketJson(ticket), JSON.stringify(ticket), `${env.ENVIRONMENT ?? 'development'}: the same text, field order included`)
    const res = await app.inject({ method: 'POST', url: '/v1/uploads', headers: AUTH, payload: { ownerId: 'o', contentType: 'image/jpeg' } })
    t.equal(res.statusCode, 201)
    t.same(Object.keys(res.json().upload.fields).slice(-3), ['key', 'Policy', 'X-Amz-Signature'], 'the file is posted after the signed fields, as before')
  }
})

t.test('strings that need escaping are escaped as JSON.stringify does', async (t) => {
  const ticket: UploadTicketView = {
    uploadId: 'upl_x',
    key: 'k\n"\\',
    upload: { method: 'POST', url: 'http://h/\u0000\u001f\u007f\u2028', fields: {} },
    publicUrl: 'http://h/\ud83d\ude00 \ud83d',
    expiresAt: '2026-11-28T00:00:00.000Z',
    maxBytes: 1
  }
  t.equal(ticketJson(ticket), JSON.stringify(ticket), 'no policy: stringified as a whole')
  const odd = { ...ticket, upload: { ...ticket.upload, fields: { 'a"b': 'c\\d', é: '\udc00', Policy: 'eyJ=', 'X-Amz-Signature': '0af' } } }
  t.equal(ticketJson(odd), JSON.stringify(odd), 'odd field names and values around a policy')
  t.same(JSON.parse(ticketJson(odd)), odd)
})

t.test('the remembered head of the form is used only for the same method, URL and fields before the key', async (t) => {
  const fields = { 'Content-Type': 'image/png', bucket: 'b', 'X-Amz-Date': '20261128T000000Z', key: 'k1', Policy: 'eyJ=', 'X-Amz-Signature': '0af' }
  const ticket: UploadTicketView = {
    uploadId: 'upl_1', key: 'k1', upload: { method: 'POST', url: 'http://h/b', fields }, publicUrl: 'http://h/k1', expiresAt: '2026-11-28T00:00:00.000Z', maxBytes: 5
  }
  const variants: UploadTicketView[] = [
    ticket,
    { ...ticket, key: 'k2', upload: { ...ticket.upload, fields: { ...fields, key: 'k2' } } },
    { ...ticket, upload: { ...ticket.upload, fields: { ...fields, 'X-Amz-Date': '20261128T000001Z' } } },
    { ...ticket, upload: { ...ticket.upload, url: 'http://h/c' } },
    { ...ticket, upload: { ...ticket.upload, fields: { 'Content-Type': 'image/png', bucket: 'b', key: 'k1', Policy: 'eyJ=', 'X-Amz-Signature': '0af' } } },
    { ...ticket, upload: { ...ticket.upload, fields: { 'Content-Type': 'image/png', bucket: 'b', 'X-Amz-Date': '20261128T000000Z', extra: 'x', key: 'k1', Policy: 'eyJ=', 'X-Amz-Signature': '0af' } } },
    { ...ticket, upload: { ...ticket.upload, fields: { bucket: 'b', 'Content-Type': 'image/png', key: 'k1', after: 'y"', Policy: 'eyJ=', 'X-Amz-Signature': '0af' } } },
    ticket
  ]
  for (const [i, v] of variants.entries()) {
    t.equal(ticketJson(v), JSON.stringify(v), `variant ${i}`)
    t.equal(ticketJson(v), JSON.stringify(v), `variant ${i}, again (from the remembered head)`)
  }
})
