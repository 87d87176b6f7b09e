// The clean-image pipeline: an upload's bytes in, the images to publish out. Never passes bytes through:
// limits are read from the header before a pixel is decoded, then the first frame is decoded once (oriented,
// sRGB) into a bounded raw copy from which the main image, every variant and the placeholder are encoded again,
// with no metadata block (EXIF, XMP, IPTC, ICC, comments) carried over. Animations keep their frames in the main
// image, encoded from the upload itself.
import sharp, { type Metadata, type ResizeOptions, type Sharp, type SharpOptions } from 'sharp'
import type { Config } from '../config.js'
import { appError } from '../errors.js'
import { detectFormat, type ImageFormat } from '../uploads/formats.js'
import { thumbHash } from './placeholder.js'

export type ImageLimits = Config['images']

export interface EncodedImage { body: Buffer, width: number, height: number, format: ImageFormat }

export interface ProcessedImage {
  main: EncodedImage
  animated: boolean
  /** ThumbHash, base64. */
  placeholder: string
  /** One per configured size, ascending. */
  variants: Array<EncodedImage & { size: number }>
}

interface Raw { data: Buffer, info: { width: number, height: number, channels: 1 | 2 | 3 | 4 } }

// The libvips operation cache keeps decoded pixels of past requests: nothing is ever processed twice here.
sharp.cache(false)

const number = (n: number) => n.toLocaleString('en-US')

/** The longest side libvips' WebP and AVIF encoders write (JPEG's is 65,535). */
const MAX_SIDE = 16_383

/** Reads the header only; refuses what is not the declared format or is over the limits (422, nothing decoded). */
export async function inspect (input: Buffer, format: ImageFormat, limits: ImageLimits): Promise<{ meta: Metadata, frames: number }> {
  if (!format.magic(input)) {
    const found = detectFormat(input)
    throw appError('NOT_AN_IMAGE', `declared ${format.contentType}, the bytes are ${found === undefined ? 'not an image type the service reads' : found.contentType}`)
  }
  let meta: Metadata
  try {
    meta = await sharp(input, { failOn: 'error', limitInputPixels: false }).metadata()
  } catch (err) {
    throw corrupt(err)
  }
  if (meta.format !== format.decodedAs.format || (format.decodedAs.compression !== undefined && meta.compression !== format.decodedAs.compression)) {
    throw appError('NOT_AN_IMAGE', `declared ${format.contentType}, the bytes decode as ${meta.format}`)
  }
  const height = meta.pageHeight ?? meta.height
  const frames = format.animation ? Math.max(1, meta.pages ?? 1) : 1
  if (frames > limits.maxFrames) throw appError('TOO_MANY_FRAMES', `${number(frames)} frames; at most ${number(limits.maxFrames)}`)
  const pixels = meta.width * height * frames
  if (pixels > limits.maxPixels) {
    throw appError('TOO_MANY_PIXELS', `${number(meta.width)} × ${number(height)}${frames > 1 ? ` × ${frames} frames` : ''} = ${number(pixels)} pixels; at most ${number(limits.maxPixels)}`)
  }
  // Wider than any encoder writes, and a strip of that shape costs seconds per scanline pass: never a picture of a person.
  if (Math.max(meta.width, height) > MAX_SIDE) {
    throw appError('BAD_DIMENSIONS', `${number(meta.width)} × ${number(height)}; each side at most ${number(MAX_SIDE)} pixels`)
  }
  return { meta, frames }
}

/** Decodes, checks and re-encodes an upload. Throws a 422 AppError for anything that is not a usable image. */
export async function processImage (input: Buffer, format: ImageFormat, limits: ImageLimits): Promise<ProcessedImage> {
  const { meta, frames } = await inspect(input, format, limits)
  const decode: SharpOptions = { failOn: 'error', limitInputPixels: limits.maxPixels }
  // A decoding failure is the upload's (422); an encoding failure is the service's (500, the upload kept for a retry).
  const first = await firstFrame(input, meta, decode, limits).catch((err: unknown) => { throw corrupt(err) })
  const animated = frames > 1
  const [main, placeholder, ...variants] = await Promise.all([
    animated ? animation(input, meta, format, decode, limits).catch((err: unknown) => { throw corrupt(err) }) : fit(first, format, limits.maxSide),
    thumbHash(first.data, first.info),
    ...limits.variants.map(async (size) => ({ size, ...await square(first, limits.variantFormat, size) }))
  ])
  return { main, animated, placeholder, variants } as ProcessedImage
}

/**
 * The first frame, oriented and in sRGB (CMYK, 16-bit and profiles converted), scaled once to the smallest size
 * every output still fits in: the main image's longer side and the largest variant's shorter side.
 */
async function firstFrame (input: Buffer, meta: Metadata, decode: SharpOptions, limits: ImageLimits): Promise<Raw> {
  const { width, height } = meta.autoOrient
  const longer = Math.max(width, height)
  const shorter = Math.min(width, height)
  const largestVariant = limits.variants.at(-1) ?? 0
  const scale = Math.min(1, Math.max(limits.maxSide / longer, largestVariant / shorter))
  const { data, info } = await sharp(input, decode)
    .autoOrient()
    .resize(Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale)), { fit: 'fill' })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true })
  return { data, info: { width: info.width, height: info.height, channels: info.channels } }
}

/** The main image of a still picture: fitted into maxSide, in the declared format. */
async function fit (raw: Raw, format: ImageFormat, maxSide: number): Promise<EncodedImage> {
  const image = sharp(raw.data, { raw: raw.info }).resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
  const { data, info } = await format.encode(image).toBuffer({ resolveWithObject: true })
  return { body: data, width: info.width, height: info.height, format }
}

/** The main image of an animation: every frame, upright and fitted into maxSide, timing and loop kept. */
async function animation (input: Buffer, meta: Metadata, format: ImageFormat, decode: SharpOptions, limits: ImageLimits): Promise<EncodedImage> {
  const fitted = { width: limits.maxSide, height: limits.maxSide, fit: 'inside', withoutEnlargement: true } as const
  const upright = (meta.orientation ?? 1) === 1
  const image = upright ? sharp(input, { ...decode, animated: true }).resize(fitted) : await orientedFrames(input, meta, decode, fitted)
  const { data, info } = await format.encode(image, { delay: meta.delay, loop: meta.loop }).toBuffer({ resolveWithObject: true })
  return { body: data, width: info.width, height: info.pageHeight ?? info.height, format }
}

/**
 * libvips rotates no multi-page image, so an animation stored with an EXIF orientation (WebP can carry one) is
 * oriented frame by frame, one at a time, and the frames joined again: its variants, from the first frame, are.
 */
async function orientedFrames (input: Buffer, meta: Metadata, decode: SharpOptions, fitted: ResizeOptions): Promise<Sharp> {
  const frames: Buffer[] = []
  for (let page = 0; page < (meta.pages ?? 1); page++) {
    frames.push(await sharp(input, { ...decode, page }).autoOrient().resize(fitted).png({ compressionLevel: 0 }).toBuffer())
  }
  return sharp(frames, { join: { animated: true } })
}

/** A centre-cropped square of `size` pixels, or of the picture's shorter side when that is smaller (no upscaling). */
async function square (raw: Raw, format: ImageFormat, size: number): Promise<EncodedImage> {
  const side = Math.min(size, raw.info.width, raw.info.height)
  const image = sharp(raw.data, { raw: raw.info }).resize(side, side, { fit: 'cover', position: 'centre' })
  const { data, info } = await format.encode(image).toBuffer({ resolveWithObject: true })
  return { body: data, width: info.width, height: info.height, format }
}

/** libvips says what failed (e.g. "VipsJpeg: premature end of input file"); its first line is the detail. */
function corrupt (err: unknown) {
  const text = (err instanceof Error ? err.message : String(err)).split('\n')[0]?.slice(0, 200) ?? ''
  return appError('IMAGE_CORRUPT', text)
}
