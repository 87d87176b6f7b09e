// openapi.yaml: equal to what the routes generate (npm run openapi:check), clean for Redocly's linter, and complete:
// every route of the service is in it, and every request body, parameter and response has an example.
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { generateOpenapi } from '../../scripts/openapi.js'
import { build, scratch } from '../helpers/build.js'

const ROOT = new URL('../../', import.meta.url).pathname
const SPEC = join(ROOT, 'openapi.yaml')
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const

/** Runs a command to its end; resolves with its exit code and combined output. */
async function run (command: string, args: string[]): Promise<{ code: number | null, output: string }> {
  return await new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } })
    let output = ''
    child.stdout.on('data', (c: Buffer) => { output += c.toString() })
    child.stderr.on('data', (c: Buffer) => { output += c.toString() })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, output }))
  })
}
const redocly = async (...args: string[]) => await run(join(ROOT, 'node_modules/.bin/redocly'), ['lint', ...args])

t.test('openapi.yaml equals what the route schemas generate (npm run openapi:check)', async (t) => {
  t.equal(readFileSync(SPEC, 'utf8'), await generateOpenapi(), 'run `npm run openapi:write` after changing a route schema')
})

t.test('redocly lint (recommended rules, redocly.yaml): no errors', async (t) => {
  const clean = await redocly()
  t.equal(clean.code, 0, 'redocly lint passes', { output: clean.output })
  t.match(clean.output, /Your API description is valid/)

  // The same linter does fail a document with a problem: an operation without any security declaration.
  const broken = parse(readFileSync(SPEC, 'utf8')) as { security?: unknown }
  delete broken.security
  const file = join(scratch(t), 'openapi.yaml')
  writeFileSync(file, JSON.stringify(broken))
  const failed = await redocly(file, '--config', join(ROOT, 'redocly.yaml'))
  t.equal(failed.code, 1, 'a broken document fails')
  t.match(failed.output, /security-defined/)
})

interface Media { schema?: Schema, example?: unknown, examples?: unknown }
interface Schema { $ref?: string, example?: unknown, format?: string, default?: unknown }
interface Operation {
  operationId?: string
  parameters?: Array<{ name: string, example?: unknown, schema?: Schema }>
  requestBody?: { content: Record<string, Media> }
  responses: Record<string, { content?: Record<string, Media> }>
}
interface Document { paths: Record<string, Partial<Record<typeof METHODS[number], Operation>>>, components: { schemas: Record<string, Schema> } }

/** Every route the app answers, from Fastify's radix tree: "METHOD /path/{param}". */
function routesOf (tree: string): string[] {
  const segments: string[] = []
  const routes: string[] = []
  for (const line of tree.split('\n')) {
    const at = line.indexOf('── ')
    if (at < 0) continue
    const depth = (at - 1) / 4
    const [, segment = '', methods] = /^(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line.slice(at + 3)) ?? []
    segments.length = depth
    segments[depth] = depth === 0 ? '' : segment
    for (const method of methods?.split(', ') ?? []) routes.push(`${method} ${segments.join('').replace(/:(\w+)/g, '{$1}')}`)
  }
  return routes
}

t.test('every route is documented, with examples', async (t) => {
  const doc = parse(readFileSync(SPEC, 'utf8')) as Document
  const app = await build(t)
  await app.ready()
  const documented = Object.entries(doc.paths).flatMap(([path, item]) => METHODS.filter((m) => item[m] !== undefined).map((m) => `${m.toUpperCase()} ${path}`))
  // Not API: the docs themselves, the demo page (docs/browser.md), CORS preflights and HEAD twins of GETs.
  const notApi = /^(HEAD|OPTIONS) |^GET \/(docs|openapi\.json|demo)|^POST \/demo\//
  const served = routesOf(app.printRoutes({ commonPrefix: true }))
    .filter((r) => !notApi.test(r))
    .map((r) => r === 'GET /uploads/profile/*' ? 'GET /uploads/profile/{filename}' : r)
  t.same(served.sort(), [...documented].sort(), 'the routes the app serves are the documented ones')

  const schemaExample = (s: Schema | undefined): boolean => s !== undefined &&
    (s.example !== undefined || s.default !== undefined || s.format === 'binary' || schemaExample(s.$ref === undefined ? undefined : doc.components.schemas[s.$ref.split('/').pop() ?? '']))
  const hasExample = (m: Media) => m.example !== undefined || m.examples !== undefined || schemaExample(m.schema)
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method]
      if (op === undefined) continue
      const name = `${method.toUpperCase()} ${path}`
      t.ok(op.operationId, `${name} has an operationId`)
      for (const p of op.parameters ?? []) t.ok(p.example !== undefined || schemaExample(p.schema), `${name} parameter ${p.name} has an example`)
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) t.ok(hasExample(media), `${name} request ${type} has an example`)
      for (const [status, response] of Object.entries(op.responses)) {
        for (const [type, media] of Object.entries(response.content ?? {})) t.ok(hasExample(media), `${name} ${status} ${type} has an example`)
      }
    }
  }
})
