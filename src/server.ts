// The entry point (node dist/server.js). V8's young generation is sized for the mode before anything else is
// loaded (young-generation.ts), then the service starts (main.ts).
import { setFlagsFromString } from 'node:v8'
import { modeOf, type Mode } from './mode.js'
import { threadpoolSize } from './threadpool.js'
import { youngGenerationFlag } from './young-generation.js'

let mode: Mode | undefined
try {
  mode = modeOf(process.env)
} catch {
  // A mistyped ENVIRONMENT or DEBUG: loadConfig (main.ts) stops the start with the message naming the variable.
}
const flag = mode === undefined ? undefined : youngGenerationFlag(mode, process.execArgv, process.env.NODE_OPTIONS)
if (flag !== undefined) setFlagsFromString(flag)
// Before anything uses libuv's thread pool: room for image processing beside file and network work (threadpool.ts).
process.env.UV_THREADPOOL_SIZE ??= threadpoolSize(process.env.IMAGE_CONCURRENCY)
await import('./main.js').catch((err: unknown) => {
  process.stderr.write(`image-service: failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
