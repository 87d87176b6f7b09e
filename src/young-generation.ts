// V8's young generation, sized for the mode (docs/performance.md, "Peak RSS"). Development streams uploads through
// the process: with V8's default, the young generation grows to 16 MiB per semi-space while the service starts, and
// with the garbage socket buffers of concurrent uploads the peak grew past its target; held at its starting size it
// stays under it at the same upload speed (figures: docs/performance.md). Production keeps the default: uploads go
// straight to S3 there, and tickets, its hot path, take more CPU with a small young generation. V8 reads the growth factor each time
// it would grow the young generation, so it can be set from inside the process; it raises a factor below 2 when it
// sets up a heap, though, so a Worker started later would undo it (the service starts none; /metrics shows the
// young generation's size as nodejs_heap_space_size_total_bytes{space="new"}).

import type { Mode } from './mode.js'

/**
 * Node flags that size the young generation: when the operator gives one, the service leaves it to them. (Node
 * takes only --max-semi-space-size in NODE_OPTIONS; the other two work on the command line.)
 */
const SIZING = /--(max|min)[-_]semi[-_]space[-_]size|--semi[-_]space[-_]growth[-_]factor/

/** The V8 flag to set before anything else is loaded, if any: growth stopped, in development only. */
export function youngGenerationFlag (mode: Mode, execArgv: readonly string[], nodeOptions = ''): string | undefined {
  if (mode !== 'development') return undefined
  if (execArgv.some((arg) => SIZING.test(arg)) || SIZING.test(nodeOptions)) return undefined
  return '--semi-space-growth-factor=1'
}
