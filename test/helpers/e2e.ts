// End-to-end helpers: headless Chromium (Debian's chromium driven by playwright-core) and a webhook receiver on
// port 0 that checks Standard Webhooks signatures. Without Chromium the browser tests skip loudly, except under
// CI=true where they fail (.ci/run installs it).
import { existsSync, mkdirSync } from 'node:fs'
import { chromium, type Browser, type Page } from 'playwright-core'
import { Webhook } from 'standardwebhooks'
import type { Test } from 'tap'
import { thumbHashToDataURL } from 'thumbhash'
import { DEMO_OWNER } from '../../src/routes/demo.js'
import { AUTH } from './build.js'
import { startReceiver, type Delivery as Received } from './webhook-receiver.js'

export const CHROMIUM = '/usr/bin/chromium'
/** Screenshots of finished pages are kept here (gitignored). */
export const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url)

/** A running headless Chromium closed when `t` ends, or undefined when it is not installed (test skipped). */
export async function launchChromium (t: Test): Promise<Browser | undefined> {
  if (!existsSync(CHROMIUM)) {
    const reason = `browser tests SKIPPED: ${CHROMIUM} is missing; install Debian's chromium (apt-get install chromium, as .ci/run does)`
    if (process.env.CI === 'true') t.fail(`!!! ${reason.replace('SKIPPED', 'cannot run')}. CI=true: Chromium must be installed !!!`)
    else {
      process.stderr.write(`!!! ${reason} !!!\n`)
      t.plan(0, reason)
    }
    return undefined
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking']
  })
  t.teardown(() => browser.close())
  return browser
}

/**
 * A new page whose script errors, CSP violations and unexpected 4xx/5xx answers are collected in `problems`.
 * `expected`: URLs whose refusal is part of the test.
 */
export async function openPage (t: Test, browser: Browser, url: string, expected: (url: string) => boolean = () => false): Promise<{ page: Page, problems: string[] }> {
  // Its own context, closed when `t` ends: before the app closes (teardowns run last-in first-out), so the app
  // is not left waiting for the browser's keep-alive connections.
  const context = await browser.newContext()
  t.teardown(() => context.close())
  const page = await context.newPage()
  // Playwright intercepts file choosers only while a listener exists, and turns that on asynchronously: a listener
  // added just before a key press can miss the chooser it opens. One for the page's whole life closes that race.
  page.on('filechooser', () => {})
  const problems: string[] = []
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
  // Failed loads are reported with their URL below; the console only repeats them without it.
  page.on('console', (msg) => { if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) problems.push(`console: ${msg.text()}`) })
  page.on('response', (res) => {
    // Chromium asks every origin for /favicon.ico; the demo has none.
    if (res.status() >= 400 && !res.url().endsWith('/favicon.ico') && !expected(res.url())) problems.push(`${res.status()} from ${res.url()}`)
  })
  page.on('requestfailed', (req) => { if (!expected(req.url())) problems.push(`request failed: ${req.url()} (${req.failure()?.errorText ?? ''})`) })
  const response = await page.goto(url)
  if (response?.status() !== 200) throw new Error(`GET ${url} answered ${response?.status() ?? 'nothing'}`)
  return { page, problems }
}

/** Keeps a screenshot of the page in test-artifacts/; returns its path. */
export async function keepScreenshot (page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true })
  const path = new URL(`${name}.png`, ARTIFACTS).pathname
  await page.screenshot({ path, fullPage: true })
  return path
}

export interface Delivery { headers: Record<string, string>, body: string, payload: { type: string, data: Record<string, unknown> } }

/**
 * The webhook receiver of test/helpers/webhook-receiver.ts answering 204 to deliveries with a valid signature (400
 * otherwise). `delivery(predicate)` resolves with the first verified delivery that matches, whenever it arrives.
 */
export async function webhookReceiver (t: Test, secret: string): Promise<{ url: string, delivery: (match: (d: Delivery) => boolean) => Promise<Delivery> }> {
  const verifier = new Webhook(secret)
  const verified = (d: Received): Delivery | undefined => {
    try {
      return { headers: d.headers, body: d.body, payload: verifier.verify(d.body, d.headers) as Delivery['payload'] }
    } catch { return undefined }
  }
  const receiver = await startReceiver(t, { answer: (d) => (verified(d) === undefined ? 400 : 204) })
  return {
    url: receiver.url,
    delivery: async (match) => {
      const [found] = await receiver.waitFor(1, (d) => { const v = verified(d); return v !== undefined && match(v) }, 30_000)
      return verified(found as Received) as Delivery
    }
  }
}

/** Moves focus with Tab (at most 20 presses) until the element with `id` has it; throws when it is unreachable. */
export async function tabTo (page: Page, id: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    if (await page.evaluate(() => document.activeElement?.id) === id) return
    await page.keyboard.press('Tab')
  }
  throw new Error(`#${id} cannot be reached with the Tab key`)
}

export interface PickedFile { name: string, mimeType: string, buffer: Buffer }

/** With the keyboard alone: Tab to the file input, Space opens the chooser (answered with `file`), Tab to Upload, Enter. */
export async function pickAndUpload (page: Page, file: PickedFile): Promise<void> {
  await pick(page, file)
  await tabTo(page, 'upload')
  await page.keyboard.press('Enter')
}

/** Chooses a file through the file input, keyboard only. */
export async function pick (page: Page, file: PickedFile): Promise<void> {
  await tabTo(page, 'picture')
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Space')])
  await chooser.setFiles(file)
}

/** The completion answer (POST /v1/uploads/{id}/complete, 200) as the page received it. */
export interface Confirmed {
  uploadId: string
  url: string
  contentType: string
  size: number
  width: number
  height: number
  placeholder: string
  variants: Array<{ size: number, width: number, height: number, contentType: string, url: string }>
}

/** Resolves with the page's next successful completion answer. */
export async function completion (page: Page): Promise<Confirmed> {
  const response = await page.waitForResponse((res) => /\/v1\/uploads\/[^/]+\/complete$/.test(res.url()) && res.status() === 200, { timeout: 60_000 })
  return await response.json() as Confirmed
}

/**
 * Fault injection, a slow network: the browser's requests for URLs matching `url` are held until `release()`.
 * `held` resolves once the first one was asked for, so a test can look at the page while the image is loading.
 */
export async function holdRequests (page: Page, url: RegExp): Promise<{ held: Promise<void>, release: () => void }> {
  let asked!: () => void
  let release!: () => void
  const held = new Promise<void>((resolve) => { asked = resolve })
  const released = new Promise<void>((resolve) => { release = resolve })
  await page.route(url, async (route) => {
    asked()
    await released
    await route.continue()
  })
  return { held, release }
}

/**
 * While the confirmed image is held back: its placeholder is painted, decoded from the answer's ThumbHash, in the
 * image's box, and it stands for the image (alt text) until the image arrives.
 */
export async function placeholderWhileLoading (t: Test, page: Page, confirmed: Confirmed): Promise<void> {
  await page.waitForFunction(() => {
    const img = document.getElementById('final-placeholder') as HTMLImageElement
    return img.complete && img.naturalWidth > 0
  })
  const seen = await page.evaluate(() => {
    const placeholder = document.getElementById('final-placeholder') as HTMLImageElement
    const final = document.getElementById('final') as HTMLImageElement
    const rect = (img: HTMLImageElement) => { const r = img.getBoundingClientRect(); return { x: r.x, y: r.y, width: r.width, height: r.height } }
    const box = rect(placeholder)
    return {
      src: placeholder.src,
      alt: placeholder.alt,
      placeholderHidden: placeholder.getAttribute('aria-hidden'),
      shown: box.width > 0 && box.height > 0 && !(document.getElementById('result') as HTMLElement).hidden,
      box,
      finalBox: rect(final),
      finalLoaded: final.complete && final.naturalWidth > 0,
      finalHidden: final.getAttribute('aria-hidden')
    }
  })
  t.equal(seen.finalLoaded, false, 'the image is still loading')
  t.match(seen.src, /^data:image\/png;base64,/, 'the placeholder is painted from a data: URL')
  t.equal(seen.src, thumbHashToDataURL(Buffer.from(confirmed.placeholder, 'base64')), 'decoded from the answer\'s ThumbHash')
  t.ok(seen.shown, 'the placeholder is on screen')
  t.same(seen.box, seen.finalBox, 'in the box the image will fill')
  t.ok(Math.abs(seen.box.width / seen.box.height - confirmed.width / confirmed.height) < 0.05, 'with the image\'s proportions')
  t.match(seen.alt, /profile picture.*loading/, 'it stands for the image while it loads')
  t.equal(seen.placeholderHidden, null)
  t.equal(seen.finalHidden, 'true', 'the image not yet there is hidden from assistive technology')
}

/**
 * After the image loaded: it is shown from its public URL and served with its type and size, the placeholder is
 * hidden from assistive technology, and the variants are a row of squares labelled with their sizes whose URLs
 * answer with `variantType`.
 */
export async function resultShown (t: Test, page: Page, confirmed: Confirmed, expect: { sizes: number[], variantType: string }): Promise<void> {
  await page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLImageElement>('#final, #variants img')).every((img) => img.complete && img.naturalWidth > 0))
  const shown = await page.evaluate(() => {
    const final = document.getElementById('final') as HTMLImageElement
    const placeholder = document.getElementById('final-placeholder') as HTMLImageElement
    return {
      src: final.src,
      natural: { width: final.naturalWidth, height: final.naturalHeight },
      finalHidden: final.getAttribute('aria-hidden'),
      finalAlt: final.alt,
      placeholder: { alt: placeholder.alt, hidden: placeholder.getAttribute('aria-hidden') },
      variants: Array.from(document.querySelectorAll('#variants > li')).map((li) => {
        const img = li.querySelector('img') as HTMLImageElement
        const box = img.getBoundingClientRect()
        return {
          src: img.src,
          alt: img.alt,
          attributes: { width: img.getAttribute('width'), height: img.getAttribute('height') },
          natural: { width: img.naturalWidth, height: img.naturalHeight },
          square: Math.abs(box.width - box.height) < 1,
          bottom: Math.round(box.bottom),
          caption: li.querySelector('figcaption')?.textContent
        }
      })
    }
  })
  t.equal(shown.src, confirmed.url, 'the saved image is shown from its public URL')
  t.same(shown.natural, { width: confirmed.width, height: confirmed.height }, 'at the size the answer gives')
  t.equal(shown.finalHidden, null, 'the loaded image is seen by assistive technology')
  t.equal(shown.finalAlt, 'Your saved profile picture')
  t.same(shown.placeholder, { alt: '', hidden: 'true' }, 'the placeholder is hidden from assistive technology once the image loaded')

  const main = await fetch(confirmed.url)
  const bytes = Buffer.from(await main.arrayBuffer())
  t.equal(main.status, 200, 'the main image is served')
  t.equal(main.headers.get('content-type'), confirmed.contentType)
  t.equal(bytes.length, confirmed.size, 'as many bytes as the answer says')

  t.same(confirmed.variants.map((v) => v.size), expect.sizes, 'the variants of IMAGE_VARIANTS, ascending')
  // A source smaller than a size gives a smaller square (never upscaled); the label then says so.
  t.same(shown.variants.map((v) => v.caption), confirmed.variants.map((v) => v.width === v.size ? `${v.size} px` : `${v.size} px (${v.width} px)`),
    'each labelled with its size')
  t.ok(shown.variants.every((v) => v.bottom === shown.variants[0]?.bottom), 'in one row')
  for (const [i, variant] of confirmed.variants.entries()) {
    const seen = shown.variants[i]
    t.equal(seen?.src, variant.url, `${variant.size} px: shown from its URL`)
    t.same(seen?.attributes, { width: String(variant.width), height: String(variant.height) }, `${variant.size} px: width and height attributes`)
    t.same(seen?.natural, { width: variant.width, height: variant.height }, `${variant.size} px: loaded at its size`)
    t.ok(seen?.square, `${variant.size} px: a square`)
    t.match(seen?.alt, /profile picture/, `${variant.size} px: alt text`)
    t.equal(variant.contentType, expect.variantType)
    const res = await fetch(variant.url)
    await res.arrayBuffer()
    t.equal(res.status, 200, `${variant.size} px: its URL answers`)
    t.equal(res.headers.get('content-type'), expect.variantType, `${variant.size} px: served as ${expect.variantType}`)
  }
}

/** The demo's image was announced by a signed webhook that says what the completion answered, and its record is confirmed. */
export async function demoImageConfirmed (t: Test, receiver: { delivery: (match: (d: Delivery) => boolean) => Promise<Delivery> }, base: string, confirmed: Confirmed): Promise<void> {
  const hook = await receiver.delivery((d) => d.payload.data.url === confirmed.url)
  t.equal(hook.payload.type, 'image.confirmed', 'signed webhook arrived')
  t.equal(hook.payload.data.ownerId, DEMO_OWNER)
  t.match(hook.payload.data, {
    uploadId: confirmed.uploadId,
    size: confirmed.size,
    width: confirmed.width,
    height: confirmed.height,
    placeholder: confirmed.placeholder,
    variants: confirmed.variants
  }, 'the webhook tells what the page was answered')
  const record = await (await fetch(`${base}/v1/uploads/${confirmed.uploadId}`, { headers: AUTH })).json() as { status: string }
  t.equal(record.status, 'confirmed')
}
