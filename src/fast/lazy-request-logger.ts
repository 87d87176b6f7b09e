// Speed trick (docs/performance.md, "Speed tricks"): the per-request logger made on first use. pino's child()
// serializes and redacts its bindings for every request, and most requests write nothing through their own logger
// (the access line is written by fast/access-line.ts). Lines written through it are the child's, bindings and
// redaction included.
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify'

type ChildLoggerFactory = NonNullable<FastifyServerOptions['childLoggerFactory']>
type Bindings = Parameters<ChildLoggerFactory>[1]
type ChildLoggerOptions = Parameters<ChildLoggerFactory>[2]
type Pino = FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean, levels?: { values: Record<string, number> } }
type Args = Parameters<FastifyBaseLogger['info']>

/** Fastify's childLoggerFactory: a logger that calls the parent's child() only when something uses it. */
export const lazyChildLogger = (parent: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions): FastifyBaseLogger =>
  new LazyRequestLogger(parent as Pino, bindings, opts)

class LazyRequestLogger implements FastifyBaseLogger {
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
