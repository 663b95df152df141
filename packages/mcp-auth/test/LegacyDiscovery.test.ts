// The MCP 2025-03-26 discovery fallbacks: the pure checks, the service against a loopback server, and when the
// orchestrator uses them (only for servers that negotiated 2025-03-26, or when the user enabled them).
import { assert, describe, it } from "@effect/vitest"
import { LegacyDiscovery, McpAuthorization } from "@mcpauth/mcp-auth"
import { UserAgent } from "@mcpauth/oauth2-authorization"
import { TokenStore } from "@mcpauth/token-store"
import { Effect, Exit, Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"

interface Seen {
  readonly method: string
  readonly path: string
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: string
}

// A 2025-03-26-style server on one origin: MCP at /mcp (401 without a token, no protected resource metadata), and,
// as `metadata` says, its authorization server metadata at the root well-known URL or none (404).
const startLegacyServer = (metadata: "document" | "none" | { readonly issuerOrigin: string }) =>
  Effect.acquireRelease(
    Effect.callback<{ origin: string; seen: Array<Seen>; close: () => void }>((resume) => {
      const seen: Array<Seen> = []
      let origin = ""
      const server = createServer((req, res) => {
        let body = ""
        req.on("data", (c) => (body += c))
        req.on("end", () => {
          const url = new URL(req.url ?? "/", origin)
          seen.push({ method: req.method ?? "", path: url.pathname, headers: req.headers, body })
          const json = (status: number, value: unknown) =>
            res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value))
          if (url.pathname === "/.well-known/oauth-authorization-server" && metadata !== "none") {
            const issuer = typeof metadata === "object" ? metadata.issuerOrigin : `${origin}/oauth`
            return json(200, {
              issuer,
              authorization_endpoint: `${origin}/oauth/authorize`,
              token_endpoint: `${origin}/oauth/token`,
              registration_endpoint: `${origin}/oauth/register`,
              response_types_supported: ["code"],
              code_challenge_methods_supported: ["S256"]
            })
          }
          if (url.pathname.endsWith("/register")) {
            return json(201, { client_id: "legacy-client", redirect_uris: JSON.parse(body).redirect_uris })
          }
          if (url.pathname.endsWith("/authorize")) {
            const back = new URL(url.searchParams.get("redirect_uri") ?? "")
            back.searchParams.set("code", "legacy-code")
            back.searchParams.set("state", url.searchParams.get("state") ?? "")
            return res.writeHead(302, { location: back.href }).end()
          }
          if (url.pathname.endsWith("/token")) {
            return json(200, { access_token: "legacy-token", token_type: "Bearer", expires_in: 3600 })
          }
          if (url.pathname === "/mcp") {
            if (req.headers.authorization === "Bearer legacy-token") return json(200, { ok: true })
            return res.writeHead(401, { "www-authenticate": "Bearer" }).end()
          }
          res.writeHead(404).end()
        })
      })
      server.listen(0, "127.0.0.1", () => {
        origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
        resume(Effect.succeed({ origin, seen, close: () => server.close() }))
      })
    }),
    (s) => Effect.sync(() => s.close())
  )

const handOff = UserAgent.programmatic(async (url) => {
  const res = await fetch(url, { redirect: "manual" })
  return new URL(res.headers.get("location") ?? "", url)
})

const authLayer = (serverUrl: string, legacy20250326?: boolean) =>
  McpAuthorization.layerDefault({
    serverUrl,
    userAgent: handOff,
    allowLoopbackHttp: true,
    store: TokenStore.layerMemory,
    ...(legacy20250326 === undefined ? {} : { legacy20250326 })
  }).pipe(Layer.provide(FetchHttpClient.layer))

const call = (headers: Record<string, string>) =>
  Effect.gen(function*() {
    const auth = yield* McpAuthorization.McpAuthorization
    return yield* Effect.exit(
      auth.request(auth.serverUrl, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: "{}"
      })
    )
  })

const LegacyLayer = LegacyDiscovery.layer({ allowLoopbackHttp: true }).pipe(Layer.provide(FetchHttpClient.layer))

describe("LegacyDiscovery (MCP 2025-03-26)", () => {
  it.effect("MCP 2025-03-26 §2.3.2: the authorization base URL is the server URL without its path", () =>
    Effect.sync(() => {
      assert.strictEqual(
        LegacyDiscovery.authorizationBaseUrl("https://api.example.com/v1/mcp?x=1"),
        "https://api.example.com"
      )
    }))

  it.live("MCP 2025-03-26 §2.3.2: metadata from the origin's well-known URL, with MCP-Protocol-Version", () =>
    Effect.gen(function*() {
      const server = yield* startLegacyServer("document")
      const legacy = yield* LegacyDiscovery.LegacyDiscovery
      const found = yield* legacy.discover(`${server.origin}/mcp`)
      assert.strictEqual(found.url, `${server.origin}/.well-known/oauth-authorization-server`)
      assert.strictEqual(found.metadata.token_endpoint, `${server.origin}/oauth/token`)
      assert.strictEqual(server.seen[0]?.headers["mcp-protocol-version"], "2025-03-26")
    }).pipe(Effect.scoped, Effect.provide(LegacyLayer)))

  it.live("MCP 2025-03-26 §2.3.3: without metadata (404), the default /authorize, /token, /register", () =>
    Effect.gen(function*() {
      const server = yield* startLegacyServer("none")
      const legacy = yield* LegacyDiscovery.LegacyDiscovery
      const found = yield* legacy.discover(`${server.origin}/mcp`)
      assert.isUndefined(found.url)
      assert.deepStrictEqual(
        [found.metadata.authorization_endpoint, found.metadata.token_endpoint, found.metadata.registration_endpoint],
        [`${server.origin}/authorize`, `${server.origin}/token`, `${server.origin}/register`]
      )
    }).pipe(Effect.scoped, Effect.provide(LegacyLayer)))

  it.live("MCP 2025-03-26 §2.3.2: a document whose issuer is on another origin is refused", () =>
    Effect.gen(function*() {
      const server = yield* startLegacyServer({ issuerOrigin: "https://elsewhere.example.com" })
      const legacy = yield* LegacyDiscovery.LegacyDiscovery
      const exit = yield* Effect.exit(legacy.discover(`${server.origin}/mcp`))
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
      assert.strictEqual(error?._tag === "Fail" ? error.error.member : "", "issuer")
    }).pipe(Effect.scoped, Effect.provide(LegacyLayer)))

  it.effect("MCP 2025-03-26 §2.1.1: a document without S256 PKCE is refused; http only on loopback when allowed", () =>
    Effect.gen(function*() {
      const base = "https://as.example.com"
      const doc = { issuer: base, authorization_endpoint: `${base}/a`, token_endpoint: `${base}/t` }
      const noPkce = yield* Effect.exit(LegacyDiscovery.checkMetadata(`${base}/x`, base, doc, false))
      assert.strictEqual(
        Exit.isFailure(noPkce) && noPkce.cause.reasons[0]?._tag === "Fail"
          ? noPkce.cause.reasons[0].error.member
          : "",
        "code_challenge_methods_supported"
      )
      const http = "http://as.example.com"
      const plain = yield* Effect.exit(
        LegacyDiscovery.checkMetadata(`${http}/x`, http, {
          issuer: http,
          authorization_endpoint: `${http}/a`,
          token_endpoint: `${http}/t`,
          code_challenge_methods_supported: ["S256"]
        }, true)
      )
      assert.isTrue(Exit.isFailure(plain))
    }))
})

describe("McpAuthorization and the 2025-03-26 fallbacks", () => {
  it.live("MCP 2025-03-26: not used for a server that did not negotiate 2025-03-26 (typed discovery error)", () =>
    Effect.gen(function*() {
      const server = yield* startLegacyServer("document")
      const exit = yield* call({}).pipe(Effect.provide(authLayer(`${server.origin}/mcp`)))
      assert.isTrue(Exit.isFailure(exit))
      const reason = Exit.isFailure(exit) && exit.cause.reasons[0]?._tag === "Fail"
        ? exit.cause.reasons[0].error.reason
        : undefined
      assert.strictEqual(reason?._tag === "StepFailed" ? reason.step : "", "discovery")
      assert.notInclude(server.seen.map((s) => s.path), "/.well-known/oauth-authorization-server")
    }).pipe(Effect.scoped))

  it.live("MCP 2025-03-26: used for a request that carries MCP-Protocol-Version: 2025-03-26", () =>
    Effect.gen(function*() {
      const server = yield* startLegacyServer("document")
      const response = yield* call({ "mcp-protocol-version": "2025-03-26" }).pipe(
        Effect.flatten,
        Effect.provide(authLayer(`${server.origin}/mcp`))
      )
      assert.strictEqual(response.status, 200)
      const token = server.seen.find((s) => s.path === "/oauth/token")
      // RFC 8707 §2.2: the canonical server URI as resource, even without protected resource metadata
      assert.strictEqual(new URLSearchParams(token?.body ?? "").get("resource"), `${server.origin}/mcp`)
    }).pipe(Effect.scoped))

  it.live("MCP 2025-03-26: used for every server when legacy20250326 is enabled (default endpoints)", () =>
    Effect.gen(function*() {
      const server = yield* startLegacyServer("none")
      const response = yield* call({}).pipe(Effect.flatten, Effect.provide(authLayer(`${server.origin}/mcp`, true)))
      assert.strictEqual(response.status, 200)
      assert.includeMembers(server.seen.map((s) => s.path), ["/register", "/authorize", "/token"])
    }).pipe(Effect.scoped))
})
