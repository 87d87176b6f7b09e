// Speed trick (docs/performance.md, "Speed tricks"): log lines handed to the output in blocks instead of one by one,
// each write being a system call on the request path. A block goes out once it holds `bytes` characters, or `ms`
// after its first line; whatever is pending goes out on exit, so an exception that ends the process loses no line;
// only a process killed outright loses the last `ms`. Failures are the output's (logger.ts, safeOutput).
import type { LogStream } from '../logger.js'

/** `output`, written a block at a time. */
export function inBlocks (output: LogStream, limits: { bytes: number, ms: number }): LogStream {
  let pending = ''
  let timer: NodeJS.Timeout | undefined
  const flush = () => {
    if (timer !== undefined) { clearTimeout(timer); timer = undefined }
    if (pending === '') return
    const block = pending
    pending = ''
    output.write(block)
  }
  process.on('exit', flush)
  return {
    write (line) {
      pending += line
      if (pending.length >= limits.bytes) flush()
      else timer ??= setTimeout(flush, limits.ms).unref()
    },
    ...(output.failures !== undefined ? { failures: output.failures } : {})
  }
}
