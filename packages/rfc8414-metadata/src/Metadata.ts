/**
 * Authorization server metadata documents (RFC 8414 §2 / OpenID Connect Discovery 1.0 §3): the lenient Schema, the
 * MCP-ordered well-known candidate URLs, and the pure checks a fetched document must pass.
 *
 * @see [RFC 8414 - OAuth 2.0 Authorization Server Metadata](https://www.rfc-editor.org/rfc/rfc8414)
 * @see [OpenID Connect Discovery 1.0](https://openid.net/specs/openid-connect-discovery-1_0.html)
 * @see [MCP 2026-07-28 Authorization Server Discovery](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization/authorization-server-discovery)
 * @since 0.1.0
 */
import { lenientObject, type Problem, problems } from "@mcpauth/well-known/LenientSchema"
import { insecureReason } from "@mcpauth/well-known/UrlSecurity"
import { Duration, Effect, Schema } from "effect"

const Strings = Schema.Array(Schema.String)

/**
 * The members every usable document carries (RFC 8414 §2; the MCP flow needs both endpoints).
 *
 * @category constants
 * @since 0.1.0
 */
export const REQUIRED_MEMBERS = ["issuer", "authorization_endpoint", "token_endpoint"] as const

/**
 * An authorization server metadata document as on the wire (RFC 8414 §2 member names). Declared members are
 * checked; unknown members are kept as received; `null` in an optional member means absent. A document served at
 * an `openid-configuration` location is read with the same schema: OIDC-only members are not required.
 *
 * @see [RFC 8414 §2](https://www.rfc-editor.org/rfc/rfc8414#section-2)
 * @category schemas
 * @since 0.1.0
 */
export const AuthorizationServerMetadata = lenientObject({
  issuer: Schema.String,
  authorization_endpoint: Schema.String,
  token_endpoint: Schema.String
}, {
  registration_endpoint: Schema.String,
  revocation_endpoint: Schema.String,
  introspection_endpoint: Schema.String,
  jwks_uri: Schema.String,
  scopes_supported: Strings,
  response_types_supported: Strings,
  response_modes_supported: Strings,
  grant_types_supported: Strings,
  code_challenge_methods_supported: Strings,
  token_endpoint_auth_methods_supported: Strings,
  token_endpoint_auth_signing_alg_values_supported: Strings,
  revocation_endpoint_auth_methods_supported: Strings,
  introspection_endpoint_auth_methods_supported: Strings,
  service_documentation: Schema.String,
  ui_locales_supported: Strings,
  op_policy_uri: Schema.String,
  op_tos_uri: Schema.String,
  // RFC 9207 §3
  authorization_response_iss_parameter_supported: Schema.Boolean,
  // draft-ietf-oauth-client-id-metadata-document §5
  client_id_metadata_document_supported: Schema.Boolean
})

/**
 * The decoded document: the declared members typed, every other member kept as `unknown`.
 *
 * @category models
 * @since 0.1.0
 */
export type AuthorizationServerMetadata = typeof AuthorizationServerMetadata.Type

/**
 * Which well-known location a candidate URL is.
 *
 * @category models
 * @since 0.1.0
 */
export type CandidateKind =
  | "oauth-authorization-server"
  | "openid-configuration"
  | "openid-configuration (appended)"
  | "oauth-authorization-server (root, for a path issuer)"
  | "openid-configuration (root, for a path issuer)"

/**
 * One URL to try, and which location it is.
 *
 * @category models
 * @since 0.1.0
 */
export interface Candidate {
  readonly url: string
  readonly kind: CandidateKind
}

/**
 * What happened at one URL during discovery, for diagnostics ("every URL tried").
 *
 * @category models
 * @since 0.1.0
 */
export const Attempt = Schema.Struct({
  url: Schema.String,
  kind: Schema.String,
  outcome: Schema.Literals([
    "ok",
    "client-error",
    "not-json",
    "too-large",
    "invalid-document",
    "redirect-refused",
    "server-error",
    "network-error",
    "issuer-mismatch",
    "insecure-url",
    "pkce-unsupported"
  ]),
  status: Schema.optionalKey(Schema.Number),
  detail: Schema.optionalKey(Schema.String)
})

/**
 * @category models
 * @since 0.1.0
 */
export type Attempt = typeof Attempt.Type

const Problems = Schema.Array(Schema.Struct({ member: Schema.String, expected: Schema.String }))

/**
 * The issuer given to discovery cannot be used to build a metadata URL (RFC 8414 §2: an https URL with no query
 * and no fragment).
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidIssuer extends Schema.TaggedError<InvalidIssuer>()("InvalidIssuer", {
  issuer: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `RFC 8414 §2: the issuer "${this.issuer}" cannot be used: ${this.detail}`
  }
}

/**
 * No candidate URL served a document (every one answered 4xx, refused a redirect, or was not JSON).
 *
 * @category errors
 * @since 0.1.0
 */
export class MetadataNotFound extends Schema.TaggedError<MetadataNotFound>()("MetadataNotFound", {
  issuer: Schema.String,
  attempts: Schema.Array(Attempt)
}) {
  override get message() {
    return `no authorization server metadata for ${this.issuer}; tried ${
      this.attempts.map((a) => `${a.url} (${a.status ?? a.outcome}${a.detail ? `: ${a.detail}` : ""})`).join(", ")
    }`
  }
}

/**
 * A candidate served JSON that is not a valid metadata document (and no later candidate served a valid one).
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidMetadata extends Schema.TaggedError<InvalidMetadata>()("InvalidMetadata", {
  issuer: Schema.String,
  url: Schema.String,
  member: Schema.String,
  expected: Schema.String,
  problems: Problems,
  attempts: Schema.Array(Attempt)
}) {
  override get message() {
    return `RFC 8414 §3.2: the authorization server metadata at ${this.url} is invalid: ${
      this.problems.map((p) => `${p.member}: ${p.expected}`).join("; ")
    }`
  }
}

/**
 * RFC 8414 §3.3: the document's `issuer` is not the issuer the URL was built from. The document is not used, and
 * discovery stops (a security failure is never retried elsewhere).
 *
 * @category errors
 * @since 0.1.0
 */
export class IssuerMismatch extends Schema.TaggedError<IssuerMismatch>()("IssuerMismatch", {
  expected: Schema.String,
  received: Schema.String,
  url: Schema.String,
  attempts: Schema.Array(Attempt)
}) {
  override get message() {
    return `RFC 8414 §3.3: the metadata at ${this.url} names the issuer "${this.received}", expected "${this.expected}"`
  }
}

/**
 * A URL in the document (or the issuer itself) is not https, or is loopback http without the option that allows it.
 *
 * @category errors
 * @since 0.1.0
 */
export class InsecureUrl extends Schema.TaggedError<InsecureUrl>()("InsecureUrl", {
  issuer: Schema.String,
  url: Schema.String,
  member: Schema.String,
  value: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `MCP Authorization §Communication Security: ${this.member} "${this.value}" (from ${this.url}): ${this.detail}`
  }
}

/**
 * MCP Authorization §Authorization Code Protection: the server does not advertise S256 PKCE, so the client must
 * refuse to proceed.
 *
 * @category errors
 * @since 0.1.0
 */
export class PkceUnsupported extends Schema.TaggedError<PkceUnsupported>()("PkceUnsupported", {
  issuer: Schema.String,
  url: Schema.String,
  code_challenge_methods_supported: Schema.optionalKey(Strings)
}) {
  override get message() {
    return `MCP Authorization §Authorization Code Protection: ${this.issuer} (metadata at ${this.url}) ${
      this.code_challenge_methods_supported === undefined
        ? "does not list code_challenge_methods_supported, so it does not support PKCE"
        : `lists code_challenge_methods_supported [${this.code_challenge_methods_supported.join(", ")}] without S256`
    }; refusing to proceed`
  }
}

/**
 * A candidate answered with a 5xx status: reported, not skipped.
 *
 * @category errors
 * @since 0.1.0
 */
export class ServerError extends Schema.TaggedError<ServerError>()("ServerError", {
  issuer: Schema.String,
  url: Schema.String,
  status: Schema.Number,
  attempts: Schema.Array(Attempt)
}) {
  override get message() {
    return `the authorization server answered ${this.status} at ${this.url}`
  }
}

/**
 * A candidate could not be reached (connection refused, reset, timed out): reported, not skipped.
 *
 * @category errors
 * @since 0.1.0
 */
export class Unreachable extends Schema.TaggedError<Unreachable>()("Unreachable", {
  issuer: Schema.String,
  url: Schema.String,
  detail: Schema.String,
  attempts: Schema.Array(Attempt)
}) {
  override get message() {
    return `could not fetch ${this.url}: ${this.detail}`
  }
}

/**
 * The error of authorization server metadata discovery; recover from one reason with
 * `Effect.catchReason("AuthorizationServerMetadataError", "PkceUnsupported", …)`.
 *
 * @category errors
 * @since 0.1.0
 */
export class AuthorizationServerMetadataError
  extends Schema.TaggedError<AuthorizationServerMetadataError>()("AuthorizationServerMetadataError", {
    reason: Schema.Union([
      InvalidIssuer,
      MetadataNotFound,
      InvalidMetadata,
      IssuerMismatch,
      InsecureUrl,
      PkceUnsupported,
      ServerError,
      Unreachable
    ])
  })
{
  override get message() {
    return this.reason.message
  }
}

const fail = (reason: AuthorizationServerMetadataError["reason"]) =>
  Effect.fail(new AuthorizationServerMetadataError({ reason }))

const WELL_KNOWN_OAUTH = "/.well-known/oauth-authorization-server"
const WELL_KNOWN_OIDC = "/.well-known/openid-configuration"

/**
 * The metadata URLs to try for an issuer, in the MCP order. This list is the single source of the order.
 *
 * - with a path (`https://as.example/tenant1`): `/.well-known/oauth-authorization-server/tenant1`,
 *   `/.well-known/openid-configuration/tenant1`, `/tenant1/.well-known/openid-configuration`;
 * - without: `/.well-known/oauth-authorization-server`, `/.well-known/openid-configuration`.
 *
 * All are on the issuer's own origin. With `rootForPathIssuer` (see `Options.allowRootDocumentForPathIssuer`), an
 * issuer with a path also gets the two root URLs, last.
 *
 * @see [MCP Authorization Server Discovery §Authorization Server Metadata Discovery](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization/authorization-server-discovery)
 * @see [RFC 8414 §3.1](https://www.rfc-editor.org/rfc/rfc8414#section-3.1)
 * @category constructors
 * @since 0.1.0
 */
export const wellKnownCandidates = (
  issuer: string,
  options?: { readonly rootForPathIssuer?: boolean | undefined }
): Effect.Effect<ReadonlyArray<Candidate>, AuthorizationServerMetadataError> => {
  let u: URL
  try {
    u = new URL(issuer)
  } catch {
    return fail(new InvalidIssuer({ issuer, detail: "not an absolute URL" }))
  }
  // RFC 8414 §2: the issuer identifier has no query or fragment components
  if (u.search !== "" || issuer.includes("?")) return fail(new InvalidIssuer({ issuer, detail: "it has a query" }))
  if (u.hash !== "" || issuer.includes("#")) return fail(new InvalidIssuer({ issuer, detail: "it has a fragment" }))
  if (u.protocol !== "https:" && u.protocol !== "http:") {
    return fail(new InvalidIssuer({ issuer, detail: `the scheme ${u.protocol} is not https` }))
  }
  // RFC 8414 §3.1: any terminating "/" of the path is removed before inserting the well-known segment
  const path = u.pathname.replace(/\/+$/, "")
  const origin = u.origin
  if (path === "") {
    // MCP Authorization Server Discovery: without a path, oauth-authorization-server then openid-configuration
    return Effect.succeed([
      { url: `${origin}${WELL_KNOWN_OAUTH}`, kind: "oauth-authorization-server" },
      { url: `${origin}${WELL_KNOWN_OIDC}`, kind: "openid-configuration" }
    ])
  }
  // MCP Authorization Server Discovery: with a path, RFC 8414 path insertion, OIDC path insertion, OIDC appending
  const candidates: Array<Candidate> = [
    { url: `${origin}${WELL_KNOWN_OAUTH}${path}`, kind: "oauth-authorization-server" },
    { url: `${origin}${WELL_KNOWN_OIDC}${path}`, kind: "openid-configuration" },
    // OpenID Connect Discovery 1.0 §4: issuer without its terminating "/", then "/.well-known/openid-configuration"
    { url: `${origin}${path}${WELL_KNOWN_OIDC}`, kind: "openid-configuration (appended)" }
  ]
  if (options?.rootForPathIssuer === true) {
    candidates.push(
      { url: `${origin}${WELL_KNOWN_OAUTH}`, kind: "oauth-authorization-server (root, for a path issuer)" },
      { url: `${origin}${WELL_KNOWN_OIDC}`, kind: "openid-configuration (root, for a path issuer)" }
    )
  }
  return Effect.succeed(candidates)
}

/**
 * Decodes a JSON value as a metadata document, or lists every problem (member and what was expected).
 *
 * @category constructors
 * @since 0.1.0
 */
export const decodeMetadata = (
  json: unknown
): Effect.Effect<AuthorizationServerMetadata, ReadonlyArray<Problem>> =>
  Schema.decodeUnknownEffect(AuthorizationServerMetadata)(json, { errors: "all" }).pipe(
    Effect.mapError((e) => problems(e.issue))
  )

/**
 * How the document's `issuer` compares with the expected issuer: `"exact"`, `"trailing-slash"` (differs only by one
 * terminating "/") or `"mismatch"`.
 *
 * @see [RFC 8414 §3.3](https://www.rfc-editor.org/rfc/rfc8414#section-3.3)
 * @category guards
 * @since 0.1.0
 */
export const compareIssuer = (expected: string, received: string): "exact" | "trailing-slash" | "mismatch" => {
  // RFC 8414 §3.3: the issuer value returned MUST be identical to the issuer identifier used to build the URL
  if (expected === received) return "exact"
  if (expected + "/" === received || received + "/" === expected) return "trailing-slash"
  return "mismatch"
}

/**
 * The members of a document that are URLs the client will send requests to, as `[member, value]`: `issuer`,
 * `jwks_uri` and every `*_endpoint` string member (known or not).
 *
 * @category constructors
 * @since 0.1.0
 */
export const networkUrls = (metadata: AuthorizationServerMetadata): ReadonlyArray<readonly [string, string]> =>
  Object.entries(metadata).flatMap(([k, v]) =>
    typeof v === "string" && (k === "issuer" || k === "jwks_uri" || k.endsWith("_endpoint")) ? [[k, v] as const] : []
  )

/**
 * The first network URL of a document that may not be used, with the reason, or `undefined`.
 *
 * @category guards
 * @since 0.1.0
 */
export const findInsecureUrl = (
  metadata: AuthorizationServerMetadata,
  allowLoopbackHttp: boolean
): { readonly member: string; readonly value: string; readonly detail: string } | undefined => {
  for (const [member, value] of networkUrls(metadata)) {
    // MCP Authorization §Communication Security: all authorization server endpoints MUST be served over HTTPS
    const detail = insecureReason(value, allowLoopbackHttp)
    if (detail !== undefined) return { member, value, detail }
  }
  return undefined
}

/**
 * Whether the document advertises S256 PKCE.
 *
 * @see [MCP 2026-07-28 Authorization §Authorization Code Protection](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization/security-considerations)
 * @category guards
 * @since 0.1.0
 */
export const supportsS256 = (metadata: AuthorizationServerMetadata): boolean =>
  // MCP Authorization §Authorization Code Protection: absent code_challenge_methods_supported means no PKCE
  metadata.code_challenge_methods_supported?.includes("S256") === true

/**
 * How long a document may be cached, from its `Cache-Control` header: `no-store` / `no-cache` / `max-age=0` give
 * zero (not cached), `max-age=N` gives N seconds capped at `max`, anything else gives `fallback`.
 *
 * @see [RFC 9111 §5.2.2](https://www.rfc-editor.org/rfc/rfc9111#section-5.2.2)
 * @category constructors
 * @since 0.1.0
 */
export const cacheLifetime = (
  cacheControl: string | undefined,
  options: { readonly fallback: Duration.Duration; readonly max: Duration.Duration }
): Duration.Duration => {
  if (cacheControl === undefined) return Duration.min(options.fallback, options.max)
  const directives = cacheControl.toLowerCase().split(",").map((d) => d.trim())
  // RFC 9111 §5.2.2.5 / §5.2.2.4: no-store and no-cache forbid reuse without revalidation
  if (directives.some((d) => d === "no-store" || d === "no-cache" || d.startsWith("no-cache="))) return Duration.zero
  for (const d of directives) {
    // RFC 9111 §5.2.2.1: max-age=delta-seconds (quoted form tolerated)
    const m = /^max-age\s*=\s*"?(\d+)"?$/.exec(d)
    if (m?.[1] !== undefined) return Duration.min(Duration.seconds(Number(m[1])), options.max)
  }
  return Duration.min(options.fallback, options.max)
}
