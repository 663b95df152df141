/**
 * The authorization server metadata discovery service: the MCP-ordered well-known URLs, the RFC 8414 §3.3 issuer
 * check, the https rule, the PKCE S256 check, and a per-issuer in-memory cache honouring `Cache-Control: max-age`.
 *
 * @see [RFC 8414 - OAuth 2.0 Authorization Server Metadata](https://www.rfc-editor.org/rfc/rfc8414)
 * @see [MCP 2026-07-28 Authorization Server Discovery](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization/authorization-server-discovery)
 * @since 0.1.0
 */
import { insecureReason } from "@mcpauth/well-known/UrlSecurity"
import { attemptOf, fetchDocument } from "@mcpauth/well-known/WellKnownDocument"
import { Cache, Context, Duration, Effect, Exit, Layer } from "effect"
import type { HttpClient } from "effect/http"
import {
  type Attempt,
  type AuthorizationServerMetadata as Document,
  AuthorizationServerMetadataError,
  cacheLifetime,
  compareIssuer,
  decodeMetadata,
  findInsecureUrl,
  InsecureUrl,
  InvalidMetadata,
  IssuerMismatch,
  MetadataNotFound,
  PkceUnsupported,
  ServerError,
  supportsS256,
  Unreachable,
  wellKnownCandidates
} from "./Metadata.ts"

/**
 * Discovery settings. Every field is optional; the defaults are strict.
 *
 * @category models
 * @since 0.1.0
 */
export interface Options {
  /**
   * **Security-weakening.** Accept `http://` URLs (the issuer, the metadata URLs, the endpoints in the document)
   * when their host is a loopback address (`127.0.0.0/8`, `[::1]`, `localhost`). For tests and local sandboxes
   * only; every use is logged at warning level. Default `false`: https only (MCP Authorization §Communication
   * Security).
   */
  readonly allowLoopbackHttp?: boolean | undefined
  /**
   * **Security-weakening.** Accept a document whose `issuer` differs from the expected issuer only by one
   * terminating "/" (RFC 8414 §3.3 requires identity). The document's own `issuer` is kept as received. Logged at
   * warning level when it changes the outcome. Default `false`.
   */
  readonly allowIssuerTrailingSlashMismatch?: boolean | undefined
  /**
   * **Security-weakening.** For an issuer with a path, when none of the three MCP locations serves a document, also
   * try the root `/.well-known/oauth-authorization-server` and `/.well-known/openid-configuration` of the same
   * origin, and accept a document there whose `issuer` is exactly the expected path issuer (a known deviation,
   * e.g. Datadog's `https://mcp.datadoghq.com/v1/mcp` served at the root). Logged at warning level when used.
   * Default `false`.
   */
  readonly allowRootDocumentForPathIssuer?: boolean | undefined
  /** The largest document read, in bytes (default 256 KiB); a bigger body is not read past the limit. */
  readonly maxBodyBytes?: number | undefined
  /** Timeout of each request (default 10 seconds). */
  readonly timeout?: Duration.Input | undefined
  /** Redirects followed per URL, same origin only (default 3). A redirect to another origin is never followed. */
  readonly maxRedirects?: number | undefined
  /** How long a document without `Cache-Control: max-age` stays cached (default 15 minutes). */
  readonly defaultCacheTtl?: Duration.Input | undefined
  /** The longest a document stays cached, whatever its `max-age` (default 24 hours). */
  readonly maxCacheTtl?: Duration.Input | undefined
}

/**
 * A discovered, validated metadata document.
 *
 * @category models
 * @since 0.1.0
 */
export interface DiscoveryResult {
  /** The issuer discovery was asked for (the URLs were built from it). */
  readonly issuer: string
  /** The document, as decoded (unknown members kept). Its `issuer` is the one to record for RFC 9207 checks. */
  readonly metadata: Document
  /** The URL that served the document. */
  readonly url: string
  /** Every URL tried, in order, with what it gave (the last one is the `ok`). */
  readonly attempts: ReadonlyArray<Attempt>
  /** How long this result stays in the in-memory cache (zero when `Cache-Control` forbids caching). */
  readonly cacheTtl: Duration.Duration
}

/**
 * Authorization server metadata discovery for MCP clients.
 *
 * **Example** (discover and use the token endpoint)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { FetchHttpClient } from "effect/http"
 * import { AuthorizationServerMetadata } from "@mcpauth/rfc8414-metadata"
 *
 * const program = Effect.gen(function*() {
 *   const asm = yield* AuthorizationServerMetadata.AuthorizationServerMetadata
 *   const { metadata, url, attempts } = yield* asm.discover("https://auth.example.com/tenant1")
 *   return metadata.token_endpoint
 * }).pipe(
 *   Effect.provide(AuthorizationServerMetadata.layer()),
 *   Effect.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @category services
 * @since 0.1.0
 */
export class AuthorizationServerMetadata extends Context.Service<AuthorizationServerMetadata, {
  /** Discovers (or returns the cached) validated metadata of an issuer. */
  readonly discover: (issuer: string) => Effect.Effect<DiscoveryResult, AuthorizationServerMetadataError>
  /** Drops an issuer's cached document (e.g. after the server rejected a request that relied on it). */
  readonly invalidate: (issuer: string) => Effect.Effect<void>
}>()("@mcpauth/rfc8414-metadata/AuthorizationServerMetadata") {}

const fail = (reason: AuthorizationServerMetadataError["reason"]) =>
  Effect.fail(new AuthorizationServerMetadataError({ reason }))

/**
 * Discovers an issuer's metadata once, without the cache: tries every candidate in order, validates the first
 * document found, and records every attempt.
 *
 * @category constructors
 * @since 0.1.0
 */
export const discoverUncached = Effect.fn("AuthorizationServerMetadata.discover")(function*(
  issuer: string,
  options: Options = {}
) {
  yield* Effect.annotateCurrentSpan({ "mcpauth.issuer": issuer })
  const allowHttp = options.allowLoopbackHttp === true
  const settings = {
    maxBodyBytes: options.maxBodyBytes ?? 256 * 1024,
    timeout: Duration.fromInputUnsafe(options.timeout ?? "10 seconds"),
    maxRedirects: options.maxRedirects ?? 3,
    // Redirects stay on the authorization server's own origin; anything else is not followed.
    redirectAllowed: (from: URL, to: URL) =>
      to.origin === from.origin ? undefined : `it leaves ${from.origin} (only same-origin redirects are followed)`
  }
  const cacheSettings = {
    fallback: Duration.fromInputUnsafe(options.defaultCacheTtl ?? "15 minutes"),
    max: Duration.fromInputUnsafe(options.maxCacheTtl ?? "24 hours")
  }
  const candidates = yield* wellKnownCandidates(issuer, { rootForPathIssuer: options.allowRootDocumentForPathIssuer })
  // MCP Authorization §Communication Security: authorization server endpoints MUST be served over HTTPS
  const issuerInsecure = insecureReason(issuer, allowHttp)
  if (issuerInsecure !== undefined) {
    return yield* fail(
      new InsecureUrl({ issuer, url: issuer, member: "issuer", value: issuer, detail: issuerInsecure })
    )
  }
  if (issuer.toLowerCase().startsWith("http:")) {
    yield* Effect.logWarning(
      `Security-weakening option allowLoopbackHttp: discovering authorization server metadata over http for ${issuer}`
    )
  }
  const attempts: Array<Attempt> = []
  let firstInvalid: InvalidMetadata | undefined
  for (const candidate of candidates) {
    const outcome = yield* fetchDocument(candidate.url, settings).pipe(
      Effect.tap((o) =>
        Effect.annotateCurrentSpan({ "mcpauth.outcome": o._tag, ...("status" in o ? { "http.status": o.status } : {}) })
      ),
      Effect.withSpan("AuthorizationServerMetadata.attempt", {
        attributes: { "url.full": candidate.url, "mcpauth.candidate": candidate.kind, "mcpauth.issuer": issuer }
      })
    )
    const attempt = attemptOf(candidate, outcome)
    if (outcome._tag === "ServerError") {
      attempts.push(attempt)
      return yield* fail(new ServerError({ issuer, url: candidate.url, status: outcome.status, attempts }))
    }
    if (outcome._tag === "NetworkError") {
      attempts.push(attempt)
      return yield* fail(new Unreachable({ issuer, url: candidate.url, detail: outcome.detail, attempts }))
    }
    if (outcome._tag !== "Json") {
      // RFC 8414 §3.2 / MCP Authorization Server Discovery: a 4xx or a non-document moves on to the next candidate
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
        issuer,
        url: candidate.url,
        member: first.member,
        expected: first.expected,
        problems,
        attempts: []
      })
      continue
    }
    const metadata = decoded.success
    // RFC 8414 §3.3: the issuer in the document MUST be identical to the issuer used to build the URL; otherwise the
    // document MUST NOT be used
    const issuerMatch = compareIssuer(issuer, metadata.issuer)
    if (
      issuerMatch === "mismatch" ||
      (issuerMatch === "trailing-slash" && options.allowIssuerTrailingSlashMismatch !== true)
    ) {
      attempts.push({ ...attempt, outcome: "issuer-mismatch", detail: `issuer "${metadata.issuer}"` })
      return yield* fail(
        new IssuerMismatch({ expected: issuer, received: metadata.issuer, url: candidate.url, attempts })
      )
    }
    if (issuerMatch === "trailing-slash") {
      yield* Effect.logWarning(
        `Security-weakening option allowIssuerTrailingSlashMismatch: accepted issuer "${metadata.issuer}" for "${issuer}" from ${candidate.url}`
      )
    }
    if (candidate.kind.includes("(root, for a path issuer)")) {
      yield* Effect.logWarning(
        `Security-weakening option allowRootDocumentForPathIssuer: accepted the root document ${candidate.url} for the path issuer ${issuer}`
      )
    }
    // MCP Authorization §Communication Security: every endpoint the client will call MUST be https
    const insecure = findInsecureUrl(metadata, allowHttp)
    if (insecure !== undefined) {
      attempts.push({ ...attempt, outcome: "insecure-url", detail: `${insecure.member}: ${insecure.detail}` })
      return yield* fail(new InsecureUrl({ issuer, url: candidate.url, ...insecure }))
    }
    // MCP Authorization §Authorization Code Protection: without S256 in code_challenge_methods_supported, refuse
    if (!supportsS256(metadata)) {
      attempts.push({ ...attempt, outcome: "pkce-unsupported" })
      return yield* fail(
        new PkceUnsupported({
          issuer,
          url: candidate.url,
          ...(metadata.code_challenge_methods_supported === undefined
            ? {}
            : { code_challenge_methods_supported: metadata.code_challenge_methods_supported })
        })
      )
    }
    attempts.push(attempt)
    const cacheTtl = cacheLifetime(outcome.headers["cache-control"], cacheSettings)
    return { issuer, metadata, url: candidate.url, attempts, cacheTtl } satisfies DiscoveryResult
  }
  if (firstInvalid !== undefined) {
    return yield* fail(new InvalidMetadata({ ...firstInvalid, attempts }))
  }
  return yield* fail(new MetadataNotFound({ issuer, attempts }))
})

/**
 * Builds the service from the `HttpClient` in context, with an in-memory cache per issuer (single-flight:
 * concurrent discoveries of one issuer share one set of requests).
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  options: Options = {}
): Effect.Effect<AuthorizationServerMetadata["Service"], never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const cache = yield* Cache.makeWith((issuer: string) => discoverUncached(issuer, options), {
      capacity: 256,
      // Cache-Control: max-age (or the default) for documents; failures are never cached
      timeToLive: (exit) => (Exit.isSuccess(exit) ? exit.value.cacheTtl : Duration.zero),
      requireServicesAt: "construction"
    })
    return AuthorizationServerMetadata.of({
      discover: (issuer) => Cache.get(cache, issuer),
      invalidate: (issuer) => Cache.invalidate(cache, issuer)
    })
  })

/**
 * The service, requiring an `HttpClient` (apps provide `FetchHttpClient.layer`).
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  options: Options = {}
): Layer.Layer<AuthorizationServerMetadata, never, HttpClient.HttpClient> =>
  Layer.effect(AuthorizationServerMetadata, make(options))
