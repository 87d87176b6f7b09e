// Small statistics for the bench's figures.

export function percentile (values: number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number
}

export const median = (values: number[]) => percentile(values, 50)

/** One line of the results table. `ratio` is service ÷ baseline (higher is better) unless the unit says otherwise. */
export interface Row {
  id: string
  label: string
  unit: string
  service: number
  baseline?: number
  ratio?: number
  /** The target as text, and whether it was met. */
  target?: string
  met?: boolean
  /** Per-round figures, for results.json. */
  rounds?: unknown[]
}

/**
 * The row of a section measured in alternating rounds: medians of the service's and the baseline's figures, and
 * the median of the per-round ratios checked against `minRatio`.
 */
export function ratioRow (id: string, label: string, unit: string, minRatio: number, rounds: Array<{ service: number, bare: number, ratio: number }>, extra: unknown[] = rounds): Row {
  const ratio = median(rounds.map((x) => x.ratio))
  return {
    id,
    label,
    unit,
    service: median(rounds.map((x) => x.service)),
    baseline: median(rounds.map((x) => x.bare)),
    ratio,
    target: `≥ ${minRatio}×`,
    met: ratio >= minRatio,
    rounds: extra
  }
}
