// Every local path the service touches comes from here: a file name is resolved inside its folder or refused, and
// a file is read only when it is a regular file of that folder, never through a symbolic link (a link placed there
// could point anywhere: the service itself never makes one).
import { constants, type Stats } from 'node:fs'
import { lstat, open, type FileHandle } from 'node:fs/promises'
import { resolve, sep } from 'node:path'

const FILENAME = /^[A-Za-z0-9_-]{1,128}\.[a-z0-9]{1,8}$/

/** Resolves `name` inside `root`; undefined for anything that is not a plain generated file name. */
export function safePath (root: string, name: string): string | undefined {
  if (!FILENAME.test(name)) return undefined
  const base = resolve(root)
  const full = resolve(base, name)
  return full.startsWith(base + sep) ? full : undefined
}

/** Not there, or not a regular file: a link (ELOOP with O_NOFOLLOW), a folder, or a path through a non-folder. */
const ABSENT = new Set(['ENOENT', 'ELOOP', 'ENOTDIR', 'EISDIR'])
const absent = (err: unknown) => ABSENT.has((err as NodeJS.ErrnoException).code ?? '')

/**
 * Opens a regular file for reading without following a symbolic link in its last component (the only one a
 * generated name has); undefined when there is none. The caller closes the handle.
 */
export async function openFile (path: string): Promise<{ handle: FileHandle, stat: Stats } | undefined> {
  let handle: FileHandle
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (err) {
    if (absent(err)) return undefined
    throw err
  }
  try {
    const stat = await handle.stat()
    if (stat.isFile()) return { handle, stat }
  } catch (err) {
    await handle.close()
    throw err
  }
  await handle.close()
  return undefined
}

/** A regular file's status, or undefined (a link is not followed, so never the status of what it points at). */
export async function fileStat (path: string): Promise<Stats | undefined> {
  try {
    const stat = await lstat(path)
    return stat.isFile() ? stat : undefined
  } catch (err) {
    if (absent(err)) return undefined
    throw err
  }
}
