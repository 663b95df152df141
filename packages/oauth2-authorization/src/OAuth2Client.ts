/**
 * The authorization code flow as one service: authorization URL, user agent hand-off, response validation, code
 * exchange, refresh and revocation.
 *
 * @see [OAuth 2.1 §4.1 / §4.3](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1#section-4.1)
 * @see [RFC 7009 - Token Revocation](https://www.rfc-editor.org/rfc/rfc7009)
 * @see [MCP 2026-07-28 Authorization](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization)
 * @since 0.1.0
 */
import { Pkce } from "@mcpauth/pkce"
import { Clock, Context, Effect, Layer, Option } from "effect"
import type { Redacted } from "effect"
import { SecureRandom } from "effect/crypto"
import { HttpClient } from "effect/http"
import type { HttpClientRequest } from "effect/http"
import { prepareAuthorization, validateAuthorizationResponse } from "./AuthorizationRequest.ts"
import type { PendingAuthorization, PrepareAuthorizationInput } from "./AuthorizationRequest.ts"
import {
  buildClientCredentialsRequest,
  selectMachineAuthMethod,
  signClientAssertion
} from "./ClientCredentialsGrant.ts"
import type { MachineClient } from "./ClientCredentialsGrant.ts"
import type { AuthorizationServerMetadata, ClientCredentials } from "./Contracts.ts"
import type { LoopbackListener } from "./LoopbackCallback.ts"
import {
  fail,
  MissingEndpoint,
  MissingRefreshToken,
  TransportError,
  UserAgentFailed
} from "./OAuth2AuthorizationError.ts"
import type { OAuth2AuthorizationError } from "./OAuth2AuthorizationError.ts"
import {
  buildRefreshRequest,
  buildRevocationRequest,
  buildTokenRequest,
  parseRevocationResponse,
  parseTokenEndpointResponse,
  selectAuthMethod
} from "./TokenRequest.ts"
import { checkAudience, mergeRefreshed } from "./TokenSet.ts"
import type { TokenSet } from "./TokenSet.ts"
import type { UserAgent } from "./UserAgent.ts"

/**
 * Input of {@link OAuth2Client.authorize}.
 *
 * @category models
 * @since 0.1.0
 */
export interface AuthorizeInput {
  readonly metadata: AuthorizationServerMetadata
  readonly client: ClientCredentials
  /** RFC 8707: the exact resource string chosen by discovery. */
  readonly resource?: string | undefined
  readonly scope?: string | undefined
  readonly userAgent: UserAgent
  /** A running loopback listener (its redirect URI is used), or give `redirectUri` for a hand-off without one. */
  readonly listener?: LoopbackListener | undefined
  readonly redirectUri?: string | undefined
}

/**
 * Result of {@link OAuth2Client.authorize}.
 *
 * @category models
 * @since 0.1.0
 */
export interface AuthorizeResult {
  readonly tokens: TokenSet
  readonly pending: PendingAuthorization
}

/**
 * Input of {@link OAuth2Client.clientCredentials}.
 *
 * @category models
 * @since 0.1.0
 */
export interface ClientCredentialsInput {
  readonly metadata: Pick<
    AuthorizationServerMetadata,
    "issuer" | "token_endpoint" | "token_endpoint_auth_methods_supported"
  >
  readonly client: MachineClient
  /** RFC 8707: the exact resource string chosen by discovery. */
  readonly resource?: string | undefined
  readonly scope?: string | undefined
}

/**
 * The service.
 *
 * **Example** (sign in through the system browser)
 *
 * ```ts
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const oauth = yield* OAuth2Client.OAuth2Client
 *   const listener = yield* LoopbackCallback.listen({ port: 0 })
 *   const { tokens } = yield* oauth.authorize({
 *     metadata, client, resource: "https://mcp.example.com/mcp", scope: "mcp:read",
 *     listener, userAgent: UserAgent.browser()
 *   })
 * })).pipe(Effect.provide(OAuth2Client.layer), Effect.provide(FetchHttpClient.layer))
 * ```
 *
 * @category services
 * @since 0.1.0
 */
export class OAuth2Client extends Context.Service<OAuth2Client, {
  /** Fresh `state` + PKCE, recorded with issuer and redirect URI; the URL to send the user to. */
  readonly buildAuthorizationUrl: (
    input: PrepareAuthorizationInput
  ) => Effect.Effect<PendingAuthorization, OAuth2AuthorizationError>
  /** The whole flow: build the URL, hand off to the user agent, validate the redirect, exchange the code. */
  readonly authorize: (input: AuthorizeInput) => Effect.Effect<AuthorizeResult, OAuth2AuthorizationError>
  /** Validates an authorization response URL and returns its code. */
  readonly validateResponse: (
    pending: PendingAuthorization,
    redirect: string | URL
  ) => Effect.Effect<Redacted.Redacted<string>, OAuth2AuthorizationError>
  /** OAuth 2.1 §4.1.3: code + verifier + redirect URI + resource. */
  readonly exchangeCode: (input: {
    readonly metadata: AuthorizationServerMetadata
    readonly client: ClientCredentials
    readonly pending: PendingAuthorization
    readonly code: Redacted.Redacted<string>
  }) => Effect.Effect<TokenSet, OAuth2AuthorizationError>
  /**
   * OAuth 2.1 §4.3: refresh; the result is merged with `tokens` (the old refresh token is kept when none is returned,
   * replaced when one is).
   */
  readonly refresh: (input: {
    readonly metadata: AuthorizationServerMetadata
    readonly client: ClientCredentials
    /** The tokens held (only `refresh_token` and `scope` are read; a stored entry's tokens fit). */
    readonly tokens: Pick<TokenSet, "refresh_token" | "scope">
    readonly resource?: string | undefined
    /** Only to narrow the grant. */
    readonly scope?: string | undefined
  }) => Effect.Effect<TokenSet, OAuth2AuthorizationError>
  /**
   * OAuth 2.1 §4.2: the client credentials grant of a headless machine-to-machine client (client secret or RFC 7523
   * private key JWT), with RFC 8707 `resource`. No user, no browser, no refresh token expected.
   */
  readonly clientCredentials: (input: ClientCredentialsInput) => Effect.Effect<TokenSet, OAuth2AuthorizationError>
  /** RFC 7009: revokes a token (refresh token first on logout, then the access token). */
  readonly revoke: (input: {
    readonly metadata: AuthorizationServerMetadata
    readonly client: ClientCredentials
    readonly token: Redacted.Redacted<string>
    readonly tokenTypeHint?: "access_token" | "refresh_token" | undefined
  }) => Effect.Effect<void, OAuth2AuthorizationError>
}>()("@mcpauth/oauth2-authorization/OAuth2Client") {}

/**
 * Builds the service from the `HttpClient`, `Pkce` and `SecureRandom` in context.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = Effect.gen(function*() {
  const http = yield* HttpClient.HttpClient
  const context = yield* Effect.context<Pkce.Pkce | SecureRandom.SecureRandom>()

  const send = (endpoint: string, request: HttpClientRequest.HttpClientRequest) =>
    http.execute(request).pipe(
      Effect.mapError((e) => fail(new TransportError({ endpoint, detail: e.message })))
    )

  const buildAuthorizationUrl = Effect.fn("OAuth2Client.buildAuthorizationUrl")(
    function*(input: PrepareAuthorizationInput) {
      return yield* prepareAuthorization(input).pipe(Effect.provideContext(context))
    }
  )

  const exchangeCode = Effect.fn("OAuth2Client.exchangeCode")(function*(input: {
    readonly metadata: AuthorizationServerMetadata
    readonly client: ClientCredentials
    readonly pending: PendingAuthorization
    readonly code: Redacted.Redacted<string>
  }) {
    const method = yield* selectAuthMethod(input.client, input.metadata)
    const request = buildTokenRequest({
      tokenEndpoint: input.metadata.token_endpoint,
      code: input.code,
      verifier: input.pending.verifier,
      redirectUri: input.pending.redirectUri,
      resource: input.pending.resource,
      client: input.client,
      method
    })
    const response = yield* send(input.metadata.token_endpoint, request)
    const tokens = yield* parseTokenEndpointResponse(response, yield* Clock.currentTimeMillis)
    yield* checkAudience(tokens, input.pending.resource)
    return tokens
  })

  const refresh = Effect.fn("OAuth2Client.refresh")(function*(input: {
    readonly metadata: AuthorizationServerMetadata
    readonly client: ClientCredentials
    /** The tokens held (only `refresh_token` and `scope` are read; a stored entry's tokens fit). */
    readonly tokens: Pick<TokenSet, "refresh_token" | "scope">
    readonly resource?: string | undefined
    readonly scope?: string | undefined
  }) {
    if (input.tokens.refresh_token === undefined) {
      return yield* fail(
        new MissingRefreshToken({ issuer: input.metadata.issuer })
      )
    }
    const method = yield* selectAuthMethod(input.client, input.metadata)
    const request = buildRefreshRequest({
      tokenEndpoint: input.metadata.token_endpoint,
      refreshToken: input.tokens.refresh_token,
      resource: input.resource,
      scope: input.scope,
      client: input.client,
      method
    })
    const response = yield* send(input.metadata.token_endpoint, request)
    const next = yield* parseTokenEndpointResponse(response, yield* Clock.currentTimeMillis)
    yield* checkAudience(next, input.resource)
    return mergeRefreshed(input.tokens, next)
  })

  const clientCredentials = Effect.fn("OAuth2Client.clientCredentials")(function*(input: ClientCredentialsInput) {
    const method = yield* selectMachineAuthMethod(input.client, input.metadata)
    const now = yield* Clock.currentTimeMillis
    const assertion = method === "private_key_jwt" && input.client.private_key !== undefined
      ? yield* signClientAssertion({
        clientId: input.client.client_id,
        audience: input.metadata.issuer,
        key: input.client.private_key,
        now: Math.floor(now / 1000),
        jti: crypto.randomUUID()
      })
      : undefined
    const request = buildClientCredentialsRequest({
      tokenEndpoint: input.metadata.token_endpoint,
      client: input.client,
      method,
      resource: input.resource,
      scope: input.scope,
      assertion
    })
    const response = yield* send(input.metadata.token_endpoint, request)
    const tokens = yield* parseTokenEndpointResponse(response, yield* Clock.currentTimeMillis)
    // RFC 8707 §2: warn when a JWT access token's aud lacks the requested resource
    yield* checkAudience(tokens, input.resource)
    return tokens
  })

  const revoke = Effect.fn("OAuth2Client.revoke")(function*(input: {
    readonly metadata: AuthorizationServerMetadata
    readonly client: ClientCredentials
    readonly token: Redacted.Redacted<string>
    readonly tokenTypeHint?: "access_token" | "refresh_token" | undefined
  }) {
    const endpoint = input.metadata.revocation_endpoint
    if (endpoint === undefined) {
      return yield* fail(new MissingEndpoint({ member: "revocation_endpoint", issuer: input.metadata.issuer }))
    }
    const method = yield* selectAuthMethod(input.client, input.metadata)
    const request = buildRevocationRequest({
      revocationEndpoint: endpoint,
      token: input.token,
      tokenTypeHint: input.tokenTypeHint,
      client: input.client,
      method
    })
    const response = yield* send(endpoint, request)
    yield* parseRevocationResponse(response)
  })

  const authorize = Effect.fn("OAuth2Client.authorize")(function*(input: AuthorizeInput) {
    const redirectUri = input.listener?.redirectUri ?? input.redirectUri
    if (redirectUri === undefined) {
      return yield* fail(
        new UserAgentFailed({ detail: "no redirect URI: give a loopback listener or a redirectUri" })
      )
    }
    const pending = yield* buildAuthorizationUrl({
      metadata: input.metadata,
      client: input.client,
      redirectUri,
      resource: input.resource,
      scope: input.scope
    })
    const flow = Effect.gen(function*() {
      const redirect = yield* input.userAgent({
        authorizationUrl: pending.authorizationUrl,
        redirectUri,
        callback: input.listener === undefined ? Option.none() : Option.some(input.listener.awaitCallback)
      })
      const code = yield* validateAuthorizationResponse(pending, redirect)
      const tokens = yield* exchangeCode({ metadata: input.metadata, client: input.client, pending, code })
      return { tokens, pending }
    })
    const listener = input.listener
    if (listener === undefined) return yield* flow
    return yield* flow.pipe(
      Effect.tap(() => listener.respond({ ok: true })),
      Effect.tapError((error) => listener.respond({ ok: false, message: error.message }))
    )
  })

  return OAuth2Client.of({
    buildAuthorizationUrl,
    authorize,
    validateResponse: validateAuthorizationResponse,
    exchangeCode,
    refresh,
    clientCredentials,
    revoke
  })
})

/**
 * The service; requires an `HttpClient` (apps provide `FetchHttpClient.layer`). PKCE and `state` come from WebCrypto.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer: Layer.Layer<OAuth2Client, never, HttpClient.HttpClient> = Layer.effect(OAuth2Client, make).pipe(
  Layer.provide([Pkce.layer, SecureRandom.layerWebCrypto])
)
