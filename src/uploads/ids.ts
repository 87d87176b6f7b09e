// Identifiers the service generates: never taken from a client.
import { randomBytes } from 'node:crypto'

// Drawn from the CSPRNG in blocks (one call per 256 ids, not one per id: the call, not the bytes, is the cost).
// Each block is a fresh buffer, so no id shares bytes with another.
const BLOCK = 4096
let block = Buffer.alloc(0)
let offset = BLOCK
function random16 (): Buffer {
  if (offset + 16 > block.length) { block = randomBytes(BLOCK); offset = 0 }
  offset += 16
  return block.subarray(offset - 16, offset)
}

/** 128 random bits: the upload id is the browser's only credential for completion. */
export const newUploadId = () => `upl_${random16().toString('base64url')}`
export const newEventId = () => `msg_${random16().toString('base64url')}`
/** 128 random bits, lower-case hex: safe in any file system and URL. */
export const newFileStem = () => random16().toString('hex')
