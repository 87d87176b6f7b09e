// One object store interface, two implementations (local.ts for development, s3.ts for production), one factory
// (index.ts).

export interface UploadTicket {
  key: string
  contentType: string
  maxBytes: number
  /** Smallest size the form accepts (default 1): the declared size, when the ticket declared one (then = maxBytes). */
  minBytes?: number
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
  etag?: string
}

/** An upload read back for processing: its bytes, unless it is larger than the reader allowed. */
export interface StagedObject { size: number, body?: Buffer }

export interface ObjectStore {
  /** The backend's name (logs): the interface lists no backend, so a new one changes nothing here. */
  readonly kind: string
  /** The signed form a browser posts to store the ticket's key, at uploadedKey(key). */
  createUploadTarget (ticket: UploadTicket): Promise<UploadTarget>
  /** Where the browser's bytes for `key` land: a private staging key (uploads/keys.ts) that is never served. */
  uploadedKey (key: string): string
  publicUrl (key: string): string
  /** Origins a page posts forms to and loads images from (for a Content-Security-Policy). */
  browserOrigins (): string[]
  head (key: string): Promise<StoredObject | undefined>
  /** The whole object, one version of it; without its body when larger than `maxBytes`; undefined when missing. */
  read (key: string, maxBytes: number): Promise<StagedObject | undefined>
  /** Publishes `body` at `key` (public: S3_ACL in production, served from uploads/profile/ in development). */
  put (key: string, body: Buffer, contentType: string): Promise<void>
  /** Removes the object; no error when it is already gone. */
  delete (key: string): Promise<void>
  /** Readiness: throws when the storage cannot be reached. */
  check (): Promise<void>
  /** Readiness, where the service writes uploads itself: throws when it cannot (a full disk, a read-only folder). */
  checkWrites? (): Promise<void>
  /**
   * Files the backend keeps itself that no upload record names any more (temporary files of a process that died);
   * returns how many it removed. S3 has none of its own: a lifecycle rule on incoming/ is the backstop there.
   */
  removeLeftovers? (now: Date): Promise<number>
  close (): Promise<void>
}
