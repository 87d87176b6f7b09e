// Development storage's own leftovers, which no upload record names: temporary files whose writer died (a process
// killed mid-upload), and staged uploads older than any ticket can be (the local stand-in for the S3 lifecycle rule
// on incoming/, docs/production.md). Several processes may share the uploads folder (docs/replicas.md): a temporary
// file is removed only when its writer is known to be gone, or when it is older than any request may last.
import { randomUUID } from 'node:crypto'
import { lstat, readdir, rm } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { REQUEST_TIMEOUT_MS } from '../limits/server-caps.js'

const HOST = hostname().replace(/[^A-Za-z0-9-]/g, '_')
const PART = /^([A-Za-z0-9_-]+)\.(\d+)\.[0-9a-f-]{36}\.part$/
/** A temporary file is written by one request: one untouched for longer belongs to nobody. */
const PART_MAX_AGE_MS = 2 * REQUEST_TIMEOUT_MS
/** Beyond a ticket's life and grace: the time the sweeper may have been stopped before it settled the upload. */
export const STAGING_MARGIN_MS = 24 * 3600_000

/** A temporary file's name: its writer's host and process id, so that another process can tell whether it lives. */
export const partName = (): string => `${HOST}.${process.pid}.${randomUUID()}.part`

function gone (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return false
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

/**
 * A temporary file nobody writes any more: untouched for longer than a request may last, or its writer on this host
 * is gone. At start this process's own id is a previous process's (a container restarted keeps its pid), since
 * none of its own files exists yet.
 */
function leftPart (name: string, ageMs: number, starting: boolean): boolean {
  if (ageMs > PART_MAX_AGE_MS) return true
  const writer = PART.exec(name)
  if (writer === null || writer[1] !== HOST) return false
  const pid = Number(writer[2])
  return pid === process.pid ? starting : gone(pid)
}

export interface LeftoverFolders {
  /** Temporary files ({UPLOADS_DIR}/.incoming). */
  incoming: string
  /** Staged uploads ({UPLOADS_DIR}/.staging), removed once older than `stagingMaxAgeMs`. */
  staging: string
  stagingMaxAgeMs: number
}

/** Removes what is left over in the two folders at `now`; returns how many files went. */
export async function removeLeftovers (folders: LeftoverFolders, now: Date, starting = false): Promise<number> {
  const removable = async (dir: string, test: (name: string, ageMs: number) => boolean) => {
    let removed = 0
    for (const name of await readdir(dir)) {
      const path = join(dir, name)
      // lstat: a link is judged (and removed) itself, never what it points at.
      const stat = await lstat(path).catch(() => undefined)
      if (stat === undefined || stat.isDirectory() || !test(name, now.getTime() - stat.mtimeMs)) continue
      await rm(path, { force: true })
      removed++
    }
    return removed
  }
  return await removable(folders.incoming, (name, ageMs) => leftPart(name, ageMs, starting)) +
    await removable(folders.staging, (_name, ageMs) => ageMs > folders.stagingMaxAgeMs)
}
