// pino options: JSON logs with request ids; credentials never reach a log line.
import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import { writeSync } from 'node:fs'
import { hostname } from 'node:os'
import { jsonString } from './json-string.js'

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
const maskUploadIds = (url: string) => (url.includes('upl_') ? url.replace(/(upl_[A-Za-z0-9_-]{4})[A-Za-z0-9_-]+/g, '$1…') : url)

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
 * stdout for the logger, written in blocks instead of line by line: each write is a system call on the request
 * path, and one per turn of the event loop still cost 2-3% of a ticket (docs/performance.md). A block is written
 * once it holds `bytes` characters, or `ms` after its first line, and whatever is pending is written on exit, so
 * an exception that ends the process loses no line; only a process killed outright loses the last `ms`.
 * A failed write (a full disk, a closed pipe) never reaches the caller: its lines are dropped and counted, and the
 * first failure of a series is said once on stderr. Logging never takes the service down.
 */
export function batchedStdout (out: LogSink = fdSink(1), limits = { bytes: 16_384, ms: 20 }): LogStream {
  let pending = ''
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
  const flush = () => {
    if (timer !== undefined) { clearTimeout(timer); timer = undefined }
    if (pending === '' && held === undefined) return
    const text = held === undefined ? pending : Buffer.concat([held, Buffer.from(pending)])
    pending = ''
    held = undefined
    try {
      const rest = out(text)
      failing = false
      if (rest === undefined || rest.length === 0) return
      if (rest.length > MAX_HELD_BYTES) throw Object.assign(new Error('the log reader takes no more'), { code: 'EAGAIN' })
      held = rest
      timer = setTimeout(flush, limits.ms).unref()
    } catch (err) {
      failed(err)
    }
  }
  process.on('exit', flush)
  return {
    write (line) {
      pending += line
      if (pending.length >= limits.bytes) flush()
      else timer ??= setTimeout(flush, limits.ms).unref()
    },
    failures: () => failures
  }
}

/**
 * The access line as pino writes it with loggerOptions (pino's default base: pid and hostname; epoch time; the req
 * serializer above and Fastify's res serializer), written straight to the logger's stream. pino's generic path
 * looks up serializers and calls JSON.stringify per nested object: 5% of a ticket's work (docs/performance.md).
 * test/logger.test.ts compares the two lines.
 */
export class AccessLine {
  private readonly bindings = `,"pid":${process.pid},"hostname":${jsonString(hostname())}`
  // Consecutive lines mostly repeat these: each keeps the text of its last value.
  private readonly label = new LastText(jsonString)
  private readonly method = new LastText(jsonString)
  private readonly url = new LastText((url) => jsonString(maskUploadIds(url)))
  private readonly ip = new LastText((ip) => `,"ip":${jsonString(ip)}`)

  constructor (private readonly stream: LogStream) {}

  write (idLabel: string, request: FastifyRequest, reply: FastifyReply): void {
    const id = jsonString(request.id)
    const ip = request.ip as string | undefined
    const time = reply.elapsedTime
    this.stream.write(`{"level":30,"time":${Date.now()}${this.bindings},${this.label.of(idLabel)}:${id},"req":{"method":${this.method.of(request.method)},"url":${this.url.of(request.url)},"id":${id}${ip === undefined ? '' : this.ip.of(ip)}},"res":{"statusCode":${reply.statusCode}},"responseTime":${Number.isFinite(time) ? time : 'null'},"msg":"request completed"}\n`)
  }
}

/** A string's text as `make` writes it, made again only when the string differs from the last one. */
class LastText {
  private value: string | undefined
  private text = ''
  constructor (private readonly make: (value: string) => string) {}
  of (value: string): string {
    if (value !== this.value) {
      this.text = this.make(value)
      this.value = value
    }
    return this.text
  }
}

/**
 * One access line per request, when it completes, with the request, status and time together. Fastify's default
 * adds a second line on arrival: twice the logging on the hot path for no information a completed line lacks.
 * With `line` (the service's own stream, main.ts) the line is written by AccessLine, otherwise through pino.
 */
export class OneLinePerRequest extends LogController {
  /**
   * Writes the access line without the redaction pass (which costs more than the rest of the line): the line holds
   * only what the req and res serializers pick (method, masked URL, id, ip; status), never headers or bodies.
   */
  private access: FastifyBaseLogger | undefined

  constructor (private readonly line?: AccessLine) { super() }

  override incomingRequest (): void {}

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return
    const log = reply.log as FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean }
    if (error) {
      log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored')
      return
    }
    // The request's own logger decides (route levels: health checks log at warn); no pino: nothing to write.
    if (log.isLevelEnabled?.('info') !== true) return
    if (this.line !== undefined) {
      this.line.write(this.requestIdLogLabel, request, reply)
      return
    }
    this.access ??= request.server.log.child({}, { redact: [], level: 'info' })
    this.access.info({ [this.requestIdLogLabel]: request.id, req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed')
  }
}

type ChildLoggerFactory = NonNullable<FastifyServerOptions['childLoggerFactory']>
type Bindings = Parameters<ChildLoggerFactory>[1]
type ChildLoggerOptions = Parameters<ChildLoggerFactory>[2]
type Pino = FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean, levels?: { values: Record<string, number> } }
type Args = Parameters<FastifyBaseLogger['info']>

/**
 * The per-request logger, made on first use. pino's child() serializes and redacts its bindings, which costs more
 * than the rest of a request's logging; most requests write nothing through their own logger (the access line has
 * its own, see OneLinePerRequest). Lines written through it are the child's, bindings and redaction included.
 */
export class LazyRequestLogger implements FastifyBaseLogger {
  private made: Pino | undefined

  constructor (private readonly parent: Pino, private readonly bindings: Bindings, private readonly opts: ChildLoggerOptions) {}

  private get log (): Pino { return (this.made ??= this.parent.child(this.bindings, this.opts)) }

  get level (): string { return this.made?.level ?? this.opts.level ?? this.parent.level }
  set level (level: string) { this.log.level = level }
  isLevelEnabled (level: string): boolean {
    if (this.made !== undefined) return this.made.isLevelEnabled?.(level) ?? true
    // A route's own level (health checks log at warn) is compared without making the child.
    const values = this.parent.levels?.values
    if (this.opts.level !== undefined && values !== undefined) return (values[level] ?? 0) >= (values[this.opts.level] ?? 0)
    return (this.opts.level === undefined ? this.parent : this.log).isLevelEnabled?.(level) ?? true
  }

  fatal (...args: Args): void { this.log.fatal(...args) }
  error (...args: Args): void { this.log.error(...args) }
  warn (...args: Args): void { this.log.warn(...args) }
  info (...args: Args): void { this.log.info(...args) }
  debug (...args: Args): void { this.log.debug(...args) }
  trace (...args: Args): void { this.log.trace(...args) }
  silent (...args: Args): void { this.log.silent(...args) }
  child (bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger { return this.log.child(bindings, options) }
}
