// The object store factory: the configured backend, and the routes it serves itself. A new backend is a module
// beside local.ts and s3.ts, a branch here, and its settings (env-schema.ts, config.ts).
import type { FastifyPluginAsync } from 'fastify'
import type { Config } from '../config.js'
import type { ObjectStore } from './object-store.js'

export interface ObjectBackend {
  objects: ObjectStore
  /** In the browser scope (CORS): where forms are posted, when the backend takes them itself. */
  browserRoutes?: FastifyPluginAsync
  /** Public: where published images are read, when the backend serves them itself. */
  publicRoutes?: FastifyPluginAsync
}

export async function createObjectBackend (config: Config): Promise<ObjectBackend> {
  if (config.mode === 'production') {
    // Browsers post to and read from the bucket itself.
    const { createS3Storage } = await import('./s3.js')
    return { objects: await createS3Storage(config) }
  }
  const [{ LocalStorage }, { default: localUploadRoute }, { default: localFiles }] = await Promise.all([
    import('./local.js'), import('../routes/local-upload.js'), import('../routes/local-files.js')
  ])
  const storage = new LocalStorage(config)
  // What a process killed mid-upload left (the sweeper does it again while running: another may be killed meanwhile).
  await storage.removeLeftovers(new Date(), true)
  return {
    objects: storage,
    browserRoutes: async (browser) => { await browser.register(localUploadRoute, { storage }) },
    publicRoutes: async (app) => { await app.register(localFiles, { root: storage.profileDir }) }
  }
}
