/**
 * The one error of `@mcpauth/oauth2-authorization`, with a tagged `reason` per failure.
 *
 * Security failures (`StateMismatch`, `IssuerMismatch`, `IssuerMissing`) have their own reasons and must never be
 * retried or recovered into a success. Recover from one reason with `Effect.catchReason("OAuth2AuthorizationError", …)`.
 *
 * @see [RFC 6749 §4.1.2.1 / §5.2 - error responses](https://www.rfc-editor.org/rfc/rfc6749#section-5.2)
 * @see [RFC 9207 - Authorization Server Issuer Identification](https://www.rfc-editor.org/rfc/rfc9207)
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * The `state` of the authorization response is missing or differs from the one sent: a possible CSRF. Nothing else
 * in the response was looked at.
 *
 * @category errors
 * @since 0.1.0
 */
export class StateMismatch extends Schema.TaggedError<StateMismatch>()("StateMismatch", {
  present: Schema.Boolean
}) {
  override get message() {
    return `OAuth 2.1 §7.12 / RFC 6749 §10.12: the authorization response's state ${
      this.present ? "does not match the request" : "is missing"
    } (possible CSRF); the response was discarded`
  }
}

/**
 * RFC 9207 §2.4: the `iss` of the authorization response is not the issuer the request was sent to (a mix-up
 * attack). Any `error` in that response is neither acted on nor shown.
 *
 * @category errors
 * @since 0.1.0
 */
export class IssuerMismatch extends Schema.TaggedError<IssuerMismatch>()("IssuerMismatch", {
  expected: Schema.String,
  received: Schema.String
}) {
  override get message() {
    return `RFC 9207 §2.4: the authorization response's iss ${JSON.stringify(this.received)} is not the issuer ${
      JSON.stringify(this.expected)
    } the request was sent to; the response was discarded`
  }
}

/**
 * RFC 9207 §2.4: the server advertises `authorization_response_iss_parameter_supported` but its response has no
 * `iss`.
 *
 * @category errors
 * @since 0.1.0
 */
export class IssuerMissing extends Schema.TaggedError<IssuerMissing>()("IssuerMissing", {
  expected: Schema.String
}) {
  override get message() {
    return `RFC 9207 §2.4: ${this.expected} advertises authorization_response_iss_parameter_supported but its authorization response has no iss; the response was discarded`
  }
}

/**
 * RFC 6749 §4.1.2.1: the authorization server answered the authorization request with an `error`.
 *
 * @category errors
 * @since 0.1.0
 */
export class AuthorizationErrorResponse
  extends Schema.TaggedError<AuthorizationErrorResponse>()("AuthorizationErrorResponse", {
    error: Schema.String,
    error_description: Schema.optional(Schema.String),
    error_uri: Schema.optional(Schema.String)
  })
{
  override get message() {
    return `RFC 6749 §4.1.2.1: the authorization server refused the request: ${this.error}${
      this.error_description ? ` (${this.error_description})` : ""
    }`
  }
}

/**
 * The authorization response carries neither `code` nor `error`.
 *
 * @category errors
 * @since 0.1.0
 */
export class MissingCode extends Schema.TaggedError<MissingCode>()("MissingCode", {}) {
  override get message() {
    return "RFC 6749 §4.1.2: the authorization response has no code"
  }
}

/**
 * RFC 6749 §5.2 (token endpoint) or RFC 7009 §2.2.1 (revocation endpoint): an OAuth error response.
 *
 * @category errors
 * @since 0.1.0
 */
export class OAuthErrorResponse extends Schema.TaggedError<OAuthErrorResponse>()("OAuthErrorResponse", {
  endpoint: Schema.Literals(["token", "revocation"]),
  status: Schema.Number,
  error: Schema.String,
  error_description: Schema.optional(Schema.String),
  error_uri: Schema.optional(Schema.String)
}) {
  override get message() {
    return `RFC 6749 §5.2: the ${this.endpoint} endpoint answered HTTP ${this.status} ${this.error}${
      this.error_description ? ` (${this.error_description})` : ""
    }`
  }
}

/**
 * A document from the server (token response, error response, redirect URL) that does not have the expected shape.
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidResponse extends Schema.TaggedError<InvalidResponse>()("InvalidResponse", {
  document: Schema.String,
  status: Schema.optional(Schema.Number),
  detail: Schema.String
}) {
  override get message() {
    return `invalid ${this.document}${this.status === undefined ? "" : ` (HTTP ${this.status})`}: ${this.detail}`
  }
}

/**
 * The request to an endpoint failed before an HTTP response arrived.
 *
 * @category errors
 * @since 0.1.0
 */
export class TransportError extends Schema.TaggedError<TransportError>()("TransportError", {
  endpoint: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `request to ${this.endpoint} failed: ${this.detail}`
  }
}

/**
 * A refresh was asked for tokens that hold no refresh token: the user must authorize again.
 *
 * @category errors
 * @since 0.1.0
 */
export class MissingRefreshToken extends Schema.TaggedError<MissingRefreshToken>()("MissingRefreshToken", {
  issuer: Schema.String
}) {
  override get message() {
    return `no refresh token is held for ${this.issuer}; authorization is needed again`
  }
}

/**
 * The client authentication method cannot be used (unknown to us, or a secret is missing).
 *
 * @category errors
 * @since 0.1.0
 */
export class UnsupportedAuthMethod extends Schema.TaggedError<UnsupportedAuthMethod>()("UnsupportedAuthMethod", {
  method: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `client authentication method ${JSON.stringify(this.method)} cannot be used: ${this.detail}`
  }
}

/**
 * RFC 7523: the private key of a `private_key_jwt` client cannot sign an assertion (not a PKCS #8 PEM, not a key of
 * the configured algorithm). The key itself is never part of the error.
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidClientKey extends Schema.TaggedError<InvalidClientKey>()("InvalidClientKey", {
  algorithm: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `RFC 7523: the client's ${this.algorithm} private key cannot sign a client assertion: ${this.detail}`
  }
}

/**
 * The authorization server metadata lacks an endpoint the operation needs.
 *
 * @category errors
 * @since 0.1.0
 */
export class MissingEndpoint extends Schema.TaggedError<MissingEndpoint>()("MissingEndpoint", {
  member: Schema.String,
  issuer: Schema.String
}) {
  override get message() {
    return `the authorization server metadata of ${this.issuer} has no ${this.member}`
  }
}

/**
 * The redirect URL handed back (pasted by the user or returned by a hand-off function) is not a URL at the
 * registered redirect URI.
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidRedirectUrl extends Schema.TaggedError<InvalidRedirectUrl>()("InvalidRedirectUrl", {
  expected: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `the redirect URL is not at ${this.expected}: ${this.detail}`
  }
}

/**
 * RFC 8252 §7.3: the loopback callback port is taken.
 *
 * @category errors
 * @since 0.1.0
 */
export class CallbackPortInUse extends Schema.TaggedError<CallbackPortInUse>()("CallbackPortInUse", {
  host: Schema.String,
  port: Schema.Number,
  redirectUri: Schema.String
}) {
  override get message() {
    return `port ${this.port} on ${this.host} is in use, and the pre-registered redirect URI ${this.redirectUri} needs exactly that port: stop the program using port ${this.port}, or register another redirect URI (or use dynamic registration, which picks a free port)`
  }
}

/**
 * No authorization response reached the loopback callback in time.
 *
 * @category errors
 * @since 0.1.0
 */
export class CallbackTimeout extends Schema.TaggedError<CallbackTimeout>()("CallbackTimeout", {
  redirectUri: Schema.String,
  timeoutMillis: Schema.Number
}) {
  override get message() {
    return `no authorization response reached ${this.redirectUri} within ${
      Math.round(this.timeoutMillis / 1000)
    }s; run the sign-in again (or paste the final redirect URL when signing in on another machine)`
  }
}

/**
 * The loopback callback listener could not start, or the user agent could not run.
 *
 * @category errors
 * @since 0.1.0
 */
export class UserAgentFailed extends Schema.TaggedError<UserAgentFailed>()("UserAgentFailed", {
  detail: Schema.String
}) {
  override get message() {
    return `the authorization could not be carried out: ${this.detail}`
  }
}

/**
 * The error of every operation of this package.
 *
 * @category errors
 * @since 0.1.0
 */
export class OAuth2AuthorizationError extends Schema.TaggedError<OAuth2AuthorizationError>()(
  "OAuth2AuthorizationError",
  {
    reason: Schema.Union([
      StateMismatch,
      IssuerMismatch,
      IssuerMissing,
      AuthorizationErrorResponse,
      MissingCode,
      OAuthErrorResponse,
      InvalidResponse,
      TransportError,
      UnsupportedAuthMethod,
      InvalidClientKey,
      MissingEndpoint,
      MissingRefreshToken,
      InvalidRedirectUrl,
      CallbackPortInUse,
      CallbackTimeout,
      UserAgentFailed
    ])
  }
) {
  override get message() {
    return this.reason.message
  }
}

/**
 * Wraps a reason into the package error.
 *
 * @category constructors
 * @since 0.1.0
 */
export const fail = (reason: OAuth2AuthorizationError["reason"]): OAuth2AuthorizationError =>
  new OAuth2AuthorizationError({ reason })

/**
 * The registered OAuth error codes a client meets: RFC 6749 §4.1.2.1 and §5.2, RFC 7009 §2.2.1, RFC 8707 §2.
 * `OAuthErrorResponse.error` stays a string, since servers may send others.
 *
 * @category schemas
 * @since 0.1.0
 */
export const OAuthErrorCode = Schema.Literals([
  "invalid_request",
  "unauthorized_client",
  "access_denied",
  "unsupported_response_type",
  "invalid_scope",
  "server_error",
  "temporarily_unavailable",
  "invalid_client",
  "invalid_grant",
  "unsupported_grant_type",
  "unsupported_token_type",
  "invalid_target"
])

/**
 * Whether an error is the token endpoint's `invalid_grant` (RFC 6749 §5.2): the refresh token or code is no longer
 * valid and the user must authorize again (the client registration stays valid).
 *
 * @category guards
 * @since 0.1.0
 */
export const isInvalidGrant = (error: unknown): boolean =>
  error instanceof OAuth2AuthorizationError && error.reason._tag === "OAuthErrorResponse" &&
  error.reason.endpoint === "token" && error.reason.error === "invalid_grant"
