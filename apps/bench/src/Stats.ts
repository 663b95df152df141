/**
 * Small, dependency-free statistics for the benchmark figures: every timing is summarised the same way, and every
 * comparison is a ratio to a baseline measured in the same run (the machines are shared and noisy).
 */

export interface Summary {
  readonly n: number
  readonly median: number
  readonly p10: number
  readonly p90: number
  readonly mean: number
  readonly min: number
  readonly max: number
}

/** The q-quantile (0..1) of sorted samples, linearly interpolated. */
const quantileSorted = (sorted: ReadonlyArray<number>, q: number): number => {
  if (sorted.length === 0) return Number.NaN
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  const a = sorted[lo] ?? Number.NaN
  const b = sorted[hi] ?? Number.NaN
  return a + (b - a) * (pos - lo)
}

export const summarize = (samples: ReadonlyArray<number>): Summary => {
  const sorted = samples.toSorted((a, b) => a - b)
  const sum = sorted.reduce((s, x) => s + x, 0)
  return {
    n: sorted.length,
    median: quantileSorted(sorted, 0.5),
    p10: quantileSorted(sorted, 0.1),
    p90: quantileSorted(sorted, 0.9),
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN
  }
}

export const median = (samples: ReadonlyArray<number>): number => summarize(samples).median

/** ours / baseline; NaN when the baseline is zero or missing. */
export const ratio = (ours: number, baseline: number): number =>
  Number.isFinite(ours) && Number.isFinite(baseline) && baseline !== 0 ? ours / baseline : Number.NaN

export const round = (x: number, digits = 2): number => {
  if (!Number.isFinite(x)) return x
  const f = 10 ** digits
  return Math.round(x * f) / f
}
