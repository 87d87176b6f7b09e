// Child processes of the bench: the service and the bare baselines (each on its own loopback port), and the
// loaders. Every server is a plain `node` process so its pid is the one measured (peak RSS) and stopped.
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const SERVICE_ENTRY = join(ROOT, 'dist', 'server.js')
export const baseline = (name: string) => join(ROOT, 'bench', 'baselines', name)
export const loader = (name: string) => join(ROOT, 'bench', 'load', name)

/** A free loopback port (reserved, then released for the child to take). */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    }).on('error', reject)
  })
}

/** GET `url`; the status code, or 0 when nothing answers. */
export async function status (url: string): Promise<number> {
  return await new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => { res.resume(); resolve(res.statusCode ?? 0) })
    req.on('error', () => resolve(0))
    req.end()
  })
}

export interface Server {
  name: string
  proc: ChildProcess
  base: string
  /** ms from spawn to the ready path answering 200. */
  startMs: number
  /** Peak resident set size so far (VmHWM), in bytes. */
  peakRss (): number
  /** CPU time used so far by all its threads (user + system), in ms. */
  cpuMs (): number
  stop (): Promise<void>
}

// Servers still running when the bench exits (it failed half-way) are not left behind.
const running = new Set<ChildProcess>()
process.on('exit', () => { for (const proc of running) proc.kill('SIGKILL') })

// A clean environment: the bench measures the defaults, not whatever the caller's shell exports.
const baseEnv = () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' })

/** Spawns `node script` with `env` (PORT added) and resolves once `readyPath` answers 200. */
export async function startServer (name: string, script: string, env: Record<string, string>, opts: { readyPath: string, logFile: string, port?: number, nodeArgs?: string[] }): Promise<Server> {
  const port = opts.port ?? await freePort()
  const base = `http://127.0.0.1:${port}`
  const log = openSync(opts.logFile, 'a')
  const started = performance.now()
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), script], {
    cwd: ROOT,
    env: { ...baseEnv(), HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', log, log]
  })
  closeSync(log)
  running.add(proc)
  let exited = false
  proc.on('exit', () => { exited = true; running.delete(proc) })
  for (;;) {
    if (exited) throw new Error(`${name} exited during start (exit code ${String(proc.exitCode)}); see ${opts.logFile}`)
    if (await status(base + opts.readyPath) === 200) break
    if (performance.now() - started > 30_000) { proc.kill('SIGKILL'); throw new Error(`${name} was not ready within 30 s; see ${opts.logFile}`) }
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  const startMs = performance.now() - started
  return {
    name,
    proc,
    base,
    startMs,
    peakRss: () => peakRss(proc.pid),
    cpuMs: () => cpuMs(proc.pid),
    stop: async () => {
      if (exited) return
      const gone = new Promise((resolve) => proc.once('exit', resolve))
      proc.kill('SIGTERM')
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000)
      await gone
      clearTimeout(timer)
    }
  }
}

function peakRss (pid: number | undefined): number {
  if (pid === undefined) return 0
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kb === undefined ? 0 : Number(kb) * 1024
  } catch { return 0 }
}

// utime and stime are fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second on Linux).
function cpuMs (pid: number | undefined): number {
  if (pid === undefined) return 0
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch { return 0 }
}

/** Runs `node args…` to completion (in the clean environment plus `env`) and returns its stdout; stderr is passed through. */
export async function run (args: string[], env: Record<string, string> = {}): Promise<string> {
  return await new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { cwd: ROOT, env: { ...baseEnv(), ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
    const out: Buffer[] = []
    proc.stdout.on('data', (b: Buffer) => out.push(b))
    proc.on('error', reject)
    // 'close', not 'exit': stdout is fully read by then.
    proc.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'))
      else reject(new Error(`node ${args.join(' ')} exited with ${String(code)}`))
    })
  })
}
