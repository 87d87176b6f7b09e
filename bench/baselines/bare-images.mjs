// The ceiling for image completions: the clean-image pipeline's work as a bare sharp script, no service code.
// Mirrors src/images/pipeline.ts step for step and setting for setting: the header read (metadata), one decode of
// the first frame (EXIF orientation applied, sRGB, scaled once to the smallest size every output still fits in) into
// a raw copy, then at once the main image (fitted into MAX_SIDE, JPEG quality 82 progressive), the ThumbHash from at
// most 64×64 RGBA, and one centre-cropped WebP square (quality 80) per variant size. Nothing is written anywhere.
// Runs `count` of them (after `warmup`) with `concurrency` in flight on the same input bytes; prints
// { completions, seconds, completionsPerSecond, cpuMs (per completion), peakRssMb }.
import { readFileSync } from 'node:fs'
import sharp from 'sharp'
import { rgbaToThumbHash } from 'thumbhash'

const args = JSON.parse(process.argv[2] ?? '{}')
const { file, count = 24, concurrency = 4, warmup = 2, maxSide = 1024, variants = [64, 128, 256, 512], maxPixels = 40_000_000 } = args

sharp.cache(false)
const input = readFileSync(file)
const decode = { failOn: 'error', limitInputPixels: maxPixels }

async function clean () {
  const meta = await sharp(input, { failOn: 'error', limitInputPixels: false }).metadata()
  if (meta.format !== 'jpeg' || meta.width * meta.height > maxPixels) throw new Error('not the bench photo')
  const { width, height } = meta.autoOrient
  const scale = Math.min(1, Math.max(maxSide / Math.max(width, height), (variants.at(-1) ?? 0) / Math.min(width, height)))
  const { data, info } = await sharp(input, decode)
    .autoOrient()
    .resize(Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale)), { fit: 'fill' })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true })
  const raw = { width: info.width, height: info.height, channels: info.channels }
  const [main, placeholder, ...squares] = await Promise.all([
    sharp(data, { raw }).resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 82, progressive: true }).toBuffer({ resolveWithObject: true }),
    sharp(data, { raw }).resize(64, 64, { fit: 'inside' }).ensureAlpha().raw().toBuffer({ resolveWithObject: true })
      .then((small) => Buffer.from(rgbaToThumbHash(small.info.width, small.info.height, small.data)).toString('base64')),
    ...variants.map(async (size) => {
      const side = Math.min(size, raw.width, raw.height)
      return await sharp(data, { raw }).resize(side, side, { fit: 'cover', position: 'centre' }).webp({ quality: 80 }).toBuffer({ resolveWithObject: true })
    })
  ])
  return { main, placeholder, squares }
}

async function pool (n, inFlight) {
  let next = 0
  const worker = async () => { while (next < n) { next++; await clean() } }
  await Promise.all(Array.from({ length: Math.min(inFlight, n) }, worker))
}

await pool(warmup, Math.min(warmup, concurrency))
const started = performance.now()
const cpu = process.cpuUsage()
await pool(count, concurrency)
const seconds = (performance.now() - started) / 1000
const used = process.cpuUsage(cpu)
process.stdout.write(JSON.stringify({
  completions: count,
  seconds,
  completionsPerSecond: count / seconds,
  // CPU time of every thread of the process (libvips' and libuv's included), per completion.
  cpuMs: (used.user + used.system) / 1000 / count,
  peakRssMb: process.resourceUsage().maxRSS / 1024
}) + '\n')
