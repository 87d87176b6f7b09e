// The ETag the development form endpoint answers with: 32 hex digits in quotes, the shape of S3's, but not an MD5.
// MD5 was 40% of a development upload's CPU; S3 itself gives non-MD5 ETags (SSE-KMS objects, multipart uploads), so
// clients treat the tag as opaque. It is the bytes' CRC-32 (8 digits) then their length (24 digits): equal bytes
// give equal tags, and any change of content or length changes the tag but for a 1 in 2^32 CRC collision.
import { crc32 } from 'node:zlib'

export interface ContentTag { update: (chunk: Buffer) => void, digest: () => string }

export function contentTag (): ContentTag {
  let crc = 0
  let length = 0
  return {
    update (chunk) {
      crc = crc32(chunk, crc)
      length += chunk.length
    },
    digest: () => `"${crc.toString(16).padStart(8, '0')}${length.toString(16).padStart(24, '0')}"`
  }
}
