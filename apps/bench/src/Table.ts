/**
 * The stdout table: one row per figure, with its baseline, the ratio and the target's status.
 */

export interface Row {
  readonly id: string
  readonly measure: string
  readonly ours: string
  readonly baseline: string
  readonly ratio: string
  readonly target: string
  readonly status: string
}

const headers: Row = {
  id: "#",
  measure: "measure",
  ours: "mcpauth",
  baseline: "baseline",
  ratio: "ratio",
  target: "target",
  status: "status"
}
const columns = Object.keys(headers) as ReadonlyArray<keyof Row>

/** A Markdown table (readable as is on a terminal, pasteable into the README). */
export const renderTable = (rows: ReadonlyArray<Row>): string => {
  const all = [headers, ...rows]
  const width = (c: keyof Row) => Math.max(...all.map((r) => r[c].length))
  const line = (r: Row) => `| ${columns.map((c) => r[c].padEnd(width(c))).join(" | ")} |`
  const rule = `|${columns.map((c) => "-".repeat(width(c) + 2)).join("|")}|`
  return [line(headers), rule, ...rows.map(line)].join("\n")
}
