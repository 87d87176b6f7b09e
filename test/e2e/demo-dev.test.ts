// The demo page in headless Chromium, development mode: a person using only the keyboard picks an image, uploads
// it to the service's own form endpoint and sees the saved image (its ThumbHash placeholder first, then the image,
// then its square variants); the main backend gets the signed webhook. Refusals (too large, wrong type, expired
// ticket) are shown in words, the upload endpoint's S3-style XML answers included.
import t from 'tap'
import { listen } from '../helpers/build.js'
import {
  completion, demoImageConfirmed, holdRequests, keepScreenshot, launchChromium, openPage, pick, pickAndUpload,
  placeholderWhileLoading, resultShown, webhookReceiver
} from '../helpers/e2e.js'
import { gif, jpeg, png, pngOfSize } from '../helpers/images.js'

const SECRET = `whsec_${Buffer.from('demo-dev-webhook-secret-0123456789').toString('base64')}`
const MAX_BYTES = 200_000

const text = async (page: import('playwright-core').Page, selector: string) => (await page.textContent(selector))?.trim() ?? ''

t.test('keyboard only: pick, preview, upload, confirm, see the image; the webhook arrives', async (t) => {
  const browser = await launchChromium(t)
  if (browser === undefined) return
  const receiver = await webhookReceiver(t, SECRET)
  const { base } = await listen(t, { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET, MAX_UPLOAD_BYTES: String(MAX_BYTES) })
  const { page, problems } = await openPage(t, browser, `${base}/demo`)
  const served = await page.request.get(`${base}/demo`)
  t.match(served.headers()['content-security-policy'], /script-src 'self';/, 'strict CSP: scripts from the service only, none inline')
  t.match(served.headers()['content-security-policy'], /img-src 'self' blob: data: /, 'images may be data: URLs (the placeholder)')
  t.equal(await page.locator('label[for="picture"]').textContent(), 'Profile picture', 'the file input has a label')

  // Large enough for every variant size (none is upscaled), small enough for MAX_UPLOAD_BYTES.
  const image = await jpeg(800, 600)
  await pick(page, { name: 'avatar.jpg', mimeType: 'image/jpeg', buffer: image })
  await page.waitForFunction(() => (document.getElementById('preview') as HTMLImageElement).naturalWidth > 0)
  t.match(await text(page, '#status'), /avatar\.jpg .* is ready/, 'the choice is announced')
  t.equal(await page.isVisible('text=Preview: not saved yet'), true, 'the preview says it is not saved yet')

  await page.keyboard.press('Tab')
  t.equal(await page.evaluate(() => document.activeElement?.id), 'upload', 'Upload follows the file input in tab order')
  // The main image is held back on its way to the browser, to see the page while it loads.
  const slowImage = await holdRequests(page, /\/uploads\/profile\/[0-9a-f]{32}\.jpg$/)
  const answered = completion(page)
  await page.keyboard.press('Enter')
  const confirmed = await answered
  await slowImage.held

  await t.test('while the image loads: its placeholder', async (t) => {
    await placeholderWhileLoading(t, page, confirmed)
    t.match(await text(page, '#status'), /Loading/, 'loading is announced')
  })
  slowImage.release()

  await t.test('once loaded: the image, then its variants', async (t) => {
    await resultShown(t, page, confirmed, { sizes: [64, 128, 256, 512], variantType: 'image/webp' })
    t.match(confirmed.url, new RegExp(`^${base}/uploads/profile/[0-9a-f]{32}\\.jpg$`), 'served by the service in development')
    t.same(confirmed.variants.map((v) => [v.width, v.height]), [[64, 64], [128, 128], [256, 256], [512, 512]])
  })

  await page.waitForFunction(() => document.getElementById('status')!.textContent?.startsWith('Saved. Your') === true)
  const after = await page.evaluate(() => {
    const bar = document.getElementById('progress') as HTMLProgressElement
    return { value: bar.value, max: bar.max, focused: document.activeElement?.id }
  })
  t.ok(after.max > image.length, 'progress bar measured the form (fields and file)')
  t.equal(after.value, after.max, 'progress bar reached the end')
  t.equal(after.focused, 'result-heading', 'focus moves to the result')
  t.match(await text(page, '#status'), /Saved/, 'success is announced')
  t.equal(await text(page, '#error'), '', 'no error')
  t.equal(await page.isVisible('text=not saved yet'), false, 'nothing says "not saved yet" any more: the preview gave way to the saved picture')

  await demoImageConfirmed(t, receiver, base, confirmed)

  t.ok(await keepScreenshot(page, 'demo-dev'), 'screenshot kept in test-artifacts/')
  t.same(problems, [], 'no script errors or CSP violations')
})

t.test('opened at 127.0.0.1, the address the log prints, while PUBLIC_BASE_URL is its default (localhost)', async (t) => {
  const browser = await launchChromium(t)
  if (browser === undefined) return
  const { app, base } = await listen(t, { PUBLIC_BASE_URL: undefined })
  t.equal(app.config.publicBaseUrl, `http://localhost:${new URL(base).port}`, 'the default PUBLIC_BASE_URL')
  t.match(base, /^http:\/\/127\.0\.0\.1:/)
  const { page, problems } = await openPage(t, browser, `${base}/demo`)
  const ticket = page.waitForResponse((res) => res.url() === `${base}/demo/ticket`)
  await pickAndUpload(page, { name: 'avatar.jpg', mimeType: 'image/jpeg', buffer: await jpeg(320, 240) })
  t.equal((await (await ticket).json() as { upload: { url: string } }).upload.url, `${base}/uploads`, 'the form goes back to the address the page was opened at')
  await page.waitForFunction(() => document.getElementById('status')!.textContent?.startsWith('Saved. Your') === true || document.getElementById('error')!.textContent !== '')
  t.equal(await text(page, '#error'), '', 'no error (it used to be a CORS refusal: "could not reach the server")')
  t.match(await text(page, '#status'), /^Saved\. Your new profile picture is shown below\.$/, 'saved')
  await page.waitForFunction(() => { const img = document.getElementById('final') as HTMLImageElement; return img.complete && img.naturalWidth > 0 })
  t.match(await page.getAttribute('#final', 'src'), new RegExp(`^http://localhost:${new URL(base).port}/uploads/profile/[0-9a-f]{32}\\.jpg$`), 'the image is shown from its PUBLIC_BASE_URL address')
  t.same(problems, [], 'no CORS refusal, script error or CSP violation')
})

t.test('a small image: smaller squares, said so', async (t) => {
  const browser = await launchChromium(t)
  if (browser === undefined) return
  const { base } = await listen(t, { IMAGE_VARIANTS: '32,128' })
  const { page, problems } = await openPage(t, browser, `${base}/demo`)
  const answered = completion(page)
  await pickAndUpload(page, { name: 'tiny.png', mimeType: 'image/png', buffer: png(64, 48) })
  const confirmed = await answered
  await page.waitForFunction(() => document.getElementById('status')!.textContent?.startsWith('Saved. Your') === true)
  t.same(confirmed.variants.map((v) => [v.size, v.width, v.height]), [[32, 32, 32], [128, 48, 48]], 'never upscaled')
  t.same(await page.locator('#variants figcaption').allTextContents(), ['32 px', '128 px (48 px)'], 'the label tells what was published')
  t.same(problems, [])
})

t.test('refusals are told in words', async (t) => {
  const browser = await launchChromium(t)
  if (browser === undefined) return
  const { base } = await listen(t, { MAX_UPLOAD_BYTES: String(MAX_BYTES) })
  const { page } = await openPage(t, browser, `${base}/demo`)
  const tickets: string[] = []
  page.on('request', (req) => { if (req.url().endsWith('/demo/ticket')) tickets.push(req.url()) })

  await t.test('too large: checked before anything is sent', async (t) => {
    await pick(page, { name: 'huge.png', mimeType: 'image/png', buffer: pngOfSize(MAX_BYTES + 50_000) })
    t.match(await text(page, '[role="alert"]'), /“huge\.png” is too large \(.+ KB\)\. The largest image you can upload is 195\.3 KB\./)
    t.equal(await page.isHidden('#preview-figure'), true, 'no preview of a refused file')
    await page.keyboard.press('Tab')
    await page.keyboard.press('Enter')
    t.match(await text(page, '[role="alert"]'), /too large/, 'Upload repeats the reason')
    t.same(tickets, [], 'no ticket was asked for')
  })

  await t.test("too large: the server's answer when the page's limit is out of date", async (t) => {
    await page.evaluate(() => { document.getElementById('profile-form')!.dataset.maxBytes = '10000000' })
    await pickAndUpload(page, { name: 'huge.png', mimeType: 'image/png', buffer: pngOfSize(MAX_BYTES + 50_000) })
    await page.waitForFunction(() => document.getElementById('error')!.textContent !== '')
    t.match(await text(page, '[role="alert"]'), /^The image is too large for the server\. Choose a smaller image\. \(The server said: “.*MAX_UPLOAD_BYTES \(200000\)”\)$/)
    t.equal(await page.evaluate(() => document.activeElement?.id), 'picture', 'focus returns to the file input')
    await page.evaluate((max) => { document.getElementById('profile-form')!.dataset.maxBytes = max }, String(MAX_BYTES))
  })

  await t.test('too large: the upload endpoint answers like S3 (XML), in words', async (t) => {
    // Fault injection: the page's limit is out of date and its ticket request understates the size, so the ticket is
    // issued and the form itself breaks the policy's size range at the upload endpoint.
    await page.evaluate(() => { document.getElementById('profile-form')!.dataset.maxBytes = '10000000' })
    await page.route(`${base}/demo/ticket`, async (route) => {
      const body = JSON.parse(route.request().postData() ?? '{}') as Record<string, unknown>
      await route.continue({ postData: JSON.stringify({ ...body, contentLength: 1000 }) })
    }, { times: 1 })
    const refused = page.waitForResponse((res) => res.url() === `${base}/uploads`)
    await pickAndUpload(page, { name: 'huge.png', mimeType: 'image/png', buffer: pngOfSize(MAX_BYTES + 50_000) })
    const answer = await refused
    t.equal(answer.status(), 400, "S3's status for EntityTooLarge")
    t.match(await answer.text(), /<Error>\s*<Code>EntityTooLarge<\/Code>\s*<Message>[^<]+<\/Message>/, "S3's XML error")
    await page.waitForFunction(() => document.getElementById('error')!.textContent !== '')
    t.match(await text(page, '[role="alert"]'), /^The image is too large for the server\. Choose a smaller image\. \(The server said: “[^”]+”\)$/, 'the XML Message, in words')
    t.equal(await page.isHidden('#result'), true, 'nothing shown as saved')
    await page.evaluate((max) => { document.getElementById('profile-form')!.dataset.maxBytes = max }, String(MAX_BYTES))
  })

  await t.test('wrong type: refused on the page', async (t) => {
    await pick(page, { name: 'drawing.svg', mimeType: 'image/svg+xml', buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>') })
    t.equal(await text(page, '[role="alert"]'), '“drawing.svg” is not an image this page accepts (its type is image/svg+xml). Choose a JPEG, PNG, WebP or GIF image.')
  })

  await t.test('wrong type: the bytes are not what the name says (server check, 422)', async (t) => {
    const refused = page.waitForResponse((res) => /\/complete$/.test(res.url()))
    await pickAndUpload(page, { name: 'fake.png', mimeType: 'image/png', buffer: gif })
    t.equal((await refused).status(), 422, 'completion refused the bytes')
    await page.waitForFunction(() => document.getElementById('error')!.textContent !== '')
    t.equal(await text(page, '[role="alert"]'), 'The file is not a real PNG image: its contents do not match its type. Choose another image.',
      'in words alone: the server\'s technical text is not repeated')
    t.equal(await page.isHidden('#result'), true, 'nothing shown as saved')
    const bar = await page.evaluate(() => ({ hidden: document.getElementById('progress-field')!.hidden, value: (document.getElementById('progress') as HTMLProgressElement).value }))
    t.same(bar, { hidden: true, value: 0 }, 'the progress bar is reset, not left full')
  })
})

t.test('expired ticket: the form arrives after the ticket ran out', async (t) => {
  const browser = await launchChromium(t)
  if (browser === undefined) return
  const { base } = await listen(t, { UPLOAD_TTL_SECONDS: '1' })
  const { page } = await openPage(t, browser, `${base}/demo`)
  // Fault injection: hold the form POST until its one-second policy has expired.
  await page.route(`${base}/uploads`, async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 2500))
    await route.continue()
  })
  const refused = page.waitForResponse((res) => res.url() === `${base}/uploads`)
  await pickAndUpload(page, { name: 'avatar.png', mimeType: 'image/png', buffer: png() })
  const answer = await refused
  t.equal(answer.status(), 403, "S3's status for an expired policy")
  t.match(await answer.text(), /<Error>\s*<Code>AccessDenied<\/Code>/, "S3's XML error")
  await page.waitForFunction(() => document.getElementById('error')!.textContent !== '')
  t.match(await text(page, '[role="alert"]'), /^The upload ticket expired before the upload finished\. Choose Upload to try again with a new one\. \(The server said: “[^”]+”\)$/, 'the XML Message, in words')
  t.equal(await page.evaluate(() => document.activeElement?.id), 'upload', 'focus stays on Upload, ready to try again')
})
