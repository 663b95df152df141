import { assert, describe, it } from "@effect/vitest"
import { DatadogConfig, DatadogMcp, McpFetch } from "@mcpauth/mcp-datadog"
import { Context, Effect, Layer, Redacted } from "effect"
import { reasonOf } from "./support/Errors.ts"
import { API_KEY, APP_KEY, PAT, sandbox } from "./support/Sandbox.ts"

/** Loads the configuration from an environment record and connects with the headless layer it selects. */
const connectWith = (env: Record<string, string>, options: Omit<DatadogMcp.Options, "url"> = {}) =>
  Effect.gen(function*() {
    const config = yield* DatadogConfig.load({ env, dotEnvPath: false })
    const context = yield* Layer.build(DatadogMcp.layerHeadless(config, options))
    return {
      dd: Context.get(context, DatadogMcp.DatadogMcp),
      config
    }
  })

const textOf = (result: { readonly content: ReadonlyArray<{ readonly type: string; readonly text?: string }> }) =>
  result.content.map((c) => c.text ?? "").join("")

describe("against the sandbox (apps/sandbox, datadog profile)", () => {
  it.effect("API-key mode: connect, listTools, callTool, whoami, the toolsets resource", () =>
    Effect.gen(function*() {
      const s = yield* sandbox({ apiKey: API_KEY, appKey: APP_KEY, rateLimit: false })
      const { dd } = yield* connectWith({ DATADOG_MCP_URL: s.mcpUrl, DD_API_KEY: API_KEY, DD_APPLICATION_KEY: APP_KEY })
      assert.strictEqual(dd.transport, "streamable-http")
      assert.strictEqual(dd.mode, "api-key")
      const names = (yield* dd.listTools).map((t) => t.name)
      for (const core of ["search_datadog_logs", "get_datadog_metric", "search_datadog_monitors"]) {
        assert.include(names, core)
      }
      const logs = yield* dd.callTool("search_datadog_logs", { query: "service:web-store", from: "now-1h" })
      assert.isAbove(textOf(logs).length, 0)
      const me = yield* dd.whoami
      assert.strictEqual(me.org_name, "Sandbox Org")
      assert.strictEqual(me.user_uuid, "api-key")
      const toolsets = yield* dd.readResource("datadog://mcp/toolsets")
      assert.strictEqual(toolsets.contents[0]?.uri, "datadog://mcp/toolsets")
      // a tool's own error is a typed ToolError carrying the server's message
      const reason = reasonOf(yield* Effect.exit(dd.callTool("get_datadog_trace", {})))
      assert.strictEqual(reason._tag, "ToolError")
      assert.include(reason.message, "trace_id")
      // the server saw the MCP session and nothing but loopback paths without credentials
      assert.isTrue(s.stats().requests.every((r) => !r.path.includes("s3cret")))
    }).pipe(Effect.scoped))

  it.effect("toolsets filtering: DATADOG_MCP_TOOLSETS and DATADOG_MCP_OMIT_TOOLS choose the tools", () =>
    Effect.gen(function*() {
      const s = yield* sandbox({ apiKey: API_KEY, appKey: APP_KEY, rateLimit: false })
      const base = { DATADOG_MCP_URL: s.mcpUrl, DD_API_KEY: API_KEY, DD_APPLICATION_KEY: APP_KEY }
      const core = (yield* (yield* connectWith(base)).dd.listTools).map((t) => t.name)
      const { dd } = yield* connectWith({
        ...base,
        DATADOG_MCP_TOOLSETS: "core,alerting",
        DATADOG_MCP_OMIT_TOOLS: "search_datadog_docs"
      })
      const names = (yield* dd.listTools).map((t) => t.name)
      assert.include(names, "search_datadog_slos")
      assert.notInclude(core, "search_datadog_slos")
      assert.include(core, "search_datadog_docs")
      assert.notInclude(names, "search_datadog_docs")
      const content = (yield* dd.readResource("datadog://mcp/toolsets")).contents[0]
      const catalog = JSON.parse(content !== undefined && "text" in content ? content.text : "null")
      const enabled = (catalog.toolsets as ReadonlyArray<{ name: string; enabled: boolean }>)
        .filter((t) => t.enabled).map((t) => t.name)
      assert.deepStrictEqual(enabled.toSorted(), ["alerting", "core"])
    }).pipe(Effect.scoped))

  it.effect("an unknown toolset is warned about, still sent, and the server's refusal is a typed error", () =>
    Effect.gen(function*() {
      const s = yield* sandbox({ apiKey: API_KEY, appKey: APP_KEY, rateLimit: false })
      const exit = yield* Effect.exit(
        connectWith({
          DATADOG_MCP_URL: s.mcpUrl,
          DD_API_KEY: API_KEY,
          DD_APPLICATION_KEY: APP_KEY,
          DATADOG_MCP_TOOLSETS: "core,no-such-set"
        })
      )
      const reason = reasonOf(exit)
      assert.strictEqual(reason._tag, "UnexpectedStatus")
      if (reason._tag === "UnexpectedStatus") assert.strictEqual(reason.status, 400)
      assert.include(reason.message, "no-such-set")
    }).pipe(Effect.scoped))

  it.effect("wrong keys: a typed AuthFailed (HTTP 401), no key in the message", () =>
    Effect.gen(function*() {
      const s = yield* sandbox({ apiKey: API_KEY, appKey: APP_KEY, rateLimit: false })
      const reason = reasonOf(
        yield* Effect.exit(
          connectWith({ DATADOG_MCP_URL: s.mcpUrl, DD_API_KEY: API_KEY, DD_APPLICATION_KEY: "wrong-s3cret" })
        )
      )
      assert.strictEqual(reason._tag, "AuthFailed")
      if (reason._tag === "AuthFailed") {
        assert.strictEqual(reason.status, 401)
        assert.strictEqual(reason.mode, "api-key")
      }
      assert.notInclude(reason.message, "s3cret")
    }).pipe(Effect.scoped))

  it.effect("access-token mode with a personal access token; a wrong token is AuthFailed", () =>
    Effect.gen(function*() {
      const s = yield* sandbox({ personalAccessToken: PAT, rateLimit: false })
      const { dd } = yield* connectWith({ DATADOG_MCP_URL: s.mcpUrl, DATADOG_ACCESS_TOKEN: PAT })
      assert.strictEqual(dd.mode, "access-token")
      assert.isAbove((yield* dd.listTools).length, 5)
      const reason = reasonOf(
        yield* Effect.exit(connectWith({ DATADOG_MCP_URL: s.mcpUrl, DATADOG_ACCESS_TOKEN: "wrong-s3cret" }))
      )
      assert.strictEqual(reason._tag, "AuthFailed")
    }).pipe(Effect.scoped))

  it.effect("the legacy path /api/unstable/mcp-server/mcp works the same", () =>
    Effect.gen(function*() {
      const s = yield* sandbox({ apiKey: API_KEY, appKey: APP_KEY, rateLimit: false })
      const { dd } = yield* connectWith({
        DATADOG_MCP_URL: s.legacyMcpUrl,
        DD_API_KEY: API_KEY,
        DD_APPLICATION_KEY: APP_KEY
      })
      assert.strictEqual((yield* dd.whoami).org_name, "Sandbox Org")
    }).pipe(Effect.scoped))

  it.live("RFC 6585 §4: the sandbox's 429 with Retry-After is waited out and the call then succeeds", () =>
    Effect.gen(function*() {
      const s = yield* sandbox({ apiKey: API_KEY, appKey: APP_KEY, rateLimit: { max: 2, windowMs: 1500 } })
      const { dd } = yield* connectWith({ DATADOG_MCP_URL: s.mcpUrl, DD_API_KEY: API_KEY, DD_APPLICATION_KEY: APP_KEY })
      for (let i = 0; i < 3; i++) yield* dd.callTool("search_datadog_monitors", { query: `n:${i}` })
      const statuses = s.stats().requests.map((r) => r.status)
      assert.strictEqual(statuses.filter((x) => x === 429).length, 1)
    }).pipe(Effect.scoped))

  it.live("a Retry-After beyond the per-wait limit is a typed RateLimited at once; so is running out of waits", () =>
    Effect.gen(function*() {
      const s = yield* sandbox({ apiKey: API_KEY, appKey: APP_KEY, rateLimit: { max: 1, windowMs: 60_000 } })
      const { dd } = yield* connectWith({ DATADOG_MCP_URL: s.mcpUrl, DD_API_KEY: API_KEY, DD_APPLICATION_KEY: APP_KEY })
      yield* dd.callTool("search_datadog_monitors", {})
      const started = Date.now()
      const reason = reasonOf(yield* Effect.exit(dd.callTool("search_datadog_monitors", {})))
      assert.isBelow(Date.now() - started, 5000)
      assert.strictEqual(reason._tag, "RateLimited")
      if (reason._tag === "RateLimited") {
        assert.isAbove(reason.retryAfterSeconds ?? 0, 30)
        assert.strictEqual(reason.attempts, 1)
      }
      const noWaits = yield* connectWith(
        { DATADOG_MCP_URL: s.mcpUrl, DD_API_KEY: API_KEY, DD_APPLICATION_KEY: APP_KEY },
        { rateLimit: { maxWaits: 0 } }
      )
      const again = reasonOf(yield* Effect.exit(noWaits.dd.callTool("search_datadog_monitors", {})))
      assert.strictEqual(again._tag, "RateLimited")
    }).pipe(Effect.scoped))

  it.effect("the OAuth seam: an outside fetch in oauth mode (here carrying the sandbox's token)", () =>
    Effect.gen(function*() {
      const s = yield* sandbox({ personalAccessToken: PAT, rateLimit: false })
      const authorised = McpFetch.withHeaders((input, init) => fetch(input, init), () => ({
        Authorization: `Bearer ${Redacted.value(Redacted.make(PAT))}`
      }))
      const dd = yield* DatadogMcp.make({ url: s.mcpUrl }).pipe(Effect.provide(McpFetch.layerFromFetch(authorised)))
      assert.strictEqual(dd.mode, "oauth")
      assert.strictEqual((yield* dd.whoami).org_name, "Sandbox Org")
    }).pipe(Effect.scoped))
})
