// Signatures follow Standard Webhooks: the reference implementation (the standardwebhooks package) verifies them.
import { randomBytes } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import t from 'tap'
import { signer } from '../../src/webhooks/sign.js'

const secret = () => `whsec_${randomBytes(32).toString('base64')}`
const body = JSON.stringify({ type: 'image.confirmed', timestamp: '2026-11-28T08:00:05.000Z', data: { uploadId: 'upl_x', size: 1 } })

t.test('the spec\'s example vector', async (t) => {
  const headers = signer(['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'])('msg_p5jXN8AQM9LWM0D4loKWxJek', new Date(1614265330_000), '{"test": 2432232314}')
  t.same(headers, {
    'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    'webhook-timestamp': '1614265330',
    'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
  })
})

t.test('one secret: verifies with standardwebhooks; a changed body, id or timestamp does not', async (t) => {
  const s = secret()
  const headers = signer([s])('msg_abc', new Date(), body)
  t.match(headers['webhook-signature'], /^v1,[A-Za-z0-9+/]{43}=$/)
  t.same(new Webhook(s).verify(body, { ...headers }), JSON.parse(body))
  t.throws(() => new Webhook(s).verify(body.replace('"size":1', '"size":2'), { ...headers }), /signature/i)
  t.throws(() => new Webhook(s).verify(body, { ...headers, 'webhook-id': 'msg_other' }), /signature/i)
  t.throws(() => new Webhook(s).verify(body, { ...headers, 'webhook-timestamp': String(Number(headers['webhook-timestamp']) + 1) }), /signature/i)
  t.throws(() => new Webhook(secret()).verify(body, { ...headers }), /signature/i, 'another secret')
})

t.test('rotation: every secret signs, so receivers holding either one verify', async (t) => {
  const [old, next] = [secret(), secret()]
  const headers = signer([old, next])('msg_abc', new Date(), body)
  t.equal(headers['webhook-signature'].split(' ').length, 2)
  t.same(new Webhook(old).verify(body, { ...headers }), JSON.parse(body), 'old secret')
  t.same(new Webhook(next).verify(body, { ...headers }), JSON.parse(body), 'new secret')
  t.throws(() => new Webhook(secret()).verify(body, { ...headers }), /signature/i, 'a third secret')
})

t.test('the timestamp is the attempt\'s: an old one is refused by receivers (replay protection)', async (t) => {
  const s = secret()
  const headers = signer([s])('msg_abc', new Date(Date.now() - 3600_000), body)
  t.throws(() => new Webhook(s).verify(body, { ...headers }), /too old/)
})
