// Builds the app for a test from environment-style overrides, in its own temporary folders.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { buildApp, type App, type BuildOptions } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'

export const TOKEN = 'test-token-0123456789abcdef'
export const AUTH = { authorization: `Bearer ${TOKEN}` }

/** A fresh scratch folder removed when the test ends. */
export function scratch (t: Test, name = 'image-service-'): string {
  const dir = mkdtempSync(join(tmpdir(), name))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export function testConfig (t: Test, env: Record<string, string | undefined> = {}): Config {
  const dir = scratch(t)
  return loadConfig({
    ENVIRONMENT: 'development',
    SERVICE_TOKENS: TOKEN,
    UPLOADS_DIR: join(dir, 'uploads'),
    DATA_DIR: join(dir, 'data'),
    SWEEP_INTERVAL_SECONDS: '0',
    // Tests issue many tickets for one owner from one address: the rate limits are off unless a test sets them
    // (test/limits/); the service's defaults have them on.
    TICKET_RATE_LIMIT: '0',
    BROWSER_RATE_LIMIT: '0',
    ...env
  })
}

/** Builds the app (not listening) and closes it when the test ends. */
export async function build (t: Test, env: Record<string, string | undefined> = {}, opts: BuildOptions = {}): Promise<App> {
  const app = await buildApp(testConfig(t, env), opts)
  t.teardown(() => app.close())
  return app
}

/**
 * Builds the app and listens on an ephemeral port; PUBLIC_BASE_URL follows the port (`PUBLIC_BASE_URL: undefined`:
 * the service's default, http://localhost:{port}).
 */
export async function listen (t: Test, env: Record<string, string | undefined> = {}, opts: BuildOptions = {}): Promise<{ app: App, base: string }> {
  // The port is only known after listen, and the URLs the app issues depend on it: reserve one first.
  const { createServer } = await import('node:net')
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => resolve(p))
    })
  })
  const base = `http://127.0.0.1:${port}`
  const app = await build(t, { PUBLIC_BASE_URL: base, PORT: String(port), ...env }, opts)
  await app.listen({ host: '127.0.0.1', port })
  return { app, base }
}
