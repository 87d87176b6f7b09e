// jsonString writes what JSON.stringify writes, whichever path a string takes.
import t from 'tap'
import { jsonString } from '../../src/fast/json-string.js'

t.test('the same text as JSON.stringify', async (t) => {
  const samples = ['', 'upl_19ac9d2e4b09Jx2vQm8Rk3LpT5wYz1AbC', 'profile-images/3f6c.png', 'https://b.s3.ap-southeast-1.amazonaws.com/k?x=1&y=%20#f',
    '2026-11-28T08:10:00.000Z', 'AKIA/20261128/us-east-1/s3/aws4_request', 'to+k/en==', 'a"b', 'a\\b', 'tab\there', 'nl\n', '\u0000\u001f\u007f',
    'é', '\u2028', '\ud83d\ude00', '\ud83d', '\udc00x', "it's <b>{[|]}</b> ~!@#$%^&*()_+`-=;:,.?"]
  for (let c = 0; c < 0x80; c++) samples.push(`x${String.fromCharCode(c)}y`)
  samples.forEach((s, i) => t.equal(jsonString(s), JSON.stringify(s), `sample ${i}`))
})
