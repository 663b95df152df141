import { assert, describe, it } from "@effect/vitest"
import { McpAuthError } from "@mcpauth/mcp-auth"
import { DatadogMcp, McpFetch, Toolsets } from "@mcpauth/mcp-datadog"
import { Effect, type Layer, Logger, Redacted, References } from "effect"
import { reasonOf } from "./support/Errors.ts"
import * as TestServer from "./support/TestServer.ts"

const keys = { apiKey: Redacted.make("api-s3cret"), appKey: Redacted.make("app-s3cret") }
const apiKeyLayer = McpFetch.layerApiKey(keys)

const connect = (options: DatadogMcp.Options, fetchLayer: Layer.Layer<McpFetch.McpFetch> = apiKeyLayer) =>
  DatadogMcp.make(options).pipe(Effect.provide(fetchLayer))

const keyed = { apiKey: "api-s3cret", appKey: "app-s3cret" }

/** Runs an effect and returns the log lines it wrote. */
const captureLogs = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const logger = Logger.make<unknown, void>(({ message }) => {
      lines.push((Array.isArray(message) ? message : [message]).map(String).join(" "))
    })
    const exit = yield* Effect.exit(
      effect.pipe(Effect.provide(Logger.layer([logger])), Effect.provideService(References.MinimumLogLevel, "Trace"))
    )
    return { exit, lines }
  })

describe("against an MCP server built on the official SDK (127.0.0.1)", () => {
  it.effect("API-key mode: connects over Streamable HTTP, keys and referrer headers on every request", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(keyed)
      const dd = yield* connect({ url: server.url })
      assert.strictEqual(dd.transport, "streamable-http")
      assert.strictEqual(dd.mode, "api-key")
      assert.deepStrictEqual(dd.serverInfo, { name: "test-datadog-mcp", version: "9.9.9" })
      yield* dd.listTools
      assert.isAbove(server.requests.length, 2)
      for (const r of server.requests) {
        assert.strictEqual(r.headers["dd_api_key"], "api-s3cret")
        assert.strictEqual(r.headers["dd_application_key"], "app-s3cret")
        assert.strictEqual(r.headers["x-datadog-mcp-referrer-name"], "mcpauth-mcp-datadog")
        assert.strictEqual(r.headers["x-datadog-mcp-referrer-version"], DatadogMcp.VERSION)
        // never a credential in a URL
        assert.notInclude(r.path, "s3cret")
      }
    }).pipe(Effect.scoped))

  it.effect("MCP Pagination: listTools follows nextCursor through every page", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start({ ...keyed, pageSize: 2, toolCount: 7 })
      const dd = yield* connect({ url: server.url })
      const tools = yield* dd.listTools
      assert.strictEqual(tools.length, 7)
      assert.strictEqual(new Set(tools.map((t) => t.name)).size, 7)
      assert.include(tools.map((t) => t.name), "fail_tool")
      const pages = server.requests.filter((r) => r.body.includes("\"tools/list\""))
      assert.strictEqual(pages.length, 4)
      assert.include(pages[1]?.body ?? "", "\"cursor\":\"2\"")
    }).pipe(Effect.scoped))

  it.effect("maxPages bounds the walk with a typed error", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start({ ...keyed, pageSize: 1, toolCount: 7 })
      const dd = yield* connect({ url: server.url, maxPages: 3 })
      const reason = reasonOf(yield* Effect.exit(dd.listTools))
      assert.strictEqual(reason._tag, "InvalidResponse")
    }).pipe(Effect.scoped))

  it.effect("callTool returns the result; an isError result fails with ToolError", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(keyed)
      const dd = yield* connect({ url: server.url })
      const result = yield* dd.callTool("search_datadog_logs", { query: "service:web" })
      const first = result.content[0]
      assert.strictEqual(first?.type, "text")
      assert.deepStrictEqual(JSON.parse(first?.type === "text" ? first.text : "null"), {
        tool: "search_datadog_logs",
        args: { query: "service:web" }
      })
      const reason = reasonOf(yield* Effect.exit(dd.callTool("fail_tool")))
      assert.strictEqual(reason._tag, "ToolError")
      if (reason._tag === "ToolError") {
        assert.strictEqual(reason.tool, "fail_tool")
        assert.strictEqual(reason.text, "query is required")
      }
      assert.include(reason.message, "fail_tool")
    }).pipe(Effect.scoped))

  it.effect("an unknown tool or resource is a typed JSON-RPC error", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(keyed)
      const dd = yield* connect({ url: server.url })
      const tool = reasonOf(yield* Effect.exit(dd.callTool("no_such_tool")))
      // the low-level SDK server answers a throwing handler with a JSON-RPC error
      assert.strictEqual(tool._tag, "JsonRpcError")
      if (tool._tag === "JsonRpcError") assert.strictEqual(tool.method, "tools/call")
      const resource = reasonOf(yield* Effect.exit(dd.readResource("datadog://mcp/nothing")))
      assert.strictEqual(resource._tag, "JsonRpcError")
      if (resource._tag === "JsonRpcError") assert.strictEqual(resource.method, "resources/read")
    }).pipe(Effect.scoped))

  it.effect("whoami decodes the resource leniently and keeps unknown members", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(keyed)
      const dd = yield* connect({ url: server.url })
      const me = yield* dd.whoami
      assert.strictEqual(me.user_email, "jane@example.com")
      assert.strictEqual(me.org_name, "Example Org")
      assert.strictEqual(me.dd_site, "datadoghq.com")
      assert.deepStrictEqual(me.raw["extra_member"], { nested: true })
      const toolsets = yield* dd.readResource("datadog://mcp/toolsets")
      assert.strictEqual(toolsets.contents[0]?.uri, "datadog://mcp/toolsets")
    }).pipe(Effect.scoped))

  it.effect("toolsets and omit_tools go in the query string; omitted tools are gone", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(keyed)
      const url = Toolsets.withQuery(server.url, { toolsets: ["core", "alerting"], omitTools: ["get_datadog_metric"] })
      const dd = yield* connect({ url })
      const names = (yield* dd.listTools).map((t) => t.name)
      assert.notInclude(names, "get_datadog_metric")
      assert.include(names, "search_datadog_logs")
      assert.isTrue(
        server.requests.every((r) => r.path === "/v1/mcp?toolsets=core,alerting&omit_tools=get_datadog_metric")
      )
    }).pipe(Effect.scoped))

  it.effect("wrong keys: a typed AuthFailed with the status, naming the variables, never the keys", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(keyed)
      const wrong = McpFetch.layerApiKey({ apiKey: Redacted.make("wrong-s3cret"), appKey: Redacted.make("x") })
      const reason = reasonOf(yield* Effect.exit(connect({ url: server.url }, wrong)))
      assert.strictEqual(reason._tag, "AuthFailed")
      if (reason._tag === "AuthFailed") {
        assert.strictEqual(reason.status, 401)
        assert.strictEqual(reason.mode, "api-key")
      }
      assert.include(reason.message, "DD_API_KEY")
      assert.notInclude(reason.message, "s3cret")
    }).pipe(Effect.scoped))

  it.effect("access-token mode sends the bearer token", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start({ token: "pat-s3cret" })
      const dd = yield* connect(
        { url: server.url },
        McpFetch.layerAccessToken({ accessToken: Redacted.make("pat-s3cret") })
      )
      assert.strictEqual(dd.mode, "access-token")
      assert.isAbove((yield* dd.listTools).length, 0)
      const bad = reasonOf(
        yield* Effect.exit(
          connect({ url: server.url }, McpFetch.layerAccessToken({ accessToken: Redacted.make("nope") }))
        )
      )
      assert.strictEqual(bad._tag, "AuthFailed")
      assert.include(bad.message, "DATADOG_ACCESS_TOKEN")
    }).pipe(Effect.scoped))

  it.effect("an OAuth fetch from outside is used as given (here: one adding a bearer token)", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start({ token: "oauth-token" })
      let calls = 0
      const authorised: McpFetch.FetchLike = (input, init) => {
        calls++
        const headers = new Headers(init?.headers)
        headers.set("authorization", "Bearer oauth-token")
        return fetch(input, { ...init, headers })
      }
      const dd = yield* connect({ url: server.url }, McpFetch.layerFromFetch(authorised))
      assert.strictEqual(dd.mode, "oauth")
      yield* dd.whoami
      assert.isAbove(calls, 2)
      assert.strictEqual(calls, server.requests.length)
    }).pipe(Effect.scoped))

  it.effect("an auth layer that rejects the fetch (refresh rejected) gives AuthFailed (oauth) keeping the cause", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start()
      const rejected = new McpAuthError.McpAuthError({
        reason: new McpAuthError.RefreshRejected({ detail: "refresh token revoked" })
      })
      const failing: McpFetch.FetchLike = () => Promise.reject(rejected)
      const reason = reasonOf(yield* Effect.exit(connect({ url: server.url }, McpFetch.layerFromFetch(failing))))
      assert.strictEqual(reason._tag, "AuthFailed")
      if (reason._tag === "AuthFailed") {
        assert.isUndefined(reason.status)
        assert.include(reason.detail, "refresh token revoked")
        assert.strictEqual(reason.cause, rejected)
      }
    }).pipe(Effect.scoped))

  it.effect("an auth layer whose sign-in step failed gives SignInFailed naming the step, not refused credentials", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start()
      const failing: McpFetch.FetchLike = () =>
        Promise.reject(
          new McpAuthError.McpAuthError({
            reason: new McpAuthError.StepFailed({ step: "metadata", detail: "no authorization server metadata" })
          })
        )
      const reason = reasonOf(yield* Effect.exit(connect({ url: server.url }, McpFetch.layerFromFetch(failing))))
      assert.strictEqual(reason._tag, "SignInFailed")
      assert.include(reason.message, "failed at metadata: no authorization server metadata")
      assert.notInclude(reason.message, "refused")
    }).pipe(Effect.scoped))
})

describe("rate limits (RFC 6585 §4)", () => {
  it.live("a 429 with Retry-After is waited out (real clock) and the call succeeds", () =>
    Effect.gen(function*() {
      let limited = 0
      const server = yield* TestServer.start({
        ...keyed,
        intercept: (r) => {
          if (r.body.includes("\"tools/call\"") && limited < 1) {
            limited++
            return Response.json({ errors: ["Rate limit exceeded"] }, { status: 429, headers: { "retry-after": "1" } })
          }
          return undefined
        }
      })
      const started = Date.now()
      // the service logs through the context it was built in, so the logger wraps the connect too
      const { exit, lines } = yield* captureLogs(
        connect({ url: server.url }).pipe(Effect.flatMap((dd) => dd.callTool("search_datadog_logs", { query: "x" })))
      )
      assert.strictEqual(exit._tag, "Success")
      assert.isAtLeast(Date.now() - started, 900)
      assert.strictEqual(server.requests.filter((r) => r.status === 429).length, 1)
      assert.isTrue(lines.some((l) => l.includes("HTTP 429") && l.includes("waiting 1 s")))
      // the warning names no secret
      assert.isTrue(lines.every((l) => !l.includes("s3cret")))
    }).pipe(Effect.scoped))

  it.live("bounded: after maxWaits waits, a typed RateLimited error", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start({
        ...keyed,
        intercept: (r) =>
          r.body.includes("\"tools/call\"")
            ? Response.json({ errors: ["Rate limit exceeded"] }, { status: 429, headers: { "retry-after": "1" } })
            : undefined
      })
      const dd = yield* connect({ url: server.url, rateLimit: { maxWaits: 2 } })
      const reason = reasonOf(yield* Effect.exit(dd.callTool("search_datadog_logs")))
      assert.strictEqual(reason._tag, "RateLimited")
      if (reason._tag === "RateLimited") {
        assert.strictEqual(reason.attempts, 3)
        assert.strictEqual(reason.retryAfterSeconds, 1)
      }
      assert.strictEqual(server.requests.filter((r) => r.status === 429).length, 3)
    }).pipe(Effect.scoped))

  it.effect("a Retry-After longer than maxWaitSeconds fails at once; rateLimit: false never waits", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start({
        ...keyed,
        intercept: (r) =>
          r.body.includes("\"tools/call\"")
            ? Response.json({ errors: ["Rate limit exceeded"] }, { status: 429, headers: { "retry-after": "3600" } })
            : undefined
      })
      const dd = yield* connect({ url: server.url })
      const reason = reasonOf(yield* Effect.exit(dd.callTool("search_datadog_logs")))
      assert.strictEqual(reason._tag, "RateLimited")
      if (reason._tag === "RateLimited") assert.strictEqual(reason.retryAfterSeconds, 3600)
      assert.include(reason.message, "3600 s")
      const strict = yield* connect({ url: server.url, rateLimit: false })
      const once = reasonOf(yield* Effect.exit(strict.callTool("search_datadog_logs")))
      assert.strictEqual(once._tag, "RateLimited")
      assert.strictEqual(server.requests.filter((r) => r.status === 429).length, 2)
    }).pipe(Effect.scoped))
})

describe("secrets", () => {
  it.live("no key appears in any log line (all levels) or error message of a whole session", () =>
    Effect.gen(function*() {
      let n = 0
      const server = yield* TestServer.start({
        ...keyed,
        intercept: (r) =>
          r.body.includes("\"tools/call\"") && n++ === 0
            ? Response.json({}, { status: 429, headers: { "retry-after": "0" } })
            : undefined
      })
      const { exit, lines } = yield* captureLogs(Effect.gen(function*() {
        const dd = yield* connect({ url: server.url })
        yield* dd.listTools
        yield* dd.callTool("search_datadog_logs", { query: "x" })
        yield* dd.whoami
        const failed = yield* Effect.exit(dd.callTool("fail_tool"))
        const wrong = yield* Effect.exit(
          connect(
            { url: server.url },
            McpFetch.layerApiKey({ apiKey: Redacted.make("bad-s3cret"), appKey: keys.appKey })
          )
        )
        return [failed, wrong]
      }))
      assert.strictEqual(exit._tag, "Success")
      assert.isAbove(lines.length, 0)
      const everything = `${lines.join("\n")}\n${exit._tag === "Success" ? exit.value.map(String).join("\n") : ""}`
      assert.notInclude(everything, "s3cret")
    }).pipe(Effect.scoped))
})

describe("transport selection and connection failures", () => {
  it.effect("MCP Transports §Backwards Compatibility: a 404 to the initialize POST tries the legacy SSE GET", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start({
        intercept: () => Response.json({ errors: ["Not found"] }, { status: 404 })
      })
      const exit = yield* Effect.exit(connect({ url: server.url }))
      assert.strictEqual(server.requests[0]?.method, "POST")
      const get = server.requests.find((r) => r.method === "GET")
      assert.isDefined(get, "the SSE fallback opened a GET")
      assert.include(get?.headers["accept"] ?? "", "text/event-stream")
      assert.strictEqual(get?.headers["dd_api_key"], "api-s3cret")
      const reason = reasonOf(exit)
      assert.strictEqual(reason._tag, "UnexpectedStatus")
      if (reason._tag === "UnexpectedStatus") assert.strictEqual(reason.status, 404)
      assert.include(reason.message, "legacy SSE transport failed too")
    }).pipe(Effect.scoped))

  it.effect.each([404, 405, 406])(
    "MCP Transports §Listening for Messages: a GET stream answered %s is not fatal",
    (status) =>
      Effect.gen(function*() {
        const server = yield* TestServer.start({
          ...keyed,
          intercept: (r) => r.method === "GET" ? new Response(null, { status }) : undefined
        })
        const dd = yield* connect({ url: server.url })
        assert.isAbove((yield* dd.listTools).length, 0)
        assert.strictEqual((yield* dd.whoami).org_name, "Example Org")
        assert.isTrue(server.requests.some((r) => r.method === "GET" && r.status === status))
      }).pipe(Effect.scoped)
  )

  it.effect("MCP Transports §Backwards Compatibility: against a legacy HTTP+SSE server the fallback connects and works", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start({ ...keyed, legacySse: true, pageSize: 2 })
      const dd = yield* connect({ url: server.url })
      assert.strictEqual(dd.transport, "sse")
      assert.strictEqual((yield* dd.listTools).length, 7)
      assert.strictEqual((yield* dd.whoami).org_name, "Example Org")
      const reason = reasonOf(yield* Effect.exit(dd.callTool("fail_tool")))
      assert.strictEqual(reason._tag, "ToolError")
      assert.strictEqual(server.requests[0]?.method, "POST")
      assert.strictEqual(server.requests[0]?.status, 405)
      // the keys and the referrer headers go on the GET stream and on every message POST
      for (const r of server.requests) {
        assert.strictEqual(r.headers["dd_api_key"], "api-s3cret")
        assert.strictEqual(r.headers["x-datadog-mcp-referrer-name"], "mcpauth-mcp-datadog")
      }
      assert.isTrue(server.requests.some((r) => r.method === "POST" && r.path.startsWith("/messages?sessionId=")))
      yield* dd.close
    }).pipe(Effect.scoped))

  it.effect("a 405 to the initialize POST also tries SSE", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start({
        intercept: (r) =>
          r.method === "POST" ? new Response(null, { status: 405 }) : new Response(null, { status: 404 })
      })
      yield* Effect.exit(connect({ url: server.url }))
      assert.isTrue(server.requests.some((r) => r.method === "GET"))
    }).pipe(Effect.scoped))

  it.effect("a 5xx never falls back: UnexpectedStatus with the status", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start({
        intercept: () => new Response("boom", { status: 503 })
      })
      const reason = reasonOf(yield* Effect.exit(connect({ url: server.url })))
      assert.strictEqual(reason._tag, "UnexpectedStatus")
      if (reason._tag === "UnexpectedStatus") assert.strictEqual(reason.status, 503)
      assert.isFalse(server.requests.some((r) => r.method === "GET"))
      assert.strictEqual(server.requests.length, 1)
    }).pipe(Effect.scoped))

  it.effect("nothing listening: ConnectionFailed, no fallback", () =>
    Effect.gen(function*() {
      const port = yield* TestServer.closedPort
      const reason = reasonOf(yield* Effect.exit(connect({ url: `http://127.0.0.1:${port}/v1/mcp` })))
      assert.strictEqual(reason._tag, "ConnectionFailed")
      assert.include(reason.message, `127.0.0.1:${port}`)
    }))

  it.effect("shouldFallBackToSse is true only for 404/405 answers", () =>
    Effect.sync(() => {
      assert.isFalse(DatadogMcp.shouldFallBackToSse(new TypeError("fetch failed")))
      assert.isFalse(DatadogMcp.shouldFallBackToSse(new Error("404")))
    }))

  it.effect("close ends the session (DELETE or not) and later calls fail with Closed", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(keyed)
      const dd = yield* connect({ url: server.url })
      yield* dd.close
      yield* dd.close
      const reason = reasonOf(yield* Effect.exit(dd.listTools))
      assert.strictEqual(reason._tag, "Closed")
    }).pipe(Effect.scoped))
})
