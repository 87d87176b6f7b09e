// The demo page in headless Chromium, production mode: the browser posts the form across origins straight to the
// S3-compatible gateway (bucket CORS set by the test for the page's origin), completion verifies the object, the
// saved image is shown from the bucket (its ThumbHash placeholder first, then the image and its square variants,
// all from the bucket) and the signed webhook arrives. A page from an origin the bucket does not
// allow is told so in words.
import { PutBucketCorsCommand } from '@aws-sdk/client-s3'
import t, { type Test } from 'tap'
import { AUTH, listen } from '../helpers/build.js'
import {
  completion, demoImageConfirmed, holdRequests, keepScreenshot, launchChromium, openPage, pickAndUpload,
  placeholderWhileLoading, resultShown, webhookReceiver
} from '../helpers/e2e.js'
import { png } from '../helpers/images.js'
import { createTestBucket, s3Target, type S3TestTarget, productionEnv } from '../helpers/s3.js'

const SECRET = `whsec_${Buffer.from('demo-s3-webhook-secret-0123456789').toString('base64')}`

/** The service in production mode against a fresh bucket whose CORS allows only the page's own origin. */
async function productionDemo (t: Test, target: S3TestTarget, env: Record<string, string> = {}) {
  const { bucket, client } = await createTestBucket(t, target)
  const { base } = await listen(t, { ...productionEnv(target, bucket), DEMO: 'true', ...env })
  // The page is served by the service, so its origin is the service's; the bucket learns it once it is known.
  await client.send(new PutBucketCorsCommand({
    Bucket: bucket,
    CORSConfiguration: { CORSRules: [{ AllowedOrigins: [base], AllowedMethods: ['POST'], AllowedHeaders: ['*'], MaxAgeSeconds: 600 }] }
  }))
  return { base, bucket, formUrl: `${target.endpoint}/${bucket}` }
}

t.test('cross-origin POST straight to the gateway: image shown, webhook arrived', async (t) => {
  const target = s3Target(t)
  if (target === undefined) return
  const browser = await launchChromium(t)
  if (browser === undefined) return
  const receiver = await webhookReceiver(t, SECRET)
  const { base, formUrl } = await productionDemo(t, target, { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET })
  const { page, problems } = await openPage(t, browser, `${base}/demo`)
  const posts: string[] = []
  page.on('request', (req) => { if (req.method() === 'POST') posts.push(req.url()) })

  const image = png(40, 30)
  // The main image is held back on its way from the bucket, to see the page while it loads.
  const slowImage = await holdRequests(page, new RegExp(`^${formUrl}/profile-images/[0-9a-f]{32}\\.png$`))
  const answered = completion(page)
  await pickAndUpload(page, { name: 'avatar.png', mimeType: 'image/png', buffer: image })
  const confirmed = await answered
  await slowImage.held
  await t.test('while the image loads: its placeholder', async (t) => placeholderWhileLoading(t, page, confirmed))
  slowImage.release()
  await page.waitForFunction(() => {
    const img = document.getElementById('final') as HTMLImageElement
    return (img.complete && img.naturalWidth > 0) || document.getElementById('error')!.textContent !== ''
  })
  t.equal(await page.textContent('#error'), '', 'no error shown')
  t.match(confirmed.url, new RegExp(`^${formUrl}/profile-images/[0-9a-f]{32}\\.png$`), 'the image is at the bucket')
  // A 40×30 source: every square is 30 px (never upscaled).
  await t.test('once loaded: the image and its variants, from the bucket', async (t) =>
    resultShown(t, page, confirmed, { sizes: [64, 128, 256, 512], variantType: 'image/webp' }))
  t.ok(confirmed.variants.every((v) => v.url.startsWith(`${formUrl}/profile-images/`) && v.width === 30 && v.height === 30), 'variants beside it, 30 px squares')
  t.same(posts.map((u) => new URL(u).origin === base ? new URL(u).pathname.replace(/upl_[\w-]+/, ':id') : u), [
    '/demo/ticket', formUrl, '/v1/uploads/:id/complete'
  ], 'ticket from the page\'s server, form straight to the bucket (cross-origin), completion at the service')

  await demoImageConfirmed(t, receiver, base, confirmed)

  t.ok(await keepScreenshot(page, 'demo-s3'), 'screenshot kept in test-artifacts/')
  t.same(problems, [], 'no script errors, CSP violations or refused requests')
})

t.test('a page origin the bucket CORS does not allow is told in words, and nothing is stored', async (t) => {
  const target = s3Target(t)
  if (target === undefined) return
  const browser = await launchChromium(t)
  if (browser === undefined) return
  const { base, formUrl } = await productionDemo(t, target)
  // The same service under another origin (localhost instead of 127.0.0.1): the bucket only allows the first.
  const other = base.replace('127.0.0.1', 'localhost')
  const { page } = await openPage(t, browser, `${other}/demo`, (url) => url === formUrl)
  let ticket: { uploadId: string } | undefined
  page.on('response', async (res) => { if (res.url().endsWith('/demo/ticket')) ticket = await res.json() as { uploadId: string } })

  await pickAndUpload(page, { name: 'avatar.png', mimeType: 'image/png', buffer: png() })
  await page.waitForFunction(() => document.getElementById('error')!.textContent !== '')
  t.match(await page.textContent('[role="alert"]'), /^The upload could not reach the server\. .* \(CORS\)\.$/)
  t.equal(await page.isHidden('#result'), true, 'nothing shown as saved')
  t.ok(ticket, 'a ticket was issued')
  const record = await (await fetch(`${base}/v1/uploads/${ticket?.uploadId ?? ''}`, { headers: AUTH })).json() as { status: string }
  t.equal(record.status, 'pending', 'nothing reached the bucket')
})

t.test('an expired form is refused by the gateway and told in words', async (t) => {
  const target = s3Target(t)
  if (target === undefined) return
  const browser = await launchChromium(t)
  if (browser === undefined) return
  const { base, formUrl } = await productionDemo(t, target, { UPLOAD_TTL_SECONDS: '2' })
  const { page } = await openPage(t, browser, `${base}/demo`, (url) => url === formUrl)
  // Fault injection: hold the form POST until its two-second policy has expired.
  await page.route(formUrl, async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 3500))
    await route.continue()
  })
  await pickAndUpload(page, { name: 'avatar.png', mimeType: 'image/png', buffer: png() })
  await page.waitForFunction(() => document.getElementById('error')!.textContent !== '')
  t.match(await page.textContent('[role="alert"]'), /^The upload ticket expired before the upload finished\. Choose Upload to try again with a new one\. \(The server said: .+\)$/, 'the gateway\'s XML answer, in words')
})
