// Speed trick (docs/performance.md, "Speed tricks"): http_request_duration_seconds kept in nested maps (route,
// method, status) instead of prom-client's Histogram, whose observe() joins the label values into a string and looks
// it up in a dictionary on every request. prom-client's registry reads it when scraped, in the shape its own
// Histogram gives (get(); test/metrics.test.ts compares the two expositions byte for byte).
import type { Histogram, Registry } from 'prom-client'

type Labels = 'method' | 'route' | 'status'
interface Value { labels: Record<string, string | number>, value: number, metricName: string }
interface Series { labels: Record<Labels, string | number>, counts: Float64Array, sum: number, count: number }

class RequestDurations {
  readonly type = 'histogram' as const
  readonly aggregator = 'sum' as const
  private readonly series = new Map<string, Map<string, Map<number, Series>>>()
  /** Every series, in the order of its first observation (the order prom-client exposes them in). */
  private all: Series[] = []

  constructor (readonly name: string, readonly help: string, private readonly buckets: readonly number[]) {}

  observe (method: string, route: string, status: number, seconds: number): void {
    // As prom-client's observe(): a value that is not a number would poison the series' sum for good.
    if (!Number.isFinite(seconds)) throw new TypeError(`Value is not a valid number: ${seconds}`)
    let byMethod = this.series.get(route)
    if (byMethod === undefined) this.series.set(route, (byMethod = new Map()))
    let byStatus = byMethod.get(method)
    if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()))
    let s = byStatus.get(status)
    if (s === undefined) {
      s = { labels: { method, route, status }, counts: new Float64Array(this.buckets.length), sum: 0, count: 0 }
      byStatus.set(status, s)
      this.all.push(s)
    }
    // The first bucket the value fits (prom-client's rule: value <= bound); above the last, only +Inf counts it.
    let i = 0
    while (i < this.buckets.length && seconds > this.buckets[i]!) i++
    if (i < this.buckets.length) s.counts[i]!++
    s.sum += seconds
    s.count++
  }

  get (): { name: string, help: string, type: 'histogram', values: Value[], aggregator: 'sum' } {
    const values: Value[] = []
    for (const s of this.all) {
      let acc = 0
      this.buckets.forEach((le, i) => {
        acc += s.counts[i]!
        values.push({ labels: { le, ...s.labels }, value: acc, metricName: `${this.name}_bucket` })
      })
      values.push({ labels: { le: '+Inf', ...s.labels }, value: s.count, metricName: `${this.name}_bucket` })
      values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` })
      values.push({ labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }

  reset (): void {
    this.series.clear()
    this.all = []
  }

  /** What prom-client's Registry.registerMetric takes (it reads name, type, help, aggregator, get() and reset()). */
  asMetric (): Histogram<Labels> { return this as unknown as Histogram<Labels> }
}

/** Registers the request histogram in `registry`; observe(method, route, status, seconds) counts a request. */
export function requestDurations (registry: Registry, name: string, help: string, buckets: readonly number[]): Pick<RequestDurations, 'observe'> {
  const durations = new RequestDurations(name, help, buckets)
  registry.registerMetric(durations.asMetric())
  return durations
}
