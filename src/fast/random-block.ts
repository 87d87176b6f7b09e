// Speed trick (docs/performance.md, "Speed tricks"): random bytes drawn from the CSPRNG 4 KiB at a time instead of
// per id: the call, not the bytes, is the cost. Each block is a fresh buffer, so no id shares bytes with another,
// and its bytes are encoded in place (no buffer object per id).
import { randomBytes } from 'node:crypto'

const BLOCK = 4096
let block = Buffer.alloc(0)
let offset = BLOCK

/** `bytes` (at most 16) fresh random bytes as text: randomBytes(bytes).toString(encoding). */
export function randomText (bytes: number, encoding: 'base64url' | 'hex'): string {
  if (offset + 16 > block.length) { block = randomBytes(BLOCK); offset = 0 }
  offset += 16
  return block.toString(encoding, offset - 16, offset - 16 + bytes)
}
