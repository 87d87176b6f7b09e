// The OpenAPI document an instance serves names that instance as its server, so /docs' "Try it out" calls the
// instance that served the page (not http://localhost:3000); its version is package.json's.
import { readFileSync } from 'node:fs'
import { request } from 'node:http'
import t from 'tap'
import { parse } from 'yaml'
import { AUTH, listen } from '../helpers/build.js'
import { launchChromium, openPage } from '../helpers/e2e.js'

const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

interface Served { info: { version: string }, servers: Array<{ url: string }> }

/** GET with headers fetch does not send (Host). */
async function getJson (url: string, headers: Record<string, string>): Promise<unknown> {
  return await new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => resolve(JSON.parse(body)))
    }).on('error', reject).end()
  })
}

t.test('one version: package.json\'s, in the committed and the served document', async (t) => {
  const committed = parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')) as Served
  t.equal(committed.info.version, PACKAGE.version, 'openapi.yaml')
  const { base } = await listen(t)
  t.equal((await (await fetch(`${base}/openapi.json`)).json() as Served).info.version, PACKAGE.version, '/openapi.json')
})

t.test('the served document\'s server is the instance, at the address it was reached by', async (t) => {
  const { base } = await listen(t)
  const port = new URL(base).port
  for (const path of ['/docs/json', '/openapi.json']) {
    const doc = await (await fetch(`${base}${path}`)).json() as Served
    t.same(doc.servers.map((s) => s.url), [base], `${path}: ${base}, a random port, not localhost:3000`)
    // What Try it out does with it: the operation's path on that server.
    const health = await fetch(`${doc.servers[0]?.url}/health`)
    t.equal(health.status, 200, `${path}: its server answers`)
    const ticket = await fetch(`${doc.servers[0]?.url}/v1/uploads`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: '{"ownerId":"u1","contentType":"image/png"}' })
    t.equal(ticket.status, 201, `${path}: an operation through its server`)
  }
  const byName = await getJson(`${base}/docs/json`, { host: `localhost:${port}` }) as Served
  t.same(byName.servers.map((s) => s.url), [`http://localhost:${port}`], 'reached as localhost: named so')
  const yaml = parse(await (await fetch(`${base}/docs/yaml`)).text()) as Served
  t.same(yaml.servers.map((s) => s.url), [base], '/docs/yaml too')
})

t.test('a proxy named by TRUST_PROXY gives the public address', async (t) => {
  const { base } = await listen(t, { TRUST_PROXY: '127.0.0.1' })
  const doc = await (await fetch(`${base}/openapi.json`, { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'images.example.com' } })).json() as Served
  t.same(doc.servers.map((s) => s.url), ['https://images.example.com'])
  const untrusted = await listen(t)
  const ignored = await (await fetch(`${untrusted.base}/openapi.json`, { headers: { 'x-forwarded-host': 'evil.example.com' } })).json() as Served
  t.same(ignored.servers.map((s) => s.url), [untrusted.base], 'without TRUST_PROXY the header is ignored')
})

t.test('in Chromium: /docs offers the instance as its server, and Try it out calls it', async (t) => {
  const browser = await launchChromium(t)
  if (browser === undefined) return
  const { base } = await listen(t)
  const { page, problems } = await openPage(t, browser, `${base}/docs`)
  await page.waitForSelector('.servers select')
  t.same(await page.locator('.servers select option').allTextContents(), [`${base} - the instance that served this document`], 'the server choice')
  // Try it out on GET /health: the request goes to this instance and its answer is shown.
  await page.locator('#operations-operations-health').click()
  await page.locator('#operations-operations-health .try-out__btn').click()
  const called = page.waitForRequest((req) => req.url().endsWith('/health'))
  await page.locator('#operations-operations-health .execute').click()
  t.equal((await called).url(), `${base}/health`, 'Try it out calls the instance that served the page')
  const status = page.locator('#operations-operations-health .live-responses-table tbody .response-col_status').first()
  await status.waitFor()
  t.match(await status.textContent(), /200/, 'and shows its answer')
  t.same(problems, [])
})
