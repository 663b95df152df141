import { assert, describe, it } from "@effect/vitest"
import { select } from "../src/Catalog.ts"
import { matches, parseTime, run, timeRange } from "../src/SyntheticData.ts"

const now = Date.parse("2026-12-01T12:00:00Z")
const data = (outcome: ReturnType<typeof run>) => {
  assert.isTrue(outcome.ok)
  return (outcome as { data: { data: ReadonlyArray<Record<string, unknown>>; total: number } }).data
}

describe("synthetic data", () => {
  it("parses ISO, date-only (midnight UTC), epoch seconds/ms and now-<n><unit>", () => {
    assert.strictEqual(parseTime("2026-11-30", now), Date.parse("2026-11-30T00:00:00Z"))
    assert.strictEqual(parseTime(1_796_000_000, now), 1_796_000_000_000)
    assert.strictEqual(parseTime("1796000000000", now), 1_796_000_000_000)
    assert.strictEqual(parseTime("now-15m", now), now - 15 * 60_000)
    assert.strictEqual(parseTime("now", now), now)
    assert.isUndefined(parseTime("yesterday-ish", now))
    assert.isString(timeRange({ from: "2026-12-02", to: "2026-12-01" }, now))
  })

  it("is deterministic and keeps every log inside [from, to]", () => {
    const args = { from: "2026-11-01T00:00:00Z", to: "2026-11-01T06:00:00Z", limit: 1000 }
    const a = data(run("search_datadog_logs", "logs", args, now))
    const b = data(run("search_datadog_logs", "logs", args, now + 86_400_000))
    assert.deepStrictEqual(a, b)
    assert.isAbove(a.total, 100)
    for (const log of a.data) {
      const ts = Date.parse(String(log["timestamp"]))
      assert.isAtLeast(ts, Date.parse(args.from))
      assert.isAtMost(ts, Date.parse(args.to))
    }
  })

  it("a narrower query returns exactly the matching subset", () => {
    const range = { from: "2026-11-01T00:00:00Z", to: "2026-11-02T00:00:00Z", limit: 1000 }
    const all = data(run("search_datadog_spans", "spans", range, now))
    const errors = data(run("search_datadog_spans", "spans", { ...range, query: "service:payments status:error" }, now))
    const expected = all.data.filter((s) => s["service"] === "payments" && s["status"] === "error")
    assert.isAbove(expected.length, 0)
    assert.deepStrictEqual(errors.data, expected)
    const negated = data(run("search_datadog_spans", "spans", { ...range, query: "-service:payments" }, now))
    assert.strictEqual(negated.total + all.data.filter((s) => s["service"] === "payments").length, all.total)
  })

  it("metric points lie in the range and depend on the query", () => {
    const args = { queries: "avg:system.cpu.user{service:web-store}", from: "now-2h", to: "now" }
    const outcome = run("get_datadog_metric", "metric", args, now)
    assert.isTrue(outcome.ok)
    const series = (outcome as { data: { series: ReadonlyArray<{ pointlist: ReadonlyArray<[number, number]> }> } }).data
      .series
    const points = series[0]?.pointlist ?? []
    assert.isAbove(points.length, 10)
    for (const [ts] of points) {
      assert.isAtLeast(ts, now - 7_200_000)
      assert.isAtMost(ts, now)
    }
    const other = run("get_datadog_metric", "metric", { ...args, queries: "avg:system.mem.used{*}" }, now)
    assert.notDeepEqual(other, outcome)
  })

  it("reports bad arguments as errors that name the argument", () => {
    const bad = run("search_datadog_logs", "logs", { from: "garbage" }, now)
    assert.isFalse(bad.ok)
    assert.include((bad as { message: string }).message, `"from"`)
    assert.isFalse(run("get_datadog_incident", "incident", { incident_id: "nope" }, now).ok)
  })

  it("matches key:value, prefix wildcards and free text", () => {
    const doc = { service: "checkout", message: "upstream timeout after 5000ms" }
    assert.isTrue(matches(doc, "service:check*"))
    assert.isTrue(matches(doc, "timeout"))
    assert.isFalse(matches(doc, "service:payments"))
    assert.isTrue(matches(doc, undefined))
  })

  it("resolves toolsets: default core, 'all', omit_tools, unknown toolset", () => {
    const core = select(undefined, undefined)
    assert.strictEqual(core._tag, "Ok")
    const all = select("all", "search_datadog_logs,not_a_tool")
    assert.strictEqual(all._tag, "Ok")
    if (all._tag === "Ok" && core._tag === "Ok") {
      assert.isAbove(all.tools.length, core.tools.length)
      assert.isFalse(all.tools.some((t) => t.name === "search_datadog_logs"))
      assert.deepStrictEqual(all.unknownOmitted, ["not_a_tool"])
    }
    assert.deepStrictEqual(select("core,bogus", undefined), { _tag: "UnknownToolset", names: ["bogus"] })
  })
})
