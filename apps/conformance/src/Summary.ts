/**
 * Per-scenario counts from the conformance suite's per-check JSON (`checks.json`: an array of checks, each with a
 * `status` of `SUCCESS`, `FAILURE`, `WARNING` or `INFO`).
 */

/** The checks of one scenario as read from disk. */
export interface ScenarioChecks {
  readonly name: string
  readonly checks: ReadonlyArray<unknown>
}

/** One row of the summary. */
export interface ScenarioSummary {
  readonly name: string
  readonly passed: number
  readonly failed: number
  readonly warnings: number
}

/** The summary document (`conformance-summary.json`). */
export interface Summary {
  readonly scenarios: ReadonlyArray<ScenarioSummary>
  readonly passed: number
  readonly failed: number
  readonly warnings: number
}

const statusOf = (check: unknown): string =>
  typeof check === "object" && check !== null && typeof (check as { status?: unknown }).status === "string"
    ? (check as { status: string }).status
    : "MALFORMED"

/**
 * Counts SUCCESS, FAILURE and WARNING per scenario (INFO is neither); a check without a status counts as failed.
 */
export const summarize = (results: ReadonlyArray<ScenarioChecks>): Summary => {
  const scenarios = results.map((r): ScenarioSummary => {
    const statuses = r.checks.map(statusOf)
    return {
      name: r.name,
      passed: statuses.filter((s) => s === "SUCCESS").length,
      failed: statuses.filter((s) => s === "FAILURE" || s === "MALFORMED").length,
      warnings: statuses.filter((s) => s === "WARNING").length
    }
  })
  return {
    scenarios,
    passed: scenarios.reduce((n, s) => n + s.passed, 0),
    failed: scenarios.reduce((n, s) => n + s.failed, 0),
    warnings: scenarios.reduce((n, s) => n + s.warnings, 0)
  }
}

/** A plain-text table: one row per scenario, then the totals. */
export const toTable = (summary: Summary): string => {
  const width = Math.max(8, ...summary.scenarios.map((s) => s.name.length))
  const row = (name: string, p: string | number, f: string | number, w: string | number, mark: string) =>
    `${mark} ${name.padEnd(width)}  ${String(p).padStart(6)}  ${String(f).padStart(6)}  ${String(w).padStart(8)}`
  return [
    row("scenario", "passed", "failed", "warnings", " "),
    ...summary.scenarios.map((s) =>
      row(s.name, s.passed, s.failed, s.warnings, s.failed === 0 && s.warnings === 0 ? "✓" : "✗")
    ),
    row("total", summary.passed, summary.failed, summary.warnings, " ")
  ].join("\n")
}
