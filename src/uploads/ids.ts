// Identifiers the service generates: never taken from a client.
import { randomBytes } from 'node:crypto'

// Drawn from the CSPRNG in blocks (one call per 256 ids, not one per id: the call, not the bytes, is the cost).
// Each block is a fresh buffer, so no id shares bytes with another; its bytes are encoded in place (no buffer
// object per id).
const BLOCK = 4096
let block = Buffer.alloc(0)
let offset = BLOCK
function random16 (encoding: 'base64url' | 'hex', bytes = 16): string {
  if (offset + 16 > block.length) { block = randomBytes(BLOCK); offset = 0 }
  offset += 16
  return block.toString(encoding, offset - 16, offset - 16 + bytes)
}

// The current millisecond in hex, converted once per millisecond (number-to-hex is a runtime call per digit).
let hexMs = -1
let hexText = ''
function msHex (): string {
  const ms = Date.now()
  if (ms !== hexMs) {
    hexMs = ms
    hexText = ms.toString(16)
  }
  return hexText
}

/**
 * The time in milliseconds (11 hex digits), then 128 random bits: the upload id is the browser's only credential
 * for completion, and time order keeps the store's primary-key index growing at its end (docs/performance.md).
 */
export const newUploadId = () => `upl_${msHex().padStart(11, '0')}${random16('base64url')}`
export const newEventId = () => `msg_${random16('base64url')}`
/**
 * 32 lower-case hex characters, safe in any file system and URL: the time in milliseconds (48 bits), then 80
 * random bits (unguessable). In time order, an index on keys (PostgreSQL's unique one; SQLite's until schema 4)
 * grows at its end instead of taking a write at a random page per ticket: at a few hundred thousand uploads that
 * was 40% of an insert's cost.
 */
export const newFileStem = () => msHex().padStart(12, '0') + random16('hex', 10)
