// Not via the sandbox: oidc-provider (through @mcpauth/testing) as the authorization server, and our own small MCP
// server built with the official MCP server SDK that verifies every JWT with jose (audience = its resource). The
// official MCP client SDK talks to it through our authorised fetch; the redirect reaches our loopback listener.
import { assert, describe, it } from "@effect/vitest"
import { McpAuthorization } from "@mcpauth/mcp-auth"
import type { AuthEvent } from "@mcpauth/mcp-auth/AuthEvent"
import { UserAgent } from "@mcpauth/oauth2-authorization"
import { OidcProvider } from "@mcpauth/testing"
import type { OidcProviderHandle } from "@mcpauth/testing/OidcProvider"
import { TokenStore } from "@mcpauth/token-store"
import { Effect, Layer, Redacted } from "effect"
import { FetchHttpClient } from "effect/http"
import * as Child from "./support/Child.ts"
import { tempDir, withMcp } from "./support/Fixtures.ts"
import { acquireResourceServer } from "./support/ResourceServer.ts"
import type { ResourceServer } from "./support/ResourceServer.ts"

// The scripted browser of @mcpauth/testing follows login and consent, then GETs our loopback redirect URI
const viaLoopback = (op: OidcProviderHandle) =>
  UserAgent.browser({ open: (url) => op.authorize(url, { deliver: true }) })

// A user agent for runs that must never need a person
const noInteraction = UserAgent.programmatic(() => Promise.reject(new Error("no sign-in may be needed here")))

const authLayer = (
  rs: ResourceServer,
  dir: string,
  userAgent: UserAgent.UserAgent,
  events: Array<AuthEvent>
) =>
  McpAuthorization.layerDefault({
    serverUrl: rs.mcpUrl,
    userAgent,
    client: { name: "mcpauth e2e (oidc-provider)" },
    allowLoopbackHttp: true,
    callbackTimeout: "15 seconds",
    store: TokenStore.layerFile({ directory: dir }),
    events: (e) => events.push(e)
  }).pipe(Layer.provide(FetchHttpClient.layer))

const claimsOf = (result: { content?: unknown }) => {
  const content = Array.isArray(result.content) ? result.content : []
  const first: unknown = content[0]
  const text = typeof first === "object" && first !== null && "text" in first ? String(first.text) : "{}"
  return JSON.parse(text) as { sub?: string; aud?: string; scope?: string; client_id?: string }
}

const setUp = (ttl?: { accessToken: number }) =>
  Effect.gen(function*() {
    const op = yield* OidcProvider.acquire(ttl === undefined ? {} : { ttl })
    const rs = yield* acquireResourceServer({ issuer: op.issuer, jwksUri: op.url("/jwks") })
    const dir = yield* tempDir("oidc")
    return { op, rs, dir }
  })

describe("oidc-provider directly, with an MCP server on the official SDK verifying JWTs with jose", () => {
  it.live(
    "first connect (RFC 9728 challenge → RFC 8414 → RFC 7591 → PKCE code flow via the loopback listener), then step-up",
    () =>
      Effect.scoped(Effect.gen(function*() {
        const { dir, op, rs } = yield* setUp()
        const events: Array<AuthEvent> = []
        const { noted, session, tools, who } = yield* Effect.gen(function*() {
          const used = yield* withMcp(async (c) => {
            const tools = await c.listTools()
            const who = claimsOf(await c.callTool({ name: "whoami", arguments: {} }))
            const noted = await c.callTool({ name: "write_note", arguments: { text: "hello" } })
            return { tools, who, noted }
          })
          const auth = yield* McpAuthorization.McpAuthorization
          return { ...used, session: yield* auth.session }
        }).pipe(Effect.provide(authLayer(rs, dir, viaLoopback(op), events)))

        assert.deepStrictEqual(tools.tools.map((t) => t.name).toSorted(), ["whoami", "write_note"])
        // RFC 8707: the token is for this resource exactly; the challenge's scope was requested first
        assert.strictEqual(who.aud, rs.mcpUrl)
        assert.strictEqual(who.sub, "test-user")
        assert.strictEqual(who.scope, "mcp:read")
        // MCP §Step-Up Authorization Flow: the 403 insufficient_scope led to a second authorization, then success
        assert.isFalse(noted.isError === true)
        assert.deepStrictEqual(noted.content, [{ type: "text", text: "noted: hello" }])
        assert.isTrue(events.some((e) => e.step === "step-up"))
        assert.deepStrictEqual(op.tokenCalls().map((c) => `${c.grantType}:${c.outcome}`), [
          "authorization_code:success",
          "authorization_code:success"
        ])
        // every request that reached the MCP SDK carried a token whose aud the server verified as its own
        const verified = rs.seen.filter((r) => r.aud !== undefined)
        assert.isAbove(verified.length, 3)
        for (const r of verified) assert.strictEqual(r.aud, rs.mcpUrl)
        assert.deepStrictEqual(rs.seen.filter((r) => r.status === 403).map((r) => r.rpc), ["tools/call"])
        // the control: the same token at another resource of the same issuer is refused for its audience
        const other = yield* acquireResourceServer({ issuer: op.issuer, jwksUri: op.url("/jwks") })
        const token = session?.tokens?.access_token
        assert.isDefined(token)
        const refused = yield* Effect.promise(() =>
          fetch(other.mcpUrl, {
            method: "POST",
            headers: {
              authorization: `Bearer ${token === undefined ? "" : Redacted.value(token)}`,
              "content-type": "application/json",
              accept: "application/json, text/event-stream"
            },
            body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" })
          })
        )
        assert.strictEqual(refused.status, 401)
        assert.include(refused.headers.get("www-authenticate") ?? "", "invalid_token")
        assert.include(refused.headers.get("www-authenticate") ?? "", "aud")
        // the first request was refused with a challenge, then the PRM was read
        assert.strictEqual(rs.seen[0]?.status, 401)
        assert.strictEqual(rs.seen[1]?.path, "/.well-known/oauth-protected-resource/mcp")
      })),
    45_000
  )

  it.live(
    "a reconnect in a NEW process (same file store) reaches neither the authorization server nor discovery",
    () =>
      Effect.scoped(Effect.gen(function*() {
        const { dir, op, rs } = yield* setUp()
        yield* withMcp((c) => c.listTools()).pipe(Effect.provide(authLayer(rs, dir, viaLoopback(op), [])))
        const tokenCalls = op.tokenCalls().length
        const seenBefore = rs.seen.length
        // the child process has no way to sign in (a sign-in fails it)
        const out = yield* Child.run(Child.fixture("mcp-client.ts"), {
          SERVER_URL: rs.mcpUrl,
          STORE_DIR: dir,
          USER_AGENT: "none",
          CALL_TOOL: "whoami"
        })
        assert.strictEqual(out.code, 0, out.stderr)
        const r = Child.result<{ tools: number; toolOk: boolean; steps: ReadonlyArray<string> }>(out)
        assert.strictEqual(r.tools, 2)
        assert.isTrue(r.toolOk)
        assert.include(r.steps, "restore:info")
        assert.strictEqual(op.tokenCalls().length, tokenCalls)
        const later = rs.seen.slice(seenBefore)
        assert.isAbove(later.length, 2)
        // every request of the new process carried a token the server verified for its own audience
        for (const req of later) {
          assert.strictEqual(req.path, "/mcp")
          assert.strictEqual(req.aud, rs.mcpUrl)
          assert.isBelow(req.status, 400)
        }
      })),
    90_000
  )

  it.live(
    "a restart with an expired access token refreshes silently from the file store (no person needed)",
    () =>
      Effect.scoped(Effect.gen(function*() {
        const { dir, op, rs } = yield* setUp({ accessToken: 3 })
        yield* withMcp((c) => c.listTools()).pipe(Effect.provide(authLayer(rs, dir, viaLoopback(op), [])))
        yield* Effect.sleep("3300 millis")
        const seenBefore = rs.seen.length
        const events: Array<AuthEvent> = []
        const who = yield* withMcp(async (c) => claimsOf(await c.callTool({ name: "whoami", arguments: {} }))).pipe(
          Effect.provide(authLayer(rs, dir, noInteraction, events))
        )
        assert.strictEqual(who.aud, rs.mcpUrl)
        assert.isTrue(events.some((e) => e.step === "restore"))
        assert.isTrue(events.some((e) => e.step === "refresh" && e.phase === "done"))
        // OAuth 2.1 §4.3: one refresh with the stored refresh token, and no new authorization
        assert.deepStrictEqual(op.tokenCalls().map((c) => `${c.grantType}:${c.outcome}`), [
          "authorization_code:success",
          "refresh_token:success"
        ])
        // no discovery after the restart: the stored session knew the server
        assert.deepStrictEqual(rs.seen.slice(seenBefore).filter((r) => r.path.startsWith("/.well-known/")), [])
      })),
    45_000
  )
})
