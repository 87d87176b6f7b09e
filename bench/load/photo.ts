// The bench's phone photo: 4000×3000 (12 megapixels), JPEG quality 88, about 3 MB, made once per run with sharp
// from a seeded generator (the same bytes every run). Photo-like content: smooth colour gradients with blotches
// (noise at a twentieth of the size, upscaled with a cubic kernel) plus moderate full-size grain, so that it neither
// compresses away nor is pure noise. It carries what a phone writes: EXIF with make, model, date, serial and GPS,
// and orientation 6 (held in portrait: the service turns it to 3000×4000 before anything else).
import sharp from 'sharp'

export const PHOTO = { width: 4000, height: 3000, quality: 88, orientation: 6 } as const

/** mulberry32: a small seeded generator, so the photo is the same every run. */
function prng (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)))

export async function photoJpeg (grain = 16): Promise<Buffer> {
  const { width, height } = PHOTO
  const rand = prng(7)
  const sw = Math.ceil(width / 20)
  const sh = Math.ceil(height / 20)
  const small = Buffer.alloc(sw * sh * 3)
  for (let y = 0; y < sh; y++) {
    for (let x = 0; x < sw; x++) {
      const at = (y * sw + x) * 3
      small[at] = clamp(255 * x / sw + (rand() - 0.5) * 120)
      small[at + 1] = clamp(255 * y / sh + (rand() - 0.5) * 120)
      small[at + 2] = clamp(60 + 150 * (1 - x / sw) + (rand() - 0.5) * 120)
    }
  }
  const pixels = await sharp(small, { raw: { width: sw, height: sh, channels: 3 } }).resize(width, height, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer()
  // Grain: roughly normal (sum of three uniforms), ±1.5 × grain at most.
  for (let i = 0; i < pixels.length; i++) pixels[i] = clamp((pixels[i] ?? 0) + (rand() + rand() + rand() - 1.5) * grain)
  return await sharp(pixels, { raw: { width, height, channels: 3 } })
    .withExif({
      IFD0: { Make: 'BenchPhone', Model: 'BenchPhone 12MP', Software: 'bench/load/photo.ts', Artist: 'Bench Owner', DateTime: '2024:05:01 12:34:56' },
      IFD2: { DateTimeOriginal: '2024:05:01 12:34:56', BodySerialNumber: 'SN-BENCH-0001', CameraOwnerName: 'Bench Owner' },
      IFD3: { GPSVersionID: '2 2 0 0', GPSLatitudeRef: 'N', GPSLatitude: '52/1 22/1 12/1', GPSLongitudeRef: 'E', GPSLongitude: '4/1 53/1 24/1' }
    })
    .withMetadata({ orientation: PHOTO.orientation })
    .jpeg({ quality: PHOTO.quality })
    .toBuffer()
}
