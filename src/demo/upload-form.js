// The reference browser code for profile-image uploads (docs/browser.md). The same code works in both modes:
// it gets { uploadId, upload: { url, fields } } from a ticket, posts a multipart form with every field and then
// the file (to this service in development, straight to S3 in production; any 2xx is success, refusals are S3's
// XML in both), then asks for completion and shows the confirmed image from its public URL: its ThumbHash
// placeholder first, painted at once, then the image over it, then its square variants.
/* global XMLHttpRequest, atob */
import { describeFileProblem, describeServerError, formatBytes } from './error-words.js'
import { thumbHashToDataURL } from './thumbhash.js'

const form = document.getElementById('profile-form')
const input = document.getElementById('picture')
const button = document.getElementById('upload')
const previewFigure = document.getElementById('preview-figure')
const preview = document.getElementById('preview')
const progressField = document.getElementById('progress-field')
const progress = document.getElementById('progress')
const status = document.getElementById('status')
const error = document.getElementById('error')
const result = document.getElementById('result')
const finalFrame = document.getElementById('final-frame')
const finalPlaceholder = document.getElementById('final-placeholder')
const finalImage = document.getElementById('final')
const finalLink = document.getElementById('final-link')
const variantsBlock = document.getElementById('variants-block')
const variantList = document.getElementById('variants')

/** The largest side, in CSS pixels, the saved image is shown at on this page (the file itself may be larger). */
const SHOWN_SIDE = 192

// The service's limits and the names of its image types, as the page was given them (data attributes): checked
// before anything is sent.
const limits = () => ({
  maxBytes: Number(form.dataset.maxBytes),
  types: form.dataset.types.split(','),
  typeNames: JSON.parse(form.dataset.typeNames || '{}')
})
let previewUrl
let busy = false

/** An error whose message is already in words for the person; `aboutFile`: choosing another file fixes it. */
class Problem extends Error {
  constructor (message, aboutFile = false) {
    super(message)
    this.aboutFile = aboutFile
  }
}

function say (text) { status.textContent = text }
function showError (text) { error.textContent = text }
function clearMessages () { say(''); showError('') }

function setBusy (on) {
  busy = on
  // aria-disabled instead of disabled: the button keeps its place in the tab order and stays announced.
  button.setAttribute('aria-disabled', String(on))
  form.setAttribute('aria-busy', String(on))
}

function showPreview (file) {
  if (previewUrl !== undefined) URL.revokeObjectURL(previewUrl)
  previewUrl = file === undefined ? undefined : URL.createObjectURL(file)
  previewFigure.hidden = previewUrl === undefined
  if (previewUrl !== undefined) preview.src = previewUrl
  else preview.removeAttribute('src')
}

function chosenFile () {
  const file = input.files?.[0]
  if (file === undefined) throw new Problem('Choose an image first.', true)
  const problem = describeFileProblem(file, limits())
  if (problem !== undefined) throw new Problem(problem, true)
  return file
}

/** JSON request to the page's own server; a refusal becomes a Problem in words. */
async function postJson (url, body, context) {
  let response
  try {
    const json = body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
    response = await fetch(url, { method: 'POST', ...json })
  } catch {
    throw new Problem(describeServerError(0, '', context))
  }
  const text = await response.text()
  if (!response.ok) throw new Problem(describeServerError(response.status, text, { ...context, now: Date.now() }), response.status === 413 || response.status === 422 || response.status === 400)
  return JSON.parse(text)
}

/**
 * Posts the ticket's form: every field in order, then the file last (S3 ignores fields after the file).
 * XMLHttpRequest rather than fetch because it reports upload progress. Cross-origin (S3) this is preflighted,
 * so the bucket's CORS rules must allow POST from this page's origin.
 */
function postForm (upload, file, context, onProgress) {
  return new Promise((resolve, reject) => {
    const body = new FormData()
    for (const [name, value] of Object.entries(upload.fields)) body.append(name, value)
    body.append('file', file)
    const xhr = new XMLHttpRequest()
    xhr.open('POST', upload.url)
    xhr.upload.addEventListener('progress', (event) => { if (event.lengthComputable) onProgress(event.loaded, event.total) })
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve()
      else reject(new Problem(describeServerError(xhr.status, xhr.responseText, { ...context, now: Date.now() })))
    })
    // Network failures and CORS refusals look the same to a page: status 0.
    xhr.addEventListener('error', () => reject(new Problem(describeServerError(0, '', context))))
    xhr.send(body)
  })
}

function showProgress (loaded, total) {
  progressField.hidden = false
  progress.max = total
  progress.value = loaded
  progress.textContent = `${Math.round((loaded / total) * 100)}%`
}

/** After a refusal the bar would claim a finished upload: it goes, empty, until the next one starts. */
function resetProgress () {
  progressField.hidden = true
  progress.value = 0
  progress.textContent = '0%'
}

function loadImage (img, url) {
  return new Promise((resolve, reject) => {
    img.addEventListener('load', () => resolve(), { once: true })
    img.addEventListener('error', () => reject(new Problem('The image was saved, but it could not be shown. Reload the page to try again.')), { once: true })
    img.src = url
  })
}

/** The answer's ThumbHash (base64) as a PNG data: URL, or undefined when there is none or it cannot be read. */
function placeholderUrl (placeholder) {
  if (typeof placeholder !== 'string' || placeholder === '') return undefined
  try {
    return thumbHashToDataURL(Uint8Array.from(atob(placeholder), (c) => c.charCodeAt(0)))
  } catch {
    return undefined
  }
}

/** width × height scaled down (never up) to fit `side`; attributes, so the page keeps its strict CSP (no styles). */
function fitted (width, height, side) {
  const scale = Math.min(1, side / Math.max(width, height))
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) }
}

/**
 * Shows the confirmed image: its placeholder is painted at once, filling the box the image's width and height
 * attributes make, and stands for it (alt text) until the image has loaded over it; from then on assistive
 * technology sees the image alone.
 */
async function showConfirmed (confirmed) {
  const { width, height } = fitted(confirmed.width, confirmed.height, SHOWN_SIDE)
  finalImage.width = width
  finalImage.height = height
  finalImage.setAttribute('aria-hidden', 'true')
  finalImage.removeAttribute('src')
  const painted = placeholderUrl(confirmed.placeholder)
  finalPlaceholder.hidden = painted === undefined
  finalPlaceholder.alt = 'Your saved profile picture, loading'
  finalPlaceholder.removeAttribute('aria-hidden')
  finalFrame.classList.remove('loaded')
  if (painted !== undefined) finalPlaceholder.src = painted
  finalLink.href = confirmed.url
  showVariants(confirmed.variants ?? [])
  result.hidden = false

  try {
    await loadImage(finalImage, confirmed.url)
  } catch (err) {
    finalPlaceholder.alt = 'Your saved profile picture, which could not be loaded'
    throw err
  }
  finalImage.removeAttribute('aria-hidden')
  finalPlaceholder.alt = ''
  finalPlaceholder.setAttribute('aria-hidden', 'true')
  finalFrame.classList.add('loaded')
}

/** The square variants, ascending: each an image with its real size as attributes (CSS scales down) and its size in words. */
function showVariants (variants) {
  variantList.replaceChildren(...variants.map((variant) => {
    const item = document.createElement('li')
    const figure = document.createElement('figure')
    const img = document.createElement('img')
    img.src = variant.url
    img.width = variant.width
    img.height = variant.height
    img.alt = `Your profile picture as a ${variant.width} × ${variant.height} pixel square`
    const caption = document.createElement('figcaption')
    // A small source gives smaller squares than asked for (never upscaled): say what was published.
    caption.textContent = variant.width === variant.size ? `${variant.size} px` : `${variant.size} px (${variant.width} px)`
    figure.append(img, caption)
    item.append(figure)
    return item
  }))
  variantsBlock.hidden = variants.length === 0
}

async function upload () {
  const file = chosenFile()
  const context = { ...limits(), contentType: file.type, now: Date.now() }
  say('Asking for an upload ticket…')
  // In a real application this is your backend's endpoint; it calls POST /v1/uploads with its service token.
  const ticket = await postJson('/demo/ticket', { contentType: file.type, contentLength: file.size }, context)
  const ticketContext = { ...context, expiresAt: ticket.expiresAt }
  say(`Uploading ${formatBytes(file.size)}…`)
  showProgress(0, file.size)
  await postForm(ticket.upload, file, ticketContext, showProgress)
  say('Checking the image…')
  const confirmed = await postJson(`/v1/uploads/${encodeURIComponent(ticket.uploadId)}/complete`, undefined, { ...ticketContext, now: Date.now() })
  // Saved: the "not saved yet" preview gives way to the saved picture, and the input is ready for another one.
  showPreview(undefined)
  input.value = ''
  say('Saved. Loading your new profile picture…')
  await showConfirmed(confirmed)
  say('Saved. Your new profile picture is shown below.')
  document.getElementById('result-heading').focus()
}

input.addEventListener('change', () => {
  clearMessages()
  resetProgress()
  const file = input.files?.[0]
  const problem = file === undefined ? undefined : describeFileProblem(file, limits())
  if (problem !== undefined) {
    showPreview(undefined)
    showError(problem)
    return
  }
  showPreview(file)
  if (file !== undefined) say(`${file.name} (${formatBytes(file.size)}) is ready. Choose Upload to save it.`)
})

form.addEventListener('submit', (event) => {
  event.preventDefault()
  if (busy) return
  clearMessages()
  setBusy(true)
  upload().catch((err) => {
    say('')
    resetProgress()
    showError(err instanceof Problem ? err.message : `Something went wrong: ${err.message}`)
    if (err.aboutFile === true) input.focus()
  }).finally(() => setBusy(false))
})
