/**
 * The protected resource metadata discovery service: the challenge's `resource_metadata` URL, then the path-inserted
 * well-known URL, then the root one; lenient decoding; and the RFC 9728 §3.3 check that the document's `resource`
 * may serve the MCP server URL.
 *
 * @see [RFC 9728 - OAuth 2.0 Protected Resource Metadata](https://www.rfc-editor.org/rfc/rfc9728)
 * @see [MCP 2026-07-28 Authorization Server Discovery](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization/authorization-server-discovery)
 * @since 0.1.0
 */
import { Resource } from "@mcpauth/rfc8707-resource"
import { insecureReason } from "@mcpauth/well-known/UrlSecurity"
import { attemptOf, fetchDocument } from "@mcpauth/well-known/WellKnownDocument"
import { Context, Duration, Effect, Layer, Option } from "effect"
import { HttpClient } from "effect/http"
import {
  type Attempt,
  decodeMetadata,
  InsecureUrl,
  InvalidMetadata,
  InvalidServerUrl,
  MetadataNotFound,
  ProtectedResourceDiscoveryError,
  type ProtectedResourceMetadata,
  ResourceMismatch,
  ServerError,
  Unreachable,
  wellKnownCandidates
} from "./ProtectedResourceMetadata.ts"
import * as WwwAuthenticate from "./WwwAuthenticate.ts"

/**
 * Discovery settings. Every field is optional; the defaults are strict.
 *
 * @category models
 * @since 0.1.0
 */
export interface Options {
  /**
   * **Security-weakening.** Accept `http://` URLs (the MCP server URL, the metadata URLs) when their host is a
   * loopback address (`127.0.0.0/8`, `[::1]`, `localhost`). For tests and local sandboxes only; every use is logged
   * at warning level. Default `false`: https only.
   */
  readonly allowLoopbackHttp?: boolean | undefined
  /** The largest document read, in bytes (default 256 KiB); a bigger body is not read past the limit. */
  readonly maxBodyBytes?: number | undefined
  /** Timeout of each request (default 10 seconds). */
  readonly timeout?: Duration.Input | undefined
  /** Redirects followed per URL, same origin only (default 3). A redirect to another origin is never followed. */
  readonly maxRedirects?: number | undefined
}

/**
 * What to discover for: the MCP server URL and, when the server answered 401/403, its `WWW-Authenticate` header
 * values (one string per header line, or the joined value).
 *
 * @category models
 * @since 0.1.0
 */
export interface DiscoveryRequest {
  readonly serverUrl: string
  readonly wwwAuthenticate?: string | ReadonlyArray<string> | null | undefined
}

/**
 * A discovered, validated protected resource metadata document.
 *
 * @category models
 * @since 0.1.0
 */
export interface DiscoveryResult {
  readonly serverUrl: string
  /** The document, decoded (unknown members kept). */
  readonly metadata: ProtectedResourceMetadata
  /** The `resource` to send (RFC 8707), exactly as received in the document, never re-serialised. */
  readonly resource: string
  /** The URL that served the document. */
  readonly url: string
  /** Every URL tried, in order, with what it gave (the last one is the `ok`). */
  readonly attempts: ReadonlyArray<Attempt>
  /** The Bearer challenge read from `WWW-Authenticate` (its `scope` guides scope selection), when there was one. */
  readonly challenge: Option.Option<WwwAuthenticate.BearerChallenge>
}

/**
 * Protected resource metadata discovery for MCP clients.
 *
 * **Example** (after a 401 from the MCP server)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { FetchHttpClient } from "effect/http"
 * import { ProtectedResourceDiscovery } from "@mcpauth/rfc9728-discovery"
 *
 * const program = (response: Response) =>
 *   Effect.gen(function*() {
 *     const prd = yield* ProtectedResourceDiscovery.ProtectedResourceDiscovery
 *     const { metadata, resource, attempts } = yield* prd.discover({
 *       serverUrl: "https://mcp.example.com/mcp",
 *       wwwAuthenticate: response.headers.get("www-authenticate")
 *     })
 *     return { issuer: metadata.authorization_servers[0], resource }
 *   }).pipe(
 *     Effect.provide(ProtectedResourceDiscovery.layer()),
 *     Effect.provide(FetchHttpClient.layer)
 *   )
 * ```
 *
 * @category services
 * @since 0.1.0
 */
export class ProtectedResourceDiscovery extends Context.Service<ProtectedResourceDiscovery, {
  readonly discover: (request: DiscoveryRequest) => Effect.Effect<DiscoveryResult, ProtectedResourceDiscoveryError>
}>()("@mcpauth/rfc9728-discovery/ProtectedResourceDiscovery") {}

const fail = (reason: ProtectedResourceDiscoveryError["reason"]) =>
  Effect.fail(new ProtectedResourceDiscoveryError({ reason }))

/**
 * Runs one discovery: tries every candidate in order, validates the first document found, records every attempt.
 *
 * @category constructors
 * @since 0.1.0
 */
export const discover = Effect.fn("ProtectedResourceDiscovery.discover")(function*(
  request: DiscoveryRequest,
  options: Options = {}
) {
  const { serverUrl } = request
  yield* Effect.annotateCurrentSpan({ "mcpauth.server_url": serverUrl })
  const allowHttp = options.allowLoopbackHttp === true
  const settings = {
    maxBodyBytes: options.maxBodyBytes ?? 256 * 1024,
    timeout: Duration.fromInputUnsafe(options.timeout ?? "10 seconds"),
    maxRedirects: options.maxRedirects ?? 3,
    // Redirects stay on the origin of the URL asked for; anything else is not followed.
    redirectAllowed: (from: URL, to: URL) =>
      to.origin === from.origin ? undefined : `it leaves ${from.origin} (only same-origin redirects are followed)`
  }
  // RFC 8707 §2 / MCP Canonical Server URI: the server URL must be an absolute http(s) URI without a fragment
  const canonical = yield* Effect.result(Resource.canonicalize(serverUrl))
  if (canonical._tag === "Failure") {
    return yield* fail(new InvalidServerUrl({ serverUrl, detail: canonical.failure.message }))
  }
  const serverInsecure = insecureReason(serverUrl, allowHttp)
  if (serverInsecure !== undefined) return yield* fail(new InsecureUrl({ url: serverUrl, detail: serverInsecure }))
  if (serverUrl.toLowerCase().startsWith("http:")) {
    yield* Effect.logWarning(
      `Security-weakening option allowLoopbackHttp: discovering protected resource metadata over http for ${serverUrl}`
    )
  }
  // RFC 9728 §5.1: the resource_metadata parameter of the Bearer challenge
  const challenge = WwwAuthenticate.parseBearer(request.wwwAuthenticate)
  const fromChallenge = Option.getOrUndefined(challenge)?.resource_metadata
  const candidates = yield* wellKnownCandidates(serverUrl, fromChallenge)
  const attempts: Array<Attempt> = []
  let firstInvalid: InvalidMetadata | undefined
  for (const candidate of candidates) {
    // MCP Authorization §Communication Security: metadata URLs are https (loopback http only when allowed)
    const insecure = insecureReason(candidate.url, allowHttp)
    if (insecure !== undefined) {
      attempts.push({ url: candidate.url, kind: candidate.kind, outcome: "insecure-url", detail: insecure })
      continue
    }
    const outcome = yield* fetchDocument(candidate.url, settings).pipe(
      Effect.tap((o) =>
        Effect.annotateCurrentSpan({ "mcpauth.outcome": o._tag, ...("status" in o ? { "http.status": o.status } : {}) })
      ),
      Effect.withSpan("ProtectedResourceDiscovery.attempt", {
        attributes: { "url.full": candidate.url, "mcpauth.candidate": candidate.kind, "mcpauth.server_url": serverUrl }
      })
    )
    const attempt = attemptOf(candidate, outcome)
    if (outcome._tag === "ServerError") {
      attempts.push(attempt)
      return yield* fail(new ServerError({ serverUrl, url: candidate.url, status: outcome.status, attempts }))
    }
    if (outcome._tag === "NetworkError") {
      attempts.push(attempt)
      return yield* fail(new Unreachable({ serverUrl, url: candidate.url, detail: outcome.detail, attempts }))
    }
    if (outcome._tag !== "Json") {
      // MCP Authorization Server Discovery: a 4xx (or anything that is not a document) moves on to the next URL
      attempts.push(attempt)
      continue
    }
    const decoded = yield* Effect.result(decodeMetadata(outcome.json))
    if (decoded._tag === "Failure") {
      const problems = decoded.failure
      const first = problems[0] ?? { member: "(document)", expected: "a JSON object" }
      attempts.push({
        ...attempt,
        outcome: "invalid-document",
        detail: problems.map((p) => `${p.member}: ${p.expected}`).join("; ")
      })
      firstInvalid ??= new InvalidMetadata({
        serverUrl,
        url: candidate.url,
        member: first.member,
        expected: first.expected,
        problems,
        attempts: []
      })
      continue
    }
    const metadata = decoded.success
    // RFC 9728 §3.3: the document's resource must identify the resource the client is accessing; a foreign resource
    // is a security error, never retried elsewhere
    const allowed = yield* Effect.result(Resource.isResourceAllowed(serverUrl, metadata.resource))
    if (allowed._tag === "Failure" || !allowed.success) {
      attempts.push({
        ...attempt,
        outcome: "resource-mismatch",
        detail: allowed._tag === "Failure"
          ? `resource "${metadata.resource}": ${allowed.failure.message}`
          : `resource "${metadata.resource}"`
      })
      return yield* fail(new ResourceMismatch({ serverUrl, resource: metadata.resource, url: candidate.url, attempts }))
    }
    attempts.push(attempt)
    return {
      serverUrl,
      metadata,
      resource: metadata.resource,
      url: candidate.url,
      attempts,
      challenge
    } satisfies DiscoveryResult
  }
  if (firstInvalid !== undefined) return yield* fail(new InvalidMetadata({ ...firstInvalid, attempts }))
  return yield* fail(new MetadataNotFound({ serverUrl, attempts }))
})

/**
 * Builds the service from the `HttpClient` in context.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  options: Options = {}
): Effect.Effect<ProtectedResourceDiscovery["Service"], never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    return ProtectedResourceDiscovery.of({
      discover: (request) => discover(request, options).pipe(Effect.provideService(HttpClient.HttpClient, client))
    })
  })

/**
 * The service, requiring an `HttpClient` (apps provide `FetchHttpClient.layer`).
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: Options = {}): Layer.Layer<ProtectedResourceDiscovery, never, HttpClient.HttpClient> =>
  Layer.effect(ProtectedResourceDiscovery, make(options))
