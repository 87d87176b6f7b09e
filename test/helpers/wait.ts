// Bounded polling: waits for a condition without fixed sleeps, and fails with what it was waiting for.
import { setTimeout as sleep } from 'node:timers/promises'

export async function eventually<T> (check: () => T | undefined | Promise<T | undefined>, options: { timeoutMs?: number, intervalMs?: number, what?: string } = {}): Promise<T> {
  const { timeoutMs = 15_000, intervalMs = 10, what = 'a condition' } = options
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(intervalMs)
  }
}
