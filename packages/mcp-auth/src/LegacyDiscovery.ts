/**
 * The MCP 2025-03-26 authorization server discovery, for servers of that protocol (no protected resource metadata):
 * the authorization base URL is the MCP server URL without its path; the metadata is at its
 * `/.well-known/oauth-authorization-server`; a server without metadata uses the default endpoints `/authorize`,
 * `/token` and `/register` of the base URL.
 *
 * Used only when the server negotiated 2025-03-26 (the request carries `MCP-Protocol-Version: 2025-03-26`) or the
 * user enabled it (`McpAuthorization` option `legacy20250326`), and only after protected resource metadata discovery
 * found nothing.
 *
 * @see [MCP 2025-03-26 Authorization §2.3 - Server Metadata Discovery](https://modelcontextprotocol.io/specification/2025-03-26/basic/authorization#2-3-server-metadata-discovery)
 * @see [MCP 2025-03-26 Authorization §2.3.3 - Fallbacks for Servers without Metadata Discovery](https://modelcontextprotocol.io/specification/2025-03-26/basic/authorization#2-3-3-fallbacks-for-servers-without-metadata-discovery)
 * @since 0.1.0
 */
import { Metadata } from "@mcpauth/rfc8414-metadata"
import { Context, Effect, Layer, Schema } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"

/**
 * The MCP protocol version whose discovery this module implements.
 *
 * @category constants
 * @since 0.1.0
 */
export const PROTOCOL_VERSION = "2025-03-26"

/**
 * Why legacy discovery could not produce usable metadata: which document (URL), which member, what was expected.
 *
 * @category errors
 * @since 0.1.0
 */
export class LegacyDiscoveryError extends Schema.TaggedError<LegacyDiscoveryError>()("LegacyDiscoveryError", {
  url: Schema.String,
  member: Schema.String,
  expected: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `MCP 2025-03-26 discovery: ${this.url}: ${this.member}: expected ${this.expected} (${this.detail})`
  }
}

/**
 * What legacy discovery established.
 *
 * @category models
 * @since 0.1.0
 */
export interface LegacyDiscovered {
  readonly metadata: Metadata.AuthorizationServerMetadata
  /** The metadata URL that answered, or `undefined` when the default endpoints are used. */
  readonly url: string | undefined
  /** The authorization base URL (the server URL's origin). */
  readonly baseUrl: string
}

/**
 * The authorization base URL of an MCP server URL: its path (and query, fragment) discarded.
 *
 * @see [MCP 2025-03-26 Authorization §2.3.2](https://modelcontextprotocol.io/specification/2025-03-26/basic/authorization#2-3-2-authorization-base-url)
 * @category constructors
 * @since 0.1.0
 */
export const authorizationBaseUrl = (serverUrl: string): string => new URL(serverUrl).origin

/**
 * The default endpoints of a 2025-03-26 server without metadata.
 *
 * @see [MCP 2025-03-26 Authorization §2.3.3](https://modelcontextprotocol.io/specification/2025-03-26/basic/authorization#2-3-3-fallbacks-for-servers-without-metadata-discovery)
 * @category constructors
 * @since 0.1.0
 */
export const defaultMetadata = (baseUrl: string): Metadata.AuthorizationServerMetadata => ({
  issuer: baseUrl,
  // MCP 2025-03-26 §2.3.3: /authorize, /token and /register of the authorization base URL
  authorization_endpoint: `${baseUrl}/authorize`,
  token_endpoint: `${baseUrl}/token`,
  registration_endpoint: `${baseUrl}/register`
})

/**
 * The checks a 2025-03-26 metadata document must pass: every endpoint https (or allowed loopback http), S256 PKCE,
 * and an issuer on the authorization base URL's origin (that protocol has no issuer to compare with, the base URL
 * stands in for it).
 *
 * @category constructors
 * @since 0.1.0
 */
export const checkMetadata = (
  url: string,
  baseUrl: string,
  metadata: Metadata.AuthorizationServerMetadata,
  allowLoopbackHttp: boolean
): Effect.Effect<Metadata.AuthorizationServerMetadata, LegacyDiscoveryError> => {
  // MCP 2025-03-26 §2.3.2: the authorization server is at the authorization base URL (same origin)
  let issuerOrigin: string | undefined
  try {
    issuerOrigin = new URL(metadata.issuer).origin
  } catch {
    issuerOrigin = undefined
  }
  if (issuerOrigin !== baseUrl) {
    return Effect.fail(
      new LegacyDiscoveryError({
        url,
        member: "issuer",
        expected: `a URL on ${baseUrl}`,
        detail: `got ${JSON.stringify(metadata.issuer)}`
      })
    )
  }
  // MCP 2025-03-26 §2.1 / Communication Security: every authorization endpoint over https
  const insecure = Metadata.findInsecureUrl(metadata, allowLoopbackHttp)
  if (insecure !== undefined) {
    return Effect.fail(
      new LegacyDiscoveryError({ url, member: insecure.member, expected: "an https URL", detail: insecure.detail })
    )
  }
  // MCP 2025-03-26 §2.1.1: PKCE is required (S256)
  if (!Metadata.supportsS256(metadata)) {
    return Effect.fail(
      new LegacyDiscoveryError({
        url,
        member: "code_challenge_methods_supported",
        expected: "a list including S256",
        detail: `got ${JSON.stringify(metadata.code_challenge_methods_supported ?? null)}`
      })
    )
  }
  return Effect.succeed(metadata)
}

/**
 * The legacy discovery service.
 *
 * @category services
 * @since 0.1.0
 */
export class LegacyDiscovery extends Context.Service<LegacyDiscovery, {
  readonly discover: (serverUrl: string) => Effect.Effect<LegacyDiscovered, LegacyDiscoveryError>
}>()("@mcpauth/mcp-auth/LegacyDiscovery") {}

/**
 * Builds the service from the `HttpClient` in context.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: { readonly allowLoopbackHttp?: boolean | undefined } = {}) =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    const loopback = options.allowLoopbackHttp === true
    const discover = Effect.fn("LegacyDiscovery.discover")(function*(serverUrl: string) {
      const baseUrl = authorizationBaseUrl(serverUrl)
      const url = `${baseUrl}/.well-known/oauth-authorization-server`
      const failed = (member: string, expected: string, detail: string) =>
        new LegacyDiscoveryError({ url, member, expected, detail })
      // MCP 2025-03-26 §2.1: https for every authorization endpoint, loopback http only when allowed
      const base = Metadata.findInsecureUrl(defaultMetadata(baseUrl), loopback)
      if (base !== undefined) return yield* failed("authorization base URL", "an https URL", base.detail)
      yield* Effect.logWarning(
        `MCP 2025-03-26 discovery fallback for ${serverUrl}: no protected resource metadata, metadata from ${url}`
      )
      // MCP 2025-03-26 §2.3.2: clients SHOULD send MCP-Protocol-Version with the metadata request
      const response = yield* http.execute(
        HttpClientRequest.get(url).pipe(
          HttpClientRequest.acceptJson,
          HttpClientRequest.setHeader("mcp-protocol-version", PROTOCOL_VERSION)
        )
      ).pipe(Effect.mapError((e) => failed("(request)", "an HTTP response", e.message)))
      if (response.status === 404) {
        // MCP 2025-03-26 §2.3.3: no metadata: the default endpoints of the authorization base URL
        yield* Effect.logWarning(
          `MCP 2025-03-26 discovery fallback: ${url} is 404; using ${baseUrl}/authorize, /token and /register`
        )
        return { metadata: defaultMetadata(baseUrl), url: undefined, baseUrl } satisfies LegacyDiscovered
      }
      if (response.status !== 200) {
        return yield* failed("(status)", "HTTP 200 or 404", `got HTTP ${response.status}`)
      }
      const json = yield* response.json.pipe(Effect.mapError(() => failed("(body)", "a JSON document", "not JSON")))
      const metadata = yield* Metadata.decodeMetadata(json).pipe(
        Effect.mapError((problems) =>
          failed(
            problems[0]?.member ?? "(document)",
            problems[0]?.expected ?? "an RFC 8414 document",
            problems.map((p) => `${p.member}: ${p.expected}`).join("; ")
          )
        )
      )
      const checked = yield* checkMetadata(url, baseUrl, metadata, loopback)
      return { metadata: checked, url, baseUrl } satisfies LegacyDiscovered
    })
    return LegacyDiscovery.of({ discover })
  })

/**
 * The service; requires an `HttpClient`.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  options: { readonly allowLoopbackHttp?: boolean | undefined } = {}
): Layer.Layer<LegacyDiscovery, never, HttpClient.HttpClient> => Layer.effect(LegacyDiscovery, make(options))
