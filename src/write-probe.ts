// Readiness of a local folder: a file of one block written and removed. A full disk (tmpfs and ext4 refuse the
// block at write time), a read-only mount or a folder the service may not write fail here, not mid-request.
import { rm, writeFile } from 'node:fs/promises'

const BLOCK = Buffer.alloc(4096)

/** Writes `path` (a name only this process uses) and removes it; throws what the write threw. */
export async function writeProbe (path: string): Promise<void> {
  try {
    await writeFile(path, BLOCK)
  } finally {
    await rm(path, { force: true })
  }
}
