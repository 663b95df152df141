/**
 * Deterministic synthetic Datadog data. Every answer is a pure function of the tool, its arguments and the resolved
 * absolute time range: the same call returns the same data, a narrower query returns a subset, and every timestamp
 * lies inside `[from, to]`.
 */
import type { ToolKind } from "./Catalog.ts"

/** The arguments every tool may take; individual tools read the ones they need. */
export type ToolArgs = Readonly<Record<string, unknown>>

/** A tool result, or an argument error to report as `isError`. */
export type ToolOutcome = { readonly ok: true; readonly data: unknown } | {
  readonly ok: false
  readonly message: string
}

// FNV-1a, 32 bit: a stable seed from a string.
const hash = (text: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h >>> 0
}

// mulberry32: a small seeded PRNG (deterministic; not for secrets).
const prng = (seed: number) => {
  let a = seed >>> 0
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

const pick = <A>(rand: () => number, items: ReadonlyArray<A>): A => items[Math.floor(rand() * items.length)] as A

const hex = (rand: () => number, length: number): string => {
  let out = ""
  for (let i = 0; i < length; i++) out += Math.floor(rand() * 16).toString(16)
  return out
}

const uuid = (seed: string): string => {
  const rand = prng(hash(seed))
  const h = hex(rand, 32)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
}

const services = ["web-store", "checkout", "payments", "auth", "inventory", "shipping"] as const
const hosts = ["i-0a1b2c3d", "i-0e4f5a6b", "i-07c8d9e0", "i-0f1a2b3c", "i-0d4e5f6a"] as const
const envs = ["prod", "staging"] as const
const statuses = ["info", "info", "info", "warn", "error"] as const
const resources = ["GET /cart", "POST /checkout", "GET /products", "POST /login", "GET /health"] as const
const messages = [
  "request completed",
  "cache miss for key",
  "upstream timeout after 5000ms",
  "payment authorised",
  "user session refreshed",
  "connection pool exhausted",
  "order placed"
] as const
const metricNames = [
  "system.cpu.user",
  "system.cpu.system",
  "system.mem.used",
  "system.load.1",
  "trace.http.request.hits",
  "trace.http.request.duration",
  "aws.ec2.cpuutilization",
  "kubernetes.pods.running"
] as const

// ---------------------------------------------------------------------------------------------------------------
// Time range

const units: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/**
 * Parses a Datadog-style time: ISO 8601 (a date alone is midnight UTC), epoch seconds or milliseconds, `now`, or
 * `now-<n><s|m|h|d|w>`. Returns `undefined` when the value is none of these.
 */
export const parseTime = (value: unknown, now: number): number | undefined => {
  if (typeof value === "number" && Number.isFinite(value)) return value < 1e12 ? value * 1000 : value
  if (typeof value !== "string") return undefined
  const text = value.trim()
  if (text === "now") return now
  const relative = /^now-(\d+)([smhdw])$/.exec(text)
  if (relative !== null) return now - Number(relative[1]) * (units[relative[2] as string] as number)
  if (/^\d+$/.test(text)) return parseTime(Number(text), now)
  const parsed = Date.parse(text)
  return Number.isNaN(parsed) ? undefined : parsed
}

/** The resolved `[from, to]` window of a call, default the last hour (`from`/`to` arguments). */
export const timeRange = (
  args: ToolArgs,
  now: number,
  defaultSpanMs = 3_600_000
): { readonly from: number; readonly to: number } | string => {
  const to = args["to"] === undefined ? now : parseTime(args["to"], now)
  if (to === undefined) return `invalid "to": ${JSON.stringify(args["to"])} (ISO 8601, epoch, or now-<n><s|m|h|d|w>)`
  const from = args["from"] === undefined ? to - defaultSpanMs : parseTime(args["from"], now)
  if (from === undefined) {
    return `invalid "from": ${JSON.stringify(args["from"])} (ISO 8601, epoch, or now-<n><s|m|h|d|w>)`
  }
  if (from > to) return `"from" (${new Date(from).toISOString()}) is after "to" (${new Date(to).toISOString()})`
  return { from, to }
}

// ---------------------------------------------------------------------------------------------------------------
// Query matching: `key:value` (value may end with `*`), `-key:value`, and free text words, all ANDed.

type Doc = Readonly<Record<string, unknown>>

const matchValue = (actual: unknown, expected: string): boolean => {
  if (actual === undefined || actual === null) return false
  const text = String(actual).toLowerCase()
  const want = expected.toLowerCase()
  return want.endsWith("*") ? text.startsWith(want.slice(0, -1)) : text === want
}

/** Whether a record matches a Datadog-ish search query; an absent, empty or `*` query matches everything. */
export const matches = (doc: Doc, query: unknown): boolean => {
  if (typeof query !== "string") return true
  const terms = query.trim().split(/\s+/).filter((term) => term !== "" && term !== "*" && term !== "AND")
  return terms.every((term) => {
    const negated = term.startsWith("-")
    const body = negated ? term.slice(1) : term
    const colon = body.indexOf(":")
    const hit = colon > 0
      ? matchValue(doc[body.slice(0, colon)], body.slice(colon + 1))
      : JSON.stringify(doc).toLowerCase().includes(body.toLowerCase())
    return negated ? !hit : hit
  })
}

const limitOf = (args: ToolArgs, fallback: number): number => {
  const raw = args["limit"] ?? args["count"] ?? args["max_results"]
  return typeof raw === "number" && Number.isInteger(raw) && raw > 0 ? Math.min(raw, 1000) : fallback
}

// ---------------------------------------------------------------------------------------------------------------
// Time-series documents (logs, spans, events): a fixed population over the window, filtered by the query.

const eventsIn = (kind: string, from: number, to: number, make: (rand: () => number, ts: number, i: number) => Doc) => {
  // Population: one event per "slot"; slots are aligned to the minute so overlapping windows agree.
  const slotMs = Math.max(60_000, Math.ceil((to - from) / 400 / 60_000) * 60_000)
  const first = Math.ceil(from / slotMs) * slotMs
  const docs: Array<Doc> = []
  for (let slot = first; slot <= to; slot += slotMs) {
    const rand = prng(hash(`${kind}:${slot}`))
    const ts = Math.min(to, slot + Math.floor(rand() * slotMs * 0.9))
    if (ts < from) continue
    docs.push(make(rand, ts, slot))
  }
  return docs.toSorted((a, b) => String(b["timestamp"]).localeCompare(String(a["timestamp"])))
}

const logDoc = (rand: () => number, ts: number, slot: number): Doc => ({
  id: `AQAAAY${hash(`log:${slot}`).toString(36)}`,
  timestamp: new Date(ts).toISOString(),
  service: pick(rand, services),
  host: pick(rand, hosts),
  env: pick(rand, envs),
  status: pick(rand, statuses),
  message: pick(rand, messages)
})

const spanDoc = (rand: () => number, ts: number, slot: number): Doc => {
  const status = rand() < 0.15 ? "error" : "ok"
  return {
    span_id: hash(`span:${slot}`).toString(10),
    trace_id: hex(prng(hash(`trace:${slot}`)), 32),
    timestamp: new Date(ts).toISOString(),
    service: pick(rand, services),
    resource_name: pick(rand, resources),
    env: pick(rand, envs),
    host: pick(rand, hosts),
    status,
    duration_ms: Math.round(rand() * 900 + 5)
  }
}

const eventDoc = (kind: string) => (rand: () => number, ts: number, slot: number): Doc => {
  const service = pick(rand, services)
  const source = pick(rand, ["deployment", "monitor", "infrastructure", "kubernetes"] as const)
  return {
    id: hash(`${kind}:${slot}`).toString(10),
    timestamp: new Date(ts).toISOString(),
    source,
    service,
    env: pick(rand, envs),
    title: source === "deployment"
      ? `Deployed ${service} v1.${Math.floor(rand() * 40)}.0`
      : source === "monitor"
      ? `[Triggered] High error rate on ${service}`
      : `${source} change on ${pick(rand, hosts)}`
  }
}

const searchWindow = (
  kind: string,
  args: ToolArgs,
  now: number,
  make: (rand: () => number, ts: number, i: number) => Doc
): ToolOutcome => {
  const range = timeRange(args, now)
  if (typeof range === "string") return { ok: false, message: range }
  const all = eventsIn(kind, range.from, range.to, make).filter((doc) => matches(doc, args["query"]))
  const limit = limitOf(args, 50)
  return {
    ok: true,
    data: {
      from: new Date(range.from).toISOString(),
      to: new Date(range.to).toISOString(),
      query: args["query"] ?? "*",
      total: all.length,
      data: all.slice(0, limit)
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Static populations (monitors, dashboards, hosts, ...), filtered by the query.

const population = (kind: string, size: number, make: (rand: () => number, i: number) => Doc): ReadonlyArray<Doc> =>
  Array.from({ length: size }, (_, i) => make(prng(hash(`${kind}:${i}`)), i))

const monitors = population("monitor", 24, (rand, i) => {
  const service = pick(rand, services)
  const metric = pick(rand, ["error rate", "p99 latency", "CPU", "memory", "queue depth"] as const)
  return {
    id: 1_000_000 + i,
    name: `${metric} on ${service}`,
    type: metric === "error rate" || metric === "p99 latency" ? "query alert" : "metric alert",
    status: pick(rand, ["OK", "OK", "OK", "Alert", "Warn", "No Data"] as const),
    service,
    env: pick(rand, envs),
    query: `avg(last_5m):avg:system.cpu.user{service:${service}} > ${70 + Math.floor(rand() * 25)}`,
    thresholds: { critical: 90, warning: 80 }
  }
})

const dashboards = population("dashboard", 12, (rand, i) => {
  const service = services[i % services.length] as string
  return {
    id: `${hex(rand, 3)}-${hex(rand, 3)}-${hex(rand, 3)}`,
    title: `${service} ${pick(rand, ["overview", "latency", "errors", "capacity"] as const)}`,
    service,
    author_handle: "jane@example.com",
    url: `/dashboard/${i}`,
    widgets: Math.floor(rand() * 12) + 2
  }
})

const hostDocs = hosts.map((name, i) => {
  const rand = prng(hash(`host:${name}`))
  return {
    name,
    id: 5_000 + i,
    env: pick(rand, envs),
    service: pick(rand, services),
    cloud_provider: "aws",
    instance_type: pick(rand, ["m6i.large", "c6g.xlarge", "t3.medium"] as const),
    up: rand() > 0.1,
    cpu_pct: Math.round(rand() * 1000) / 10
  }
})

const incidents = population("incident", 10, (rand, i) => ({
  id: uuid(`incident:${i}`),
  public_id: 100 + i,
  title: `${pick(rand, ["Elevated 5xx", "Checkout latency", "Login failures", "Queue backlog"] as const)} on ${
    pick(rand, services)
  }`,
  state: pick(rand, ["active", "stable", "resolved", "resolved"] as const),
  severity: pick(rand, ["SEV-1", "SEV-2", "SEV-3", "SEV-4"] as const),
  created: new Date(Date.UTC(2026, 10, 1 + i * 2, 8 + i)).toISOString()
}))

const notebooks = population("notebook", 8, (rand, i) => ({
  id: 9_000 + i,
  name: `${pick(rand, ["Postmortem", "Investigation", "Runbook"] as const)}: ${pick(rand, services)}`,
  author_handle: "jane@example.com",
  cells: Math.floor(rand() * 8) + 1
}))

const serviceDocs = services.map((name, i) => ({
  name,
  team: pick(prng(hash(`team:${name}`)), ["shop", "platform", "identity"] as const),
  language: ["node", "go", "java", "python", "go", "ruby"][i],
  tier: i < 3 ? 1 : 2,
  downstream: services.filter((_, j) => j > i && (i + j) % 2 === 1)
}))

const listOf = (docs: ReadonlyArray<Doc>, args: ToolArgs): ToolOutcome => {
  const all = docs.filter((doc) => matches(doc, args["query"]))
  return { ok: true, data: { query: args["query"] ?? "*", total: all.length, data: all.slice(0, limitOf(args, 50)) } }
}

const byId = (docs: ReadonlyArray<Doc>, what: string, id: unknown): ToolOutcome => {
  const found = docs.find((doc) => String(doc["id"]) === String(id) || String(doc["public_id"]) === String(id))
  return found === undefined
    ? { ok: false, message: `${what} ${JSON.stringify(id)} not found` }
    : { ok: true, data: found }
}

// ---------------------------------------------------------------------------------------------------------------
// Metrics

const metricSeries = (args: ToolArgs, now: number): ToolOutcome => {
  const range = timeRange(args, now)
  if (typeof range === "string") return { ok: false, message: range }
  const raw = args["queries"] ?? args["query"]
  const queries = Array.isArray(raw) ? raw.map(String) : typeof raw === "string" ? [raw] : []
  if (queries.length === 0) return { ok: false, message: `"queries" is required, e.g. "avg:system.cpu.user{*}"` }
  const points = 60
  const interval = Math.max(1_000, Math.floor((range.to - range.from) / points))
  return {
    ok: true,
    data: {
      from: new Date(range.from).toISOString(),
      to: new Date(range.to).toISOString(),
      interval_ms: interval,
      series: queries.map((query) => {
        const seed = hash(query)
        const base = 20 + (seed % 60)
        const series: Array<[number, number]> = []
        // Points are aligned to the interval so that every timestamp lies in [from, to].
        for (let ts = Math.ceil(range.from / interval) * interval; ts <= range.to; ts += interval) {
          const noise = prng(hash(`${query}:${ts}`))()
          series.push([ts, Math.round((base + 10 * Math.sin(ts / 3_600_000) + noise * 5) * 100) / 100])
        }
        return { query, metric: /:([^{]+)/.exec(query)?.[1] ?? query, pointlist: series }
      })
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------

/** Runs the synthetic handler of a tool kind. `now` is the wall clock in ms, used only for relative times. */
export const run = (tool: string, kind: ToolKind, args: ToolArgs, now: number): ToolOutcome => {
  switch (kind) {
    case "logs":
      return searchWindow("log", args, now, logDoc)
    case "logs-analyze": {
      const range = timeRange(args, now)
      if (typeof range === "string") return { ok: false, message: range }
      const logs = eventsIn("log", range.from, range.to, logDoc).filter((doc) => matches(doc, args["filter"]))
      const counts: Record<string, number> = {}
      for (const doc of logs) {
        counts[`${doc["service"]}|${doc["status"]}`] = (counts[`${doc["service"]}|${doc["status"]}`] ?? 0) + 1
      }
      return {
        ok: true,
        data: {
          sql: args["sql_query"] ?? null,
          columns: ["service", "status", "count"],
          rows: Object.entries(counts).toSorted(([a], [b]) => a.localeCompare(b)).map((
            [key, count]
          ) => [...key.split("|"), count])
        }
      }
    }
    case "metric":
      return metricSeries(args, now)
    case "metrics":
      return listOf(metricNames.map((name) => ({ name, type: name.includes("hits") ? "count" : "gauge" })), args)
    case "metric-context": {
      const name = args["metric_name"]
      if (typeof name !== "string") return { ok: false, message: `"metric_name" is required` }
      return {
        ok: true,
        data: {
          metric_name: name,
          type: "gauge",
          unit: name.includes("cpu") ? "percent" : null,
          tags: { service: [...services], env: [...envs], host: [...hosts] }
        }
      }
    }
    case "monitors":
      return listOf(monitors, args)
    case "trace": {
      const traceId = args["trace_id"]
      if (typeof traceId !== "string" || traceId === "") return { ok: false, message: `"trace_id" is required` }
      const rand = prng(hash(`trace:${traceId}`))
      const start = Date.UTC(2026, 11, 1) + Math.floor(rand() * 86_400_000)
      const spans = Array.from({ length: 3 + Math.floor(rand() * 5) }, (_, i) => ({
        span_id: hash(`${traceId}:${i}`).toString(10),
        parent_id: i === 0 ? null : hash(`${traceId}:${Math.floor((i - 1) / 2)}`).toString(10),
        service: pick(rand, services),
        resource_name: pick(rand, resources),
        start: new Date(start + i * 7).toISOString(),
        duration_ms: Math.round(rand() * 200 + 1)
      }))
      return { ok: true, data: { trace_id: traceId, spans } }
    }
    case "spans":
      return searchWindow("span", args, now, spanDoc)
    case "events":
      return searchWindow(tool, args, now, eventDoc(tool))
    case "aggregate": {
      const range = timeRange(args, now)
      if (typeof range === "string") return { ok: false, message: range }
      const groupBy = typeof args["group_by"] === "string" ? args["group_by"] : "service"
      const docs = eventsIn(
        tool === "aggregate_spans" ? "span" : tool,
        range.from,
        range.to,
        tool === "aggregate_spans" ? spanDoc : eventDoc(tool)
      )
        .filter((doc) => matches(doc, args["query"]))
      const buckets: Record<string, number> = {}
      for (const doc of docs) buckets[String(doc[groupBy] ?? "n/a")] = (buckets[String(doc[groupBy] ?? "n/a")] ?? 0) + 1
      return { ok: true, data: { group_by: groupBy, total: docs.length, buckets } }
    }
    case "dashboards":
      return listOf(dashboards, args)
    case "dashboard":
      return byId(dashboards, "dashboard", args["dashboard_id"] ?? args["id"])
    case "hosts":
      return listOf(hostDocs, args)
    case "incidents":
      return listOf(incidents, args)
    case "incident":
      return byId(incidents, "incident", args["incident_id"] ?? args["id"])
    case "notebooks":
      return listOf(notebooks, args)
    case "notebook":
      return byId(notebooks, "notebook", args["notebook_id"] ?? args["id"])
    case "services":
      return listOf(serviceDocs, args)
    case "service-deps": {
      const service = args["service"]
      const found = serviceDocs.find((doc) => doc.name === service)
      if (found === undefined) return { ok: false, message: `service ${JSON.stringify(service)} not found` }
      const direction = args["direction"] === "upstream" ? "upstream" : "downstream"
      const deps = direction === "downstream"
        ? found.downstream
        : serviceDocs.filter((doc) => doc.downstream.includes(found.name)).map((doc) => doc.name)
      return { ok: true, data: { service: found.name, direction, dependencies: deps } }
    }
    case "docs":
      return {
        ok: true,
        data: {
          query: args["query"] ?? "",
          results: [
            {
              title: "Getting started with the Datadog MCP server",
              url: "https://docs.datadoghq.com/bits_ai/mcp_server/"
            },
            { title: "Log search syntax", url: "https://docs.datadoghq.com/logs/explorer/search_syntax/" }
          ]
        }
      }
    case "write": {
      const key = JSON.stringify(args)
      return {
        ok: true,
        data: {
          tool,
          id: typeof args["id"] === "string" || typeof args["id"] === "number" ? args["id"] : uuid(`${tool}:${key}`),
          status: "ok",
          applied: args
        }
      }
    }
    case "generic-search": {
      const rand = prng(hash(tool))
      const docs = Array.from({ length: 10 }, (_, i) => ({
        id: uuid(`${tool}:${i}`),
        name: `${tool.replace(/_/g, " ")} #${i}`,
        service: pick(rand, services)
      }))
      return listOf(docs, args)
    }
    case "generic-get":
      return {
        ok: true,
        data: {
          tool,
          id: args["id"] ?? null,
          result: `synthetic result of ${tool}`,
          seed: hash(`${tool}:${JSON.stringify(args)}`)
        }
      }
  }
}

/** The whoami resource of the sandbox's test account. */
export const whoami = (account: { readonly sub: string; readonly email: string; readonly name: string }) => ({
  user_uuid: account.sub,
  org_uuid: "22222222-2222-4222-a222-222222222222",
  user_email: account.email,
  user_name: account.name,
  org_name: "Sandbox Org",
  dd_site: "sandbox.localhost"
})
