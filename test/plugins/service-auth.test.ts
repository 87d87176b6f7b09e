// The token comparison on its own: every configured token matches exactly itself, nothing else does.
import t from 'tap'
import { tokenMatcher } from '../../src/plugins/service-auth.js'

t.test('each configured token matches, and only exactly', async (t) => {
  const short = 'tok-short-0123456789'
  const long = 'tok-a-much-longer-token-0123456789abcdef'
  const matches = tokenMatcher([short, long])
  t.ok(matches(short))
  t.ok(matches(long))
  for (const wrong of ['', short.slice(0, -1), `${short}x`, long.slice(0, short.length), `${long}x`, short.toUpperCase(), `${short}\u00e9`, 'x'.repeat(500), long.replace(/f$/, 'e')]) {
    t.notOk(matches(wrong), `refuses ${JSON.stringify(wrong.slice(0, 50))}`)
  }
  t.ok(matches(short), 'a refused token leaves nothing behind')
})

t.test('multi-byte tokens compare as bytes', async (t) => {
  const matches = tokenMatcher(['jeton-über-geheim-0123'])
  t.ok(matches('jeton-über-geheim-0123'))
  t.notOk(matches('jeton-uber-geheim-0123'))
})
