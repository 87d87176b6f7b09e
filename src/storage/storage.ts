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
}

export interface Storage {
  readonly kind: 'local' | 's3'
  /** The signed form a browser posts to store exactly this key. */
  createUploadTarget (ticket: UploadTicket): Promise<UploadTarget>
  publicUrl (key: string): string
  head (key: string): Promise<StoredObject | undefined>
  /** Up to `bytes` first bytes of the object (for the magic-number check). */
  readStart (key: string, bytes: number): Promise<Buffer>
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
