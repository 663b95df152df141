import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option, Redacted } from "effect"
import { HttpClientRequest } from "effect/http"
import { TestClock } from "effect/testing"
import { AuthorizationRequest, LoopbackCallback, TokenRequest, TokenSet, UserAgent } from "../src/index.ts"

const pending: AuthorizationRequest.PendingAuthorization = {
  authorizationUrl: new URL("https://as.example/authorize"),
  issuer: "https://as.example",
  issParameterSupported: true,
  clientId: "c",
  redirectUri: "http://127.0.0.1:5000/callback",
  state: Redacted.make("the-state"),
  verifier: Redacted.make("v".repeat(43)),
  resource: "https://mcp.example/mcp"
}

const response = (params: string) => `http://127.0.0.1:5000/callback?${params}`

const jwt = (payload: object) =>
  [{ alg: "none", typ: "at+jwt" }, payload].map((p) => Buffer.from(JSON.stringify(p)).toString("base64url")).join(".") +
  ".sig"

describe("AuthorizationRequest", () => {
  it("OAuth 2.1 §4.1.1: the request carries PKCE S256, state, resource (exact) and keeps the endpoint's query", () => {
    const url = AuthorizationRequest.buildAuthorizationUrl({
      authorizationEndpoint: "https://as.example/authorize?tenant=a",
      clientId: "client id",
      redirectUri: "http://127.0.0.1:5000/callback",
      scope: "mcp:read",
      state: "s",
      codeChallenge: "c",
      resource: "https://mcp.example/mcp"
    })
    assert.strictEqual(url.searchParams.get("tenant"), "a")
    assert.strictEqual(url.searchParams.get("response_type"), "code")
    assert.strictEqual(url.searchParams.get("code_challenge_method"), "S256")
    assert.strictEqual(url.searchParams.get("resource"), "https://mcp.example/mcp")
    assert.strictEqual(url.searchParams.get("client_id"), "client id")
  })

  it("MCP §Scope Selection: scope is omitted when there is none", () => {
    const url = AuthorizationRequest.buildAuthorizationUrl({
      authorizationEndpoint: "https://as.example/authorize",
      clientId: "c",
      redirectUri: "http://127.0.0.1:5000/callback",
      scope: " ",
      state: "s",
      codeChallenge: "c"
    })
    assert.isFalse(url.searchParams.has("scope"))
    assert.isFalse(url.searchParams.has("resource"))
  })

  it.effect("OAuth 2.1 §7.12: a missing state is a CSRF error even when an error is present", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        AuthorizationRequest.validateAuthorizationResponse(pending, response("error=access_denied&iss=x"))
      )
      assert.strictEqual(error.reason._tag, "StateMismatch")
    }))

  it.effect("RFC 9207 §2.4: iss is compared exactly (no normalisation)", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        AuthorizationRequest.validateAuthorizationResponse(
          pending,
          response("code=abc&state=the-state&iss=https%3A%2F%2Fas.example%2F")
        )
      )
      assert.strictEqual(error.reason._tag, "IssuerMismatch")
      const code = yield* AuthorizationRequest.validateAuthorizationResponse(
        pending,
        response("code=abc&state=the-state&iss=https%3A%2F%2Fas.example")
      )
      assert.strictEqual(Redacted.value(code), "abc")
    }))

  it.effect("RFC 6749 §3.1: a parameter sent twice is rejected", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        AuthorizationRequest.validateAuthorizationResponse(
          pending,
          response("code=a&code=b&state=the-state&iss=https%3A%2F%2Fas.example")
        )
      )
      assert.strictEqual(error.reason._tag, "InvalidResponse")
    }))

  it.effect("a pasted URL that is not at the redirect URI is rejected", () =>
    Effect.gen(function*() {
      const other = yield* Effect.flip(
        AuthorizationRequest.validateAuthorizationResponse(
          pending,
          "http://127.0.0.1:5000/other?code=a&state=the-state"
        )
      )
      assert.strictEqual(other.reason._tag, "InvalidRedirectUrl")
      const garbage = yield* Effect.flip(AuthorizationRequest.validateAuthorizationResponse(pending, "not a url"))
      assert.strictEqual(garbage.reason._tag, "InvalidRedirectUrl")
    }))
})

describe("TokenSet", () => {
  it.effect("RFC 6749 §5.1: token_type is case-insensitive and expires_in becomes an absolute expiry", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust("10 seconds")
      const tokens = yield* TokenSet.parseTokenResponse(
        { access_token: "a", token_type: "bEaReR", expires_in: "60", refresh_token: null, custom: 1 },
        10_000
      )
      assert.strictEqual(tokens.token_type, "Bearer")
      assert.strictEqual(tokens.expires_at, 70_000)
      assert.isUndefined(tokens.refresh_token)
      assert.deepStrictEqual(tokens.raw, { token_type: "bEaReR", expires_in: "60", custom: 1 })
      assert.isFalse(TokenSet.isExpired(tokens, 69_999))
      assert.isTrue(TokenSet.isExpired(tokens, 70_000))
      assert.isTrue(TokenSet.isExpired(tokens, 40_000, 30_000))
    }))

  it.effect("RFC 6749 §5.1: a response without access_token or with another token_type is a typed error", () =>
    Effect.gen(function*() {
      const missing = yield* Effect.flip(TokenSet.parseTokenResponse({ token_type: "Bearer" }, 0))
      assert.strictEqual(missing.reason._tag, "InvalidResponse")
      assert.include(missing.message, "access_token")
      const mac = yield* Effect.flip(TokenSet.parseTokenResponse({ access_token: "a", token_type: "mac" }, 0))
      assert.include(mac.message, "token_type")
    }))

  it.effect("RFC 6749 §6: a refresh response without a refresh token keeps the old one; with one, replaces it", () =>
    Effect.gen(function*() {
      const before = yield* TokenSet.parseTokenResponse(
        { access_token: "a1", token_type: "Bearer", refresh_token: "r1", scope: "s" },
        0
      )
      const kept = TokenSet.mergeRefreshed(
        before,
        yield* TokenSet.parseTokenResponse({ access_token: "a2", token_type: "Bearer" }, 0)
      )
      assert.strictEqual(Redacted.value(kept.access_token), "a2")
      assert.strictEqual(kept.refresh_token && Redacted.value(kept.refresh_token), "r1")
      assert.strictEqual(kept.scope, "s")
      const replaced = TokenSet.mergeRefreshed(
        before,
        yield* TokenSet.parseTokenResponse({ access_token: "a3", token_type: "Bearer", refresh_token: "r2" }, 0)
      )
      assert.strictEqual(replaced.refresh_token && Redacted.value(replaced.refresh_token), "r2")
    }))

  it.effect("RFC 8707 audience binding: a JWT whose aud lacks the resource is flagged, opaque tokens are not", () =>
    Effect.gen(function*() {
      const base = { token_type: "Bearer", raw: {} }
      const other = { ...base, access_token: Redacted.make(jwt({ aud: ["https://other.example"] })) }
      assert.isFalse(yield* TokenSet.checkAudience(other, "https://mcp.example/mcp"))
      const bound = { ...base, access_token: Redacted.make(jwt({ aud: "https://mcp.example/mcp" })) }
      assert.isTrue(yield* TokenSet.checkAudience(bound, "https://mcp.example/mcp"))
      const opaque = { ...base, access_token: Redacted.make("opaque-token") }
      assert.isTrue(yield* TokenSet.checkAudience(opaque, "https://mcp.example/mcp"))
      assert.isTrue(Option.isNone(TokenSet.accessTokenAudience(opaque.access_token)))
    }))
})

describe("TokenRequest", () => {
  it("RFC 6749 §2.3.1: client_secret_basic form-encodes id and secret before base64", () => {
    const header = Redacted.value(TokenRequest.basicAuthorization("a b:c", Redacted.make("p&ss wörd+")))
    const decoded = Buffer.from(header.replace(/^Basic /, ""), "base64").toString("utf8")
    assert.strictEqual(decoded, "a+b%3Ac:p%26ss+w%C3%B6rd%2B")
  })

  it.effect("RFC 7591 §2: the registered method wins; without one the server's list decides", () =>
    Effect.gen(function*() {
      assert.strictEqual(
        yield* TokenRequest.selectAuthMethod({ client_id: "c", token_endpoint_auth_method: "none" }, {}),
        "none"
      )
      assert.strictEqual(
        yield* TokenRequest.selectAuthMethod({ client_id: "c", client_secret: Redacted.make("s") }, {
          token_endpoint_auth_methods_supported: ["client_secret_post"]
        }),
        "client_secret_post"
      )
      const noSecret = yield* Effect.flip(
        TokenRequest.selectAuthMethod({ client_id: "c", token_endpoint_auth_method: "client_secret_basic" }, {})
      )
      assert.strictEqual(noSecret.reason._tag, "UnsupportedAuthMethod")
      const jwtAuth = yield* Effect.flip(
        TokenRequest.selectAuthMethod({ client_id: "c", token_endpoint_auth_method: "private_key_jwt" }, {})
      )
      assert.strictEqual(jwtAuth.reason._tag, "UnsupportedAuthMethod")
    }))

  it("RFC 8707 §2.2: the refresh request carries resource, and scope only when narrowing", () => {
    const request = TokenRequest.buildRefreshRequest({
      tokenEndpoint: "https://as.example/token",
      refreshToken: Redacted.make("r"),
      resource: "https://mcp.example/mcp",
      client: { client_id: "c" },
      method: "none"
    })
    const body = request.body
    assert.strictEqual(body._tag, "Uint8Array")
    if (body._tag === "Uint8Array") {
      const params = new URLSearchParams(new TextDecoder().decode(body.body))
      assert.strictEqual(params.get("grant_type"), "refresh_token")
      assert.strictEqual(params.get("resource"), "https://mcp.example/mcp")
      assert.strictEqual(params.get("client_id"), "c")
      assert.isFalse(params.has("scope"))
    }
    assert.isTrue(HttpClientRequest.isHttpClientRequest(request))
  })
})

describe("LoopbackCallback", () => {
  it.live("RFC 8252 §7.3: accepts exactly one callback on the path and answers an HTML-escaped page", () =>
    Effect.gen(function*() {
      const listener = yield* LoopbackCallback.listen({ port: 0, path: "/cb" })
      assert.match(listener.redirectUri, /^http:\/\/127\.0\.0\.1:\d+\/cb$/)
      const base = listener.redirectUri.replace(/\/cb$/, "")
      const notFound = yield* Effect.promise(() => fetch(`${base}/favicon.ico`))
      assert.strictEqual(notFound.status, 404)
      const first = yield* Effect.forkChild(
        Effect.promise(() => fetch(`${listener.redirectUri}?code=x&state=y`).then((r) => r.text()))
      )
      const url = yield* listener.awaitCallback
      assert.strictEqual(url.searchParams.get("code"), "x")
      yield* listener.respond({ ok: false, message: "<script>alert(1)</script>" })
      const page = yield* Fiber.join(first)
      assert.include(page, "&#60;script&#62;")
      assert.notInclude(page, "<script>")
      const second = yield* Effect.promise(() => fetch(`${listener.redirectUri}?code=z&state=y`))
      assert.strictEqual(second.status, 409)
    }))

  it.live("RFC 8252 §8.3: host localhost writes localhost into the redirect URI and still answers on 127.0.0.1", () =>
    Effect.gen(function*() {
      const listener = yield* LoopbackCallback.listen({ port: 0, host: "localhost" })
      assert.strictEqual(listener.redirectUri, `http://localhost:${listener.port}/callback`)
      const answer = yield* Effect.forkChild(
        Effect.promise(() => fetch(`http://127.0.0.1:${listener.port}/callback?code=x&state=y`).then((r) => r.status))
      )
      const url = yield* listener.awaitCallback
      assert.strictEqual(url.host, `localhost:${listener.port}`)
      yield* listener.respond({ ok: true })
      assert.strictEqual(yield* Fiber.join(answer), 200)
    }))

  it.live("RFC 8252 §7.3: a taken pre-registered port is an error naming the port", () =>
    Effect.gen(function*() {
      const taken = yield* LoopbackCallback.listen({ port: 0 })
      const error = yield* Effect.flip(LoopbackCallback.listen({ port: taken.port, fixedPort: true }))
      assert.strictEqual(error.reason._tag, "CallbackPortInUse")
      assert.include(error.message, `port ${taken.port}`)
      assert.include(error.message, "register another redirect URI")
    }))

  it.live("RFC 8252 §7.3: with dynamic registration a taken port moves to a free one", () =>
    Effect.gen(function*() {
      const taken = yield* LoopbackCallback.listen({ port: 0 })
      const moved = yield* LoopbackCallback.listen({ port: taken.port })
      assert.notStrictEqual(moved.port, taken.port)
      assert.strictEqual(moved.redirectUri, `http://127.0.0.1:${moved.port}/callback`)
    }))

  it.effect("waiting for the callback times out with a typed error naming the redirect URI", () =>
    Effect.scoped(Effect.gen(function*() {
      const listener = yield* LoopbackCallback.listen({ port: 0, timeout: "2 minutes" })
      const fiber = yield* Effect.forkChild(Effect.flip(listener.awaitCallback))
      yield* TestClock.adjust("2 minutes")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error.reason._tag, "CallbackTimeout")
      assert.include(error.message, listener.redirectUri)
    })))
})

describe("UserAgent", () => {
  it.live("browser with acceptPaste: a pasted redirect URL wins over a listener that never answers", () =>
    Effect.gen(function*() {
      const opened: Array<string> = []
      const url = yield* UserAgent.browser({
        open: async (u) => opened.push(u),
        acceptPaste: true,
        readLine: Effect.succeed("http://127.0.0.1:1/callback?code=c&state=s")
      })({
        authorizationUrl: new URL("https://as.example/authorize?x=1"),
        redirectUri: "http://127.0.0.1:1/callback",
        callback: Option.some(Effect.never)
      })
      assert.strictEqual(String(url), "http://127.0.0.1:1/callback?code=c&state=s")
    }))

  it.effect("only http and https URLs are opened", () =>
    Effect.gen(function*() {
      const opened: Array<string> = []
      const error = yield* Effect.flip(
        UserAgent.browser({ open: async (u) => opened.push(u) })({
          authorizationUrl: new URL("file:///etc/passwd"),
          redirectUri: "http://127.0.0.1:1/callback",
          callback: Option.some(Effect.never)
        })
      )
      assert.strictEqual(error.reason._tag, "UserAgentFailed")
      assert.deepStrictEqual(opened, [])
      assert.isFalse(UserAgent.isOpenable(new URL("javascript:alert(1)")))
    }))
})
