// The placeholder a page paints while the image loads: a ThumbHash (about 25 bytes) of the picture.
import sharp from 'sharp'
import { rgbaToThumbHash } from 'thumbhash'

/**
 * ThumbHash takes at most 100×100 pixels and keeps only a few low frequencies of them: from 64 the hash differs
 * from 100's by one quantisation step in a few coefficients at most (the same picture), for half the work and a
 * third of the garbage, which the completion's garbage collections pay for (docs/performance.md, "Images").
 */
const SIDE = 64

export async function thumbHash (raw: Buffer, info: { width: number, height: number, channels: 1 | 2 | 3 | 4 }): Promise<string> {
  const { data, info: small } = await sharp(raw, { raw: info })
    .resize(SIDE, SIDE, { fit: 'inside' })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
  return Buffer.from(rgbaToThumbHash(small.width, small.height, data)).toString('base64')
}
