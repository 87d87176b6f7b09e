// openapi.yaml is generated from the route schemas: `write` regenerates it, `check` fails when it drifted.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
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

/**
 * The app opens its SQLite file, and better-sqlite3 13 crashes (SIGSEGV, no message) on an older Node than .nvmrc's.
 * There, the script runs again on the Node the README installs (/opt/node22), or says what is missing.
 */
function onProjectNode (): void {
  const wanted = Number(readFileSync(new URL('../.nvmrc', import.meta.url), 'utf8').trim())
  if (Number(process.versions.node.split('.')[0]) >= wanted) return
  const node = `/opt/node${wanted}/node_modules/.bin/node`
  if (!existsSync(node)) {
    console.error(`openapi: needs Node ${wanted} (.nvmrc; this is ${process.version}): npm i --prefix /opt/node${wanted} node@${wanted}, or put Node ${wanted} first on PATH`)
    process.exit(1)
  }
  process.exit(spawnSync(node, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' }).status ?? 1)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  onProjectNode()
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
