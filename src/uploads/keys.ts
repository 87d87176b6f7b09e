// Object keys, all derived from the one the service generates for a ticket ({prefix}{stem}.{ext}); nothing here
// comes from a client.
import type { ImageFormat } from './formats.js'
import { newFileStem } from './ids.js'

export const imageKey = (prefix: string, format: ImageFormat) => `${prefix}${newFileStem()}.${format.extension}`

/** A square variant beside its image: {prefix}{stem}-{size}.{ext}. */
export function variantKey (key: string, size: number, format: ImageFormat): string {
  const dot = key.lastIndexOf('.')
  return `${dot > key.lastIndexOf('/') ? key.slice(0, dot) : key}-${size}.${format.extension}`
}

/**
 * Where the browser's bytes for `key` land: {prefix}incoming/{file}, private, still under the prefix (the guide's
 * IAM policy). A form stays valid until the ticket expires, so the public key is written only by completion, from
 * checked and re-encoded bytes.
 */
export function stagingKey (key: string): string {
  const slash = key.lastIndexOf('/') + 1
  return `${key.slice(0, slash)}incoming/${key.slice(slash)}`
}
