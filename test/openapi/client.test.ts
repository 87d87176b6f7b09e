// A TypeScript client generated from openapi.yaml (openapi-typescript types + openapi-fetch) compiles under
// strict tsc, refuses a wrong call at compile time, and runs the whole flow against the running service:
// create (service token) → form POST to upload.url → complete → read the status; error answers are typed too.
import { spawn } from 'node:child_process'
import { symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import openapiTS, { astToString } from 'openapi-typescript'
import t from 'tap'
import { listen, scratch, TOKEN } from '../helpers/build.js'
import { png } from '../helpers/images.js'

const ROOT = new URL('../../', import.meta.url).pathname

// The client program, as an application would write it (docs/browser.md shows the same).
const CLIENT = `
import createClient from 'openapi-fetch'
import type { paths } from './api.js'

export async function run (baseUrl: string, token: string, image: Uint8Array<ArrayBuffer>) {
  const api = createClient<paths>({ baseUrl, headers: { authorization: \`Bearer \${token}\` } })

  const created = await api.POST('/v1/uploads', { body: { ownerId: 'user-7', contentType: 'image/png', contentLength: image.length } })
  if (created.error !== undefined) throw new Error(\`create: \${created.error.code} \${created.error.message}\`)
  const ticket = created.data

  // The browser's part: every field of upload.fields, then the file.
  const form = new FormData()
  for (const [name, value] of Object.entries(ticket.upload.fields)) form.append(name, value)
  form.append('file', new Blob([image], { type: 'image/png' }), 'avatar.png')
  const posted = await fetch(ticket.upload.url, { method: 'POST', body: form })

  const completed = await api.POST('/v1/uploads/{uploadId}/complete', { params: { path: { uploadId: ticket.uploadId } } })
  if (completed.error !== undefined) throw new Error(\`complete: \${completed.error.code} \${completed.error.message}\`)
  const confirmed: { status: 'confirmed', url: string, size: number } = completed.data

  const read = await api.GET('/v1/uploads/{uploadId}', { params: { path: { uploadId: ticket.uploadId } } })
  const unknown = await api.GET('/v1/uploads/{uploadId}', { params: { path: { uploadId: 'upl_0000000000000000000000' } } })
  return {
    ticket,
    posted: posted.status,
    confirmed,
    status: read.data?.status,
    unknown: { status: unknown.response.status, code: unknown.error?.code }
  }
}
`

// The same client with a mistake: the body lacks the required contentType.
const WRONG = `
import createClient from 'openapi-fetch'
import type { paths } from './api.js'

export async function run (baseUrl: string) {
  return await createClient<paths>({ baseUrl }).POST('/v1/uploads', { body: { ownerId: 'user-7' } })
}
`

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023', 'DOM'], strict: true, noEmit: true, skipLibCheck: true, types: ['node']
  },
  files: ['client.ts']
}

async function tsc (dir: string): Promise<{ code: number | null, output: string }> {
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { cwd: dir })
    let output = ''
    child.stdout.on('data', (c: Buffer) => { output += c.toString() })
    child.stderr.on('data', (c: Buffer) => { output += c.toString() })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, output }))
  })
}

/** An ES module folder with the generated types, a tsconfig and `program` as client.ts; the project's node_modules linked in. */
async function project (t: Parameters<typeof scratch>[0], types: string, program: string): Promise<string> {
  const dir = scratch(t, 'openapi-client-')
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
  writeFileSync(join(dir, 'api.d.ts'), types)
  writeFileSync(join(dir, 'client.ts'), program)
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG))
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }))
  return dir
}

t.test('generated client: compiles, catches a wrong call, runs create → form POST → complete', async (t) => {
  const types = astToString(await openapiTS(pathToFileURL(join(ROOT, 'openapi.yaml'))))
  t.match(types, /"\/v1\/uploads\/\{uploadId\}\/complete": \{/, 'types generated for the completion path')

  const dir = await project(t, types, CLIENT)
  const compiled = await tsc(dir)
  t.equal(compiled.code, 0, 'the client compiles under strict tsc', { output: compiled.output })

  const wrong = await tsc(await project(t, types, WRONG))
  t.equal(wrong.code, 2, 'a call that breaks the spec does not compile')
  t.match(wrong.output, /contentType/, 'and the error names the missing field')

  const { base } = await listen(t)
  const { run } = await import(pathToFileURL(join(dir, 'client.ts')).href) as {
    run: (base: string, token: string, image: Uint8Array) => Promise<{
      ticket: { uploadId: string, publicUrl: string }, posted: number, confirmed: { status: string, url: string, size: number }, status: string, unknown: { status: number, code: string }
    }>
  }
  const image = new Uint8Array(png(12, 12))
  const result = await run(base, TOKEN, image)
  t.equal(result.posted, 201, 'form POST to upload.url')
  t.match(result.confirmed, { status: 'confirmed', url: result.ticket.publicUrl, size: Number, width: 12, height: 12 }, 'completed')
  t.equal(result.status, 'confirmed', 'status read back')
  t.same(result.unknown, { status: 404, code: 'UPLOAD_NOT_FOUND' }, 'an error answer arrives as the typed Error')
  const served = await fetch(result.confirmed.url)
  t.equal(served.status, 200, 'the image is served at its public URL')
})
