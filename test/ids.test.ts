// Generated identifiers: their forms, their time order, and no two alike across the CSPRNG blocks they are cut from
// (fast/random-block.ts).
import t from 'tap'
import { newEventId, newFileStem, newUploadId } from '../src/uploads/ids.js'

t.test('forms: upload id, event id and file stem', async (t) => {
  t.match(newUploadId(), /^upl_[0-9a-f]{11}[A-Za-z0-9_-]{22}$/)
  t.match(newEventId(), /^msg_[A-Za-z0-9_-]{22}$/)
  t.match(newFileStem(), /^[0-9a-f]{32}$/)
})

t.test('thousands of ids (many 4 KiB blocks): all distinct, their random parts too, and in time order', async (t) => {
  const uploads = Array.from({ length: 3000 }, () => [newUploadId(), newFileStem(), newEventId()]).flat()
  t.equal(new Set(uploads).size, uploads.length, 'no id repeats')
  const randomParts = uploads.map((id) => id.startsWith('upl_') ? id.slice(15) : id.startsWith('msg_') ? id.slice(4) : id.slice(12))
  t.equal(new Set(randomParts).size, randomParts.length, 'no random part repeats: every id has bytes of its own')
  const times = uploads.filter((id) => id.startsWith('upl_')).map((id) => parseInt(id.slice(4, 15), 16))
  t.ok(times.every((ms, i) => i === 0 || ms >= (times[i - 1] ?? 0)), 'upload ids in time order')
  t.ok(Math.abs((times.at(-1) ?? 0) - Date.now()) < 5000, 'the time is now')
})
