// Several Node processes sharing one file token store, against the sandbox (oidc-provider + the official MCP server
// SDK): a reconnect in a new process with no authorization traffic at all, and two processes that find the access
// token expired at the same moment (short TTL) and refresh it exactly once between them.
import { assert, describe, it } from "@effect/vitest"
import type { Sandbox } from "@mcpauth/sandbox"
import { Effect } from "effect"
import * as Child from "./support/Child.ts"
import { count, isAuthorize, isDiscovery, isRegister, isToken, sandboxResource, tempDir } from "./support/Fixtures.ts"

interface ClientResult {
  readonly pid: number
  readonly began: number
  readonly ended: number
  readonly tools: number
  readonly toolOk?: boolean | undefined
  readonly steps: ReadonlyArray<string>
  readonly access: string
  readonly refresh: string
}

const script = Child.fixture("mcp-client.ts")

const authTraffic = (sandbox: Sandbox, from: number) =>
  sandbox.stats().requests.slice(from).filter((r) =>
    isDiscovery(r.path) || isRegister(r.path, r.method) || isToken(r.path, r.method) || isAuthorize(r.path)
  )

// Process 1: the first connect (discovery, registration, the code flow through the sandbox's automatic consent)
const firstConnect = (sandbox: Sandbox, dir: string) =>
  Effect.gen(function*() {
    const first = yield* Child.run(script, { SERVER_URL: sandbox.mcpUrl, STORE_DIR: dir, USER_AGENT: "auto" })
    assert.strictEqual(first.code, 0, first.stderr)
    const r = Child.result<ClientResult>(first)
    assert.isAbove(r.tools, 5)
    assert.strictEqual(count(sandbox, isRegister), 1)
    assert.strictEqual(count(sandbox, isToken), 1)
    return r
  })

describe("processes sharing the file token store", () => {
  it.live.each(["datadog", "strict"] as const)(
    "%s profile: a reconnect in a NEW process reuses the stored session: zero discovery, registration or token requests",
    (profile) =>
      Effect.scoped(Effect.gen(function*() {
        const sandbox = yield* sandboxResource({ profile, rateLimit: false })
        const dir = yield* tempDir("reconnect")
        const first = yield* firstConnect(sandbox, dir)

        const before = sandbox.stats().requests.length
        // no person is available to the second process: a sign-in would fail it
        const second = yield* Child.run(script, {
          SERVER_URL: sandbox.mcpUrl,
          STORE_DIR: dir,
          USER_AGENT: "none",
          CALL_TOOL: "search_datadog_logs"
        })
        assert.strictEqual(second.code, 0, second.stderr)
        const r = Child.result<ClientResult>(second)
        assert.notStrictEqual(r.pid, first.pid)
        assert.isAbove(r.tools, 5)
        assert.isTrue(r.toolOk)
        assert.deepStrictEqual(authTraffic(sandbox, before), [])
        // everything the second process sent went to the MCP endpoint, and none of it was refused
        const after = sandbox.stats().requests.slice(before)
        assert.isAbove(after.length, 2)
        for (const req of after) {
          assert.strictEqual(req.path, "/v1/mcp")
          assert.isBelow(req.status, 400)
        }
        assert.include(r.steps, "restore:info")
        assert.notInclude(r.steps, "refresh:start")
        assert.strictEqual(r.access, first.access)
      })),
    90_000
  )

  it.live(
    "OAuth 2.1 §4.3.1: two processes find the access token expired together: one refresh reaches the server, both keep working",
    () =>
      Effect.scoped(Effect.gen(function*() {
        const sandbox = yield* sandboxResource({ profile: "datadog", rateLimit: false, accessTokenTtlSeconds: 3 })
        const dir = yield* tempDir("shared")
        const first = yield* firstConnect(sandbox, dir)

        const env = {
          SERVER_URL: sandbox.mcpUrl,
          STORE_DIR: dir,
          USER_AGENT: "none",
          CALL_TOOL: "search_datadog_logs",
          WAIT_FOR_GO: "1"
        }
        const a = yield* Child.start(script, env)
        const b = yield* Child.start(script, env)
        // both processes are loaded and waiting; let the access token expire, then release them together
        yield* Effect.promise(() => Promise.all([a.line("READY"), b.line("READY")]))
        const elapsed = Date.now() - first.ended
        yield* Effect.sleep(`${Math.max(0, 3300 - elapsed)} millis`)
        const before = sandbox.stats().requests.length
        a.process.stdin?.end("GO\n")
        b.process.stdin?.end("GO\n")
        const outcomes = yield* Effect.promise(() => Promise.all([a.done, b.done]))
        for (const o of outcomes) assert.strictEqual(o.code, 0, o.stderr)
        const [ra, rb] = outcomes.map((o) => Child.result<ClientResult>(o))
        if (ra === undefined || rb === undefined) return assert.fail("two results expected")

        // exactly one token request (the refresh) and nothing else of the authorization machinery
        assert.deepStrictEqual(
          authTraffic(sandbox, before).map((r) => `${r.method} ${r.path} ${r.status}`),
          ["POST /api/v2/oauth2/token 200"]
        )
        // the processes really overlapped
        assert.isBelow(Math.max(ra.began, rb.began), Math.min(ra.ended, rb.ended))
        // both kept working, with the same new (rotated) credentials
        for (const r of [ra, rb]) {
          assert.isAbove(r.tools, 5)
          assert.isTrue(r.toolOk)
        }
        assert.strictEqual(ra.access, rb.access)
        assert.strictEqual(ra.refresh, rb.refresh)
        assert.notStrictEqual(ra.access, first.access)
        assert.notStrictEqual(ra.refresh, first.refresh)
        // both held the expired token and went through the refresh step; under the store's cross-process lock the one
        // that came second found the new tokens already stored, so its refresh never reached the server
        for (const r of [ra, rb]) assert.include(r.steps, "refresh:done")
        // no request was refused for an expired or revoked token (a reused refresh token would revoke the grant)
        assert.deepStrictEqual(sandbox.stats().requests.slice(before).filter((r) => r.status === 401), [])
      })),
    90_000
  )
})
