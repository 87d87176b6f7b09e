// The image fixtures are what they claim: the pipeline's tests rely on them, so a fixture that silently lost
// its EXIF or its second frame would make a "strips metadata" or "keeps frames" test pass for nothing.
import t from 'tap'
import exifr from 'exifr'
import sharp from 'sharp'
import {
  BLUE, EXIF_FIXTURE, FRAME_COLOURS, FRAME_DELAY_MS, ORIENTATION_6_UPRIGHT, ORIENTED_STORED, RED,
  animatedGif, animatedWebp, avif, cmykJpeg, gif, hasText, html, jpeg, jpegWithExif, metadataBlocks, near,
  orientedExpect, orientedJpeg, photoJpeg, pixelAt, pixelBombJpeg, pixelBombPng, png, png16, segments, truncate, webp,
  withAppendedHtml
} from './helpers/images.js'

const none = { exif: false, gps: false, xmp: false, iptc: false, icc: false, comments: false }

t.test('jpegWithExif carries every metadata block, GPS readable by exifr', async (t) => {
  const buf = await jpegWithExif()
  const meta = await sharp(buf).metadata()
  t.match(meta, { format: 'jpeg', width: 64, height: 48 })
  const gps = await exifr.gps(buf)
  t.equal(gps.latitude.toFixed(2), EXIF_FIXTURE.latitude.toFixed(2))
  t.equal(gps.longitude.toFixed(2), EXIF_FIXTURE.longitude.toFixed(2))
  const tags = await exifr.parse(buf, { tiff: true, exif: true, mergeOutput: true })
  t.match(tags, { Make: EXIF_FIXTURE.make, Model: EXIF_FIXTURE.model, SerialNumber: EXIF_FIXTURE.serial, OwnerName: EXIF_FIXTURE.owner })
  const blocks = await metadataBlocks(buf)
  t.match(blocks, { exif: true, gps: true, xmp: true, iptc: true, icc: true, comments: true })
  t.same(blocks.raw.segments.slice(0, 5), ['APP1:Exif', 'APP1:XMP', 'APP2:ICC', 'APP13:Photoshop', 'COM'])
  for (const text of [EXIF_FIXTURE.serial, EXIF_FIXTURE.owner, EXIF_FIXTURE.xmpCreator, EXIF_FIXTURE.iptcByline, EXIF_FIXTURE.comment]) {
    t.ok(hasText(buf, text), text)
  }
  t.ok(near(await pixelAt(buf, 63, 0), { r: 255, g: 0, b: 128 }, 60), 'still decodes: gradient, red rising to the right')
})

t.test('jpegWithExif options drop the hand-made and ICC blocks', async (t) => {
  const blocks = await metadataBlocks(await jpegWithExif(16, 16, { icc: false, iptc: false, comment: false }))
  t.match(blocks, { exif: true, gps: true, xmp: true, iptc: false, icc: false, comments: false })
})

t.test('orientedJpeg: stored 80×40 with the Orientation tag; upright as orientedExpect says', async (t) => {
  t.match(ORIENTATION_6_UPRIGHT, { width: 40, height: 80, red: 'top-right' })
  for (let o = 1; o <= 8; o++) {
    const buf = await orientedJpeg(o)
    const meta = await sharp(buf).metadata()
    const want = orientedExpect(o)
    t.match(meta, { width: ORIENTED_STORED.width, height: ORIENTED_STORED.height, orientation: o, hasProfile: false }, `orientation ${o} stored`)
    t.same(meta.autoOrient, { width: want.width, height: want.height }, `orientation ${o} upright size`)
    t.equal(await exifr.orientation(buf), o)
    t.ok(near(await pixelAt(buf, 10, 10), RED), `orientation ${o}: stored top-left is red`)
    t.ok(near(await pixelAt(buf, want.redAt.x, want.redAt.y, { autoOrient: true }), RED), `orientation ${o}: red ${want.red} upright`)
    t.ok(near(await pixelAt(buf, want.blueAt.x, want.blueAt.y, { autoOrient: true }), BLUE), `orientation ${o}: blue opposite`)
    // The same check through a plain rotate-then-encode, as a pipeline would do it.
    const upright = await sharp(buf).autoOrient().png().toBuffer()
    t.ok(near(await pixelAt(upright, want.redAt.x, want.redAt.y), RED))
    t.match(await metadataBlocks(buf), { exif: true, gps: false, xmp: false, icc: false })
  }
  await t.rejects(orientedJpeg(9), RangeError)
})

for (const [name, make] of [['gif', animatedGif], ['webp', animatedWebp]] as const) {
  t.test(`animated ${name}: pages, delays, one colour per frame`, async (t) => {
    const buf = await make(4, 24, 16)
    const meta = await sharp(buf).metadata()
    // Without { animated: true } height is one frame's and pageHeight is absent.
    t.match(meta, { format: name, width: 24, height: 16, pages: 4, loop: 0, delay: [FRAME_DELAY_MS, FRAME_DELAY_MS, FRAME_DELAY_MS, FRAME_DELAY_MS] })
    t.equal(meta.pageHeight, undefined)
    t.match(await sharp(buf, { animated: true }).metadata(), { height: 64, pageHeight: 16, pages: 4 })
    for (let page = 0; page < 4; page++) {
      t.ok(near(await pixelAt(buf, 12, 8, { page }), FRAME_COLOURS[page]!, 16), `frame ${page}`)
    }
    t.match(await metadataBlocks(buf), none)
    t.equal((await sharp(await make()).metadata()).pages, 3, 'defaults: 3 frames')
  })
}

t.test('cmykJpeg is CMYK', async (t) => {
  const meta = await sharp(await cmykJpeg(20, 10)).metadata()
  t.match(meta, { format: 'jpeg', space: 'cmyk', channels: 4, width: 20, height: 10 })
  t.ok(near(await pixelAt(await cmykJpeg(), 31, 0), { r: 255, g: 0, b: 128 }, 70), 'decodes back to about the gradient colour')
})

t.test('png16 is 16 bits per channel', async (t) => {
  const buf = await png16(20, 10)
  t.match(await sharp(buf).metadata(), { format: 'png', depth: 'ushort', bitsPerSample: 16, width: 20, height: 10 })
  t.ok(near(await pixelAt(buf, 19, 9), { r: 255, g: 255, b: 128 }, 4), 'sRGB 8-bit out')
})

t.test('pixel bombs declare huge sizes in a few bytes, read from the header alone', async (t) => {
  const bomb = pixelBombPng()
  t.ok(bomb.length < 1024, `${bomb.length} bytes`)
  const started = performance.now()
  // sharp 0.35's metadata() applies limitInputPixels (default 0x3FFF²) too: reading a bomb's size needs it off.
  t.match(await sharp(bomb, { limitInputPixels: false }).metadata(), { format: 'png', width: 20000, height: 20000 })
  t.ok(performance.now() - started < 500, 'no decoding')
  await t.rejects(sharp(bomb).metadata(), /pixel limit/, 'default limit refuses even the header read')
  await t.rejects(sharp(bomb).raw().toBuffer(), /pixel limit/)
  t.match(await sharp(pixelBombPng(50000, 3)).metadata(), { width: 50000, height: 3 }, 'under the pixel limit')

  const jpegBomb = await pixelBombJpeg(30000, 25000)
  t.ok(jpegBomb.length < 2048)
  t.match(await sharp(jpegBomb, { limitInputPixels: false }).metadata(), { format: 'jpeg', width: 30000, height: 25000 })
  t.match(await metadataBlocks(bomb), { raw: { sharp: { width: 20000 } } }, 'metadataBlocks reads bombs')
})

t.test('jpeg, webp, avif, png: plain images of the asked size', async (t) => {
  t.match(await sharp(await jpeg()).metadata(), { format: 'jpeg', width: 64, height: 48, isProgressive: false })
  t.match(await sharp(await jpeg(10, 20, { progressive: true })).metadata(), { width: 10, height: 20, isProgressive: true })
  t.match(await sharp(await webp()).metadata(), { format: 'webp', width: 64, height: 48, hasAlpha: false })
  t.match(await sharp(await webp(30, 20, { alpha: true, lossless: true })).metadata(), { format: 'webp', width: 30, height: 20, hasAlpha: true })
  t.match(await sharp(await avif(30, 20)).metadata(), { format: 'heif', compression: 'av1', width: 30, height: 20 })
  for (const buf of [await jpeg(), await webp(), await avif(), png(), gif]) t.match(await metadataBlocks(buf), none)
  t.ok(near(await pixelAt(await webp(), 0, 47), { r: 0, g: 255, b: 128 }, 24), 'gradient: green rises downwards')
})

t.test('photoJpeg: 12 MP, a few MB, EXIF with GPS, fast', async (t) => {
  const started = performance.now()
  const buf = await photoJpeg()
  const ms = performance.now() - started
  t.ok(ms < 4000, `${Math.round(ms)} ms`) // ~0.7 s alone on 2 cores; slack for a parallel suite
  t.ok(buf.length > 1_000_000 && buf.length < 5_000_000, `${(buf.length / 1e6).toFixed(2)} MB`)
  t.match(await sharp(buf).metadata(), { format: 'jpeg', width: 4000, height: 3000 })
  t.match(await metadataBlocks(buf), { exif: true, gps: true, xmp: false, iptc: false, icc: false, comments: false })
  t.ok(hasText(buf, EXIF_FIXTURE.serial))
  t.equal((await photoJpeg(400, 300)).length, (await photoJpeg(400, 300)).length, 'deterministic')
})

t.test('truncate and withAppendedHtml', async (t) => {
  const whole = await jpeg()
  const cut = truncate(whole, 100)
  t.equal(cut.length, 100)
  t.same(cut, whole.subarray(0, 100))
  t.equal(truncate(whole, -10).length, whole.length - 10)
  cut[0] = 0
  t.equal(whole[0], 0xff, 'a copy, not a view')

  const polyglot = withAppendedHtml(whole)
  t.equal(polyglot.length, whole.length + html.length)
  t.ok(hasText(polyglot, '<script') && !hasText(whole, '<script'))
  t.match(await sharp(polyglot).metadata(), { format: 'jpeg', width: 64, height: 48 }, 'still an image')
})

t.test('metadataBlocks sees blocks in every format sharp writes them to, and never throws', async (t) => {
  const source = await jpegWithExif()
  // sharp keeps EXIF, XMP and ICC in PNG and WebP (not IPTC: libvips writes it to JPEG/TIFF only, and not JPEG COM).
  for (const format of ['png', 'webp'] as const) {
    const buf = await sharp(source).keepMetadata().toFormat(format).toBuffer()
    t.match(await metadataBlocks(buf), { exif: true, gps: true, xmp: true, icc: true, iptc: false, comments: false }, format)
  }
  // ...and keeps IPTC in JPEG, but drops the COM comment.
  t.match(await metadataBlocks(await sharp(source).keepMetadata().jpeg().toBuffer()), { exif: true, gps: true, xmp: true, icc: true, iptc: true, comments: false })
  t.match(segments(await sharp(source).keepMetadata().png().toBuffer()), ['IHDR', 'iCCP', 'eXIf', 'pHYs', 'zTXt:XML:com.adobe.xmp'], 'PNG XMP goes in a zTXt chunk')
  const pngBlocks = await metadataBlocks(await sharp(source).keepMetadata().png().toBuffer())
  t.ok(pngBlocks.raw.exifr !== undefined, 'exifr reads PNG')
  const webpBlocks = await metadataBlocks(await sharp(source).keepMetadata().webp().toBuffer())
  t.ok(webpBlocks.raw.exifrError, 'exifr cannot open WebP: GPS comes from the EXIF block sharp extracts')
  t.match(webpBlocks.raw.segments, ['VP8X', 'ICCP', 'VP8', 'EXIF', 'XMP'])
  // The default sharp re-encode strips everything.
  t.match(await metadataBlocks(await sharp(source).jpeg().toBuffer()), none)

  const gifBlocks = await metadataBlocks(await animatedGif())
  t.ok(gifBlocks.raw.exifrError, 'exifr cannot open GIF')
  t.match(gifBlocks.raw.segments, ['application:NETSCAPE2.0', 'control', 'image', 'control', 'image', 'control', 'image', 'trailer'])
  const gifWithComment = Buffer.concat([gif.subarray(0, gif.length - 1), Buffer.from([0x21, 0xfe, 3]), Buffer.from('hi!'), Buffer.from([0, 0x3b])])
  t.match(await metadataBlocks(gifWithComment), { comments: true })

  const pngWithText = Buffer.concat([png().subarray(0, -12), Buffer.from([0, 0, 0, 4]), Buffer.from('tEXtab\0c'), Buffer.alloc(4), png().subarray(-12)])
  t.match(segments(pngWithText), ['IHDR', 'IDAT', 'tEXt:ab', 'IEND'])
  t.match(await metadataBlocks(pngWithText), { comments: true })

  for (const junk of [html, Buffer.alloc(0), truncate(source, 300), pixelBombPng()]) {
    const blocks = await metadataBlocks(junk)
    t.type(blocks.exif, 'boolean')
  }
})

t.test('hasText', async (t) => {
  t.ok(hasText(Buffer.from('abc SN-1 def'), 'SN-1'))
  t.notOk(hasText(Buffer.from('abc'), 'abd'))
})
