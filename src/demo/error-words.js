// Turns what went wrong into words for the person at the keyboard. Pure functions (no DOM), so the same module
// runs in the browser and in the unit tests. Server answers come in two shapes: this service's JSON
// { code, message } (tickets, completion) and S3's XML <Error><Code>…</Code><Message>…</Message></Error> (the form
// POST: S3 in production, the service's development upload endpoint, which answers the same way).
// The people's names of the image types ({ 'image/png': 'PNG' }) come from the service's format table through the
// page (`typeNames` in the limits and contexts below), so this file holds no list of formats of its own.

/** 'image/png' → 'PNG' (the type itself when it has no name). */
export function typeName (type, names = {}) {
  return Object.hasOwn(names, type) ? names[type] : (type || 'unknown')
}

/** ['image/jpeg', 'image/png', 'image/gif'] → 'JPEG, PNG or GIF'. */
export function typeList (types, names = {}) {
  const list = types.map((type) => typeName(type, names))
  return list.length < 2 ? list.join('') : `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}`
}

/** 5242880 → '5 MB'; 1536 → '1.5 KB'. */
export function formatBytes (bytes) {
  if (bytes < 1024) return `${bytes} bytes`
  const [value, unit] = bytes < 1024 * 1024 ? [bytes / 1024, 'KB'] : [bytes / (1024 * 1024), 'MB']
  return `${Number(value.toFixed(1))} ${unit}`
}

/** What is wrong with a chosen file before anything is sent, or undefined when it may be uploaded. */
export function describeFileProblem (file, limits) {
  if (!limits.types.includes(file.type)) {
    return `“${file.name}” is not an image this page accepts (its type is ${file.type || 'unknown'}). Choose a ${typeList(limits.types, limits.typeNames)} image.`
  }
  if (file.size === 0) return `“${file.name}” is empty. Choose another image.`
  if (file.size > limits.maxBytes) {
    return `“${file.name}” is too large (${formatBytes(file.size)}). The largest image you can upload is ${formatBytes(limits.maxBytes)}.`
  }
  return undefined
}

const xmlText = (xml, tag) => {
  const match = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)
  return match?.[1]?.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&')
}

/** A server's error body → { code, message } (both may be empty). */
export function parseErrorBody (text) {
  const body = (text ?? '').trim()
  if (body.startsWith('{')) {
    try {
      const json = JSON.parse(body)
      return { code: String(json.code ?? ''), message: String(json.message ?? '') }
    } catch {}
  }
  if (body.startsWith('<')) return { code: xmlText(body, 'Code') ?? '', message: xmlText(body, 'Message') ?? '' }
  return { code: '', message: '' }
}

// Catalogue codes of this service and S3's own codes that mean the same to the person.
const TOO_LARGE = ['TOO_LARGE', 'ENTITY_TOO_LARGE', 'EntityTooLarge', 'MaxMessageLengthExceeded']
const TOO_SMALL = ['ENTITY_TOO_SMALL', 'EntityTooSmall']
const EXPIRED = ['POLICY_EXPIRED', 'TICKET_EXPIRED', 'ExpiredToken', 'RequestExpired']
const REFUSED = ['SIGNATURE_MISMATCH', 'POLICY_CONDITION_FAILED', 'POLICY_INVALID', 'AccessDenied', 'SignatureDoesNotMatch',
  'InvalidPolicyDocument', 'InvalidAccessKeyId', 'InvalidArgument', 'AccessControlListNotSupported', 'MalformedPOSTRequest',
  'IncorrectNumberOfFilesInPostRequest', 'MissingFields', 'InvalidRequest']

// Completion's refusals of the image itself (422), by the service's code.
const IMAGE_REFUSALS = {
  NOT_AN_IMAGE: (context) => `The file is not a real ${typeName(context.contentType, context.typeNames)} image: its contents do not match its type. Choose another image.`,
  IMAGE_CORRUPT: () => 'The file is damaged or incomplete, so it cannot be read as an image. Choose another image.',
  TOO_MANY_PIXELS: () => 'The picture has too many pixels. Choose a smaller picture.',
  BAD_DIMENSIONS: () => 'The picture is too wide or too tall. Choose a smaller picture.',
  TOO_MANY_FRAMES: () => 'The animation has too many frames. Choose a shorter animation or a still image.',
  SIZE_OUT_OF_RANGE: () => 'The file arrived with another size than announced. Choose Upload to try again.'
}

/**
 * A refused request → one or two sentences: what happened and what to do, then what the server said (except for
 * the image refusals, whose words say it all).
 * `context`: { types, typeNames, contentType, expiresAt (ISO string, once a ticket was issued), now (ms) }.
 */
export function describeServerError (status, text, context) {
  const { code, message } = parseErrorBody(text)
  const said = message ? ` (The server said: “${message}”)` : code ? ` (The server said: ${code})` : ''
  const expired = context.expiresAt !== undefined && Date.parse(context.expiresAt) <= context.now
  let words
  if (status === 0 && expired) {
    // S3 may refuse an expired form without CORS headers: the page then sees status 0, not the XML.
    words = 'The upload ticket expired before the upload finished. Choose Upload to try again with a new one.'
  } else if (status === 0) {
    words = 'The upload could not reach the server. Check your connection and try again. If it keeps failing, the storage may not accept uploads from this page (CORS).'
  } else if (TOO_LARGE.includes(code) || status === 413) {
    words = 'The image is too large for the server. Choose a smaller image.'
  } else if (TOO_SMALL.includes(code)) {
    words = 'The file is empty. Choose another image.'
  } else if (code === 'CONTENT_TYPE_NOT_ALLOWED') {
    words = `This kind of file is not accepted. Choose a ${typeList(context.types, context.typeNames)} image.`
  } else if (status === 422 || Object.hasOwn(IMAGE_REFUSALS, code)) {
    // Words of their own for each: the server's text (for developers) is not repeated.
    return (Object.hasOwn(IMAGE_REFUSALS, code) ? IMAGE_REFUSALS[code] : IMAGE_REFUSALS.NOT_AN_IMAGE)(context)
  } else if (EXPIRED.includes(code) || (code === 'AccessDenied' && (expired || /expired/i.test(message)))) {
    words = 'The upload ticket expired before the upload finished. Choose Upload to try again with a new one.'
  } else if (REFUSED.includes(code) || status === 403) {
    words = 'The storage refused the upload because the form did not match its ticket. Try again; if it keeps failing, contact support.'
  } else if (code === 'NOT_UPLOADED' || status === 409) {
    words = 'The image did not arrive at the storage. Choose Upload to try again.'
  } else if (code === 'UPLOAD_NOT_FOUND' || code === 'UPLOAD_GONE' || status === 404 || status === 410) {
    words = 'This upload is no longer known to the server. Choose Upload to start again.'
  } else if (code === 'RATE_LIMITED' || code === 'SlowDown' || status === 429) {
    words = 'Too many uploads in a short time. Wait a minute, then try again.'
  } else if (status >= 500) {
    words = `The server had a problem (status ${status}). Try again in a moment.`
  } else {
    words = `The upload failed (status ${status}).`
  }
  return words + said
}
