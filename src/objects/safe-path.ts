// Every local path the service touches comes from here: a file name is resolved inside its folder or refused.
import { resolve, sep } from 'node:path'

const FILENAME = /^[A-Za-z0-9_-]{1,128}\.[a-z0-9]{1,8}$/

/** Resolves `name` inside `root`; undefined for anything that is not a plain generated file name. */
export function safePath (root: string, name: string): string | undefined {
  if (!FILENAME.test(name)) return undefined
  const base = resolve(root)
  const full = resolve(base, name)
  return full.startsWith(base + sep) ? full : undefined
}
