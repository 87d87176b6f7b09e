import { randomBytes } from 'node:crypto'
import t from 'tap'
import { contentTag } from '../../src/objects/content-tag.js'

const tagOf = (...chunks: Buffer[]) => {
  const tag = contentTag()
  for (const chunk of chunks) tag.update(chunk)
  return tag.digest()
}

t.test('S3\'s shape: 32 hex digits in quotes; CRC-32 then length', async (t) => {
  t.equal(tagOf(Buffer.from('hello world')), '"0d4a118500000000000000000000000b"')
  t.equal(tagOf(), '"00000000000000000000000000000000"', 'no bytes')
  t.match(tagOf(randomBytes(5 * 1024 * 1024)), /^"[0-9a-f]{8}0{18}500000"$/, '5 MiB: the length in the last 24 digits')
})

t.test('the same bytes give the same tag however they are chunked; other bytes of the same length another', async (t) => {
  const bytes = randomBytes(200_000)
  t.equal(tagOf(bytes.subarray(0, 1), bytes.subarray(1, 65_537), bytes.subarray(65_537)), tagOf(bytes))
  const changed = Buffer.from(bytes)
  changed[100_000] = (changed[100_000]! + 1) % 256
  t.not(tagOf(changed), tagOf(bytes), 'one byte changed')
  t.not(tagOf(bytes.subarray(1)), tagOf(bytes), 'one byte shorter')
})
