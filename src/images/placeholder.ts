// The placeholder a page paints while the image loads: a ThumbHash (about 25 bytes) of the picture.
import sharp from 'sharp'
import { rgbaToThumbHash } from 'thumbhash'

/** ThumbHash works on at most 100×100 pixels. */
const SIDE = 100

export async function thumbHash (raw: Buffer, info: { width: number, height: number, channels: 1 | 2 | 3 | 4 }): Promise<string> {
  const { data, info: small } = await sharp(raw, { raw: info })
    .resize(SIDE, SIDE, { fit: 'inside' })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
  return Buffer.from(rgbaToThumbHash(small.width, small.height, data)).toString('base64')
}
