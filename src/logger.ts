// pino options: JSON logs with request ids; credentials never reach a log line.
import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import { writeSync } from 'node:fs'
import type { AccessLineWriter } from './fast/access-line.js'
import { inBlocks } from './fast/log-blocks.js'

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["webhook-signature"]',
  'headers.authorization',
  'headers["webhook-signature"]',
  '*.secretAccessKey',
  '*.sessionToken',
  '*.signingSecret',
  '*.secrets',
  '*.Policy',
  '*["X-Amz-Signature"]',
  '*["X-Amz-Security-Token"]'
]

// Upload ids are completion credentials: logged URLs keep only a prefix.
// Most URLs hold none: looked for first, since a replace() with a pattern costs more than the search.
export const maskUploadIds = (url: string) => (url.includes('upl_') ? url.replace(/(upl_[A-Za-z0-9_-]{4})[A-Za-z0-9_-]+/g, '$1…') : url)

export function loggerOptions (level: string, stream?: LogStream): NonNullable<FastifyServerOptions['logger']> {
  return {
    level,
    ...(stream !== undefined ? { stream } : {}),
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      req: (req: { method: string, url: string, id: string, ip?: string }) => ({ method: req.method, url: maskUploadIds(req.url), id: req.id, ip: req.ip })
    }
  }
}

export interface LogStream {
  write: (line: string) => void
  /** Writes that failed so far (their lines were dropped): log_write_failures_total. */
  failures?: () => number
}

/** Writes as much as it can now; returns what is left when the output takes no more yet, throws when it fails. */
export type LogSink = (text: string | Buffer) => Buffer | undefined

/**
 * A file descriptor written with write(2) directly. process.stdout is not used: on a file, one failed write
 * (ENOSPC) destroys it for good, and its unhandled 'error' event ends the process.
 */
export function fdSink (fd: number): LogSink {
  return (text) => {
    const bytes = typeof text === 'string' ? Buffer.from(text) : text
    let done = 0
    while (done < bytes.length) {
      try {
        done += writeSync(fd, bytes, done)
      } catch (err) {
        // A non-blocking pipe that is full: the rest waits (never block the event loop on a slow reader).
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return bytes.subarray(done)
        throw err
      }
    }
    return undefined
  }
}

/** Most bytes held back for an output that takes no more (a log reader that stalled); beyond it they are dropped. */
const MAX_HELD_BYTES = 1 << 20

/**
 * The logger's output. A failed write (a full disk, a closed pipe) never reaches the caller: its text is dropped
 * and counted, the first failure of a series is said once on stderr, and the next write tries again. Logging never
 * takes the service down. What an output that takes no more yet (a full pipe) leaves is held and written first,
 * `retryMs` later or with the next write, and on exit.
 */
export function safeOutput (out: LogSink = fdSink(1), retryMs = 20): LogStream {
  let held: Buffer | undefined
  let timer: NodeJS.Timeout | undefined
  let failures = 0
  let failing = false
  const failed = (err: unknown) => {
    failures++
    if (failing) return
    failing = true
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message
    try {
      writeSync(2, `image-service: writing the log failed (${code}); lines are dropped while it fails (metric log_write_failures_total)\n`)
    } catch {}
  }
  const write = (text: string) => {
    if (timer !== undefined) { clearTimeout(timer); timer = undefined }
    if (text === '' && held === undefined) return
    const bytes = held === undefined ? text : Buffer.concat([held, Buffer.from(text)])
    held = undefined
    try {
      const rest = out(bytes)
      failing = false
      if (rest === undefined || rest.length === 0) return
      if (rest.length > MAX_HELD_BYTES) throw Object.assign(new Error('the log reader takes no more'), { code: 'EAGAIN' })
      held = rest
      timer = setTimeout(write, retryMs, '').unref()
    } catch (err) {
      failed(err)
    }
  }
  process.on('exit', () => { write('') })
  return { write, failures: () => failures }
}

/** stdout for the logger: safeOutput, written in blocks (fast/log-blocks.ts) of at most `limits.bytes` or `limits.ms`. */
export const batchedStdout = (out: LogSink = fdSink(1), limits = { bytes: 16_384, ms: 20 }): LogStream =>
  inBlocks(safeOutput(out, limits.ms), limits)

/**
 * One access line per request, when it completes, with the request, status and time together: Fastify's default
 * adds a second line on arrival, with nothing a completed line lacks. Given a writer (the service's own stream,
 * app.ts) the line is written by fast/access-line.ts, otherwise through the request's logger.
 */
export class OneLinePerRequest extends LogController {
  constructor (private readonly accessLine?: AccessLineWriter) { super() }

  override incomingRequest (): void {}

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return
    const log = reply.log as FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean }
    if (error) {
      log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored')
    } else if (this.accessLine === undefined) {
      log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed')
    } else if (log.isLevelEnabled?.('info') === true) {
      // The request's own logger decides (route levels: health checks log at warn).
      this.accessLine(this.requestIdLogLabel, request, reply)
    }
  }
}
