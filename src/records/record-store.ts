// The store holds upload records and the webhook outbox. Two implementations (sqlite.ts, postgres.ts) pass
// one contract suite (test/records/contract.ts); everything the service needs from a database is here.

export const UPLOAD_STATUSES = ['pending', 'confirmed', 'rejected', 'expired', 'replaced', 'deleted'] as const
export type UploadStatus = typeof UPLOAD_STATUSES[number]

/** What completion published for a confirmed upload (the main image is at the upload's key). */
export interface PublishedImage {
  width: number
  height: number
  animated: boolean
  /** ThumbHash, base64. */
  placeholder: string
  /** Ascending by size; `key` beside the main image's. */
  variants: Array<{ size: number, width: number, height: number, contentType: string, key: string }>
}

// The record's fields are declared in columns.ts, each with its column.
import type { NewUpload, UploadRecord } from './columns.js'
export type { NewUpload, UploadRecord }

/** Where the previous page of a listing in (expiresAt, id) order ended: the next page starts strictly after it. */
export type PageCursor = Pick<UploadRecord, 'expiresAt' | 'id'>

export type EventStatus = 'pending' | 'delivered' | 'dead'

export interface OutboxEvent {
  /** webhook-id: stable across every attempt. */
  id: string
  uploadId: string
  type: string
  /** The exact JSON body sent, so every attempt signs the same bytes. */
  payload: string
  status: EventStatus
  attempts: number
  nextAttemptAt: Date
  /** A claim: until this time no other dispatcher takes the event. */
  leaseUntil: Date | null
  lastError: string | null
  createdAt: Date
  deliveredAt: Date | null
}

export type NewEvent = Pick<OutboxEvent, 'id' | 'uploadId' | 'type' | 'payload' | 'createdAt'>

export interface DeleteResult {
  /** The record, now deleted. */
  record: UploadRecord
  /** Its status before: `confirmed` means an image.deleted event was written. */
  was: UploadStatus
}

export interface ConfirmResult {
  record: UploadRecord
  /** False when the upload was already confirmed (a repeat): no second event was written. */
  changed: boolean
}

/** Where a retention batch ended: the time it ordered by (an event's createdAt, an upload's updatedAt), then id. */
export interface PruneCursor { at: Date, id: string }

/**
 * One batch of a retention pass: the rows removed, where the pass's next batch starts (strictly after), and whether
 * the pass is done (fewer rows than the limit were due: rows kept, such as an upload whose event is not delivered,
 * do not end it).
 */
export interface PruneBatch { removed: number, resume?: PruneCursor, done: boolean }

export interface RecordStore {
  readonly kind: 'sqlite' | 'postgres'
  /** Durable before it resolves: a ticket is never answered before its record is committed. */
  createUpload (upload: NewUpload): Promise<void>
  getUpload (id: string): Promise<UploadRecord | undefined>
  /** pending → confirmed (with what was published) and the event row, in one transaction. A repeat returns the record unchanged. */
  confirmUpload (id: string, size: number, confirmedAt: Date, event: (record: UploadRecord) => NewEvent, image?: PublishedImage): Promise<ConfirmResult | undefined>
  /**
   * While pending: what a completion is about to publish, recorded before it writes any object, so a run that stops
   * half-way leaves no object unrecorded. False when the upload is no longer pending.
   */
  planImage (id: string, image: PublishedImage): Promise<boolean>
  /**
   * Moves an upload to `to` only from one of `from`; returns the record after the change, or undefined if none.
   * Moved to the status it has (the sweeper's touch), the upload counts as cleaned: listLeftovers lists it no more
   * until its next change.
   */
  transition (id: string, from: readonly UploadStatus[], to: UploadStatus, at: Date): Promise<UploadRecord | undefined>
  /** Pending uploads whose ticket expired before `before`, oldest first (by expiresAt, then id), after `after`. */
  listExpiredPending (before: Date, limit: number, after?: PageCursor): Promise<UploadRecord[]>
  /**
   * The owner's confirmed uploads of tickets issued strictly before `newer`'s, by (createdAt, id), whenever they were
   * confirmed, oldest first: the ones it replaces. (An older ticket confirmed later never replaces a newer one.)
   */
  listReplaceable (ownerId: string, newer: UploadRecord): Promise<UploadRecord[]>
  /**
   * A confirmed upload of the owner from a ticket issued strictly after `older`'s (by createdAt, id) whose
   * image.confirmed was delivered (none of its events of that type is pending or dead), if any: `older` lost to it.
   */
  supersededBy (ownerId: string, older: UploadRecord): Promise<UploadRecord | undefined>
  /**
   * Any status but deleted → deleted, in one transaction with the outbox: when the upload was confirmed, its
   * image.confirmed events not yet delivered (pending or dead) are removed, never to be sent, and `event(record)`
   * (image.deleted, built from the deleted record) is written. Undefined when unknown or already deleted.
   */
  deleteUpload (id: string, at: Date, event: (record: UploadRecord) => NewEvent): Promise<DeleteResult | undefined>
  /**
   * Uploads no longer pending whose ticket expired before `before` (no form can be posted any more) and that were not
   * cleaned since their last change, oldest ticket first, after `after`. The sweeper deletes what may be left of
   * them (a form posted after the upload ended, a delete that failed), then touches them (transition to the same
   * status). A later change (deleted, replaced) lists the upload again.
   */
  listLeftovers (before: Date, limit: number, after?: PageCursor): Promise<UploadRecord[]>

  /** Takes up to `limit` due events (pending, nextAttemptAt ≤ now, lease free or lapsed) and leases them. */
  claimEvents (now: Date, limit: number, leaseMs: number): Promise<OutboxEvent[]>
  /**
   * Extends a claim still held (the event pending, its lease still `held`) to `until`; false when the claim was lost
   * (it lapsed and another replica took the event, or the event was settled).
   */
  renewLease (id: string, held: Date, until: Date): Promise<boolean>
  markDelivered (id: string, at: Date): Promise<void>
  /** Records a failed attempt: back to pending at `nextAttemptAt`, or dead. No effect on a delivered or dead event
   * (a late answer from a claim that lapsed while another replica delivered it). */
  markFailed (id: string, error: string, nextAttemptAt: Date, dead: boolean): Promise<void>
  /** Gives a claimed event back (shutdown) without counting an attempt. */
  releaseEvent (id: string): Promise<void>
  getEvent (id: string): Promise<OutboxEvent | undefined>
  listEvents (status: EventStatus, limit: number): Promise<OutboxEvent[]>
  /** dead → pending, attempts reset; false if the event is not dead. */
  redriveEvent (id: string, now: Date): Promise<boolean>
  /** Events by status, from counts the store keeps as events change: a scrape never walks the outbox. */
  countEvents (): Promise<Record<EventStatus, number>>

  // Retention (pruner.ts): rows that ended before `before` go, oldest first, `limit` looked at per call. A pass goes
  // on after where its last batch ended (`after`, the batch's `resume`), never reading again what it removed
  // (PostgreSQL keeps removed rows in its indexes until they are vacuumed) or what it kept.
  /**
   * Delivered events delivered before `before`, and dead ones whose last attempt planned their next one before it,
   * except a dead image.confirmed of an upload still confirmed: never received, it stays re-drivable, and
   * replacement counts it as not delivered (supersededBy). Pending events are never removed.
   */
  pruneEvents (before: Date, limit: number, after?: PruneCursor): Promise<PruneBatch>
  /**
   * Uploads that ended (rejected, expired, replaced, deleted: last changed before `before`) with no event left, and
   * whose leftovers the sweeper has handled (not listed by listLeftovers). Pending uploads are the sweeper's;
   * confirmed ones are images that replacement and DELETE act on: neither is ever removed.
   */
  pruneUploads (before: Date, limit: number, after?: PruneCursor): Promise<PruneBatch>

  /** Readiness: throws when the store cannot be reached. */
  ping (): Promise<void>
  /** Readiness: throws when the store cannot take writes (a full disk under SQLite, a read-only PostgreSQL). */
  checkWrites (): Promise<void>
  close (): Promise<void>
}
