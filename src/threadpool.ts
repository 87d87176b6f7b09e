// libuv's thread pool, sized for image processing. Each sharp operation holds a pool thread until libvips is done
// with it, and one image runs up to six at once (the main image, the placeholder, each variant): with the default
// four threads, file, DNS and SQLite WAL-flush work waited behind images (docs/performance.md, "Images"). The pool
// is sized when first used, so the entry point sets it before anything runs; a size given in the environment is
// left as given.
import { DEFAULT_IMAGE_CONCURRENCY } from './images/concurrency.js'

/** Threads for IMAGE_CONCURRENCY images at six operations each, and four for everything else. */
export function threadpoolSize (imageConcurrency: string | undefined): string {
  const images = /^\s*\d+\s*$/.test(imageConcurrency ?? '') ? Math.min(64, Math.max(1, Number(imageConcurrency))) : DEFAULT_IMAGE_CONCURRENCY
  return String(Math.min(1024, images * 6 + 4))
}
