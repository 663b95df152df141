import { assert, describe, it } from "@effect/vitest"
import { DatadogConfig, DatadogMcp, McpFetch } from "@mcpauth/mcp-datadog"
import { Effect, Redacted } from "effect"
import { reasonOf } from "./support/Errors.ts"

/** A fetch that records the headers it was asked to send and answers 204. */
const recorder = () => {
  const seen: Array<Headers> = []
  const fetch: McpFetch.FetchLike = (input, init) => {
    const request = new Request(input, init)
    seen.push(request.headers)
    return Promise.resolve(new Response(null, { status: 204 }))
  }
  return { fetch, seen }
}

const apiKey = Redacted.make("api-s3cret")
const appKey = Redacted.make("app-s3cret")

describe("header construction", () => {
  it.effect("API-key mode sends DD_API_KEY and DD_APPLICATION_KEY, over same-named request headers", () =>
    Effect.gen(function*() {
      const { fetch, seen } = recorder()
      const service = yield* McpFetch.McpFetch.pipe(
        Effect.provide(McpFetch.layerApiKey({ apiKey, appKey }, { fetch }))
      )
      assert.strictEqual(service.mode, "api-key")
      yield* Effect.promise(() =>
        service.fetch("http://127.0.0.1/v1/mcp", { headers: { "dd_api_key": "other", accept: "application/json" } })
      )
      assert.strictEqual(seen[0]?.get("dd_api_key"), "api-s3cret")
      assert.strictEqual(seen[0]?.get("dd_application_key"), "app-s3cret")
      assert.strictEqual(seen[0]?.get("accept"), "application/json")
      assert.isNull(seen[0]?.get("authorization") ?? null)
    }))

  it.effect("RFC 6750 §2.1: access-token mode sends Authorization: Bearer <token>", () =>
    Effect.gen(function*() {
      const { fetch, seen } = recorder()
      const service = yield* McpFetch.McpFetch.pipe(
        Effect.provide(McpFetch.layerAccessToken({ accessToken: Redacted.make("pat-s3cret") }, { fetch }))
      )
      assert.strictEqual(service.mode, "access-token")
      yield* Effect.promise(() => service.fetch(new Request("http://127.0.0.1/v1/mcp", { headers: { "x-a": "1" } })))
      assert.strictEqual(seen[0]?.get("authorization"), "Bearer pat-s3cret")
      assert.strictEqual(seen[0]?.get("x-a"), "1")
    }))

  it.effect("layerFromFetch passes the orchestrator's fetch through untouched, in oauth mode", () =>
    Effect.gen(function*() {
      const { fetch, seen } = recorder()
      const service = yield* McpFetch.McpFetch.pipe(Effect.provide(McpFetch.layerFromFetch(fetch)))
      assert.strictEqual(service.mode, "oauth")
      assert.strictEqual(service.fetch, fetch)
      yield* Effect.promise(() => service.fetch("http://127.0.0.1/"))
      assert.strictEqual(seen.length, 1)
    }))

  it.effect("layerHeadless follows the configuration, and fails with OAuthNotConfigured in OAuth mode", () =>
    Effect.gen(function*() {
      const keys = yield* DatadogConfig.load({ env: { DD_API_KEY: "a", DD_APPLICATION_KEY: "b" }, dotEnvPath: false })
      const token = yield* DatadogConfig.load({ env: { DATADOG_ACCESS_TOKEN: "t" }, dotEnvPath: false })
      const oauth = yield* DatadogConfig.load({ env: {}, dotEnvPath: false })
      assert.strictEqual((yield* McpFetch.McpFetch.pipe(Effect.provide(McpFetch.layerHeadless(keys)))).mode, "api-key")
      assert.strictEqual(
        (yield* McpFetch.McpFetch.pipe(Effect.provide(McpFetch.layerHeadless(token)))).mode,
        "access-token"
      )
      const reason = reasonOf(yield* Effect.exit(McpFetch.McpFetch.pipe(Effect.provide(McpFetch.layerHeadless(oauth)))))
      assert.strictEqual(reason._tag, "OAuthNotConfigured")
      assert.include(reason.message, "layerFromFetch")
    }))

  it.effect("restrictToOrigin refuses any other origin before sending anything", () =>
    Effect.gen(function*() {
      const { fetch, seen } = recorder()
      const guarded = McpFetch.restrictToOrigin(
        McpFetch.withHeaders(fetch, () => McpFetch.apiKeyHeaders({ apiKey, appKey })),
        "http://127.0.0.1:8080"
      )
      yield* Effect.promise(() => guarded("http://127.0.0.1:8080/v1/mcp?toolsets=core"))
      const error = yield* Effect.tryPromise({ try: () => guarded("http://127.0.0.2:8080/v1/mcp"), catch: (e) => e })
        .pipe(Effect.flip)
      assert.include(String(error), "refusing to send credentials to http://127.0.0.2:8080")
      yield* Effect.tryPromise({ try: () => guarded(new Request("https://evil.example/")), catch: (e) => e }).pipe(
        Effect.flip
      )
      assert.strictEqual(seen.length, 1)
    }))

  it.effect("the referrer headers identify the client", () =>
    Effect.sync(() => {
      assert.deepStrictEqual(DatadogMcp.referrerHeaders(), {
        "X-Datadog-MCP-Referrer-Name": "mcpauth-mcp-datadog",
        "X-Datadog-MCP-Referrer-Version": DatadogMcp.VERSION
      })
      assert.deepStrictEqual(DatadogMcp.referrerHeaders({ name: "demo", version: "1.2.3" }), {
        "X-Datadog-MCP-Referrer-Name": "demo",
        "X-Datadog-MCP-Referrer-Version": "1.2.3"
      })
    }))

  it.effect("the credentials stay Redacted in the layer's inputs: printing them shows no secret", () =>
    Effect.sync(() => {
      assert.notInclude(`${String(apiKey)} ${JSON.stringify({ apiKey, appKey })}`, "s3cret")
    }))
})
