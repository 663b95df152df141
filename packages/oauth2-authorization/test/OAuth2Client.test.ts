import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { LoopbackCallback, OAuth2AuthorizationError, OAuth2Client, UserAgent } from "../src/index.ts"
import { jwtPayload, metadataOf, must, register, RESOURCE, startProvider, TestLayer } from "./helpers.ts"

describe("OAuth2Client against oidc-provider", () => {
  it.live(
    "full flow: dynamic client, browser + loopback callback, JWT bound to the resource, rotating refresh, revocation",
    () =>
      Effect.gen(function*() {
        const op = yield* startProvider()
        const metadata = yield* metadataOf(op)
        const listener = yield* LoopbackCallback.listen({ port: 0 })
        const client = yield* register(op, listener.redirectUri)
        const oauth = yield* OAuth2Client.OAuth2Client
        const opened: Array<string> = []
        const { pending, tokens } = yield* oauth.authorize({
          metadata,
          client,
          resource: RESOURCE,
          scope: "mcp:read",
          listener,
          // a scripted browser: follows login + consent and delivers the redirect to our loopback listener
          userAgent: UserAgent.browser({
            open: (url) => {
              opened.push(url)
              return op.authorize(url, { deliver: true })
            }
          })
        })
        const sent = new URL(opened[0] ?? "")
        assert.strictEqual(sent.searchParams.get("resource"), RESOURCE)
        assert.strictEqual(sent.searchParams.get("code_challenge_method"), "S256")
        assert.strictEqual(sent.searchParams.get("redirect_uri"), listener.redirectUri)
        // OAuth 2.1 §7.12: state of at least 128 bits (256 bits, 43 base64url characters)
        assert.isAtLeast((sent.searchParams.get("state") ?? "").length, 43)
        assert.strictEqual(pending.issuer, op.issuer)
        // RFC 8707 / MCP §Token Requirements: the access token is bound to the resource
        assert.strictEqual(jwtPayload(tokens.access_token)["aud"], RESOURCE)
        assert.strictEqual(tokens.token_type, "Bearer")
        assert.strictEqual(tokens.scope, "mcp:read")
        assert.isDefined(tokens.expires_at)
        assert.isDefined(tokens.refresh_token)

        const refreshed = yield* oauth.refresh({ metadata, client, tokens, resource: RESOURCE })
        // OAuth 2.1 §4.3.3: the rotated refresh token replaces the old one
        assert.notStrictEqual(
          Redacted.value(must(refreshed.refresh_token, "a refresh token")),
          Redacted.value(must(tokens.refresh_token, "a refresh token"))
        )
        assert.notStrictEqual(Redacted.value(refreshed.access_token), Redacted.value(tokens.access_token))
        assert.strictEqual(jwtPayload(refreshed.access_token)["aud"], RESOURCE)

        yield* oauth.revoke({
          metadata,
          client,
          token: must(refreshed.refresh_token, "a refresh token"),
          tokenTypeHint: "refresh_token"
        })
        // RFC 7009 §2.1: a revoked refresh token can no longer be used
        const error = yield* Effect.flip(oauth.refresh({ metadata, client, tokens: refreshed, resource: RESOURCE }))
        assert.strictEqual(error.reason._tag, "OAuthErrorResponse")
        if (error.reason._tag === "OAuthErrorResponse") assert.strictEqual(error.reason.error, "invalid_grant")
        assert.deepStrictEqual(op.tokenCalls().map((c) => `${c.grantType}:${c.outcome}`), [
          "authorization_code:success",
          "refresh_token:success",
          "refresh_token:error"
        ])
      }).pipe(Effect.provide(TestLayer))
  )

  it.live.each(["client_secret_basic", "client_secret_post"] as const)(
    "RFC 6749 §2.3.1: confidential client with %s through a programmatic hand-off",
    (method) =>
      Effect.gen(function*() {
        const op = yield* startProvider()
        const metadata = yield* metadataOf(op)
        const redirectUri = "http://127.0.0.1:7777/cb"
        const client = yield* register(op, redirectUri, method)
        const oauth = yield* OAuth2Client.OAuth2Client
        const { tokens } = yield* oauth.authorize({
          metadata,
          client,
          resource: RESOURCE,
          scope: "mcp:read mcp:write",
          redirectUri,
          userAgent: UserAgent.programmatic((url) => op.authorize(url))
        })
        assert.strictEqual(tokens.scope, "mcp:read mcp:write")
        // RFC 6749 §6: narrowing the scope on refresh
        const narrowed = yield* oauth.refresh({ metadata, client, tokens, resource: RESOURCE, scope: "mcp:read" })
        assert.strictEqual(narrowed.scope, "mcp:read")
        yield* oauth.revoke({
          metadata,
          client,
          token: must(narrowed.refresh_token, "a refresh token"),
          tokenTypeHint: "refresh_token"
        })
        // RFC 7009 §2.2.1: oidc-provider cannot revoke structured (JWT) access tokens and says so
        const error = yield* Effect.flip(
          oauth.revoke({ metadata, client, token: narrowed.access_token, tokenTypeHint: "access_token" })
        )
        assert.strictEqual(error.reason._tag, "OAuthErrorResponse")
        if (error.reason._tag === "OAuthErrorResponse") {
          assert.strictEqual(error.reason.endpoint, "revocation")
          assert.strictEqual(error.reason.error, "unsupported_token_type")
        }
      }).pipe(Effect.provide(TestLayer))
  )

  it.live("OAuth 2.1 §7.12: a wrong state is a CSRF error and the code is not exchanged", () =>
    Effect.gen(function*() {
      const op = yield* startProvider({ stateOverride: "forged" })
      const metadata = yield* metadataOf(op)
      const redirectUri = "http://127.0.0.1:7777/cb"
      const client = yield* register(op, redirectUri)
      const oauth = yield* OAuth2Client.OAuth2Client
      const error = yield* Effect.flip(
        oauth.authorize({
          metadata,
          client,
          resource: RESOURCE,
          redirectUri,
          userAgent: UserAgent.programmatic((url) => op.authorize(url))
        })
      )
      assert.strictEqual(error.reason._tag, "StateMismatch")
      assert.deepStrictEqual(op.tokenCalls(), [])
    }).pipe(Effect.provide(TestLayer)))

  it.live("RFC 9207 §2.4: a wrong iss is rejected and the error parameter is not acted on", () =>
    Effect.gen(function*() {
      const op = yield* startProvider({ issParameter: "http://127.0.0.1:1", deny: true })
      const metadata = yield* metadataOf(op)
      const listener = yield* LoopbackCallback.listen({ port: 0 })
      const client = yield* register(op, listener.redirectUri)
      const oauth = yield* OAuth2Client.OAuth2Client
      let page = ""
      const error = yield* Effect.flip(
        oauth.authorize({
          metadata,
          client,
          resource: RESOURCE,
          listener,
          userAgent: UserAgent.browser({
            open: async (url) => {
              const redirect = await op.authorize(url)
              page = await fetch(redirect).then((r) => r.text())
            }
          })
        })
      )
      assert.strictEqual(error.reason._tag, "IssuerMismatch")
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 50)))
      // RFC 9207 §2.4: the page names the mismatch, never the (untrusted) error of that response
      assert.include(page, "RFC 9207")
      assert.notInclude(page, "access_denied")
    }).pipe(Effect.provide(TestLayer)))

  it.live("RFC 9207 §2.4: a missing iss is an error when the server advertises the parameter", () =>
    Effect.gen(function*() {
      const op = yield* startProvider({ issParameter: false })
      const metadata = yield* metadataOf(op)
      assert.isTrue(metadata.authorization_response_iss_parameter_supported)
      const redirectUri = "http://127.0.0.1:7777/cb"
      const client = yield* register(op, redirectUri)
      const oauth = yield* OAuth2Client.OAuth2Client
      const error = yield* Effect.flip(
        oauth.authorize({
          metadata,
          client,
          resource: RESOURCE,
          redirectUri,
          userAgent: UserAgent.programmatic((url) => op.authorize(url))
        })
      )
      assert.strictEqual(error.reason._tag, "IssuerMissing")
    }).pipe(Effect.provide(TestLayer)))

  it.live("RFC 9207 §2.4: a missing iss is accepted when the server does not advertise the parameter", () =>
    Effect.gen(function*() {
      const op = yield* startProvider({ issParameter: false, advertiseIssParameter: false })
      const metadata = yield* metadataOf(op)
      const redirectUri = "http://127.0.0.1:7777/cb"
      const client = yield* register(op, redirectUri)
      const oauth = yield* OAuth2Client.OAuth2Client
      const { tokens } = yield* oauth.authorize({
        metadata,
        client,
        resource: RESOURCE,
        redirectUri,
        userAgent: UserAgent.programmatic((url) => op.authorize(url))
      })
      assert.strictEqual(jwtPayload(tokens.access_token)["aud"], RESOURCE)
    }).pipe(Effect.provide(TestLayer)))

  it.live("RFC 6749 §4.1.2.1: error=access_denied is a typed error with code and description", () =>
    Effect.gen(function*() {
      const op = yield* startProvider({ deny: true })
      const metadata = yield* metadataOf(op)
      const redirectUri = "http://127.0.0.1:7777/cb"
      const client = yield* register(op, redirectUri)
      const oauth = yield* OAuth2Client.OAuth2Client
      const error = yield* Effect.flip(
        oauth.authorize({
          metadata,
          client,
          resource: RESOURCE,
          redirectUri,
          userAgent: UserAgent.programmatic((url) => op.authorize(url))
        })
      )
      assert.strictEqual(error.reason._tag, "AuthorizationErrorResponse")
      if (error.reason._tag === "AuthorizationErrorResponse") {
        assert.strictEqual(error.reason.error, "access_denied")
        assert.strictEqual(error.reason.error_description, "the test user denied the request")
      }
    }).pipe(Effect.provide(TestLayer)))

  it.live("RFC 6749 §5.2: reusing a rotated refresh token is invalid_grant", () =>
    Effect.gen(function*() {
      const op = yield* startProvider()
      const metadata = yield* metadataOf(op)
      const redirectUri = "http://127.0.0.1:7777/cb"
      const client = yield* register(op, redirectUri)
      const oauth = yield* OAuth2Client.OAuth2Client
      const { tokens } = yield* oauth.authorize({
        metadata,
        client,
        resource: RESOURCE,
        redirectUri,
        userAgent: UserAgent.programmatic((url) => op.authorize(url))
      })
      yield* oauth.refresh({ metadata, client, tokens, resource: RESOURCE })
      const error = yield* Effect.flip(oauth.refresh({ metadata, client, tokens, resource: RESOURCE }))
      assert.strictEqual(error.reason._tag, "OAuthErrorResponse")
      if (error.reason._tag === "OAuthErrorResponse") {
        assert.strictEqual(error.reason.error, "invalid_grant")
        assert.strictEqual(error.reason.endpoint, "token")
        assert.strictEqual(error.reason.status, 400)
      }
      assert.isTrue(OAuth2AuthorizationError.isInvalidGrant(error))
    }).pipe(Effect.provide(TestLayer)))

  it.live("RFC 6749 §5.2: a wrong verifier is invalid_grant at the token endpoint", () =>
    Effect.gen(function*() {
      const op = yield* startProvider()
      const metadata = yield* metadataOf(op)
      const redirectUri = "http://127.0.0.1:7777/cb"
      const client = yield* register(op, redirectUri)
      const oauth = yield* OAuth2Client.OAuth2Client
      const pending = yield* oauth.buildAuthorizationUrl({ metadata, client, redirectUri, resource: RESOURCE })
      const code = yield* oauth.validateResponse(
        pending,
        yield* Effect.promise(() => op.authorize(pending.authorizationUrl))
      )
      const other = yield* oauth.buildAuthorizationUrl({ metadata, client, redirectUri, resource: RESOURCE })
      const error = yield* Effect.flip(
        oauth.exchangeCode({ metadata, client, pending: { ...pending, verifier: other.verifier }, code })
      )
      assert.strictEqual(error.reason._tag, "OAuthErrorResponse")
      if (error.reason._tag === "OAuthErrorResponse") assert.strictEqual(error.reason.error, "invalid_grant")
    }).pipe(Effect.provide(TestLayer)))

  it.live("headless: the pasted redirect URL completes the flow", () =>
    Effect.gen(function*() {
      const op = yield* startProvider()
      const metadata = yield* metadataOf(op)
      const redirectUri = "http://127.0.0.1:7777/cb"
      const client = yield* register(op, redirectUri)
      const oauth = yield* OAuth2Client.OAuth2Client
      let shown: URL | undefined
      const { tokens } = yield* oauth.authorize({
        metadata,
        client,
        resource: RESOURCE,
        redirectUri,
        userAgent: (handOff) => {
          shown = handOff.authorizationUrl
          // the user opens the URL elsewhere and pastes the final address bar contents (with stray whitespace)
          return UserAgent.headless({
            readLine: Effect.promise(() => op.authorize(handOff.authorizationUrl)).pipe(Effect.map((u) => `  ${u}\n`))
          })(handOff)
        }
      })
      assert.isDefined(shown)
      assert.isDefined(tokens.refresh_token)
    }).pipe(Effect.provide(TestLayer)))
})
