// A smoke test of @mcpauth/mcp-datadog's published surface, in its own Node process: the `DatadogMCPClient` Promise
// facade in API-key mode, configured only through the environment, against the sandbox (the official MCP server SDK
// with Datadog's API-key headers and rate limit).
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Child from "./support/Child.ts"
import { count, isAuthorize, isDiscovery, isRegister, isToken, sandboxResource, tempDir } from "./support/Fixtures.ts"

const script = Child.fixture("datadog-client.ts")
const API_KEY = "e2e-api-key-5f0c2a7d9b"
const APP_KEY = "e2e-app-key-81d4e6c3aa"

// Only what the child is given counts: no DD_*/DATADOG_* of the developer's shell, and an empty cwd (no .env)
const ddEnv = (mcpUrl: string, apiKey: string, appKey: string, calls: number): Record<string, string> => ({
  DATADOG_MCP_URL: mcpUrl,
  DD_API_KEY: apiKey,
  DD_APPLICATION_KEY: appKey,
  DATADOG_ACCESS_TOKEN: "",
  DATADOG_SITE: "",
  DATADOG_MCP_TOOLSETS: "",
  DATADOG_MCP_OMIT_TOOLS: "",
  DATADOG_CLIENT_ID: "",
  DATADOG_CLIENT_SECRET: "",
  DATADOG_REDIRECT_URI: "",
  CALLS: String(calls)
})

interface DatadogResult {
  readonly tools: ReadonlyArray<string>
  readonly results: ReadonlyArray<boolean>
  readonly callsMs: number
  readonly whoami: { readonly user_email?: string; readonly org_name?: string }
}

describe("the Datadog client facade in a separate process (API-key mode)", () => {
  it.live(
    "lists tools, calls a tool through a 429 (waits Retry-After), reads whoami; keys never printed",
    () =>
      Effect.scoped(Effect.gen(function*() {
        const sandbox = yield* sandboxResource({
          profile: "datadog",
          apiKey: API_KEY,
          appKey: APP_KEY,
          rateLimit: { max: 2, windowMs: 3000 }
        })
        const cwd = yield* tempDir("datadog")
        const out = yield* Child.run(script, ddEnv(sandbox.mcpUrl, API_KEY, APP_KEY, 3), { cwd, timeoutMs: 45_000 })
        assert.strictEqual(out.code, 0, `${out.stdout}\n${out.stderr}`)
        const r = Child.result<DatadogResult>(out)
        assert.include(r.tools, "search_datadog_logs")
        assert.include(r.tools, "get_datadog_metric")
        // the third call was answered 429 by the server, waited out, and then succeeded
        assert.deepStrictEqual(r.results, [true, true, true])
        const limited = sandbox.stats().requests.filter((q) => q.status === 429)
        assert.deepStrictEqual(limited.map((q) => q.path), ["/v1/mcp"])
        assert.isAtLeast(r.callsMs, 900)
        assert.isString(r.whoami.org_name)
        // API-key mode: no OAuth machinery was touched
        assert.strictEqual(
          count(sandbox, (p, m) => isDiscovery(p) || isRegister(p, m) || isToken(p, m) || isAuthorize(p)),
          0
        )
        assert.notInclude(out.stdout + out.stderr, API_KEY)
        assert.notInclude(out.stdout + out.stderr, APP_KEY)
      })),
    60_000
  )

  it.live(
    "a wrong application key is refused: the facade rejects with AuthFailed, and prints neither key",
    () =>
      Effect.scoped(Effect.gen(function*() {
        const sandbox = yield* sandboxResource({ profile: "datadog", apiKey: API_KEY, appKey: APP_KEY })
        const cwd = yield* tempDir("datadog-wrong")
        const wrong = "e2e-wrong-app-key-3b9e70"
        const out = yield* Child.run(script, ddEnv(sandbox.mcpUrl, API_KEY, wrong, 1), { cwd, timeoutMs: 45_000 })
        assert.strictEqual(out.code, 2, `${out.stdout}\n${out.stderr}`)
        const line = out.stdout.split("\n").find((l) => l.startsWith("REJECTED ")) ?? "REJECTED {}"
        const rejected = JSON.parse(line.slice("REJECTED ".length)) as { tag?: string; message?: string }
        assert.strictEqual(rejected.tag, "AuthFailed")
        assert.include(rejected.message ?? "", "401")
        assert.isAbove(sandbox.stats().requests.filter((q) => q.status === 401).length, 0)
        for (const secret of [API_KEY, wrong]) assert.notInclude(out.stdout + out.stderr, secret)
      })),
    60_000
  )
})
