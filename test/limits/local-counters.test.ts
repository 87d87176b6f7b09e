// The in-process counters: fixed windows aligned to the clock, maps per limiter, keys not counted for a while
// forgotten once a limiter holds LOCAL_KEYS.
import t from 'tap'
import { LOCAL_KEYS, LocalCounters } from '../../src/limits/local-counters.js'
import { eventually } from '../helpers/wait.js'

const count = (store: LocalCounters, key: string, windowMs = 86_400_000) => {
  let out: { current: number, ttl: number } | undefined
  store.incr(key, (err, result) => { if (err === null) out = result }, windowMs)
  return out as { current: number, ttl: number }
}

t.test('counts per key; the reset is the end of the window, aligned to the clock', async (t) => {
  const store = new LocalCounters().child() as LocalCounters
  t.equal(count(store, 'a').current, 1)
  t.equal(count(store, 'a').current, 2)
  t.equal(count(store, 'b').current, 1)
  const { ttl } = count(store, 'a')
  const now = Date.now()
  t.ok(ttl > 0 && ttl <= 86_400_000, 'within the window')
  t.ok((now + ttl) % 86_400_000 < 1000, 'it ends on a multiple of the window (give or take the ms since the count)')
})

t.test('a new window starts every count again', async (t) => {
  const store = new LocalCounters()
  const first = count(store, 'a', 200).current
  await eventually(() => count(store, 'a', 200).current === 1 || undefined, { what: 'the next 200 ms window' })
  t.equal(first, 1)
  t.equal(count(store, 'a', 200).current, 2, 'counting on in the new window')
})

t.test('a key is kept while LOCAL_KEYS / 2 others are counted, and forgotten after LOCAL_KEYS', async (t) => {
  const store = new LocalCounters()
  count(store, 'old')
  count(store, 'kept')
  for (let i = 0; i < LOCAL_KEYS; i++) {
    count(store, `k${i}`)
    // Counted again before LOCAL_KEYS / 2 others: never forgotten.
    if (i % (LOCAL_KEYS / 4) === 0) count(store, 'kept')
  }
  t.equal(count(store, 'kept').current, 6, 'counted often enough: kept')
  t.equal(count(store, 'old').current, 1, 'not counted while LOCAL_KEYS others were: forgotten')
  const fresh = new LocalCounters()
  count(fresh, 'a')
  for (let i = 0; i < LOCAL_KEYS / 2 - 1; i++) count(fresh, `k${i}`)
  t.equal(count(fresh, 'a').current, 2, 'kept while fewer than LOCAL_KEYS / 2 others were counted')
})

t.test('each limiter counts on its own', async (t) => {
  const root = new LocalCounters()
  const [a, b] = [root.child() as LocalCounters, root.child() as LocalCounters]
  count(a, 'x')
  t.equal(count(b, 'x').current, 1)
})
