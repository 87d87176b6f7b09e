// End-to-end helpers: headless Chromium (Debian's chromium driven by playwright-core) and a webhook receiver on
// port 0 that checks Standard Webhooks signatures. Without Chromium the browser tests skip loudly, except under
// CI=true where they fail (.ci/run installs it).
import { existsSync, mkdirSync } from 'node:fs'
import { chromium, type Browser, type Page } from 'playwright-core'
import { Webhook } from 'standardwebhooks'
import type { Test } from 'tap'
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

/** The demo's image (shown at `url`) was announced by a signed webhook and its record is confirmed. */
export async function demoImageConfirmed (t: Test, receiver: { delivery: (match: (d: Delivery) => boolean) => Promise<Delivery> }, base: string, url: string, size: number): Promise<void> {
  const hook = await receiver.delivery((d) => d.payload.data.url === url)
  t.equal(hook.payload.type, 'image.confirmed', 'signed webhook arrived')
  t.equal(hook.payload.data.ownerId, DEMO_OWNER)
  t.equal(hook.payload.data.size, size)
  const record = await (await fetch(`${base}/v1/uploads/${String(hook.payload.data.uploadId)}`, { headers: AUTH })).json() as { status: string }
  t.equal(record.status, 'confirmed')
}
