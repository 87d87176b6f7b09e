// Identifiers the service generates: never taken from a client.
import { randomText } from '../fast/random-block.js'

const msHex = (digits: number) => Date.now().toString(16).padStart(digits, '0')

/**
 * The time in milliseconds (11 hex digits), then 128 random bits: the upload id is the browser's only credential
 * for completion, and time order keeps the store's primary-key index growing at its end (docs/performance.md).
 */
export const newUploadId = () => `upl_${msHex(11)}${randomText(16, 'base64url')}`
export const newEventId = () => `msg_${randomText(16, 'base64url')}`
/**
 * 32 lower-case hex characters, safe in any file system and URL: the time in milliseconds (48 bits), then 80
 * random bits (unguessable). In time order, an index on keys (PostgreSQL's unique one; SQLite's until schema 4)
 * grows at its end instead of taking a write at a random page per ticket (docs/performance.md).
 */
export const newFileStem = () => msHex(12) + randomText(10, 'hex')
