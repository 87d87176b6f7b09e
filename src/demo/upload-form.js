// The reference browser code for profile-image uploads (docs/browser.md). The same code works in both modes:
// it gets { uploadId, upload: { url, fields } } from a ticket, posts a multipart form with every field and then
// the file (to this service in development, straight to S3 in production), then asks for completion and shows
// the confirmed image from its public URL.
/* global XMLHttpRequest */
import { describeFileProblem, describeServerError, formatBytes } from './error-words.js'

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
const finalImage = document.getElementById('final')
const finalLink = document.getElementById('final-link')

// The service's limits, as the page was given them (data attributes): checked before anything is sent.
const limits = () => ({ maxBytes: Number(form.dataset.maxBytes), types: form.dataset.types.split(',') })
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

function loadImage (img, url) {
  return new Promise((resolve, reject) => {
    img.addEventListener('load', () => resolve(), { once: true })
    img.addEventListener('error', () => reject(new Problem('The image was saved, but it could not be shown. Reload the page to try again.')), { once: true })
    img.src = url
  })
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
  await loadImage(finalImage, confirmed.url)
  finalLink.href = confirmed.url
  result.hidden = false
  say('Saved. Your new profile picture is shown below.')
  document.getElementById('result-heading').focus()
}

input.addEventListener('change', () => {
  clearMessages()
  progressField.hidden = true
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
    showError(err instanceof Problem ? err.message : `Something went wrong: ${err.message}`)
    if (err.aboutFile === true) input.focus()
  }).finally(() => setBusy(false))
})
