// One storage interface, two implementations (local.ts for development, s3.ts for production), one factory.
import type { Config } from '../config.js'

export interface UploadTicket {
  key: string
  contentType: string
  maxBytes: number
  expiresAt: Date
}

/** What the browser posts: every field, then the file part. */
export interface UploadTarget {
  url: string
  fields: Record<string, string>
  /** When the target stops accepting the form (may be earlier than asked: temporary credentials). */
  expiresAt: Date
}

export interface StoredObject {
  size: number
  contentType?: string
  /** The version read (S3's ETag), so later reads and the promotion act on exactly the bytes that were checked. */
  etag?: string
}

export interface Storage {
  readonly kind: 'local' | 's3'
  /** The signed form a browser posts to store the ticket's key, at uploadedKey(key). */
  createUploadTarget (ticket: UploadTicket): Promise<UploadTarget>
  /**
   * Where the browser's bytes for `key` land: the key itself (local, written once), or a private staging key (S3,
   * where a form can be posted again until it expires) that only promote() copies to `key`.
   */
  uploadedKey (key: string): string
  /** Publishes the checked upload at `key` (the version `etag`, when given); a repeat after success succeeds. */
  promote (key: string, etag?: string): Promise<void>
  publicUrl (key: string): string
  head (key: string): Promise<StoredObject | undefined>
  /** Up to `bytes` first bytes of the object (for the magic-number check); of version `etag` only, when given. */
  readStart (key: string, bytes: number, etag?: string): Promise<Buffer>
  /** Removes the object; no error when it is already gone. */
  delete (key: string): Promise<void>
  /** Readiness: throws when the storage cannot be reached. */
  check (): Promise<void>
  close (): Promise<void>
}

export async function createStorage (config: Config): Promise<Storage> {
  if (config.mode === 'production') {
    const { createS3Storage } = await import('./s3.js')
    return await createS3Storage(config)
  }
  const { LocalStorage } = await import('./local.js')
  return new LocalStorage(config)
}
