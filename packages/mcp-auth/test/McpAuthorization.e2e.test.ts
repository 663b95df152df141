// End to end: the official MCP client SDK, through our authorised fetch, against the sandbox (oidc-provider + the
// official MCP server SDK behind jose bearer verification) on 127.0.0.1. Nothing here is a mock.
import { assert, describe, it } from "@effect/vitest"
import { McpAuthorization } from "@mcpauth/mcp-auth"
import type { AuthEvent } from "@mcpauth/mcp-auth/AuthEvent"
import { UserAgent } from "@mcpauth/oauth2-authorization"
import { startSandbox } from "@mcpauth/sandbox"
import type { Sandbox } from "@mcpauth/sandbox"
import { TokenStore } from "@mcpauth/token-store"
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client"
import { Effect, Exit, Layer, Redacted } from "effect"
import { FetchHttpClient } from "effect/http"
import { mkdtemp, readdir, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"

// The programmatic hand-off: the sandbox's automatic consent answers /authorize with one 303 to our redirect URI
const handOff = UserAgent.programmatic(async (url) => {
  const res = await fetch(url, { redirect: "manual" })
  const location = res.headers.get("location")
  if (location === null) throw new Error(`authorize answered ${res.status} without a Location`)
  return new URL(location, url)
})

const sandboxResource = (options: Parameters<typeof startSandbox>[0]) =>
  Effect.acquireRelease(Effect.promise(() => startSandbox(options)), (s) => Effect.promise(() => s.close()))

const tempDir = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "mcpauth-e2e-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
)

const authLayer = (sandbox: Sandbox, dir: string, events: Array<AuthEvent>) =>
  McpAuthorization.layerDefault({
    serverUrl: sandbox.mcpUrl,
    userAgent: handOff,
    client: { name: "mcpauth e2e" },
    allowLoopbackHttp: true,
    store: TokenStore.layerFile({ directory: dir }),
    events: (e) => events.push(e)
  }).pipe(Layer.provide(FetchHttpClient.layer))

// Connects the official MCP client with our fetch, runs `body`, closes.
const withMcp = <A>(body: (client: Client) => Promise<A>) =>
  Effect.gen(function*() {
    const auth = yield* McpAuthorization.McpAuthorization
    return yield* Effect.promise(async () => {
      const client = new Client({ name: "mcpauth-e2e", version: "0.0.0" })
      await client.connect(new StreamableHTTPClientTransport(new URL(auth.serverUrl), { fetch: auth.fetch }))
      try {
        return await body(client)
      } finally {
        await client.close()
      }
    })
  })

const count = (sandbox: Sandbox, pred: (path: string, method: string) => boolean) =>
  sandbox.stats().requests.filter((r) => pred(r.path, r.method)).length
const isDiscovery = (path: string) => path.startsWith("/.well-known/")
const isRegister = (path: string, method: string) => method === "POST" && /register/.test(path)
const isToken = (path: string, method: string) => method === "POST" && path.endsWith("token")

describe("McpAuthorization end to end against the sandbox", () => {
  it.live("datadog profile: no challenge, well-known discovery, DCR, PKCE code flow, tools; then a warm restart", () =>
    Effect.scoped(Effect.gen(function*() {
      const sandbox = yield* sandboxResource({ profile: "datadog", rateLimit: false })
      const dir = yield* tempDir
      const events: Array<AuthEvent> = []

      const tools = yield* withMcp((c) => c.listTools()).pipe(Effect.provide(authLayer(sandbox, dir, events)))
      assert.include(tools.tools.map((t) => t.name), "search_datadog_logs")
      assert.strictEqual(count(sandbox, isRegister), 1)
      assert.strictEqual(count(sandbox, isToken), 1)
      const discoveryRequests = count(sandbox, isDiscovery)
      assert.isAtLeast(discoveryRequests, 2)
      // the Datadog shape: 401 without a challenge, PRM resource = bare origin, issuer with a path
      const discovery = events.find((e) => e.step === "discovery" && e.phase === "info")
      assert.strictEqual(discovery?.data?.["resource"], sandbox.resourceOrigin)
      const token = events.find((e) => e.step === "token")
      // RFC 8707: the JWT's aud is the exact resource string sent (no slash added to the bare origin)
      assert.strictEqual(token?.data?.["audience"], sandbox.resourceOrigin)
      assert.strictEqual(token?.data?.["audience_matches_resource"], true)
      // no secret in any event
      const text = JSON.stringify(events)
      assert.notMatch(text, /eyJ[A-Za-z0-9_-]{10,}\./)
      // files on disk: 0600 entries in the store directory
      assert.isAbove((yield* Effect.promise(() => readdir(dir, { recursive: true }))).length, 0)

      // a new client instance (as after a restart) with the same file store: no discovery, registration or token
      const before = sandbox.stats().requests.length
      const again: Array<AuthEvent> = []
      const result = yield* withMcp((c) =>
        c.callTool({ name: "search_datadog_logs", arguments: { query: "service:web" } })
      )
        .pipe(Effect.provide(authLayer(sandbox, dir, again)))
      assert.isFalse(result.isError === true)
      const after = sandbox.stats().requests.slice(before)
      assert.deepStrictEqual(
        after.filter((r) => isDiscovery(r.path) || isRegister(r.path, r.method) || isToken(r.path, r.method)),
        []
      )
      assert.isTrue(again.some((e) => e.step === "restore"))
    })))

  it.live("a forced refresh sends exactly one token request and keeps working (rotation)", () =>
    Effect.scoped(Effect.gen(function*() {
      const sandbox = yield* sandboxResource({ profile: "datadog", rateLimit: false })
      const dir = yield* tempDir
      const events: Array<AuthEvent> = []
      yield* Effect.gen(function*() {
        yield* withMcp((c) => c.listTools())
        const auth = yield* McpAuthorization.McpAuthorization
        const tokensBefore = count(sandbox, isToken)
        const session = yield* auth.forceRefresh
        assert.isDefined(session?.tokens)
        assert.strictEqual(count(sandbox, isToken), tokensBefore + 1)
        const tools = yield* withMcp((c) => c.listTools())
        assert.isAbove(tools.tools.length, 5)
      }).pipe(Effect.provide(authLayer(sandbox, dir, events)))
    })))

  it.live("expired access token on restart: one silent refresh, no user interaction (short TTL)", () =>
    Effect.scoped(Effect.gen(function*() {
      const sandbox = yield* sandboxResource({ profile: "datadog", rateLimit: false, accessTokenTtlSeconds: 2 })
      const dir = yield* tempDir
      yield* withMcp((c) => c.listTools()).pipe(Effect.provide(authLayer(sandbox, dir, [])))
      const authorizeBefore = count(sandbox, (p) => /authorize/.test(p))
      yield* Effect.sleep("2500 millis")
      const tokenBefore = count(sandbox, isToken)
      const events: Array<AuthEvent> = []
      yield* withMcp((c) => c.listTools()).pipe(Effect.provide(authLayer(sandbox, dir, events)))
      assert.strictEqual(count(sandbox, isToken), tokenBefore + 1)
      assert.strictEqual(count(sandbox, (p) => /authorize/.test(p)), authorizeBefore)
      assert.isTrue(events.some((e) => e.step === "refresh" && e.phase === "done"))
    })))

  it.live("MCP §Step-Up Authorization Flow: a write tool's 403 insufficient_scope is stepped up and the call succeeds", () =>
    Effect.scoped(Effect.gen(function*() {
      const sandbox = yield* sandboxResource({ profile: "datadog", rateLimit: false })
      const dir = yield* tempDir
      const events: Array<AuthEvent> = []
      const result = yield* withMcp(async (c) => {
        await c.listTools()
        return c.callTool({ name: "upsert_datadog_dashboard", arguments: { title: "from the e2e test" } })
      }).pipe(Effect.provide(authLayer(sandbox, dir, events)))
      assert.isFalse(result.isError === true)
      assert.isTrue(events.some((e) => e.step === "step-up"))
      assert.strictEqual(count(sandbox, isRegister), 1)
    })))

  it.live("strict profile: the challenge's resource_metadata is followed and its scope requested", () =>
    Effect.scoped(Effect.gen(function*() {
      const sandbox = yield* sandboxResource({ profile: "strict", rateLimit: false })
      const dir = yield* tempDir
      const events: Array<AuthEvent> = []
      const tools = yield* withMcp((c) => c.listTools()).pipe(Effect.provide(authLayer(sandbox, dir, events)))
      assert.isAbove(tools.tools.length, 5)
      const unauthorized = events.find((e) => e.step === "request" && e.status === 401)
      assert.isDefined(unauthorized?.data?.["challenge"])
      assert.strictEqual(count(sandbox, isRegister), 1)
    })))

  it.live("revoked tokens: after sign-out the stored tokens are gone and the next request authorizes again", () =>
    Effect.scoped(Effect.gen(function*() {
      const sandbox = yield* sandboxResource({ profile: "datadog", rateLimit: false })
      const dir = yield* tempDir
      yield* Effect.gen(function*() {
        yield* withMcp((c) => c.listTools())
        const auth = yield* McpAuthorization.McpAuthorization
        const old = (yield* auth.session)?.tokens
        const outcome = yield* auth.signOut
        // RFC 7009: the refresh token is revoked; oidc-provider cannot revoke a JWT access token (unsupported_token_type)
        assert.deepStrictEqual(outcome.map((o) => [o.token, o.revoked]), [["refresh_token", true], [
          "access_token",
          false
        ]])
        assert.include(outcome[1]?.detail ?? "", "unsupported_token_type")
        assert.isUndefined((yield* auth.session)?.tokens)
        // the revoked grant's access token is refused by the server
        const res = yield* Effect.promise(() =>
          fetch(sandbox.mcpUrl, {
            method: "POST",
            headers: {
              authorization: `Bearer ${old === undefined ? "" : Redacted.value(old.access_token)}`,
              "content-type": "application/json",
              accept: "application/json, text/event-stream"
            },
            body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" })
          })
        )
        assert.strictEqual(res.status, 401)
        const tokensBefore = count(sandbox, isToken)
        yield* withMcp((c) => c.listTools())
        assert.strictEqual(count(sandbox, isToken), tokensBefore + 1)
        assert.strictEqual(count(sandbox, isRegister), 1)
      }).pipe(Effect.provide(authLayer(sandbox, dir, [])))
    })))

  it.live("a server that answers 500 during discovery: a typed error naming the step, and no stored state", () =>
    Effect.scoped(Effect.gen(function*() {
      const { createServer } = yield* Effect.promise(() => import("node:http"))
      const server = createServer((req, res) => {
        res.writeHead(req.url?.startsWith("/.well-known/") ? 500 : 401)
        res.end()
      })
      yield* Effect.acquireRelease(
        Effect.promise(() => new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))),
        () => Effect.promise(() => new Promise<void>((r) => server.close(() => r())))
      )
      const port = (server.address() as { port: number }).port
      const dir = yield* tempDir
      const exit = yield* Effect.exit(
        Effect.gen(function*() {
          const auth = yield* McpAuthorization.McpAuthorization
          return yield* auth.request(`http://127.0.0.1:${port}/mcp`, { method: "POST", body: "{}" })
        }).pipe(
          Effect.provide(
            McpAuthorization.layerDefault({
              serverUrl: `http://127.0.0.1:${port}/mcp`,
              userAgent: handOff,
              allowLoopbackHttp: true,
              store: TokenStore.layerFile({ directory: dir })
            }).pipe(Layer.provide(FetchHttpClient.layer))
          )
        )
      )
      assert.isTrue(Exit.isFailure(exit))
      const first = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
      const reason = first?._tag === "Fail" ? first.error.reason : undefined
      assert.strictEqual(reason?._tag, "StepFailed")
      assert.strictEqual(reason?._tag === "StepFailed" ? reason.step : "", "discovery")
      assert.include(reason?.message ?? "", "500")
      const files = yield* Effect.promise(() => readdir(dir, { recursive: true }).catch(() => []))
      assert.deepStrictEqual(files.filter((f) => String(f).endsWith(".json")), [])
    })))
})
