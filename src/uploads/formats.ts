// The one table of image formats: content type, extension, human name, magic bytes, decoder and encoder.
// Configuration, verification, the image pipeline, the OpenAPI document and the demo all read it; a new format is
// one row here (plus its tests).
import type { Sharp } from 'sharp'

export interface ImageFormat {
  /** Short name, as IMAGE_VARIANT_FORMAT spells it. */
  id: 'jpeg' | 'png' | 'webp' | 'gif' | 'avif'
  contentType: string
  extension: string
  /** For people: error messages, the demo page. */
  name: string
  /** Accepted by default (ALLOWED_CONTENT_TYPES unset). */
  byDefault: boolean
  /** Whether uploads of this type may be animated (then the main image stays animated). */
  animation: boolean
  /** May be chosen as IMAGE_VARIANT_FORMAT. */
  variant: boolean
  /** What sharp's metadata() calls the decoded format (AVIF is HEIF with AV1 compression). */
  decodedAs: { format: string, compression?: string }
  /** libvips loaders kept enabled for this type (every other loader is blocked: images/decoders.ts). */
  loaders: string[]
  /** True when the first bytes are this format's signature. */
  magic: (head: Buffer) => boolean
  /** The encoder and its settings for published images; `timing` for an animation joined from its frames. */
  encode: (image: Sharp, timing?: AnimationTiming) => Sharp
}

/** An animation's frame delays (ms) and loop count (0: forever), as sharp reads and writes them. */
export interface AnimationTiming { delay?: number[], loop?: number }

const ascii = (head: Buffer, at: number, text: string) => head.length >= at + text.length && head.toString('latin1', at, at + text.length) === text

export const FORMATS: readonly ImageFormat[] = [
  {
    id: 'jpeg',
    contentType: 'image/jpeg',
    extension: 'jpg',
    name: 'JPEG',
    byDefault: true,
    animation: false,
    variant: true,
    decodedAs: { format: 'jpeg' },
    loaders: ['VipsForeignLoadJpeg'],
    magic: (h) => h.length >= 3 && h[0] === 0xff && h[1] === 0xd8 && h[2] === 0xff,
    encode: (image) => image.jpeg({ quality: 82, progressive: true })
  },
  {
    id: 'png',
    contentType: 'image/png',
    extension: 'png',
    name: 'PNG',
    byDefault: true,
    animation: false,
    variant: true,
    decodedAs: { format: 'png' },
    loaders: ['VipsForeignLoadPng'],
    magic: (h) => ascii(h, 0, '\x89PNG\r\n\x1a\n'),
    encode: (image) => image.png({ compressionLevel: 6 })
  },
  {
    id: 'webp',
    contentType: 'image/webp',
    extension: 'webp',
    name: 'WebP',
    byDefault: true,
    animation: true,
    variant: true,
    decodedAs: { format: 'webp' },
    loaders: ['VipsForeignLoadWebp'],
    magic: (h) => ascii(h, 0, 'RIFF') && ascii(h, 8, 'WEBP'),
    encode: (image, timing) => image.webp({ quality: 80, ...timing })
  },
  {
    id: 'gif',
    contentType: 'image/gif',
    extension: 'gif',
    name: 'GIF',
    byDefault: true,
    animation: true,
    variant: false,
    decodedAs: { format: 'gif' },
    loaders: ['VipsForeignLoadNsgif', 'VipsForeignLoadGif'],
    magic: (h) => ascii(h, 0, 'GIF87a') || ascii(h, 0, 'GIF89a'),
    encode: (image, timing) => image.gif({ ...timing })
  },
  {
    id: 'avif',
    contentType: 'image/avif',
    extension: 'avif',
    name: 'AVIF',
    byDefault: false,
    animation: false,
    variant: true,
    decodedAs: { format: 'heif', compression: 'av1' },
    loaders: ['VipsForeignLoadHeif'],
    // An ISO-BMFF file whose major brand is AVIF (still image).
    magic: (h) => ascii(h, 4, 'ftyp') && ascii(h, 8, 'avif'),
    encode: (image) => image.avif({ quality: 55, effort: 4 })
  }
]

/** Bytes read from the start of an upload to recognise its format. */
export const MAGIC_BYTES = 16

const byType = new Map(FORMATS.map((f) => [f.contentType, f]))
const byId = new Map(FORMATS.map((f) => [f.id, f]))

export const formatOfType = (contentType: string): ImageFormat | undefined => byType.get(contentType.toLowerCase())
export const formatOfId = (id: string): ImageFormat | undefined => byId.get(id as ImageFormat['id'])
/** The format whose signature the bytes start with. */
export const detectFormat = (head: Buffer): ImageFormat | undefined => FORMATS.find((f) => f.magic(head))
export const DEFAULT_CONTENT_TYPES = FORMATS.filter((f) => f.byDefault).map((f) => f.contentType)
export const VARIANT_FORMATS = FORMATS.filter((f) => f.variant).map((f) => f.id)

/** "JPEG, PNG, WebP or GIF" for a list of content types. */
export function formatNames (contentTypes: readonly string[]): string {
  const names = contentTypes.map((t) => formatOfType(t)?.name ?? t)
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names.at(-1) ?? ''}`
}
