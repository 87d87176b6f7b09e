// The clean-image pipeline on real images made by the tests: limits from the header, orientation, colour,
// metadata, animation, variants and placeholder; and the processing queue's bound.
import sharp from 'sharp'
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { enableDecoders } from '../../src/images/decoders.js'
import { processImage } from '../../src/images/pipeline.js'
import { ProcessingQueue } from '../../src/images/queue.js'
import { FORMATS, formatOfType } from '../../src/uploads/formats.js'
import { animatedGif, animatedWebp, avif, BLUE, cmykJpeg, EXIF_FIXTURE, FRAME_COLOURS, hasText, html, jpeg, jpegWithExif, metadataBlocks, near, ORIENTATION_6_UPRIGHT, orientedJpeg, pixelAt, pixelBombJpeg, pixelBombPng, png, png16, RED, svg, truncate, webp, withAppendedHtml } from '../helpers/images.js'

const limits = (env: Record<string, string> = {}) => loadConfig({ ENVIRONMENT: 'development', ...env }).images
const type = (contentType: string) => {
  const f = formatOfType(contentType)
  if (f === undefined) throw new Error(contentType)
  return f
}
enableDecoders(FORMATS)

t.test('every metadata block is dropped from the main image and every variant; GPS with it', async (t) => {
  const input = await jpegWithExif(640, 480)
  const before = await metadataBlocks(input)
  t.match(before, { exif: true, gps: true, xmp: true, iptc: true, icc: true, comments: true }, 'the upload carries them all')
  const out = await processImage(input, type('image/jpeg'), limits())
  for (const [name, body] of [['main', out.main.body], ...out.variants.map((v) => [`variant ${v.size}`, v.body] as const)] as const) {
    t.match(await metadataBlocks(body), { exif: false, gps: false, xmp: false, iptc: false, icc: false, comments: false }, `${name}: no metadata block`)
    for (const text of [EXIF_FIXTURE.serial, EXIF_FIXTURE.owner, EXIF_FIXTURE.make]) t.notOk(hasText(body, text), `${name}: no "${text}"`)
  }
})

t.test('EXIF orientation is applied (and not left for viewers to apply again)', async (t) => {
  const out = await processImage(await orientedJpeg(6), type('image/jpeg'), limits())
  t.match(out.main, { width: ORIENTATION_6_UPRIGHT.width, height: ORIENTATION_6_UPRIGHT.height }, 'upright size')
  const { redAt, blueAt } = ORIENTATION_6_UPRIGHT
  t.ok(near(await pixelAt(out.main.body, redAt.x, redAt.y), RED), 'the red block where upright puts it')
  t.ok(near(await pixelAt(out.main.body, blueAt.x, blueAt.y), BLUE), 'blue opposite')
  t.equal((await sharp(out.main.body).metadata()).orientation, undefined, 'no orientation tag left')
})

t.test('CMYK and 16-bit inputs come out as 8-bit sRGB', async (t) => {
  for (const [name, input, contentType] of [['CMYK JPEG', await cmykJpeg(), 'image/jpeg'], ['16-bit PNG', await png16(), 'image/png']] as const) {
    const out = await processImage(input, type(contentType), limits())
    for (const body of [out.main.body, ...out.variants.map((v) => v.body)]) t.match(await sharp(body).metadata(), { space: 'srgb', depth: 'uchar' }, `${name}: sRGB, 8 bits`)
  }
})

t.test('the main image keeps its format and fits IMAGE_MAX_SIDE, never upscaled; variants are exact squares', async (t) => {
  const big = await processImage(await jpeg(2000, 1000), type('image/jpeg'), limits())
  t.match(big.main, { width: 1024, height: 512 }, 'scaled down to fit 1024')
  t.match(await sharp(big.main.body).metadata(), { format: 'jpeg', width: 1024, height: 512 })
  t.same(big.variants.map((v) => [v.size, v.width, v.height]), [[64, 64, 64], [128, 128, 128], [256, 256, 256], [512, 512, 512]], 'every size, square')
  for (const v of big.variants) t.match(await sharp(v.body).metadata(), { format: 'webp', width: v.size, height: v.size }, `variant ${v.size} is a ${v.size}px WebP`)
  t.match(big.placeholder, /^[A-Za-z0-9+/]{20,}={0,2}$/, 'a ThumbHash placeholder')

  const small = await processImage(await webp(100, 60), type('image/webp'), limits({ IMAGE_MAX_SIDE: '80', IMAGE_VARIANTS: '32,128', IMAGE_VARIANT_FORMAT: 'png' }))
  t.match(small.main, { width: 80, height: 48 }, 'IMAGE_MAX_SIDE=80')
  t.same(small.variants.map((v) => [v.size, v.width, v.height, v.format.contentType]), [[32, 32, 32, 'image/png'], [128, 60, 60, 'image/png']], 'a larger size than the source: a smaller square, never upscaled')
  const none = await processImage(png(20, 10), type('image/png'), limits({ IMAGE_VARIANTS: '' }))
  t.same(none.variants, [], 'IMAGE_VARIANTS empty: no variants')
  t.match(none.main, { width: 20, height: 10 }, 'a small image keeps its size')
})

t.test('animations stay animated in the main image; variants are the first frame', async (t) => {
  for (const [name, input, contentType] of [['GIF', await animatedGif(3), 'image/gif'], ['WebP', await animatedWebp(3), 'image/webp']] as const) {
    const out = await processImage(input, type(contentType), limits())
    t.equal(out.animated, true, `${name}: animated`)
    const meta = await sharp(out.main.body).metadata()
    t.match(meta, { pages: 3, loop: 0 }, `${name}: three frames, looping`)
    t.same(meta.delay, [100, 100, 100], `${name}: frame timing kept`)
    t.match(out.main, { width: 32, height: 32 }, `${name}: the size of one frame`)
    for (const v of out.variants) {
      t.equal((await sharp(v.body).metadata()).pages ?? 1, 1, `${name} variant ${v.size}: one frame`)
      t.ok(near(await pixelAt(v.body, 2, 2), FRAME_COLOURS[0] ?? RED), `${name} variant ${v.size}: the first frame's colour`)
    }
  }
  t.equal((await processImage(png(8, 8), type('image/png'), limits())).animated, false, 'a still image is not animated')
})

t.test('an animation with an EXIF orientation is oriented frame by frame, like its variants', async (t) => {
  // 3 frames of 40 × 20, stored with orientation 6 (shown rotated a quarter turn clockwise: 20 × 40).
  const input = await sharp(await animatedWebp(3, 40, 20), { animated: true }).webp({ loop: 2, delay: [100, 200, 300] }).withMetadata({ orientation: 6 }).toBuffer()
  const out = await processImage(input, type('image/webp'), limits())
  const meta = await sharp(out.main.body).metadata()
  t.match(meta, { pages: 3, loop: 2, width: 20, height: 40 }, 'every frame turned upright, the animation kept')
  t.same(meta.delay, [100, 200, 300], 'frame timing kept')
  t.equal(meta.orientation, undefined, 'no orientation left for a viewer to apply again')
  t.match(out.main, { width: 20, height: 40 }, 'the reported size is the upright one')
  t.match(out.variants[0], { width: 20, height: 20 }, 'the variants agree')
  for (const page of [0, 1, 2]) {
    t.ok(near(await pixelAt(await sharp(out.main.body, { page }).png().toBuffer(), 2, 2), FRAME_COLOURS[page] ?? RED), `frame ${page} keeps its colour`)
  }
})

t.test('limits are read from the header, before any pixel is decoded', async (t) => {
  const rss = process.memoryUsage().rss
  await t.rejects(processImage(pixelBombPng(20000, 20000), type('image/png'), limits()), { code: 'TOO_MANY_PIXELS', statusCode: 422, message: /20,000 × 20,000 = 400,000,000 pixels; at most 40,000,000/ }, 'a 20,000 × 20,000 PNG of 138 bytes')
  await t.rejects(processImage(await pixelBombJpeg(20000, 20000), type('image/jpeg'), limits()), { code: 'TOO_MANY_PIXELS' }, 'a JPEG header declaring as much')
  // Decoding one would take 1.2 GB; nothing like that was allocated.
  t.ok(process.memoryUsage().rss - rss < 100 * 1024 * 1024, 'memory stays bounded')
  await t.rejects(processImage(await jpeg(100, 100), type('image/jpeg'), limits({ MAX_IMAGE_PIXELS: '9999' })), { code: 'TOO_MANY_PIXELS', message: /100 × 100 = 10,000 pixels; at most 9,999/ }, 'MAX_IMAGE_PIXELS')
  await t.rejects(processImage(await animatedGif(5), type('image/gif'), limits({ MAX_IMAGE_FRAMES: '4' })), { code: 'TOO_MANY_FRAMES', message: /5 frames; at most 4/ }, 'MAX_IMAGE_FRAMES')
  await t.rejects(processImage(await animatedGif(4, 50, 50), type('image/gif'), limits({ MAX_IMAGE_PIXELS: '9999' })), { code: 'TOO_MANY_PIXELS', message: /50 × 50 × 4 frames = 10,000 pixels/ }, 'the frames of an animation count together')
})

t.test('corrupt, truncated and mislabelled bytes are refused with their own codes', async (t) => {
  const full = await jpeg(64, 48)
  const cases: Array<[string, Buffer, string, string]> = [
    ['a 3-byte JPEG header', full.subarray(0, 3), 'image/jpeg', 'IMAGE_CORRUPT'],
    ['an 8-byte PNG signature', png().subarray(0, 8), 'image/png', 'IMAGE_CORRUPT'],
    ['a JPEG cut in half', truncate(full, Math.floor(full.length / 2)), 'image/jpeg', 'IMAGE_CORRUPT'],
    ['a PNG cut short', truncate(png(64, 64, true), 4000), 'image/png', 'IMAGE_CORRUPT'],
    ['HTML declared as PNG', html, 'image/png', 'NOT_AN_IMAGE'],
    ['SVG declared as PNG', svg, 'image/png', 'NOT_AN_IMAGE'],
    ['a JPEG declared as PNG', full, 'image/png', 'NOT_AN_IMAGE']
  ]
  for (const [name, bytes, contentType, code] of cases) {
    await t.rejects(processImage(bytes, type(contentType), limits()), { code, statusCode: 422 }, name)
  }
})

t.test('bytes appended after the image are not published', async (t) => {
  const out = await processImage(withAppendedHtml(png(16, 16)), type('image/png'), limits())
  t.notOk(hasText(out.main.body, '<script'), 'the HTML is gone')
  t.match(await sharp(out.main.body).metadata(), { format: 'png', width: 16 })
})

t.test('only the allowed formats\' decoders run', async (t) => {
  // This test file enabled every format of the table: AVIF decodes; TIFF (not in the table) does not.
  t.match(await processImage(await avif(40, 30), type('image/avif'), limits()), { main: { width: 40, height: 30 } }, 'AVIF, a row of the table')
  const tiff = await sharp({ create: { width: 4, height: 4, channels: 3, background: 'red' } }).tiff().toBuffer().catch(() => undefined)
  if (tiff !== undefined) await t.rejects(sharp(tiff).metadata(), /unsupported image format/, 'TIFF is blocked')
})

t.test('the queue runs at most `concurrency` jobs and refuses beyond its limit with BUSY', async (t) => {
  const queue = new ProcessingQueue(1, 1)
  let release = () => {}
  const first = queue.run(async () => await new Promise<string>((resolve) => { release = () => resolve('first') }))
  const second = queue.run(async () => 'second')
  t.equal(queue.depth, 2, 'one running, one waiting')
  await t.rejects(queue.run(async () => 'third'), { code: 'BUSY', statusCode: 503, retryAfter: 2 }, 'the third is refused at once')
  release()
  t.same(await Promise.all([first, second]), ['first', 'second'], 'the waiting one runs when the first ends')
  t.equal(queue.depth, 0)
  t.equal(await queue.run(async () => 'later'), 'later', 'and the queue takes work again')
})

t.test('a side longer than the encoders write is refused from the header; an encoding failure is not the upload\'s fault', async (t) => {
  const strip = await sharp({ create: { width: 20000, height: 2, channels: 3, background: 'red' } }).png().toBuffer()
  await t.rejects(processImage(strip, type('image/png'), limits()), { code: 'BAD_DIMENSIONS', statusCode: 422, message: /20,000 × 2; each side at most 16,383 pixels/ })
  // Fault injection: a variant format whose encoder fails.
  const broken = { ...type('image/webp'), encode: () => { throw new Error('encoder out of memory') } }
  await t.rejects(processImage(png(8, 8), type('image/png'), { ...limits(), variantFormat: broken }), { message: 'encoder out of memory', statusCode: undefined }, 'a 500, not a 422 that would delete the upload')
})
