// Small real images made in code (valid headers and bodies), for uploads in tests.
import { deflateSync } from 'node:zlib'
import exifr from 'exifr'
import sharp, { type JpegOptions, type Metadata, type WebpOptions } from 'sharp'

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})
const crc32 = (buf: Buffer) => {
  let c = 0xffffffff
  for (const b of buf) c = (crcTable[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
const chunk = (type: string, data: Buffer) => {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length)
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data])
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td))
  return Buffer.concat([len, td, crc])
}

/** A valid RGB PNG of width×height; `noise` makes it incompressible (to reach a given size). */
export function png (width = 8, height = 8, noise = false): Buffer {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 8; ihdr[9] = 2 // 8-bit RGB
  const row = width * 3 + 1
  const raw = Buffer.alloc(row * height)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = y * row + 1 + x * 3
      raw[o] = noise ? Math.floor(Math.random() * 256) : (x * 32) & 0xff
      raw[o + 1] = noise ? Math.floor(Math.random() * 256) : (y * 32) & 0xff
      raw[o + 2] = noise ? Math.floor(Math.random() * 256) : 128
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: noise ? 0 : 6 })),
    chunk('IEND', Buffer.alloc(0))
  ])
}

/** A PNG of about `bytes` bytes (noise, stored uncompressed). */
export function pngOfSize (bytes: number): Buffer {
  const side = Math.ceil(Math.sqrt(bytes / 3))
  return png(side, side, true)
}

export const html = Buffer.from('<!doctype html><html><body><script>alert(1)</script></body></html>')
export const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
export const gif = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64')

// ---- Real images encoded by sharp, for the clean-image pipeline (re-encode, strip, orient, bound, variants). ----

export interface Rgb { r: number, g: number, b: number }

export const RED: Rgb = { r: 255, g: 0, b: 0 }
export const BLUE: Rgb = { r: 0, g: 0, b: 255 }

/** Whether a decoded pixel is within `tolerance` of a colour on every channel (lossy codecs drift a little). */
export function near (pixel: Rgb, colour: Rgb, tolerance = 48): boolean {
  return Math.abs(pixel.r - colour.r) <= tolerance && Math.abs(pixel.g - colour.g) <= tolerance && Math.abs(pixel.b - colour.b) <= tolerance
}

// Seeded, so a fixture's bytes (and sizes) are the same on every run.
function prng (seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// Red rises left to right, green top to bottom: any crop, flip or swap of the axes shows in the pixels.
function gradient (width: number, height: number, channels: 3 | 4): Buffer {
  const raw = Buffer.alloc(width * height * channels)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * channels
      raw[o] = Math.round(x * 255 / Math.max(1, width - 1))
      raw[o + 1] = Math.round(y * 255 / Math.max(1, height - 1))
      raw[o + 2] = 128
      if (channels === 4) raw[o + 3] = 255 - Math.round(x * 191 / Math.max(1, width - 1)) // opaque → quarter
    }
  }
  return raw
}

const fromRaw = (raw: Buffer, width: number, height: number, channels: 3 | 4, pageHeight?: number) =>
  sharp(raw, { raw: { width, height, channels, ...(pageHeight === undefined ? {} : { pageHeight }) } })

/** What jpegWithExif and photoJpeg carry: every value is a string to look for in published bytes (hasText). */
export const EXIF_FIXTURE = {
  make: 'FixtureCam',
  model: 'FC-1 Pro',
  serial: 'SN-4242424242',
  owner: 'Jane Fixture',
  latitude: 52.37, // 52° 22′ 12″ N
  longitude: 4.89, // 4° 53′ 24″ E
  xmpCreator: 'Jane Fixture (XMP)',
  iptcByline: 'Jane Fixture (IPTC)',
  comment: 'Fixture comment: Jane Fixture was here'
} as const

// IFD0 = main image, IFD2 = Exif sub-IFD, IFD3 = GPS (libvips' numbering); rationals are written as "n/d n/d n/d".
const exifTags = {
  IFD0: { Make: EXIF_FIXTURE.make, Model: EXIF_FIXTURE.model, Software: 'images.ts fixture', Artist: EXIF_FIXTURE.owner },
  IFD2: { BodySerialNumber: EXIF_FIXTURE.serial, CameraOwnerName: EXIF_FIXTURE.owner, DateTimeOriginal: '2024:05:01 12:34:56' },
  IFD3: { GPSVersionID: '2 2 0 0', GPSLatitudeRef: 'N', GPSLatitude: '52/1 22/1 12/1', GPSLongitudeRef: 'E', GPSLongitude: '4/1 53/1 24/1' }
}

// XMP repeats the position and serial, as phones do: stripping only EXIF would still leak them.
const xmpPacket = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
  '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:aux="http://ns.adobe.com/exif/1.0/aux/" ' +
  `xmlns:exif="http://ns.adobe.com/exif/1.0/" aux:SerialNumber="${EXIF_FIXTURE.serial}" exif:GPSLatitude="52,22.2N" exif:GPSLongitude="4,53.4E">` +
  `<dc:creator><rdf:Seq><rdf:li>${EXIF_FIXTURE.xmpCreator}</rdf:li></rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>`

const jpegSegment = (marker: number, data: Buffer) => {
  const head = Buffer.from([0xff, marker, 0, 0]); head.writeUInt16BE(data.length + 2, 2)
  return Buffer.concat([head, data])
}

// sharp writes neither IPTC nor JPEG comments: an APP13 (Photoshop IRB holding IPTC records) and a COM segment by hand.
function iptcSegment (): Buffer {
  const dataset = (n: number, text: string) => {
    const d = Buffer.from(text, 'utf8'); const h = Buffer.from([0x1c, 2, n, 0, 0]); h.writeUInt16BE(d.length, 3)
    return Buffer.concat([h, d])
  }
  const iptc = Buffer.concat([Buffer.from([0x1c, 2, 0, 0, 2, 0, 4]), dataset(80, EXIF_FIXTURE.iptcByline), dataset(90, 'Amsterdam'), dataset(116, '(c) Fixture')])
  const resource = Buffer.alloc(12); resource.write('8BIM', 0, 'latin1'); resource.writeUInt16BE(0x0404, 4); resource.writeUInt32BE(iptc.length, 8)
  return jpegSegment(0xed, Buffer.concat([Buffer.from('Photoshop 3.0\0', 'latin1'), resource, iptc, Buffer.alloc(iptc.length % 2)]))
}

/** A camera JPEG carrying every metadata block: EXIF (GPS 52.37N 4.89E, serial, owner, make/model), XMP, IPTC, a COM comment and a Display P3 ICC profile. */
export async function jpegWithExif (width = 64, height = 48, opts: { icc?: boolean, iptc?: boolean, comment?: boolean } = {}): Promise<Buffer> {
  let image = fromRaw(gradient(width, height, 3), width, height, 3).withExif(exifTags).withXmp(xmpPacket)
  if (opts.icc ?? true) image = image.withIccProfile('p3')
  const out = await image.jpeg({ quality: 90 }).toBuffer()
  const extra = [
    ...(opts.iptc ?? true ? [iptcSegment()] : []),
    ...(opts.comment ?? true ? [jpegSegment(0xfe, Buffer.from(EXIF_FIXTURE.comment, 'utf8'))] : [])
  ]
  // After sharp's APPn segments (EXIF must come first), before the tables.
  const at = jpegMarkers(out).find((m) => m.marker < 0xe0 || m.marker > 0xef)?.at ?? 2
  return Buffer.concat([out.subarray(0, at), ...extra, out.subarray(at)])
}

export type Corner = 'top-left' | 'top-right' | 'bottom-right' | 'bottom-left'

/** orientedJpeg's stored (not upright) pixel size: wider than tall. */
export const ORIENTED_STORED = { width: 80, height: 40 } as const

// Where the stored top-left quadrant lands once each EXIF orientation is applied (5–8 swap width and height).
const redCorner: Record<number, Corner> = {
  1: 'top-left', // as stored
  2: 'top-right', // mirrored horizontally
  3: 'bottom-right', // rotated 180°
  4: 'bottom-left', // mirrored vertically
  5: 'top-left', // transposed (mirrored across the main diagonal)
  6: 'top-right', // rotated 90° clockwise
  7: 'bottom-right', // transversed (mirrored across the anti-diagonal)
  8: 'bottom-left' // rotated 90° counter-clockwise
}
const opposite: Record<Corner, Corner> = { 'top-left': 'bottom-right', 'top-right': 'bottom-left', 'bottom-right': 'top-left', 'bottom-left': 'top-right' }

/** The centre of one quadrant of a width×height image: a pixel far from edges and JPEG block bleed. */
export function quadrantCentre (width: number, height: number, corner: Corner): { x: number, y: number } {
  return {
    x: Math.floor(corner.endsWith('left') ? width / 4 : width * 3 / 4),
    y: Math.floor(corner.startsWith('top') ? height / 4 : height * 3 / 4)
  }
}

/** What a correctly oriented orientedJpeg(orientation) looks like: upright size, the red quadrant, and a pixel inside it and one in the blue. */
export function orientedExpect (orientation: number) {
  const corner = redCorner[orientation]
  if (corner === undefined) throw new RangeError(`EXIF orientation is 1–8, not ${orientation}`)
  const swap = orientation >= 5
  const width = swap ? ORIENTED_STORED.height : ORIENTED_STORED.width
  const height = swap ? ORIENTED_STORED.width : ORIENTED_STORED.height
  return { width, height, red: corner, redAt: quadrantCentre(width, height, corner), blueAt: quadrantCentre(width, height, opposite[corner]) }
}

/** Orientation 6 (the usual portrait phone photo) upright: 40×80, the red block top-right. */
export const ORIENTATION_6_UPRIGHT = orientedExpect(6)

/** A JPEG stored 80×40, red top-left quadrant and blue elsewhere, with EXIF Orientation set: only correct rotation puts the red where orientedExpect says. */
export async function orientedJpeg (orientation = 6): Promise<Buffer> {
  orientedExpect(orientation) // validates
  const { width, height } = ORIENTED_STORED
  const raw = Buffer.alloc(width * height * 3)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = x < width / 2 && y < height / 2 ? RED : BLUE
      raw.set([c.r, c.g, c.b], (y * width + x) * 3)
    }
  }
  // libvips rewrites IFD0 Orientation from the image's own orientation on save, so withExif cannot set it;
  // withMetadata can but also embeds an sRGB ICC profile, dropped again by a keepExif() re-encode.
  const withIcc = await fromRaw(raw, width, height, 3).withMetadata({ orientation }).jpeg({ quality: 95 }).toBuffer()
  return await sharp(withIcc).keepExif().jpeg({ quality: 95 }).toBuffer()
}

/** The colour of each frame of animatedGif/animatedWebp, in order (cycling past eight frames). */
export const FRAME_COLOURS: readonly Rgb[] = [
  RED, { r: 0, g: 255, b: 0 }, BLUE, { r: 255, g: 255, b: 0 }, { r: 255, g: 0, b: 255 }, { r: 0, g: 255, b: 255 }, { r: 255, g: 255, b: 255 }, { r: 0, g: 0, b: 0 }
]
/** Delay of every frame of the animations, in ms. */
export const FRAME_DELAY_MS = 100

const frameColour = (i: number) => FRAME_COLOURS[i % FRAME_COLOURS.length] ?? RED

// One tall raw strip of `frames` solid pages: how libvips represents an animation.
function animation (frames: number, width: number, height: number) {
  const raw = Buffer.alloc(width * height * frames * 3)
  for (let f = 0; f < frames; f++) {
    const c = frameColour(f)
    for (let i = 0; i < width * height; i++) raw.set([c.r, c.g, c.b], (f * width * height + i) * 3)
  }
  return fromRaw(raw, width, height * frames, 3, height)
}

/** A looping animated GIF, each frame one solid colour of FRAME_COLOURS. */
export async function animatedGif (frames = 3, width = 32, height = 32): Promise<Buffer> {
  return await animation(frames, width, height).gif({ loop: 0, delay: Array(frames).fill(FRAME_DELAY_MS) }).toBuffer()
}

/** A looping animated WebP, each frame one solid colour of FRAME_COLOURS (lossy: colours are near, not exact). */
export async function animatedWebp (frames = 3, width = 32, height = 32): Promise<Buffer> {
  return await animation(frames, width, height).webp({ loop: 0, delay: Array(frames).fill(FRAME_DELAY_MS) }).toBuffer()
}

/** A CMYK JPEG (no ICC profile: decoders fall back to a generic CMYK profile), stored from a red-to-green gradient. */
export async function cmykJpeg (width = 32, height = 32): Promise<Buffer> {
  return await fromRaw(gradient(width, height, 3), width, height, 3).toColourspace('cmyk').jpeg({ quality: 90 }).toBuffer()
}

/** A 16-bit-per-channel RGB PNG (metadata().depth 'ushort'). */
export async function png16 (width = 32, height = 32): Promise<Buffer> {
  return await fromRaw(gradient(width, height, 3), width, height, 3).toColourspace('rgb16').png().toBuffer()
}

/** A PNG of ~100 bytes whose header declares width×height (valid CRCs) but whose IDAT holds one row: a decompression bomb's header, readable without decoding. */
export function pixelBombPng (width = 20000, height = 20000): Buffer {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 8; ihdr[9] = 2 // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1 + width * 3))),
    chunk('IEND', Buffer.alloc(0))
  ])
}

/** A tiny 16×16 JPEG whose SOF header is patched to declare width×height (at most 65535): the JPEG counterpart of pixelBombPng. */
export async function pixelBombJpeg (width = 20000, height = 20000): Promise<Buffer> {
  const out = Buffer.from(await fromRaw(gradient(16, 16, 3), 16, 16, 3).jpeg().toBuffer())
  const sof = jpegMarkers(out).find((m) => m.marker >= 0xc0 && m.marker <= 0xcf && m.marker !== 0xc4 && m.marker !== 0xc8 && m.marker !== 0xcc)
  if (sof === undefined) throw new Error('sharp wrote a JPEG without a SOF segment')
  out.writeUInt16BE(height, sof.at + 5); out.writeUInt16BE(width, sof.at + 7)
  return out
}

/** A baseline JPEG with gradient content; `opts` go to sharp's jpeg() (quality, progressive, …). */
export async function jpeg (width = 64, height = 48, opts: JpegOptions = {}): Promise<Buffer> {
  return await fromRaw(gradient(width, height, 3), width, height, 3).jpeg(opts).toBuffer()
}

/** A still WebP with gradient content; `alpha` adds a left-to-right fade to 25 % opacity; the rest goes to sharp's webp(). */
export async function webp (width = 64, height = 48, opts: WebpOptions & { alpha?: boolean } = {}): Promise<Buffer> {
  const { alpha = false, ...options } = opts
  const channels = alpha ? 4 : 3
  return await fromRaw(gradient(width, height, channels), width, height, channels).webp(options).toBuffer()
}

/** A still AVIF with gradient content (sharp reports format 'heif', compression 'av1'). */
export async function avif (width = 64, height = 48): Promise<Buffer> {
  return await fromRaw(gradient(width, height, 3), width, height, 3).avif({ effort: 0 }).toBuffer()
}

/** A 12-megapixel "phone photo" (~2–3 MB, quality 85, EXIF with GPS, serial and owner): upscaled seeded noise over a gradient, so it does not compress away; ~0.5 s. */
export async function photoJpeg (width = 4000, height = 3000): Promise<Buffer> {
  // Noise at a tenth of the size then a smooth upscale: photo-like blotches at a fraction of the cost of full-size noise.
  const sw = Math.max(1, Math.ceil(width / 10)); const sh = Math.max(1, Math.ceil(height / 10))
  const raw = gradient(sw, sh, 3); const rand = prng(12)
  for (let i = 0; i < raw.length; i++) raw[i] = Math.max(0, Math.min(255, (raw[i] ?? 0) + Math.round((rand() - 0.5) * 160)))
  return await fromRaw(raw, sw, sh, 3).resize(width, height, { fit: 'fill', kernel: 'cubic' }).withExif(exifTags).jpeg({ quality: 85 }).toBuffer()
}

/** The first `keep` bytes of an image, copied (a negative `keep` drops that many from the end): an interrupted upload. */
export function truncate (buf: Buffer, keep: number): Buffer {
  return Buffer.from(buf.subarray(0, keep))
}

/** An image followed by an HTML document with a script (a polyglot: valid image, and HTML to a sniffing browser). */
export function withAppendedHtml (buf: Buffer): Buffer {
  return Buffer.concat([buf, html])
}

/** Whether the raw bytes contain `text` (UTF-8), e.g. a serial number or '<script' that must not be published. */
export function hasText (buf: Buffer, text: string): boolean {
  return buf.includes(Buffer.from(text, 'utf8'))
}

// ---- Reading images back ----

interface JpegMarker { marker: number, at: number, data: Buffer }

// The segments before the first scan (where all metadata lives); stops quietly at anything malformed.
function jpegMarkers (buf: Buffer): JpegMarker[] {
  const out: JpegMarker[] = []
  let i = 2
  while (i + 4 <= buf.length && buf[i] === 0xff) {
    const marker = buf[i + 1] ?? 0
    if (marker === 0xff) { i++; continue } // fill byte
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) { i += 2; continue } // no length
    if (marker === 0xd9) break
    const length = buf.readUInt16BE(i + 2)
    out.push({ marker, at: i, data: buf.subarray(i + 4, Math.min(buf.length, i + 2 + length)) })
    if (marker === 0xda) break
    i += 2 + length
  }
  return out
}

/** The container's block names: JPEG markers (APP1:Exif, APP1:XMP, APP2:ICC, APP13:Photoshop, COM…), PNG chunks (tEXt:keyword…), GIF extensions, WebP chunks. */
export function segments (buf: Buffer): string[] {
  const ascii = (at: number, text: string) => buf.toString('latin1', at, at + text.length) === text
  const out: string[] = []
  if (buf[0] === 0xff && buf[1] === 0xd8) {
    const app: Array<[string, string]> = [['Exif\0', 'Exif'], ['http://ns.adobe.com/xap/1.0/', 'XMP'], ['http://ns.adobe.com/xmp/extension/', 'XMP-extension'], ['ICC_PROFILE\0', 'ICC'], ['Photoshop 3.0\0', 'Photoshop'], ['JFIF\0', 'JFIF'], ['Adobe', 'Adobe']]
    for (const { marker, data } of jpegMarkers(buf)) {
      if (marker >= 0xe0 && marker <= 0xef) {
        const id = app.find(([prefix]) => data.toString('latin1', 0, prefix.length) === prefix)
        out.push(`APP${marker - 0xe0}${id === undefined ? '' : `:${id[1]}`}`)
      } else {
        out.push(marker === 0xfe ? 'COM' : marker === 0xda ? 'SOS' : marker === 0xdb ? 'DQT' : marker === 0xc4 ? 'DHT' : marker >= 0xc0 && marker <= 0xcf ? `SOF${marker - 0xc0}` : `0x${marker.toString(16)}`)
      }
    }
  } else if (ascii(0, '\x89PNG\r\n\x1a\n')) {
    for (let i = 8; i + 8 <= buf.length;) {
      const type = buf.toString('latin1', i + 4, i + 8)
      const textual = type === 'tEXt' || type === 'zTXt' || type === 'iTXt'
      out.push(textual ? `${type}:${buf.toString('latin1', i + 8, buf.indexOf(0, i + 8))}` : type)
      if (type === 'IEND') break
      i += 12 + buf.readUInt32BE(i)
    }
  } else if (ascii(0, 'GIF8')) {
    const table = (flags: number) => flags & 0x80 ? 3 * 2 ** ((flags & 7) + 1) : 0
    const skipBlocks = (j: number) => { while (j < buf.length && buf[j] !== 0) j += (buf[j] ?? 0) + 1; return j + 1 }
    for (let i = 13 + table(buf[10] ?? 0); i < buf.length;) {
      if (buf[i] === 0x21) {
        const label = buf[i + 1]
        out.push(label === 0xfe ? 'comment' : label === 0xf9 ? 'control' : label === 0x01 ? 'plain-text' : label === 0xff ? `application:${buf.toString('latin1', i + 3, i + 14)}` : 'extension')
        i = skipBlocks(i + 2)
      } else if (buf[i] === 0x2c) {
        out.push('image')
        i = skipBlocks(i + 10 + table(buf[i + 9] ?? 0) + 1)
      } else {
        if (buf[i] === 0x3b) out.push('trailer')
        break
      }
    }
  } else if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) {
    for (let i = 12; i + 8 <= buf.length; i += 8 + buf.readUInt32LE(i + 4) + (buf.readUInt32LE(i + 4) % 2)) {
      out.push(buf.toString('latin1', i, i + 4).trim())
    }
  }
  return out
}

export interface MetadataBlocks {
  exif: boolean
  gps: boolean
  xmp: boolean
  iptc: boolean
  icc: boolean
  /** File-level comments: JPEG COM, PNG tEXt/zTXt/iTXt (other than XMP, which libvips writes as zTXt), GIF comment extensions. */
  comments: boolean
  raw: {
    /** exifr on the file (it reads JPEG, PNG, TIFF, HEIF/AVIF; not WebP or GIF). */
    exifr?: Record<string, unknown>
    exifrError?: string
    /** exifr on the EXIF block sharp extracted: GPS for formats exifr cannot open. */
    embeddedExif?: Record<string, unknown>
    sharp?: Metadata
    sharpError?: string
    segments: string[]
  }
}

const errorText = (err: unknown) => err instanceof Error ? err.message : String(err)
const filled = (v: unknown) => v !== undefined && v !== null && (typeof v !== 'object' || Object.keys(v).length > 0)
const exifrOptions = { tiff: true, ifd1: true, exif: true, gps: true, interop: true, xmp: { parse: false }, iptc: true, icc: true, jfif: false, ihdr: false, mergeOutput: false, userComment: true }

/** Which metadata blocks an image still carries, as exifr, sharp's metadata() or the container's own blocks see it (any one suffices). Never throws. */
export async function metadataBlocks (buf: Buffer): Promise<MetadataBlocks> {
  const raw: MetadataBlocks['raw'] = { segments: segments(buf) }
  try {
    raw.exifr = (await exifr.parse(buf, exifrOptions)) ?? {}
  } catch (err) {
    raw.exifrError = errorText(err)
  }
  try {
    raw.sharp = await sharp(buf, { limitInputPixels: false }).metadata()
  } catch (err) {
    raw.sharpError = errorText(err)
  }
  const exifBlock = raw.sharp?.exif
  if (exifBlock !== undefined) {
    const tiff = exifBlock.toString('latin1', 0, 6) === 'Exif\0\0' ? exifBlock.subarray(6) : exifBlock
    raw.embeddedExif = await exifr.parse(tiff, { tiff: true, ifd1: true, exif: true, gps: true, interop: true, mergeOutput: false }).catch(() => undefined) ?? undefined
  }
  const e = raw.exifr ?? {}
  const seg = raw.segments
  return {
    exif: ['ifd0', 'ifd1', 'exif', 'gps', 'interop'].some((k) => filled(e[k])) || exifBlock !== undefined || seg.some((s) => s === 'APP1:Exif' || s === 'eXIf' || s === 'EXIF'),
    gps: filled(e['gps']) || filled(raw.embeddedExif?.['gps']),
    xmp: filled(e['xmp']) || raw.sharp?.xmp !== undefined || seg.some((s) => s.startsWith('APP1:XMP') || s.endsWith('TXt:XML:com.adobe.xmp') || s === 'XMP' || s === 'application:XMP DataXMP'),
    iptc: filled(e['iptc']) || raw.sharp?.iptc !== undefined,
    icc: filled(e['icc']) || raw.sharp?.icc !== undefined || seg.some((s) => s === 'APP2:ICC' || s === 'iCCP' || s === 'ICCP'),
    comments: (raw.sharp?.comments?.length ?? 0) > 0 || seg.some((s) => s === 'COM' || s === 'comment' || (/^(tEXt|zTXt|iTXt):/.test(s) && !s.endsWith(':XML:com.adobe.xmp'))),
    raw
  }
}

/** One pixel (sRGB, alpha dropped) of an image as stored, or as upright with `autoOrient`; `page` picks an animation frame. */
export async function pixelAt (buf: Buffer, x: number, y: number, opts: { page?: number, autoOrient?: boolean } = {}): Promise<Rgb> {
  const { data, info } = await sharp(buf, { page: opts.page ?? 0, autoOrient: opts.autoOrient ?? false, limitInputPixels: false })
    .extract({ left: x, top: y, width: 1, height: 1 })
    .removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true })
  if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`)
  return { r: data[0] ?? 0, g: data[1] ?? 0, b: data[2] ?? 0 }
}
