// openapi.yaml is generated from the route schemas: `write` regenerates it, `check` fails when it drifted.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'

const FILE = new URL('../openapi.yaml', import.meta.url)

/** The spec as the development-mode app generates it (the superset: it includes the local upload route). */
export async function generateOpenapi (): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'openapi-'))
  try {
    const app = await buildApp(loadConfig({ ENVIRONMENT: 'development', UPLOADS_DIR: join(dir, 'uploads'), DATA_DIR: join(dir, 'data'), UPLOAD_SIGNING_SECRET: 'openapi-generation-only' }))
    await app.ready()
    const yaml = '# Generated from the route schemas by `npm run openapi:write`; `npm run openapi:check` fails when it drifts.\n' +
      stringify(app.swagger(), { lineWidth: 0 })
    await app.close()
    return yaml
  } finally { rmSync(dir, { recursive: true, force: true }) }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const mode = process.argv[2]
  const yaml = await generateOpenapi()
  if (mode === 'write') {
    writeFileSync(FILE, yaml)
    console.log('openapi.yaml written')
  } else {
    let current = ''
    try { current = readFileSync(FILE, 'utf8') } catch {}
    if (current !== yaml) {
      console.error('openapi.yaml is out of date with the route schemas: run `npm run openapi:write` and commit it')
      process.exit(1)
    }
    console.log('openapi.yaml matches the route schemas')
  }
}
