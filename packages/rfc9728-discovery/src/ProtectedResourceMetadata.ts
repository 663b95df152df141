/**
 * Protected resource metadata documents (RFC 9728 §2): the lenient Schema, the ordered candidate URLs of MCP
 * discovery, and the discovery error.
 *
 * @see [RFC 9728 - OAuth 2.0 Protected Resource Metadata](https://www.rfc-editor.org/rfc/rfc9728)
 * @see [MCP 2026-07-28 Authorization Server Discovery §Protected Resource Metadata Discovery Requirements](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization/authorization-server-discovery)
 * @since 0.1.0
 */
import { lenientObject, type Problem, problems } from "@mcpauth/well-known/LenientSchema"
import { Effect, Schema } from "effect"

const Strings = Schema.Array(Schema.String)

/**
 * A protected resource metadata document as on the wire (RFC 9728 §2 member names). `resource` and a non-empty
 * `authorization_servers` are required (MCP: the document MUST list at least one authorization server); other
 * declared members are checked when present; unknown members are kept; `null` in an optional member means absent.
 *
 * @see [RFC 9728 §2](https://www.rfc-editor.org/rfc/rfc9728#section-2)
 * @category schemas
 * @since 0.1.0
 */
export const ProtectedResourceMetadata = lenientObject({
  resource: Schema.String,
  // MCP Authorization Server Discovery §Authorization Server Location: at least one authorization server
  authorization_servers: Strings.check(Schema.isMinLength(1))
}, {
  jwks_uri: Schema.String,
  scopes_supported: Strings,
  bearer_methods_supported: Strings,
  resource_signing_alg_values_supported: Strings,
  resource_name: Schema.String,
  resource_documentation: Schema.String,
  resource_policy_uri: Schema.String,
  resource_tos_uri: Schema.String,
  tls_client_certificate_bound_access_tokens: Schema.Boolean,
  authorization_details_types_supported: Strings,
  dpop_signing_alg_values_supported: Strings,
  dpop_bound_access_tokens_required: Schema.Boolean
})

/**
 * The decoded document: declared members typed, every other member kept as `unknown`.
 *
 * @category models
 * @since 0.1.0
 */
export type ProtectedResourceMetadata = typeof ProtectedResourceMetadata.Type

/**
 * Decodes a JSON value as a protected resource metadata document, or lists every problem (member and what was
 * expected).
 *
 * @category constructors
 * @since 0.1.0
 */
export const decodeMetadata = (json: unknown): Effect.Effect<ProtectedResourceMetadata, ReadonlyArray<Problem>> =>
  Schema.decodeUnknownEffect(ProtectedResourceMetadata)(json, { errors: "all" }).pipe(
    Effect.mapError((e) => problems(e.issue))
  )

/**
 * Where a candidate URL comes from.
 *
 * @category models
 * @since 0.1.0
 */
export type CandidateKind =
  | "resource_metadata (challenge)"
  | "oauth-protected-resource (path)"
  | "oauth-protected-resource (root)"

/**
 * One URL to try, and where it comes from.
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
    "insecure-url",
    "resource-mismatch"
  ]),
  status: Schema.optionalKey(Schema.Number),
  detail: Schema.optionalKey(Schema.String)
})

/**
 * @category models
 * @since 0.1.0
 */
export type Attempt = typeof Attempt.Type

/**
 * The MCP server URL cannot be used (not an absolute http(s) URL, a fragment, user information…).
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidServerUrl extends Schema.TaggedError<InvalidServerUrl>()("InvalidServerUrl", {
  serverUrl: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `the MCP server URL "${this.serverUrl}" cannot be used: ${this.detail}`
  }
}

/**
 * The server URL (and so every well-known URL) is not https, or is loopback http without the option allowing it.
 *
 * @category errors
 * @since 0.1.0
 */
export class InsecureUrl extends Schema.TaggedError<InsecureUrl>()("InsecureUrl", {
  url: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `MCP Authorization §Communication Security: ${this.url}: ${this.detail}`
  }
}

/**
 * No candidate served a document (each answered 4xx, refused a redirect, was not JSON, or was not allowed).
 *
 * @category errors
 * @since 0.1.0
 */
export class MetadataNotFound extends Schema.TaggedError<MetadataNotFound>()("MetadataNotFound", {
  serverUrl: Schema.String,
  attempts: Schema.Array(Attempt)
}) {
  override get message() {
    return `no protected resource metadata for ${this.serverUrl}; tried ${
      this.attempts.map((a) => `${a.url} (${a.status ?? a.outcome}${a.detail ? `: ${a.detail}` : ""})`).join(", ")
    }`
  }
}

/**
 * A candidate served JSON that is not a valid document, and no later candidate served a valid one.
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidMetadata extends Schema.TaggedError<InvalidMetadata>()("InvalidMetadata", {
  serverUrl: Schema.String,
  url: Schema.String,
  member: Schema.String,
  expected: Schema.String,
  problems: Schema.Array(Schema.Struct({ member: Schema.String, expected: Schema.String })),
  attempts: Schema.Array(Attempt)
}) {
  override get message() {
    return `RFC 9728 §3.2: the protected resource metadata at ${this.url} is invalid: ${
      this.problems.map((p) => `${p.member}: ${p.expected}`).join("; ")
    }`
  }
}

/**
 * RFC 9728 §3.3: the document's `resource` may not serve the MCP server URL (another origin, or a path that is not
 * a prefix of the server's). A security failure: the document is not used and discovery stops.
 *
 * @category errors
 * @since 0.1.0
 */
export class ResourceMismatch extends Schema.TaggedError<ResourceMismatch>()("ResourceMismatch", {
  serverUrl: Schema.String,
  resource: Schema.String,
  url: Schema.String,
  attempts: Schema.Array(Attempt)
}) {
  override get message() {
    return `RFC 9728 §3.3: the metadata at ${this.url} is for the resource "${this.resource}", which does not cover the MCP server ${this.serverUrl}`
  }
}

/**
 * A candidate answered with a 5xx status: reported, not skipped.
 *
 * @category errors
 * @since 0.1.0
 */
export class ServerError extends Schema.TaggedError<ServerError>()("ServerError", {
  serverUrl: Schema.String,
  url: Schema.String,
  status: Schema.Number,
  attempts: Schema.Array(Attempt)
}) {
  override get message() {
    return `the MCP server answered ${this.status} at ${this.url}`
  }
}

/**
 * A candidate could not be reached (refused, reset, timed out): reported, not skipped.
 *
 * @category errors
 * @since 0.1.0
 */
export class Unreachable extends Schema.TaggedError<Unreachable>()("Unreachable", {
  serverUrl: Schema.String,
  url: Schema.String,
  detail: Schema.String,
  attempts: Schema.Array(Attempt)
}) {
  override get message() {
    return `could not fetch ${this.url}: ${this.detail}`
  }
}

/**
 * The error of protected resource metadata discovery; recover from one reason with
 * `Effect.catchReason("ProtectedResourceDiscoveryError", "MetadataNotFound", …)`.
 *
 * @category errors
 * @since 0.1.0
 */
export class ProtectedResourceDiscoveryError
  extends Schema.TaggedError<ProtectedResourceDiscoveryError>()("ProtectedResourceDiscoveryError", {
    reason: Schema.Union([
      InvalidServerUrl,
      InsecureUrl,
      MetadataNotFound,
      InvalidMetadata,
      ResourceMismatch,
      ServerError,
      Unreachable
    ])
  })
{
  override get message() {
    return this.reason.message
  }
}

const WELL_KNOWN = "/.well-known/oauth-protected-resource"

/**
 * The URLs to try for an MCP server, in the MCP order. This list is the single source of the order:
 *
 * 1. the `resource_metadata` URL of the server's `WWW-Authenticate` challenge, when there is one;
 * 2. the path-inserted well-known URL (`/.well-known/oauth-protected-resource/<path>`), when the server URL has a
 *    path (or a query);
 * 3. the root well-known URL (`/.well-known/oauth-protected-resource`).
 *
 * @see [MCP Authorization Server Discovery §Protected Resource Metadata Discovery Requirements](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization/authorization-server-discovery)
 * @see [RFC 9728 §3.1](https://www.rfc-editor.org/rfc/rfc9728#section-3.1)
 * @category constructors
 * @since 0.1.0
 */
export const wellKnownCandidates = (
  serverUrl: string,
  resourceMetadataUrl?: string | undefined
): Effect.Effect<ReadonlyArray<Candidate>, ProtectedResourceDiscoveryError> => {
  let u: URL
  try {
    u = new URL(serverUrl)
  } catch {
    return Effect.fail(
      new ProtectedResourceDiscoveryError({
        reason: new InvalidServerUrl({ serverUrl, detail: "not an absolute URL" })
      })
    )
  }
  const candidates: Array<Candidate> = []
  // MCP Authorization Server Discovery: use the resource_metadata URL from WWW-Authenticate when present
  if (resourceMetadataUrl !== undefined && resourceMetadataUrl !== "") {
    let challengeUrl = resourceMetadataUrl
    try {
      challengeUrl = new URL(resourceMetadataUrl, u).href
    } catch {
      // kept as received; fetching it reports the problem
    }
    candidates.push({ url: challengeUrl, kind: "resource_metadata (challenge)" })
  }
  // RFC 9728 §3.1: the well-known segment goes between the host and the path (a terminating "/" removed) and query
  const path = u.pathname.replace(/\/+$/, "")
  if (path !== "" || u.search !== "") {
    // MCP Authorization Server Discovery: otherwise, first the well-known URI at the path of the MCP endpoint…
    candidates.push({ url: `${u.origin}${WELL_KNOWN}${path}${u.search}`, kind: "oauth-protected-resource (path)" })
  }
  // …then at the root
  candidates.push({ url: `${u.origin}${WELL_KNOWN}`, kind: "oauth-protected-resource (root)" })
  return Effect.succeed(candidates.filter((c, i) => candidates.findIndex((d) => d.url === c.url) === i))
}
