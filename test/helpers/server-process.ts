// Runs the real entry point (src/server.ts through tsx) as a child process: to see it fail to start, or to use it.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import type { Test } from 'tap'
import { scratch } from './build.js'
import { eventually } from './wait.js'

export interface ServerRun { code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }

/**
 * Starts the server with only `env` (plus PATH) and waits for it to exit. A server that starts instead of failing
 * is killed after `limitMs`, and the run reports the signal.
 */
export async function runServer (t: Test, env: Record<string, string>, limitMs = 30_000): Promise<ServerRun> {
  const dir = scratch(t, 'image-service-start-')
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: join(import.meta.dirname, '..', '..'),
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', DATA_DIR: join(dir, 'data'), UPLOADS_DIR: join(dir, 'uploads'), ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])))
  clearTimeout(timer)
  return { code, signal, stdout, stderr }
}

export interface StartedServer { child: ChildProcess, base: string, exited: Promise<unknown[]> }

/**
 * Starts the server with only `env` (plus PATH: tap's loaders and coverage stay out of the service; `env.PORT` is
 * required) and `nodeArgs` before the entry point, and waits until `readyPath` answers. Killed when the test ends.
 * `stdout`: a file descriptor the service's stdout (its log) goes to; otherwise it is dropped.
 */
export async function startServer (t: Test, env: Record<string, string>, opts: { nodeArgs?: string[], readyPath?: string, stdout?: number } = {}): Promise<StartedServer> {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', 'src/server.ts'], {
    cwd: join(import.meta.dirname, '..', '..'),
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', opts.stdout ?? 'ignore', 'pipe']
  })
  let stderr = ''
  child.stderr?.on('data', (c: Buffer) => { stderr += c.toString() })
  const exited = once(child, 'exit')
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  })
  const base = `http://127.0.0.1:${env.PORT}`
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`the service exited (${child.exitCode}): ${stderr}`)
    return (await fetch(`${base}${opts.readyPath ?? '/health'}`).then((r) => r.ok, () => false)) || undefined
  }, { timeoutMs: 30_000, intervalMs: 50, what: 'the service to listen' })
  return { child, base, exited }
}
