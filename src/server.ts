// The entry point (node dist/server.js). V8's young generation is sized for the mode before anything else is
// loaded (young-generation.ts), then the service starts (main.ts).
import { setFlagsFromString } from 'node:v8'
import { modeOf } from './mode.js'
import { youngGenerationFlag } from './young-generation.js'

const flag = youngGenerationFlag(modeOf(process.env), process.execArgv, process.env.NODE_OPTIONS)
if (flag !== undefined) setFlagsFromString(flag)
await import('./main.js').catch((err: unknown) => {
  process.stderr.write(`image-service: failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
