// The counts of one turn of the event loop, sent to Redis as one script call: one command, one promise, one timer
// and one reply for all of them, where a command per count cost more CPU than the count itself was worth
// (docs/performance.md, "Rate limits"). Each key is INCRed in order; the count that opens a key also sets its
// expiry (PEXPIREAT), so a key never lives past its window.
import type { Redis } from 'ioredis'

const INCREMENT_ALL = `
local counts = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('PEXPIREAT', key, ARGV[i]) end
  counts[i] = n
end
return counts`

/** At most this many keys per call, so one call never holds Redis for long. */
const MAX_BATCH = 500

type Counted = (err: Error | null, count?: number) => void

interface Batch { keys: string[], expiries: number[], done: Counted[] }

export class RedisBatch {
  private pending: Batch | undefined
  private readonly run: (keys: string[], expiries: number[]) => Promise<number[]>

  constructor (redis: Redis) {
    redis.defineCommand('imageServiceIncrementAll', { lua: INCREMENT_ALL })
    const command = (redis as unknown as { imageServiceIncrementAll: (...args: Array<string | number>) => Promise<number[]> }).imageServiceIncrementAll
    this.run = async (keys, expiries) => await command.call(redis, keys.length, ...keys, ...expiries)
  }

  /** Counts `key` once; `expiresAt` (ms since the epoch) is set when this count opens it. */
  increment (key: string, expiresAt: number, done: Counted): void {
    let batch = this.pending
    if (batch === undefined) {
      batch = this.pending = { keys: [], expiries: [], done: [] }
      // After the I/O of this turn: every request read in it is in the batch.
      setImmediate(() => this.flush())
    }
    batch.keys.push(key)
    batch.expiries.push(expiresAt)
    batch.done.push(done)
    if (batch.keys.length >= MAX_BATCH) this.flush()
  }

  private flush (): void {
    const batch = this.pending
    if (batch === undefined) return
    this.pending = undefined
    this.run(batch.keys, batch.expiries).then((counts) => {
      for (let i = 0; i < batch.done.length; i++) (batch.done[i] as Counted)(null, counts[i])
    }, (err: Error) => {
      for (const done of batch.done) done(err)
    })
  }
}
