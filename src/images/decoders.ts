// Only the decoders of the allowed formats are enabled: libvips can read dozens of formats (SVG, PDF, TIFF,
// ImageMagick's), each an attack surface, and the magic-byte check alone would still hand it the bytes.
import sharp from 'sharp'
import type { ImageFormat } from '../uploads/formats.js'

// The setting is per process (libvips keeps one table); apps built in one process (tests) add to it.
const enabled = new Set<string>()
let blocked = false

export function enableDecoders (formats: readonly ImageFormat[]): void {
  if (!blocked) {
    // Blocking the base class blocks every loader that derives from it.
    sharp.block({ operation: ['VipsForeignLoad'] })
    blocked = true
  }
  const loaders = formats.flatMap((f) => f.loaders).filter((l) => !enabled.has(l))
  if (loaders.length === 0) return
  sharp.unblock({ operation: loaders })
  for (const l of loaders) enabled.add(l)
}
