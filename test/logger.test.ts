// Logs are JSON with request ids, and credentials never reach them.
import { Writable } from 'node:stream'
import t from 'tap'
import { loggerOptions } from '../src/logger.js'
import { AUTH, build, TOKEN } from './helpers/build.js'

t.test('request logs carry ids and redact tokens and upload ids', async (t) => {
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _enc, done) { lines.push(String(chunk)); done() } })
  const app = await build(t, {}, { logger: { ...(loggerOptions('info') as object), stream } as never })
  const created = await app.inject({ method: 'POST', url: '/v1/uploads', headers: { ...AUTH, 'x-request-id': 'req-abc-123' }, payload: { ownerId: 'u1', contentType: 'image/png' } })
  t.equal(created.headers['x-request-id'], 'req-abc-123')
  const { uploadId, upload } = created.json()
  await app.inject({ method: 'POST', url: `/v1/uploads/${uploadId}/complete`, headers: { authorization: `Bearer ${TOKEN}` } })
  const text = lines.join('')
  for (const line of lines) t.doesNotThrow(() => JSON.parse(line), 'JSON lines')
  t.match(text, /"reqId":"req-abc-123"/)
  t.notMatch(text, TOKEN, 'no token')
  t.notMatch(text, uploadId, 'no full upload id')
  t.notMatch(text, upload.fields['X-Amz-Signature'], 'no policy signature')
  t.notMatch(text, app.config.upload.signingSecret, 'no signing secret')
  t.match(text, /upl_.{4}…/, 'upload ids are masked')
})
