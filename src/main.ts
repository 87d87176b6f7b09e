// The service (started by server.ts): configuration from the environment, the logger, listen, signals, graceful close.
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config.js'
import { batchedStdout, loggerOptions } from './logger.js'

async function main (): Promise<void> {
  let config
  try {
    config = loadConfig()
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(`image-service: ${err.message}\n`)
    process.exit(78) // EX_CONFIG
  }
  const stream = batchedStdout()
  const app = await buildApp(config, { logger: loggerOptions(config.logLevel, stream), accessLog: stream })
  // SIGTERM/SIGINT: stop accepting, let in-flight requests and deliveries finish, then exit.
  closeWithGrace({ delay: 25_000 }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'closing after an error')
    else app.log.info({ signal }, 'closing')
    await app.close()
  })
  await app.listen({ host: config.host, port: config.port })
  app.log.info({ mode: config.mode, storage: app.objects.kind, store: app.records.kind }, 'image-service ready')
}

main().catch((err: unknown) => {
  // Start-up failures (self-check, database) carry an actionable message; print it plainly.
  process.stderr.write(`image-service: failed to start: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
