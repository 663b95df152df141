import { assert, describe, it } from "@effect/vitest"
import { AuthorizedFetch, McpAuthError } from "@mcpauth/mcp-auth"
import { Clock, Deferred, Effect, Exit, Redacted } from "effect"
import { TestClock } from "effect/testing"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"

// A protected resource on loopback: knows which tokens are valid and with which scopes. tools/call needs "write".
interface Resource {
  readonly url: string
  readonly origin: string
  readonly valid: Map<string, ReadonlySet<string>>
  readonly seen: Array<{ method: string; path: string; auth: string | undefined; rpc: string | undefined }>
  challenge401: string | undefined
  alwaysForbid: boolean
}

const startResource = Effect.acquireRelease(
  Effect.promise(() =>
    new Promise<Resource & { close: () => Promise<void> }>((resolve) => {
      const valid = new Map<string, ReadonlySet<string>>()
      const seen: Resource["seen"] = []
      const r = { valid, seen, challenge401: "Bearer scope=\"read\"" as string | undefined, alwaysForbid: false }
      const server = createServer((req, res) => {
        let body = ""
        req.on("data", (c) => (body += c))
        req.on("end", () => {
          const auth = req.headers.authorization
          const rpc = body === "" ? undefined : (JSON.parse(body) as { method?: string }).method
          seen.push({ method: req.method ?? "", path: req.url ?? "", auth, rpc })
          const token = auth?.startsWith("Bearer ") ? auth.slice(7) : undefined
          const scopes = token === undefined ? undefined : valid.get(token)
          if (scopes === undefined) {
            res.writeHead(401, r.challenge401 === undefined ? {} : { "www-authenticate": r.challenge401 })
            return res.end()
          }
          if (rpc === "tools/call" && (r.alwaysForbid || !scopes.has("write"))) {
            res.writeHead(403, {
              "www-authenticate":
                "Bearer error=\"insufficient_scope\", scope=\"write\", error_description=\"writes need write\""
            })
            return res.end()
          }
          res.writeHead(200, { "content-type": "application/json" })
          res.end(JSON.stringify({ ok: true, rpc, body }))
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        resolve(Object.assign(r, {
          url: `http://127.0.0.1:${port}/mcp`,
          origin: `http://127.0.0.1:${port}`,
          close: () => new Promise<void>((done) => server.close(() => done()))
        }))
      })
    })
  ),
  (r) => Effect.promise(() => r.close())
)

interface D extends AuthorizedFetch.Discovered {
  readonly prm: string
}
interface C {
  readonly client_id: string
}

// Token numbers are unique across every steps instance of the file
let n = 0

// Instrumented steps: every call is counted; tokens minted here are made valid at the resource.
const makeSteps = (resource: Resource, init?: {
  restore?: AuthorizedFetch.Session<D, C>
  refresh?: "ok" | "rejected" | "transient"
  clientRejections?: number
}) => {
  const calls = {
    restore: 0,
    discover: 0,
    register: 0,
    forget: 0,
    authorize: [] as Array<string | undefined>,
    refresh: 0,
    save: 0
  }
  const saved: Array<AuthorizedFetch.Session<D, C>> = []
  let clientRejections = init?.clientRejections ?? 0
  const mint = (scope: string | undefined, ttlMs = 3_600_000): AuthorizedFetch.Tokens => {
    const token = `at-${++n}`
    resource.valid.set(token, new Set((scope ?? "").split(" ").filter((s) => s !== "")))
    return {
      access_token: Redacted.make(token),
      token_type: "Bearer",
      expires_at: Date.now() + ttlMs,
      refresh_token: Redacted.make(`rt-${n}`),
      ...(scope === undefined ? {} : { scope })
    }
  }
  const steps: AuthorizedFetch.Steps<D, C> = {
    restore: Effect.sync(() => {
      calls.restore++
      return init?.restore
    }),
    parseChallenge: (headers) => {
      const h = headers.get("www-authenticate")
      if (h === null) return undefined
      const get = (k: string) => new RegExp(`${k}="([^"]*)"`).exec(h)?.[1]
      return { scope: get("scope"), error: get("error"), error_description: get("error_description") }
    },
    discover: () =>
      Effect.sync(() => {
        calls.discover++
        return { issuer: "https://as.example", resource: resource.url, prm: "x", resourceScopesSupported: ["read"] }
      }),
    register: () =>
      Effect.sync(() => {
        calls.register++
        return { client_id: `client-${calls.register}` }
      }),
    forgetClient: () => Effect.sync(() => void calls.forget++),
    authorize: (_d, client, scope) =>
      Effect.suspend(() => {
        calls.authorize.push(scope)
        if (clientRejections > 0) {
          clientRejections--
          return Effect.fail(
            new McpAuthError.McpAuthError({
              reason: new McpAuthError.ClientRejected({ clientId: client.client_id, detail: "invalid_client" })
            })
          )
        }
        return Effect.succeed({ tokens: mint(scope), client })
      }),
    refresh: (session) =>
      Effect.suspend(() => {
        calls.refresh++
        const mode = init?.refresh ?? "ok"
        if (mode === "rejected") return Effect.fail(AuthorizedFetch.refreshRejected("invalid_grant"))
        if (mode === "transient") {
          return Effect.fail(McpAuthError.stepFailed("refresh", new Error("503 from the token endpoint")))
        }
        return Effect.succeed(mint(session.requestedScope))
      }),
    save: (session) =>
      Effect.sync(() => {
        calls.save++
        saved.push(session)
      })
  }
  return { steps, calls, saved, mint }
}

const rpc = (method: string) => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ jsonrpc: "2.0", id: 1, method })
})

const failureReason = <A>(exit: Exit.Exit<A, McpAuthError.McpAuthError>) => {
  assert.isTrue(Exit.isFailure(exit), "expected a failure")
  const first = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
  return first?._tag === "Fail" ? first.error.reason : undefined
}

describe("AuthorizedFetch", () => {
  it.live("MCP §Authorization Flow Steps: a 401 leads to discover, register, authorize, then one retry with the token", () =>
    Effect.scoped(Effect.gen(function*() {
      const resource = yield* startResource
      const { steps, calls, saved } = makeSteps(resource)
      const events: Array<string> = []
      const af = yield* AuthorizedFetch.make({
        serverUrl: resource.url,
        steps,
        events: (e) => events.push(`${e.step}:${e.phase}`)
      })
      const res = yield* Effect.promise(() => af.fetch(resource.url, rpc("tools/list")))
      assert.strictEqual(res.status, 200)
      assert.deepStrictEqual([calls.discover, calls.register, calls.authorize.length], [1, 1, 1])
      // MCP §Scope Selection Strategy: the challenge's scope
      assert.deepStrictEqual(calls.authorize, ["read"])
      assert.strictEqual(resource.seen.length, 2)
      assert.isUndefined(resource.seen[0]?.auth)
      assert.match(resource.seen[1]?.auth ?? "", /^Bearer at-\d+$/)
      // the body was replayed intact
      assert.strictEqual(resource.seen[1]?.rpc, "tools/list")
      // RFC 6750 §2.1: never in the URL
      assert.notInclude(resource.seen[1]?.path ?? "", "at-")
      assert.strictEqual(saved.length, 1)
      assert.includeMembers(events, ["discovery:start", "discovery:done", "registration:done", "authorization:done"])
      assert.notInclude(JSON.stringify(events), (resource.seen[1]?.auth ?? "").slice(7))
    })))

  it.live("a stored session is used without discovery, registration or authorization (warm start)", () =>
    Effect.scoped(Effect.gen(function*() {
      const resource = yield* startResource
      const pre = makeSteps(resource)
      const tokens = pre.mint("read")
      const { steps, calls } = makeSteps(resource, {
        restore: {
          discovered: { issuer: "https://as.example", resource: resource.url, prm: "x" },
          client: { client_id: "stored" },
          tokens,
          requestedScope: "read"
        }
      })
      const af = yield* AuthorizedFetch.make({ serverUrl: resource.url, steps })
      const res = yield* af.request(resource.url, rpc("tools/list"))
      assert.strictEqual(res.status, 200)
      assert.deepStrictEqual([calls.restore, calls.discover, calls.register, calls.authorize.length, calls.refresh], [
        1,
        0,
        0,
        0,
        0
      ])
      assert.strictEqual(resource.seen.length, 1)
    })))

  it.live("refreshes ahead of expiry, before sending", () =>
    Effect.scoped(Effect.gen(function*() {
      const resource = yield* startResource
      const pre = makeSteps(resource)
      const tokens = { ...pre.mint("read"), expires_at: Date.now() + 10_000 }
      const { steps, calls } = makeSteps(resource, {
        restore: {
          discovered: { issuer: "i", resource: resource.url, prm: "x" },
          client: { client_id: "c" },
          tokens,
          requestedScope: "read"
        }
      })
      const af = yield* AuthorizedFetch.make({ serverUrl: resource.url, steps, refreshSkewMs: 60_000 })
      const res = yield* af.request(resource.url, rpc("tools/list"))
      assert.strictEqual(res.status, 200)
      assert.strictEqual(calls.refresh, 1)
      assert.strictEqual(resource.seen.length, 1)
      assert.notStrictEqual(resource.seen[0]?.auth, `Bearer ${Redacted.value(tokens.access_token)}`)
    })))

  it.live("a transient refresh failure keeps a token that is still valid and wipes nothing", () =>
    Effect.scoped(Effect.gen(function*() {
      const resource = yield* startResource
      const pre = makeSteps(resource)
      const tokens = { ...pre.mint("read"), expires_at: Date.now() + 10_000 }
      const { steps, calls, saved } = makeSteps(resource, {
        refresh: "transient",
        restore: {
          discovered: { issuer: "i", resource: resource.url, prm: "x" },
          client: { client_id: "c" },
          tokens,
          requestedScope: "read"
        }
      })
      const af = yield* AuthorizedFetch.make({ serverUrl: resource.url, steps })
      const res = yield* af.request(resource.url, rpc("tools/list"))
      assert.strictEqual(res.status, 200)
      assert.strictEqual(calls.refresh, 1)
      assert.strictEqual(resource.seen[0]?.auth, `Bearer ${Redacted.value(tokens.access_token)}`)
      assert.strictEqual(saved.length, 0)
    })))

  it.live("a transient refresh failure with an expired token is a typed error, and the stored tokens are kept", () =>
    Effect.scoped(Effect.gen(function*() {
      const resource = yield* startResource
      const pre = makeSteps(resource)
      const tokens = { ...pre.mint("read"), expires_at: Date.now() - 1 }
      const { steps, saved } = makeSteps(resource, {
        refresh: "transient",
        restore: {
          discovered: { issuer: "i", resource: resource.url, prm: "x" },
          client: { client_id: "c" },
          tokens,
          requestedScope: "read"
        }
      })
      const af = yield* AuthorizedFetch.make({ serverUrl: resource.url, steps })
      const reason = failureReason(yield* Effect.exit(af.request(resource.url, rpc("tools/list"))))
      assert.strictEqual(reason?._tag, "StepFailed")
      assert.strictEqual(saved.length, 0)
      assert.strictEqual(resource.seen.length, 0)
    })))

  it.live("on 401 with a refresh token: refresh, then retry", () =>
    Effect.scoped(Effect.gen(function*() {
      const resource = yield* startResource
      const tokens = {
        access_token: Redacted.make("revoked-at"),
        token_type: "Bearer",
        expires_at: Date.now() + 3_600_000,
        refresh_token: Redacted.make("rt-0")
      }
      const { steps, calls } = makeSteps(resource, {
        restore: {
          discovered: { issuer: "i", resource: resource.url, prm: "x" },
          client: { client_id: "c" },
          tokens,
          requestedScope: "read"
        }
      })
      const af = yield* AuthorizedFetch.make({ serverUrl: resource.url, steps })
      const res = yield* af.request(resource.url, rpc("tools/list"))
      assert.strictEqual(res.status, 200)
      assert.deepStrictEqual([calls.refresh, calls.authorize.length, calls.discover], [1, 0, 0])
    })))

  it.live("invalid_grant on refresh: tokens cleared, the user authorizes again, the registration is kept", () =>
    Effect.scoped(Effect.gen(function*() {
      const resource = yield* startResource
      const tokens = {
        access_token: Redacted.make("revoked-at"),
        token_type: "Bearer",
        refresh_token: Redacted.make("rt-0")
      }
      const { steps, calls, saved } = makeSteps(resource, {
        refresh: "rejected",
        restore: {
          discovered: { issuer: "i", resource: resource.url, prm: "x" },
          client: { client_id: "kept" },
          tokens,
          requestedScope: "read"
        }
      })
      const af = yield* AuthorizedFetch.make({ serverUrl: resource.url, steps })
      const res = yield* af.request(resource.url, rpc("tools/list"))
      assert.strictEqual(res.status, 200)
      assert.deepStrictEqual([calls.refresh, calls.register, calls.discover, calls.authorize.length], [1, 0, 0, 1])
      // first the cleared tokens were stored, then the new ones; the client was never dropped
      assert.isUndefined(saved[0]?.tokens)
      assert.strictEqual(saved[0]?.client.client_id, "kept")
      assert.strictEqual(saved[1]?.client.client_id, "kept")
    })))

  it.live("a server that keeps answering 401 gets a typed StillUnauthorized error, not a loop", () =>
    Effect.scoped(Effect.gen(function*() {
      const resource = yield* startResource
      const { steps, calls } = makeSteps(resource)
      // tokens minted are never accepted
      const af = yield* AuthorizedFetch.make({
        serverUrl: resource.url,
        steps: {
          ...steps,
          authorize: (d, c, s) =>
            Effect.map(
              steps.authorize(d, c, s),
              (r) => ({ ...r, tokens: { ...r.tokens, access_token: Redacted.make("bogus") } })
            )
        }
      })
      const reason = failureReason(yield* Effect.exit(af.request(resource.url, rpc("tools/list"))))
      assert.strictEqual(reason?._tag, "StillUnauthorized")
      assert.strictEqual(calls.authorize.length, 1)
      assert.isAtMost(resource.seen.length, 3)
    })))

  it.live("MCP §Step-Up Authorization Flow: 403 insufficient_scope re-authorizes with the union of scopes", () =>
    Effect.scoped(Effect.gen(function*() {
      const resource = yield* startResource
      const { steps, calls } = makeSteps(resource)
      const af = yield* AuthorizedFetch.make({ serverUrl: resource.url, steps })
      assert.strictEqual((yield* af.request(resource.url, rpc("tools/list"))).status, 200)
      const res = yield* af.request(resource.url, rpc("tools/call"))
      assert.strictEqual(res.status, 200)
      assert.deepStrictEqual(calls.authorize, ["read", "read write"])
      assert.strictEqual(calls.register, 1)
    })))

  it.live("MCP §Scope Challenge Handling: retry limits: 3 authorizations for one request, the one after the 401 included", () =>
    Effect.scoped(Effect.gen(function*() {
      const resource = yield* startResource
      resource.alwaysForbid = true
      const { steps, calls } = makeSteps(resource)
      const af = yield* AuthorizedFetch.make({ serverUrl: resource.url, steps })
      const reason = failureReason(yield* Effect.exit(af.request(resource.url, rpc("tools/call"))))
      assert.strictEqual(reason?._tag, "InsufficientScope")
      // 1 authorization after the 401 + 2 step-ups: the operation got 3 authorizations, then a typed error
      assert.strictEqual(reason?._tag === "InsufficientScope" ? reason.attempts : -1, 2)
      assert.strictEqual(calls.authorize.length, 3)
    })))

  it.live("MCP §Step-Up Authorization Flow 4: with a token already held, gives up after 3 step-ups", () =>
    Effect.scoped(Effect.gen(function*() {
      const resource = yield* startResource
      resource.alwaysForbid = true
      const { steps, calls } = makeSteps(resource)
      const af = yield* AuthorizedFetch.make({ serverUrl: resource.url, steps })
      assert.strictEqual((yield* af.request(resource.url, rpc("tools/list"))).status, 200)
      const reason = failureReason(yield* Effect.exit(af.request(resource.url, rpc("tools/call"))))
      assert.strictEqual(reason?._tag === "InsufficientScope" ? reason.attempts : -1, 3)
      // 1 authorization for tools/list, then 3 step-ups for tools/call
      assert.strictEqual(calls.authorize.length, 4)
    })))

  it.live("an unknown client registers again once (invalid_client), then succeeds", () =>
    Effect.scoped(Effect.gen(function*() {
      const resource = yield* startResource
      const { steps, calls } = makeSteps(resource, { clientRejections: 1 })
      const af = yield* AuthorizedFetch.make({ serverUrl: resource.url, steps })
      assert.strictEqual((yield* af.request(resource.url, rpc("tools/list"))).status, 200)
      assert.deepStrictEqual([calls.register, calls.forget, calls.authorize.length], [2, 1, 2])
    })))

  it.live("an unknown client twice is an error, not a registration loop", () =>
    Effect.scoped(Effect.gen(function*() {
      const resource = yield* startResource
      const { steps, calls } = makeSteps(resource, { clientRejections: 5 })
      const af = yield* AuthorizedFetch.make({ serverUrl: resource.url, steps })
      const reason = failureReason(yield* Effect.exit(af.request(resource.url, rpc("tools/list"))))
      assert.strictEqual(reason?._tag, "ClientRejected")
      assert.deepStrictEqual([calls.register, calls.forget], [2, 1])
    })))

  it.live("10 concurrent cold requests cause exactly one authorization", () =>
    Effect.scoped(Effect.gen(function*() {
      const resource = yield* startResource
      const { steps, calls } = makeSteps(resource)
      const af = yield* AuthorizedFetch.make({ serverUrl: resource.url, steps })
      const results = yield* Effect.all(
        Array.from({ length: 10 }, () => af.request(resource.url, rpc("tools/list"))),
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual(results.map((r) => r.status), Array(10).fill(200))
      assert.deepStrictEqual([calls.discover, calls.register, calls.authorize.length], [1, 1, 1])
    })))

  it.live("MCP §Token Handling: the token is never sent to another origin", () =>
    Effect.scoped(Effect.gen(function*() {
      const resource = yield* startResource
      const other = yield* startResource
      const { steps } = makeSteps(resource)
      const af = yield* AuthorizedFetch.make({ serverUrl: resource.url, steps })
      assert.strictEqual((yield* af.request(resource.url, rpc("tools/list"))).status, 200)
      const res = yield* af.request(other.url, rpc("tools/list"))
      // passed through untouched: the other origin saw no Authorization and its 401 was not acted on
      assert.strictEqual(res.status, 401)
      assert.isUndefined(other.seen[0]?.auth)
      assert.strictEqual(other.seen.length, 1)
    })))

  it.live("forceRefresh and clearTokens", () =>
    Effect.scoped(Effect.gen(function*() {
      const resource = yield* startResource
      const { steps, calls, saved } = makeSteps(resource)
      const af = yield* AuthorizedFetch.make({ serverUrl: resource.url, steps })
      yield* af.request(resource.url, rpc("tools/list"))
      const before = (yield* af.session)?.tokens
      const after = (yield* af.forceRefresh)?.tokens
      assert.strictEqual(calls.refresh, 1)
      assert.notStrictEqual(after, before)
      yield* af.clearTokens
      assert.isUndefined((yield* af.session)?.tokens)
      assert.isUndefined(saved.at(-1)?.tokens)
      assert.isDefined(saved.at(-1)?.client)
    })))

  it.effect("the refresh skew is capped at a third of the token's lifetime", () =>
    Effect.sync(() => {
      const t = (raw?: Record<string, unknown>) => ({ access_token: Redacted.make("x"), token_type: "Bearer", raw })
      assert.strictEqual(AuthorizedFetch.effectiveSkew(t({ expires_in: 3600 }), 60_000), 60_000)
      assert.strictEqual(AuthorizedFetch.effectiveSkew(t({ expires_in: 3 }), 60_000), 1_000)
      assert.strictEqual(AuthorizedFetch.effectiveSkew(t({ expires_in: "30" }), 60_000), 10_000)
      assert.strictEqual(AuthorizedFetch.effectiveSkew(t(), 60_000), 60_000)
      assert.strictEqual(AuthorizedFetch.effectiveSkew(t({ expires_in: "soon" }), 60_000), 60_000)
    }))

  it.live("once the session is loaded, a refused token is refreshed and the request retried once: nothing is sent twice", () =>
    Effect.scoped(Effect.gen(function*() {
      const resource = yield* startResource
      const tokens = makeSteps(resource).mint("read")
      const { steps, calls } = makeSteps(resource, {
        restore: {
          discovered: { issuer: "i", resource: resource.url, prm: "x" },
          client: { client_id: "c" },
          tokens,
          requestedScope: "read"
        }
      })
      const af = yield* AuthorizedFetch.make({ serverUrl: resource.url, steps })
      assert.strictEqual((yield* Effect.promise(() => af.fetch(resource.url, rpc("tools/list")))).status, 200)
      // the server stops accepting the token (revoked, say) while the client still holds it
      resource.valid.delete(Redacted.value(tokens.access_token))
      const before = resource.seen.length
      const res = yield* Effect.promise(() => af.fetch(resource.url, rpc("resources/list")))
      assert.strictEqual(res.status, 200)
      assert.strictEqual(calls.refresh, 1)
      const sent = resource.seen.slice(before)
      assert.deepStrictEqual(sent.map((r) => r.rpc), ["resources/list", "resources/list"])
      assert.strictEqual(sent[0]?.auth, `Bearer ${Redacted.value(tokens.access_token)}`)
      assert.notStrictEqual(sent[1]?.auth, sent[0]?.auth)
    })))

  it.live("once the session is loaded, a network failure rejects with a typed McpAuthError naming the request step", () =>
    Effect.scoped(Effect.gen(function*() {
      const resource = yield* startResource
      const { steps } = makeSteps(resource)
      let down = false
      const af = yield* AuthorizedFetch.make({
        serverUrl: resource.url,
        steps,
        fetch: (input, init) => (down ? Promise.reject(new TypeError("fetch failed")) : fetch(input, init))
      })
      assert.strictEqual((yield* Effect.promise(() => af.fetch(resource.url, rpc("tools/list")))).status, 200)
      down = true
      const error = yield* Effect.promise(() =>
        af.fetch(resource.url, rpc("tools/list")).then(() => undefined, (e: unknown) => e)
      )
      assert.instanceOf(error, McpAuthError.McpAuthError)
      const reason = error instanceof McpAuthError.McpAuthError ? error.reason : undefined
      assert.strictEqual(reason?._tag, "StepFailed")
      assert.strictEqual(reason?._tag === "StepFailed" ? reason.step : "", "request")
    })))

  it.effect("the direct path reads the same Clock: once it passes the refresh point, the token is refreshed first", () =>
    Effect.scoped(Effect.gen(function*() {
      const resource = yield* startResource
      // the test clock at the wall clock's time, so that only a clock that advanced can trigger the refresh
      yield* TestClock.setTime(Date.now())
      const now = yield* Clock.currentTimeMillis
      const tokens = { ...makeSteps(resource).mint("read"), expires_at: now + 3_600_000 }
      const { steps, calls } = makeSteps(resource, {
        restore: {
          discovered: { issuer: "i", resource: resource.url, prm: "x" },
          client: { client_id: "c" },
          tokens,
          requestedScope: "read"
        }
      })
      const af = yield* AuthorizedFetch.make({ serverUrl: resource.url, steps, refreshSkewMs: 60_000 })
      assert.strictEqual((yield* Effect.promise(() => af.fetch(resource.url, rpc("tools/list")))).status, 200)
      assert.strictEqual(calls.refresh, 0)
      // 50 s before expiry: within the 60 s skew (a test clock; the wall clock is an hour away)
      yield* TestClock.adjust("3550 seconds")
      assert.strictEqual((yield* Effect.promise(() => af.fetch(resource.url, rpc("tools/list")))).status, 200)
      assert.strictEqual(calls.refresh, 1)
      assert.notStrictEqual(resource.seen.at(-1)?.auth, `Bearer ${Redacted.value(tokens.access_token)}`)
    })))

  it.live("a body sent as bytes is replayed intact after the 401", () =>
    Effect.scoped(Effect.gen(function*() {
      const resource = yield* startResource
      const { steps } = makeSteps(resource)
      const af = yield* AuthorizedFetch.make({ serverUrl: resource.url, steps })
      const bytes = new TextEncoder().encode(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }))
      const res = yield* af.request(new URL(resource.url), { method: "POST", body: bytes })
      assert.strictEqual(res.status, 200)
      assert.deepStrictEqual(resource.seen.map((s) => [s.auth === undefined, s.rpc]), [
        [true, "tools/list"],
        [false, "tools/list"]
      ])
    })))

  it.live("a Request with a streamed body is read once and replayed intact after the 401", () =>
    Effect.scoped(Effect.gen(function*() {
      const resource = yield* startResource
      const { steps } = makeSteps(resource)
      const af = yield* AuthorizedFetch.make({ serverUrl: resource.url, steps })
      const text = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "resources/list" })
      const stream = new ReadableStream<Uint8Array>({
        start: (controller) => {
          controller.enqueue(new TextEncoder().encode(text))
          controller.close()
        }
      })
      const req = new Request(resource.url, { method: "POST", body: stream, duplex: "half" } as RequestInit)
      const res = yield* af.request(req)
      assert.strictEqual(res.status, 200)
      assert.deepStrictEqual(resource.seen.map((s) => s.rpc), ["resources/list", "resources/list"])
      assert.match(resource.seen[1]?.auth ?? "", /^Bearer at-\d+$/)
    })))

  it.live("a lower-case method is normalised as fetch does: a \"delete\" answered 401 starts no sign-in", () =>
    Effect.scoped(Effect.gen(function*() {
      const resource = yield* startResource
      const { steps, calls } = makeSteps(resource)
      const af = yield* AuthorizedFetch.make({ serverUrl: resource.url, steps })
      const res = yield* af.request(resource.url, { method: "delete" })
      assert.strictEqual(res.status, 401)
      assert.strictEqual(resource.seen[0]?.method, "DELETE")
      assert.deepStrictEqual([calls.discover, calls.register, calls.authorize.length], [0, 0, 0])
    })))

  it.live("a 401 on a DELETE (session termination) is returned as is: no sign-in starts", () =>
    Effect.scoped(Effect.gen(function*() {
      const resource = yield* startResource
      const { steps, calls } = makeSteps(resource)
      const af = yield* AuthorizedFetch.make({ serverUrl: resource.url, steps })
      const res = yield* af.request(resource.url, { method: "DELETE" })
      assert.strictEqual(res.status, 401)
      assert.deepStrictEqual([calls.discover, calls.register, calls.authorize.length], [0, 0, 0])
    })))

  it.live("a sign-in in progress is interrupted by the request's AbortSignal and by closing the owning scope", () =>
    Effect.gen(function*() {
      // a user who never finishes signing in; `started` says when the sign-in is really waiting (no fixed sleeps)
      const interrupted = yield* Deferred.make<void>()
      let interruptions = 0
      const hanging = (r: Resource, started: Deferred.Deferred<void>) => {
        const { steps } = makeSteps(r)
        return {
          ...steps,
          authorize: () =>
            Deferred.succeed(started, undefined).pipe(
              Effect.andThen(Effect.never),
              Effect.onInterrupt(() =>
                Effect.sync(() => {
                  interruptions++
                }).pipe(Effect.andThen(Deferred.succeed(interrupted, undefined)))
              )
            )
        } as AuthorizedFetch.Steps<D, C>
      }
      // 1. aborting the request
      yield* Effect.scoped(Effect.gen(function*() {
        const r = yield* startResource
        const started = yield* Deferred.make<void>()
        const af = yield* AuthorizedFetch.make({ serverUrl: r.url, steps: hanging(r, started) })
        const controller = new AbortController()
        const pending = af.fetch(r.url, { ...rpc("tools/list"), signal: controller.signal })
        yield* Deferred.await(started)
        controller.abort()
        const outcome = yield* Effect.promise(() => pending.then(() => "resolved", () => "rejected"))
        assert.strictEqual(outcome, "rejected")
      }))
      assert.strictEqual(interruptions, 1)
      // 2. closing the scope that owns the authorised fetch (e.g. a client's close())
      let settled: Promise<string> | undefined
      yield* Effect.scoped(Effect.gen(function*() {
        const r = yield* startResource
        const started = yield* Deferred.make<void>()
        const af = yield* AuthorizedFetch.make({ serverUrl: r.url, steps: hanging(r, started) })
        settled = af.fetch(r.url, rpc("tools/list")).then(() => "resolved", () => "rejected")
        yield* Deferred.await(started)
      }))
      assert.strictEqual(yield* Effect.promise(() => settled ?? Promise.resolve("none")), "rejected")
      assert.strictEqual(interruptions, 2)
    }))
})
