/**
 * The authorization request (OAuth 2.1 §4.1.1 with PKCE, `state` and RFC 8707 `resource`) and the validation of its
 * response (`state`, RFC 9207 `iss`, RFC 6749 §4.1.2.1 errors).
 *
 * @see [OAuth 2.1 §4.1 - Authorization Code Grant](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1#section-4.1)
 * @see [RFC 7636 - PKCE](https://www.rfc-editor.org/rfc/rfc7636)
 * @see [RFC 8707 §2 - Resource Parameter](https://www.rfc-editor.org/rfc/rfc8707#section-2)
 * @see [RFC 9207 §2.4 - Validating the Issuer Identifier](https://www.rfc-editor.org/rfc/rfc9207#section-2.4)
 * @see [MCP 2026-07-28 Authorization §Authorization Response Validation](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization)
 * @since 0.1.0
 */
import { Pkce } from "@mcpauth/pkce"
import { Effect, Redacted } from "effect"
import { SecureRandom } from "effect/crypto"
import { Base64Url } from "effect/encoding"
import type { AuthorizationServerMetadata, ClientCredentials } from "./Contracts.ts"
import {
  AuthorizationErrorResponse,
  fail,
  InvalidRedirectUrl,
  InvalidResponse,
  IssuerMismatch,
  IssuerMissing,
  MissingCode,
  StateMismatch
} from "./OAuth2AuthorizationError.ts"
import type { OAuth2AuthorizationError } from "./OAuth2AuthorizationError.ts"

/**
 * The parameters of an authorization request.
 *
 * @category models
 * @since 0.1.0
 */
export interface AuthorizationRequestParams {
  readonly authorizationEndpoint: string
  readonly clientId: string
  readonly redirectUri: string
  /** Sent only when non-empty. */
  readonly scope?: string | undefined
  readonly state: string
  readonly codeChallenge: string
  /** RFC 8707: the exact resource string chosen by discovery, never re-serialised. */
  readonly resource?: string | undefined
}

/**
 * Builds the authorization URL (pure).
 *
 * @see [OAuth 2.1 §4.1.1](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1#section-4.1.1)
 * @category constructors
 * @since 0.1.0
 */
export const buildAuthorizationUrl = (params: AuthorizationRequestParams): URL => {
  // RFC 6749 §3.1: the endpoint URI MAY include a query component, which MUST be retained
  const url = new URL(params.authorizationEndpoint)
  url.searchParams.set("response_type", "code")
  url.searchParams.set("client_id", params.clientId)
  url.searchParams.set("redirect_uri", params.redirectUri)
  // MCP 2026-07-28 §Scope Selection: omit scope when there is none to ask for
  if (params.scope !== undefined && params.scope.trim() !== "") url.searchParams.set("scope", params.scope)
  url.searchParams.set("state", params.state)
  // RFC 7636 §4.3 / OAuth 2.1 §4.1.1: code_challenge with method S256
  url.searchParams.set("code_challenge", params.codeChallenge)
  url.searchParams.set("code_challenge_method", "S256")
  // RFC 8707 §2: resource, sent exactly as chosen
  if (params.resource !== undefined) url.searchParams.set("resource", params.resource)
  return url
}

/**
 * What must be remembered between the authorization request and its response: issuer, verifier, state and
 * redirect URI are recorded together before the user is sent away.
 *
 * @category models
 * @since 0.1.0
 */
export interface PendingAuthorization {
  readonly authorizationUrl: URL
  readonly issuer: string
  readonly issParameterSupported: boolean
  readonly clientId: string
  readonly redirectUri: string
  readonly state: Redacted.Redacted<string>
  readonly verifier: Redacted.Redacted<string>
  readonly resource?: string | undefined
  readonly scope?: string | undefined
}

/**
 * Input of {@link prepareAuthorization}.
 *
 * @category models
 * @since 0.1.0
 */
export interface PrepareAuthorizationInput {
  readonly metadata: AuthorizationServerMetadata
  readonly client: ClientCredentials
  readonly redirectUri: string
  readonly resource?: string | undefined
  readonly scope?: string | undefined
}

/**
 * Draws a fresh `state` (256 bits from the CSPRNG) and PKCE pair, and records them with the issuer and redirect URI.
 *
 * @category constructors
 * @since 0.1.0
 */
export const prepareAuthorization = Effect.fnUntraced(function*(input: PrepareAuthorizationInput) {
  const random = yield* SecureRandom.SecureRandom
  const pkce = yield* Pkce.Pkce
  // OAuth 2.1 §7.12 / RFC 6749 §10.10: state from a CSPRNG, at least 128 bits (we use 256)
  const state = Base64Url.encode(yield* random.randomBytes(32))
  const pair = yield* pkce.generate().pipe(Effect.orDie)
  const authorizationUrl = buildAuthorizationUrl({
    authorizationEndpoint: input.metadata.authorization_endpoint,
    clientId: input.client.client_id,
    redirectUri: input.redirectUri,
    scope: input.scope,
    state,
    codeChallenge: pair.challenge,
    resource: input.resource
  })
  const pending: PendingAuthorization = {
    authorizationUrl,
    issuer: input.metadata.issuer,
    issParameterSupported: input.metadata.authorization_response_iss_parameter_supported === true,
    clientId: input.client.client_id,
    redirectUri: input.redirectUri,
    state: Redacted.make(state, { label: "state" }),
    verifier: pair.verifier,
    resource: input.resource,
    scope: input.scope
  }
  return pending
})

const constantTimeEqual = (a: string, b: string): boolean => {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

const single = (params: URLSearchParams, name: string): Effect.Effect<string | undefined, OAuth2AuthorizationError> => {
  const all = params.getAll(name)
  // RFC 6749 §3.1: parameters MUST NOT be included more than once
  if (all.length > 1) {
    return Effect.fail(
      fail(
        new InvalidResponse({
          document: "authorization response",
          detail: `parameter ${name} appears ${all.length} times`
        })
      )
    )
  }
  return Effect.succeed(all[0])
}

/**
 * Validates an authorization response (the full redirect URL) against what was recorded, in this order:
 * the URL is at the redirect URI, `state` matches, `iss` matches (RFC 9207), then `error` or `code`.
 * Returns the authorization code.
 *
 * @see [RFC 9207 §2.4](https://www.rfc-editor.org/rfc/rfc9207#section-2.4)
 * @see [RFC 6749 §4.1.2](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2)
 * @category validation
 * @since 0.1.0
 */
export const validateAuthorizationResponse = (
  pending: PendingAuthorization,
  redirect: string | URL
): Effect.Effect<Redacted.Redacted<string>, OAuth2AuthorizationError> =>
  Effect.gen(function*() {
    let url: URL
    try {
      url = new URL(typeof redirect === "string" ? redirect.trim() : redirect.href)
    } catch {
      return yield* fail(new InvalidRedirectUrl({ expected: pending.redirectUri, detail: "not a URL" }))
    }
    const expected = new URL(pending.redirectUri)
    if (url.origin !== expected.origin || url.pathname !== expected.pathname) {
      return yield* fail(
        new InvalidRedirectUrl({ expected: pending.redirectUri, detail: `got ${url.origin}${url.pathname}` })
      )
    }
    const params = url.searchParams
    const state = yield* single(params, "state")
    // OAuth 2.1 §7.12 / RFC 6749 §10.12: state must match, else nothing in the response is acted on
    if (state === undefined || !constantTimeEqual(state, Redacted.value(pending.state))) {
      return yield* fail(new StateMismatch({ present: state !== undefined }))
    }
    const iss = yield* single(params, "iss")
    // RFC 9207 §2.4: when iss is present it must equal the recorded issuer exactly (simple string comparison)
    if (iss !== undefined && iss !== pending.issuer) {
      return yield* fail(new IssuerMismatch({ expected: pending.issuer, received: iss }))
    }
    // RFC 9207 §2.4: when the server advertises authorization_response_iss_parameter_supported, iss is required
    if (iss === undefined && pending.issParameterSupported) {
      return yield* fail(new IssuerMissing({ expected: pending.issuer }))
    }
    const error = yield* single(params, "error")
    // RFC 6749 §4.1.2.1: error response
    if (error !== undefined) {
      return yield* fail(
        new AuthorizationErrorResponse({
          error,
          error_description: (yield* single(params, "error_description")) ?? undefined,
          error_uri: (yield* single(params, "error_uri")) ?? undefined
        })
      )
    }
    const code = yield* single(params, "code")
    if (code === undefined || code === "") return yield* fail(new MissingCode())
    return Redacted.make(code, { label: "authorization_code" })
  })
