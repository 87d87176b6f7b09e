// Identifiers the service generates: never taken from a client.
import { randomBytes } from 'node:crypto'

/** 128 random bits: the upload id is the browser's only credential for completion. */
export const newUploadId = () => `upl_${randomBytes(16).toString('base64url')}`
export const newEventId = () => `msg_${randomBytes(16).toString('base64url')}`
/** 128 random bits, lower-case hex: safe in any file system and URL. */
export const newFileStem = () => randomBytes(16).toString('hex')
