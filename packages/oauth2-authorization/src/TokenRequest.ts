/**
 * Token endpoint requests (authorization code and refresh grants), revocation requests, and client authentication
 * (`none`, `client_secret_basic`, `client_secret_post`), as pure request builders and response parsers.
 *
 * @see [OAuth 2.1 §4.1.3 / §4.3 - Token Request, Refresh](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1#section-4.1.3)
 * @see [RFC 6749 §2.3.1 - Client Password](https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1)
 * @see [RFC 6749 §5.2 - Error Response](https://www.rfc-editor.org/rfc/rfc6749#section-5.2)
 * @see [RFC 7009 - Token Revocation](https://www.rfc-editor.org/rfc/rfc7009)
 * @see [RFC 8707 §2.2 - resource in token requests](https://www.rfc-editor.org/rfc/rfc8707#section-2.2)
 * @since 0.1.0
 */
import { Effect, Predicate, Redacted, Schema } from "effect"
import { HttpClientRequest } from "effect/http"
import type { HttpClientResponse } from "effect/http"
import type { AuthorizationServerMetadata, ClientCredentials } from "./Contracts.ts"
import { fail, InvalidResponse, OAuthErrorResponse, UnsupportedAuthMethod } from "./OAuth2AuthorizationError.ts"
import type { OAuth2AuthorizationError } from "./OAuth2AuthorizationError.ts"
import { parseTokenResponse } from "./TokenSet.ts"
import type { TokenSet } from "./TokenSet.ts"

/**
 * The client authentication methods this package implements.
 *
 * @category models
 * @since 0.1.0
 */
export type ClientAuthMethod = "none" | "client_secret_basic" | "client_secret_post"

const SUPPORTED: ReadonlyArray<ClientAuthMethod> = ["client_secret_basic", "client_secret_post", "none"]

/**
 * Picks the client authentication method: the one the registration names (the server accepted it), else the first
 * of `client_secret_basic`, `client_secret_post`, `none` that the server lists and the credentials allow.
 *
 * @see [RFC 7591 §2 - token_endpoint_auth_method](https://www.rfc-editor.org/rfc/rfc7591#section-2)
 * @category constructors
 * @since 0.1.0
 */
export const selectAuthMethod = (
  client: ClientCredentials,
  metadata: Pick<AuthorizationServerMetadata, "token_endpoint_auth_methods_supported">
): Effect.Effect<ClientAuthMethod, OAuth2AuthorizationError> => {
  const registered = client.token_endpoint_auth_method
  if (registered !== undefined) {
    if (!(SUPPORTED as ReadonlyArray<string>).includes(registered)) {
      return Effect.fail(
        fail(new UnsupportedAuthMethod({ method: registered, detail: `supported: ${SUPPORTED.join(", ")}` }))
      )
    }
    if (registered !== "none" && client.client_secret === undefined) {
      return Effect.fail(fail(new UnsupportedAuthMethod({ method: registered, detail: "the client has no secret" })))
    }
    return Effect.succeed(registered as ClientAuthMethod)
  }
  // RFC 8414 §2: token_endpoint_auth_methods_supported defaults to client_secret_basic
  const offered = metadata.token_endpoint_auth_methods_supported ?? ["client_secret_basic"]
  const candidates: ReadonlyArray<ClientAuthMethod> = client.client_secret === undefined
    ? ["none"]
    : ["client_secret_basic", "client_secret_post"]
  const chosen = candidates.find((m) => offered.includes(m))
  if (chosen === undefined) {
    return Effect.fail(
      fail(
        new UnsupportedAuthMethod({
          method: candidates.join("|"),
          detail: `the server offers ${offered.join(", ") || "none"}`
        })
      )
    )
  }
  return Effect.succeed(chosen)
}

/**
 * RFC 6749 §2.3.1: client id and secret are `application/x-www-form-urlencoded` before HTTP Basic.
 *
 * @category encoding
 * @since 0.1.0
 */
export const formEncode = (value: string): string => new URLSearchParams([["v", value]]).toString().slice(2)

/**
 * The `Authorization` header value of `client_secret_basic`.
 *
 * @see [RFC 6749 §2.3.1](https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1)
 * @category encoding
 * @since 0.1.0
 */
export const basicAuthorization = (clientId: string, secret: Redacted.Redacted<string>): Redacted.Redacted<string> =>
  Redacted.make(
    `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(Redacted.value(secret))}`, "utf8").toString("base64")}`
  )

const authenticated = (
  url: string,
  params: ReadonlyArray<readonly [string, string]>,
  client: ClientCredentials,
  method: ClientAuthMethod
): HttpClientRequest.HttpClientRequest => {
  const body: Array<[string, string]> = params.map(([k, v]) => [k, v])
  let request = HttpClientRequest.post(url).pipe(HttpClientRequest.acceptJson)
  switch (method) {
    case "client_secret_basic": {
      // RFC 6749 §2.3.1: HTTP Basic with the form-encoded id and secret
      if (client.client_secret !== undefined) {
        request = HttpClientRequest.setHeader(
          request,
          "authorization",
          Redacted.value(basicAuthorization(client.client_id, client.client_secret))
        )
      }
      break
    }
    case "client_secret_post": {
      // RFC 6749 §2.3.1: credentials in the request body
      body.push(["client_id", client.client_id])
      if (client.client_secret !== undefined) body.push(["client_secret", Redacted.value(client.client_secret)])
      break
    }
    case "none": {
      // OAuth 2.1 §3.2.1: a public client identifies itself with client_id
      body.push(["client_id", client.client_id])
      break
    }
  }
  return HttpClientRequest.bodyUrlParams(request, body)
}

/**
 * The token request of the authorization code grant.
 *
 * @see [OAuth 2.1 §4.1.3](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1#section-4.1.3)
 * @category constructors
 * @since 0.1.0
 */
export const buildTokenRequest = (input: {
  readonly tokenEndpoint: string
  readonly code: Redacted.Redacted<string>
  readonly verifier: Redacted.Redacted<string>
  readonly redirectUri: string
  readonly resource?: string | undefined
  readonly client: ClientCredentials
  readonly method: ClientAuthMethod
}): HttpClientRequest.HttpClientRequest => {
  const params: Array<readonly [string, string]> = [
    ["grant_type", "authorization_code"],
    ["code", Redacted.value(input.code)],
    // RFC 7636 §4.5: the code verifier
    ["code_verifier", Redacted.value(input.verifier)],
    // RFC 6749 §4.1.3: redirect_uri, identical to the authorization request's
    ["redirect_uri", input.redirectUri]
  ]
  // RFC 8707 §2.2 / MCP §Resource Parameter Implementation: resource in the token request too
  if (input.resource !== undefined) params.push(["resource", input.resource])
  return authenticated(input.tokenEndpoint, params, input.client, input.method)
}

/**
 * The refresh token request. `scope` only when narrowing.
 *
 * @see [OAuth 2.1 §4.3.1](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1#section-4.3.1)
 * @category constructors
 * @since 0.1.0
 */
export const buildRefreshRequest = (input: {
  readonly tokenEndpoint: string
  readonly refreshToken: Redacted.Redacted<string>
  readonly resource?: string | undefined
  readonly scope?: string | undefined
  readonly client: ClientCredentials
  readonly method: ClientAuthMethod
}): HttpClientRequest.HttpClientRequest => {
  const params: Array<readonly [string, string]> = [
    ["grant_type", "refresh_token"],
    ["refresh_token", Redacted.value(input.refreshToken)]
  ]
  // RFC 8707 §2.2: resource in the refresh request
  if (input.resource !== undefined) params.push(["resource", input.resource])
  // RFC 6749 §6: scope only to narrow the grant
  if (input.scope !== undefined && input.scope.trim() !== "") params.push(["scope", input.scope])
  return authenticated(input.tokenEndpoint, params, input.client, input.method)
}

/**
 * The token revocation request.
 *
 * @see [RFC 7009 §2.1](https://www.rfc-editor.org/rfc/rfc7009#section-2.1)
 * @category constructors
 * @since 0.1.0
 */
export const buildRevocationRequest = (input: {
  readonly revocationEndpoint: string
  readonly token: Redacted.Redacted<string>
  readonly tokenTypeHint?: "access_token" | "refresh_token" | undefined
  readonly client: ClientCredentials
  readonly method: ClientAuthMethod
}): HttpClientRequest.HttpClientRequest => {
  const params: Array<readonly [string, string]> = [["token", Redacted.value(input.token)]]
  if (input.tokenTypeHint !== undefined) params.push(["token_type_hint", input.tokenTypeHint])
  return authenticated(input.revocationEndpoint, params, input.client, input.method)
}

/**
 * RFC 6749 §5.2: the wire shape of an error response.
 *
 * @category schemas
 * @since 0.1.0
 */
export const ErrorResponse = Schema.Struct({
  error: Schema.String,
  error_description: Schema.optional(Schema.NullOr(Schema.String)),
  error_uri: Schema.optional(Schema.NullOr(Schema.String))
})

const readJson = (response: HttpClientResponse.HttpClientResponse, document: string) =>
  response.text.pipe(
    Effect.mapError((e) => fail(new InvalidResponse({ document, status: response.status, detail: e.message }))),
    Effect.flatMap((text) =>
      Effect.try({
        try: (): unknown => JSON.parse(text),
        catch: () =>
          fail(
            new InvalidResponse({
              document,
              status: response.status,
              detail: `expected a JSON body, got ${JSON.stringify(text.slice(0, 120))}`
            })
          )
      })
    )
  )

/**
 * Turns a non-2xx response into the RFC 6749 §5.2 error it carries, or an `InvalidResponse` when it carries none.
 *
 * @category constructors
 * @since 0.1.0
 */
export const parseErrorResponse = (
  endpoint: "token" | "revocation",
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<never, OAuth2AuthorizationError> =>
  readJson(response, `${endpoint} error response (RFC 6749 §5.2)`).pipe(
    Effect.flatMap((body) =>
      Schema.decodeUnknownEffect(ErrorResponse)(body).pipe(
        Effect.mapError((e) =>
          fail(
            new InvalidResponse({
              document: `${endpoint} error response (RFC 6749 §5.2)`,
              status: response.status,
              detail: e.message
            })
          )
        )
      )
    ),
    Effect.flatMap((e) =>
      Effect.fail(
        fail(
          new OAuthErrorResponse({
            endpoint,
            status: response.status,
            error: e.error,
            error_description: e.error_description ?? undefined,
            error_uri: e.error_uri ?? undefined
          })
        )
      )
    )
  )

/**
 * Decodes a token endpoint response: 200 → {@link TokenSet} (expiry computed from `receivedAt`), else the typed
 * RFC 6749 §5.2 error.
 *
 * @see [RFC 6749 §5.1 / §5.2](https://www.rfc-editor.org/rfc/rfc6749#section-5.1)
 * @category constructors
 * @since 0.1.0
 */
export const parseTokenEndpointResponse = (
  response: HttpClientResponse.HttpClientResponse,
  receivedAt: number
): Effect.Effect<TokenSet, OAuth2AuthorizationError> => {
  // RFC 6749 §5.1: success is HTTP 200
  if (response.status !== 200) return parseErrorResponse("token", response)
  return readJson(response, "token response (RFC 6749 §5.1)").pipe(
    Effect.flatMap((body) =>
      Predicate.isObject(body)
        ? parseTokenResponse(body, receivedAt, response.status)
        : Effect.fail(
          fail(
            new InvalidResponse({
              document: "token response (RFC 6749 §5.1)",
              status: response.status,
              detail: "expected a JSON object"
            })
          )
        )
    )
  )
}

/**
 * Decodes a revocation response: 200 is success (the body is ignored), else the typed error.
 *
 * @see [RFC 7009 §2.2](https://www.rfc-editor.org/rfc/rfc7009#section-2.2)
 * @category constructors
 * @since 0.1.0
 */
export const parseRevocationResponse = (
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<void, OAuth2AuthorizationError> =>
  // RFC 7009 §2.2: HTTP 200 whether or not the token was valid
  response.status === 200 ? Effect.void : parseErrorResponse("revocation", response)
