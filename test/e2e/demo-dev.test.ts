// The demo page in headless Chromium, development mode: a person using only the keyboard picks an image, uploads
// it to the service's own form endpoint and sees the saved image; the main backend gets the signed webhook.
// Refusals (too large, wrong type, expired ticket) are shown in words.
import t from 'tap'
import { listen } from '../helpers/build.js'
import { demoImageConfirmed, keepScreenshot, launchChromium, openPage, pick, pickAndUpload, webhookReceiver } from '../helpers/e2e.js'
import { gif, png, pngOfSize } from '../helpers/images.js'

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
  t.equal(await page.locator('label[for="picture"]').textContent(), 'Profile picture', 'the file input has a label')

  const image = png(64, 48)
  await pick(page, { name: 'avatar.png', mimeType: 'image/png', buffer: image })
  await page.waitForFunction(() => (document.getElementById('preview') as HTMLImageElement).naturalWidth > 0)
  t.match(await text(page, '#status'), /avatar\.png .* is ready/, 'the choice is announced')

  await page.keyboard.press('Tab')
  t.equal(await page.evaluate(() => document.activeElement?.id), 'upload', 'Upload follows the file input in tab order')
  await page.keyboard.press('Enter')

  await page.waitForFunction(() => {
    const img = document.getElementById('final') as HTMLImageElement
    return img.complete && img.naturalWidth > 0
  })
  const shown = await page.evaluate(() => {
    const img = document.getElementById('final') as HTMLImageElement
    const bar = document.getElementById('progress') as HTMLProgressElement
    return { src: img.src, width: img.naturalWidth, height: img.naturalHeight, value: bar.value, max: bar.max, focused: document.activeElement?.id }
  })
  t.same({ width: shown.width, height: shown.height }, { width: 64, height: 48 }, 'the saved image is shown from its public URL')
  t.match(shown.src, new RegExp(`^${base}/uploads/profile/[0-9a-f]{32}\\.png$`))
  t.ok(shown.max > image.length, 'progress bar measured the form (fields and file)')
  t.equal(shown.value, shown.max, 'progress bar reached the end')
  t.equal(shown.focused, 'result-heading', 'focus moves to the result')
  t.match(await text(page, '#status'), /Saved/, 'success is announced')
  t.equal(await text(page, '#error'), '', 'no error')

  await demoImageConfirmed(t, receiver, base, shown.src, image.length)

  t.ok(await keepScreenshot(page, 'demo-dev'), 'screenshot kept in test-artifacts/')
  t.same(problems, [], 'no script errors or CSP violations')
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

  await t.test('wrong type: refused on the page', async (t) => {
    await pick(page, { name: 'drawing.svg', mimeType: 'image/svg+xml', buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>') })
    t.equal(await text(page, '[role="alert"]'), '“drawing.svg” is not an image this page accepts (its type is image/svg+xml). Choose a JPEG, PNG, WebP or GIF image.')
  })

  await t.test('wrong type: the bytes are not what the name says (server check)', async (t) => {
    await pickAndUpload(page, { name: 'fake.png', mimeType: 'image/png', buffer: gif })
    await page.waitForFunction(() => document.getElementById('error')!.textContent !== '')
    t.match(await text(page, '[role="alert"]'), /^The file is not a real PNG image: its contents do not match its type\. Choose another image\. \(The server said: “the uploaded bytes are not the declared image type/)
    t.equal(await page.isHidden('#result'), true, 'nothing shown as saved')
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
  await pickAndUpload(page, { name: 'avatar.png', mimeType: 'image/png', buffer: png() })
  await page.waitForFunction(() => document.getElementById('error')!.textContent !== '')
  t.match(await text(page, '[role="alert"]'), /^The upload ticket expired before the upload finished\. Choose Upload to try again with a new one\. \(The server said: “the upload policy has expired/)
  t.equal(await page.evaluate(() => document.activeElement?.id), 'upload', 'focus stays on Upload, ready to try again')
})
