// A small real file system that tests fill up (a full disk): tmpfs, mounted for one test (needs root).
import { execFileSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'

/** Why tmpfs tests cannot run here, or undefined when they can (root, and mount works). */
export const tmpfsUnavailable: string | undefined = (() => {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root'
  try {
    const dir = mkdtempSync(join(tmpdir(), 'image-service-tmpfs-probe-'))
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' })
      execFileSync('umount', [dir], { stdio: 'ignore' })
    } finally { rmSync(dir, { recursive: true, force: true }) }
    return undefined
  } catch (err) {
    return `cannot mount a tmpfs: ${(err as Error).message}`
  }
})()

/** A fresh tmpfs of `size` (mount's syntax: 1m, 512k), unmounted when the test ends. */
export function tmpfs (t: Test, size: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'image-service-tmpfs-'))
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir])
  // Lazy: a process killed a moment ago may still hold a file open on it.
  t.teardown(() => {
    execFileSync('umount', ['-l', dir])
    rmSync(dir, { recursive: true, force: true })
  })
  return dir
}

/** Fills the file system of `dir` with one file until a write fails (ENOSPC); returns that file, to free it. */
export function fill (dir: string): string {
  const path = join(dir, 'filler')
  const fd = openSync(path, 'w')
  const block = Buffer.alloc(4096, 1)
  try {
    for (;;) writeSync(fd, block)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
  } finally { closeSync(fd) }
  return path
}
