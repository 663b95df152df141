/**
 * The one error of client registration, with a tagged `reason` for every way it can fail.
 *
 * Recover from one reason with `Effect.catchReason("RegistrationError", "RegistrationRejected", …)`. No reason ever
 * carries a client secret or a registration access token.
 *
 * @see [RFC 7591 §3.2.2 - Client Registration Error Response](https://www.rfc-editor.org/rfc/rfc7591#section-3.2.2)
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * RFC 7591 §3.2.2 error codes, plus RFC 6749 `invalid_request` which servers also send. Other codes are kept as
 * plain strings.
 *
 * @category schemas
 * @since 0.1.0
 */
export const KnownErrorCode = Schema.Literals([
  "invalid_redirect_uri",
  "invalid_client_metadata",
  "invalid_software_statement",
  "unapproved_software_statement",
  "invalid_request"
])

/**
 * @category models
 * @since 0.1.0
 */
export type KnownErrorCode = typeof KnownErrorCode.Type

/**
 * The registration endpoint answered with an OAuth error (RFC 7591 §3.2.2): the code, its description and the HTTP
 * status, exactly as received. A 5xx status is transient.
 *
 * @category errors
 * @since 0.1.0
 */
export class RegistrationRejected extends Schema.TaggedError<RegistrationRejected>()("RegistrationRejected", {
  endpoint: Schema.String,
  status: Schema.Number,
  error: Schema.String,
  error_description: Schema.optional(Schema.String),
  error_uri: Schema.optional(Schema.String)
}) {
  override get message() {
    return `RFC 7591 §3.2.2: the registration endpoint ${this.endpoint} refused the registration with HTTP ${this.status} error "${this.error}"${
      this.error_description !== undefined ? `: ${this.error_description}` : ""
    }`
  }
}

/**
 * The registration endpoint answered with something that is neither a registration (RFC 7591 §3.2.1) nor an OAuth
 * error (RFC 7591 §3.2.2): a non-JSON body, or JSON without an `error` member. `excerpt` holds the start of the
 * body of an error status only (a success body may hold a secret).
 *
 * @category errors
 * @since 0.1.0
 */
export class UnexpectedResponse extends Schema.TaggedError<UnexpectedResponse>()("UnexpectedResponse", {
  endpoint: Schema.String,
  status: Schema.Number,
  contentType: Schema.optional(Schema.String),
  detail: Schema.String,
  excerpt: Schema.optional(Schema.String)
}) {
  override get message() {
    return `the registration endpoint ${this.endpoint} answered HTTP ${this.status} (${
      this.contentType ?? "no content type"
    }): ${this.detail}${this.excerpt !== undefined ? ` — body starts ${JSON.stringify(this.excerpt)}` : ""}`
  }
}

/**
 * A registration response (RFC 7591 §3.2.1) that does not hold what it must: `field` names the member, `expected`
 * what it should have been.
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidRegistrationResponse extends Schema.TaggedError<InvalidRegistrationResponse>()(
  "InvalidRegistrationResponse",
  { endpoint: Schema.String, field: Schema.String, expected: Schema.String, detail: Schema.String }
) {
  override get message() {
    return `RFC 7591 §3.2.1: the registration response of ${this.endpoint} is invalid at "${this.field}" (expected ${this.expected}): ${this.detail}`
  }
}

/**
 * The server registered redirect URIs of its own, none of which is one we asked for and listen on.
 *
 * @category errors
 * @since 0.1.0
 */
export class RedirectUrisChanged extends Schema.TaggedError<RedirectUrisChanged>()("RedirectUrisChanged", {
  endpoint: Schema.String,
  requested: Schema.Array(Schema.String),
  registered: Schema.Array(Schema.String)
}) {
  override get message() {
    return `RFC 7591 §3.2.1: the server at ${this.endpoint} replaced the redirect URIs; requested ${
      JSON.stringify(this.requested)
    }, registered ${JSON.stringify(this.registered)}, none of which this client can use`
  }
}

/**
 * The server issued a client secret whose `client_secret_expires_at` has already passed.
 *
 * @category errors
 * @since 0.1.0
 */
export class SecretExpired extends Schema.TaggedError<SecretExpired>()("SecretExpired", {
  issuer: Schema.String,
  client_id: Schema.String,
  client_secret_expires_at: Schema.Number
}) {
  override get message() {
    return `RFC 7591 §3.2.1: the client secret of ${this.client_id} at ${this.issuer} expired at ${this.client_secret_expires_at} (epoch seconds)`
  }
}

/**
 * The request to the registration endpoint did not get an answer (network, TLS, timeout). Transient.
 *
 * @category errors
 * @since 0.1.0
 */
export class RequestFailed extends Schema.TaggedError<RequestFailed>()("RequestFailed", {
  endpoint: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `the registration request to ${this.endpoint} failed: ${this.detail}`
  }
}

/**
 * A URL from the authorization server metadata that may not be used (not https, not a URL).
 *
 * @category errors
 * @since 0.1.0
 */
export class InsecureEndpoint extends Schema.TaggedError<InsecureEndpoint>()("InsecureEndpoint", {
  field: Schema.String,
  url: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `authorization server metadata "${this.field}" ${JSON.stringify(this.url)} cannot be used: ${this.detail}`
  }
}

/**
 * A redirect URI given to us (by configuration or by the caller) that may not be registered.
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidRedirectUri extends Schema.TaggedError<InvalidRedirectUri>()("InvalidRedirectUri", {
  uri: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `redirect URI ${JSON.stringify(this.uri)} cannot be used: ${this.detail}`
  }
}

/**
 * Registration needs at least one redirect URI and none was given.
 *
 * @category errors
 * @since 0.1.0
 */
export class NoRedirectUris extends Schema.TaggedError<NoRedirectUris>()("NoRedirectUris", {
  issuer: Schema.String,
  method: Schema.String
}) {
  override get message() {
    return `${this.method} with ${this.issuer} needs at least one redirect URI; none was given`
  }
}

/**
 * The server supports nothing this client can do for `field` (e.g. only `private_key_jwt` client authentication).
 *
 * @category errors
 * @since 0.1.0
 */
export class UnsupportedByServer extends Schema.TaggedError<UnsupportedByServer>()("UnsupportedByServer", {
  issuer: Schema.String,
  field: Schema.String,
  supported: Schema.Array(Schema.String),
  needed: Schema.String
}) {
  override get message() {
    return `authorization server ${this.issuer} advertises ${this.field} ${
      JSON.stringify(this.supported)
    }; this client needs ${this.needed}`
  }
}

/**
 * No registration method is available: no pre-registered credentials, no usable client ID metadata document, no
 * registration endpoint. The message says exactly what to configure.
 *
 * @category errors
 * @since 0.1.0
 */
export class ConfigurationRequired extends Schema.TaggedError<ConfigurationRequired>()("ConfigurationRequired", {
  issuer: Schema.String,
  clientIdVariable: Schema.String,
  clientSecretVariable: Schema.String,
  redirectUriVariable: Schema.String,
  redirectUris: Schema.Array(Schema.String),
  detail: Schema.String
}) {
  override get message() {
    const redirect = this.redirectUris.length > 0
      ? `with the redirect URI ${this.redirectUris.join(" or ")}`
      : "with a loopback redirect URI such as http://127.0.0.1:8765/callback"
    return `MCP Authorization §Client Registration: cannot register with ${this.issuer}: ${this.detail}. Register an OAuth client with that authorization server ${redirect}, then set ${this.clientIdVariable}, ${this.clientSecretVariable} (only if a secret was issued) and ${this.redirectUriVariable}`
  }
}

/**
 * A configured client ID metadata document URL that breaks the draft's rules.
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidClientIdUrl extends Schema.TaggedError<InvalidClientIdUrl>()("InvalidClientIdUrl", {
  url: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `client ID metadata document URL ${JSON.stringify(this.url)} is invalid: ${this.detail}`
  }
}

/**
 * Pre-registered credentials bound to one authorization server were about to be offered to another.
 *
 * @category errors
 * @since 0.1.0
 */
export class PreregisteredIssuerMismatch extends Schema.TaggedError<PreregisteredIssuerMismatch>()(
  "PreregisteredIssuerMismatch",
  { configured: Schema.String, actual: Schema.String }
) {
  override get message() {
    return `MCP Authorization §Authorization Server Binding: the pre-registered client belongs to ${this.configured}, but the authorization server is now ${this.actual}; update the configuration`
  }
}

/**
 * A re-registration was asked for with a signal that does not mean "unknown client" (e.g. a 5xx); the
 * registration is kept.
 *
 * @category errors
 * @since 0.1.0
 */
export class NotUnknownClient extends Schema.TaggedError<NotUnknownClient>()("NotUnknownClient", {
  issuer: Schema.String,
  client_id: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `${this.client_id} at ${this.issuer} is kept: ${this.detail} does not say the client is unknown`
  }
}

/**
 * The server rejected a client that re-registration cannot replace (pre-registered, metadata document) or the loop
 * guard refused another re-registration.
 *
 * @category errors
 * @since 0.1.0
 */
export class ReRegistrationRefused extends Schema.TaggedError<ReRegistrationRefused>()("ReRegistrationRefused", {
  issuer: Schema.String,
  client_id: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `will not register again with ${this.issuer} after ${this.client_id} was rejected: ${this.detail}`
  }
}

/**
 * The registration store failed.
 *
 * @category errors
 * @since 0.1.0
 */
export class StorageFailure extends Schema.TaggedError<StorageFailure>()("StorageFailure", {
  operation: Schema.String,
  issuer: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `registration store ${this.operation} for ${this.issuer} failed: ${this.detail}`
  }
}

/**
 * The error of every registration operation.
 *
 * @category errors
 * @since 0.1.0
 */
export class RegistrationError extends Schema.TaggedError<RegistrationError>()("RegistrationError", {
  reason: Schema.Union([
    RegistrationRejected,
    UnexpectedResponse,
    InvalidRegistrationResponse,
    RedirectUrisChanged,
    SecretExpired,
    RequestFailed,
    InsecureEndpoint,
    InvalidRedirectUri,
    NoRedirectUris,
    UnsupportedByServer,
    ConfigurationRequired,
    InvalidClientIdUrl,
    PreregisteredIssuerMismatch,
    NotUnknownClient,
    ReRegistrationRefused,
    StorageFailure
  ])
}) {
  override get message() {
    return this.reason.message
  }
}

/**
 * Whether the failure is transient (a 5xx or no answer): the registration may succeed if tried later.
 *
 * @category guards
 * @since 0.1.0
 */
export const isTransient = (error: RegistrationError): boolean =>
  error.reason._tag === "RequestFailed" ||
  ((error.reason._tag === "RegistrationRejected" || error.reason._tag === "UnexpectedResponse") &&
    error.reason.status >= 500)

/**
 * Wraps one reason into the package error.
 *
 * @category constructors
 * @since 0.1.0
 */
export const fail = (reason: RegistrationError["reason"]): RegistrationError => new RegistrationError({ reason })
