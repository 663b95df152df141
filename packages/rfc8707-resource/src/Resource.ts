/**
 * Resource indicators for MCP servers: the canonical URI of an MCP server, and the check that a protected resource
 * identifier (from RFC 9728 metadata) may serve a given MCP server URL.
 *
 * A resource string chosen from metadata is carried as the exact string received: nothing here re-serialises it, so
 * a bare origin such as `https://mcp.datadoghq.com` never gains a trailing slash on its way to the token endpoint.
 *
 * @see [RFC 8707 - Resource Indicators for OAuth 2.0](https://www.rfc-editor.org/rfc/rfc8707)
 * @see [MCP 2026-07-28 Authorization §Resource Parameter Implementation](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization#resource-parameter-implementation)
 * @see [RFC 3986 §6.2 - Comparison Ladder](https://www.rfc-editor.org/rfc/rfc3986#section-6.2)
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"

/**
 * The input is not an absolute URI (it has no scheme, e.g. `mcp.example.com` or `/mcp`).
 *
 * @category errors
 * @since 0.1.0
 */
export class NotAbsolute extends Schema.TaggedError<NotAbsolute>()("NotAbsolute", { input: Schema.String }) {
  override get message() {
    return `RFC 8707 §2: a resource indicator must be an absolute URI; "${this.input}" has no scheme (did you mean "https://${
      this.input.replace(/^\/+/, "")
    }"?)`
  }
}

/**
 * The input carries a fragment, which RFC 8707 §2 forbids in a resource indicator.
 *
 * @category errors
 * @since 0.1.0
 */
export class HasFragment extends Schema.TaggedError<HasFragment>()("HasFragment", { input: Schema.String }) {
  override get message() {
    return `RFC 8707 §2: a resource indicator must not include a fragment: "${this.input}"`
  }
}

/**
 * The input's scheme is not `http` or `https`.
 *
 * @category errors
 * @since 0.1.0
 */
export class UnsupportedScheme extends Schema.TaggedError<UnsupportedScheme>()("UnsupportedScheme", {
  input: Schema.String,
  scheme: Schema.String
}) {
  override get message() {
    return `an MCP server URL must use http or https, got "${this.scheme}:" in "${this.input}"`
  }
}

/**
 * The input carries user information (`user:password@`); such URLs are refused so credentials never travel as a
 * resource indicator. The password is not echoed.
 *
 * @category errors
 * @since 0.1.0
 */
export class HasUserInfo extends Schema.TaggedError<HasUserInfo>()("HasUserInfo", { input: Schema.String }) {
  override get message() {
    return `an MCP server URL must not carry user information (user:password@): "${this.input}"`
  }
}

/**
 * The input is not a URI at all (it does not parse).
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidUri extends Schema.TaggedError<InvalidUri>()("InvalidUri", {
  input: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `not a valid URI: "${this.input}" (${this.detail})`
  }
}

/**
 * The protected resource named in metadata may not serve the MCP server URL: it is on another origin, or its path is
 * not a prefix of the server's path on a segment boundary. A security failure: never retried.
 *
 * @category errors
 * @since 0.1.0
 */
export class ResourceMismatch extends Schema.TaggedError<ResourceMismatch>()("ResourceMismatch", {
  serverUrl: Schema.String,
  resource: Schema.String
}) {
  override get message() {
    return `RFC 9728 §3.3: the protected resource "${this.resource}" does not cover the MCP server "${this.serverUrl}"`
  }
}

/**
 * The error of every resource operation; recover from one reason with `Effect.catchReason("ResourceError", …)`.
 *
 * @category errors
 * @since 0.1.0
 */
export class ResourceError extends Schema.TaggedError<ResourceError>()("ResourceError", {
  reason: Schema.Union([NotAbsolute, HasFragment, UnsupportedScheme, HasUserInfo, InvalidUri, ResourceMismatch])
}) {
  override get message() {
    return this.reason.message
  }
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/

// Shown in errors: the input without any user information, so a password never reaches a log.
const display = (input: string): string => input.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, "$1***@")

/**
 * A parsed, validated http(s) URL with the parts the comparisons need.
 *
 * @category models
 * @since 0.1.0
 */
export interface ParsedResource {
  /** The exact input string. */
  readonly input: string
  /** Lower-case scheme, without the colon: `http` or `https`. */
  readonly scheme: "http" | "https"
  /** Lower-case host (IPv6 in brackets), and the port only when it is not the scheme's default. */
  readonly authority: string
  /** The path as written in the input (percent-encoding untouched); `""` for a bare origin. */
  readonly path: string
  /** The query including `?`, or `""`. */
  readonly query: string
}

const fail = (reason: ResourceError["reason"]) => Effect.fail(new ResourceError({ reason }))

/**
 * Parses an absolute http(s) URI and refuses what RFC 8707 §2 forbids in a resource indicator.
 *
 * @category constructors
 * @since 0.1.0
 */
export const parse = (input: string): Effect.Effect<ParsedResource, ResourceError> => {
  const shown = display(input)
  const scheme = SCHEME.exec(input)?.[1]
  // RFC 8707 §2: the value MUST be an absolute URI
  if (scheme === undefined) return fail(new NotAbsolute({ input: shown }))
  const lower = scheme.toLowerCase()
  if (lower !== "http" && lower !== "https") return fail(new UnsupportedScheme({ input: shown, scheme }))
  // An http(s) URI needs an authority: "https:mcp.example.com" is not one
  if (!input.slice(scheme.length + 1).startsWith("//")) {
    return fail(new InvalidUri({ input: shown, detail: "expected \"//\" and a host after the scheme" }))
  }
  // RFC 8707 §2: the value MUST NOT include a fragment component
  if (input.includes("#")) return fail(new HasFragment({ input: shown }))
  // WHATWG URL reads "\" as "/" in http(s) URLs while RFC 3986 does not: refuse the ambiguity (host confusion)
  if (input.includes("\\")) return fail(new InvalidUri({ input: shown, detail: "a backslash is not allowed" }))
  let url: URL
  try {
    url = new URL(input)
  } catch (cause) {
    return fail(new InvalidUri({ input: shown, detail: cause instanceof Error ? cause.message : String(cause) }))
  }
  if (url.hostname === "") return fail(new InvalidUri({ input: shown, detail: "no host" }))
  if (url.username !== "" || url.password !== "") return fail(new HasUserInfo({ input: shown }))
  // The path as the user wrote it (WHATWG URL would percent-encode some characters and add "/" to a bare origin)
  const afterAuthority = input.slice(scheme.length + 3).replace(/^[^/?]*/, "")
  const queryAt = afterAuthority.indexOf("?")
  const path = queryAt === -1 ? afterAuthority : afterAuthority.slice(0, queryAt)
  const query = queryAt === -1 ? "" : afterAuthority.slice(queryAt)
  if (/\s/.test(path) || /\s/.test(query)) {
    return fail(new InvalidUri({ input: shown, detail: "white space in the path or query" }))
  }
  return Effect.succeed({ input, scheme: lower, authority: url.host, path, query })
}

/**
 * The canonical URI of an MCP server URL, for the `resource` parameter when the server's protected resource metadata
 * names none: absolute, no fragment, lower-case scheme and host, default port dropped, path kept as written (a root
 * `/` alone is dropped, no trailing slash is ever added), query dropped (RFC 8707 §2: SHOULD NOT include a query).
 *
 * **Example** (canonical URIs)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Resource } from "@mcpauth/rfc8707-resource"
 *
 * Resource.canonicalize("HTTPS://MCP.Example.com:443/v1/mcp") // succeeds with "https://mcp.example.com/v1/mcp"
 * Resource.canonicalize("https://mcp.example.com/")          // succeeds with "https://mcp.example.com"
 * Resource.canonicalize("mcp.example.com")                   // fails: ResourceError(NotAbsolute)
 * ```
 *
 * @see [MCP 2026-07-28 Authorization §Canonical Server URI](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization#canonical-server-uri)
 * @category constructors
 * @since 0.1.0
 */
export const canonicalize = (serverUrl: string): Effect.Effect<string, ResourceError> =>
  Effect.map(parse(serverUrl), (p) =>
    // MCP §Canonical Server URI: lowercase scheme and host; SHOULD use the form without the trailing slash
    `${p.scheme}://${p.authority}${p.path === "/" ? "" : p.path}`)

// RFC 3986 §6.2.2.1-2: percent-encoding hex is case-insensitive, and encoded unreserved characters equal their decoding
const comparable = (path: string): string =>
  path.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16))
    return /[A-Za-z0-9\-._~]/.test(c) ? c : `%${hex.toUpperCase()}`
  })

/**
 * Whether a protected resource identifier may serve an MCP server URL: the same origin (scheme, host and port, case
 * and default port folded), and the resource's path a prefix of the server's path on a segment boundary (`/api`
 * serves `/api/mcp`, never `/apimcp`). A resource with a query serves only a server URL with the same query.
 *
 * @see [RFC 9728 §3.3 - Protected Resource Metadata Validation](https://www.rfc-editor.org/rfc/rfc9728#section-3.3)
 * @see [MCP 2026-07-28 Authorization §Canonical Server URI](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization#canonical-server-uri)
 * @category guards
 * @since 0.1.0
 */
export const isResourceAllowed = (serverUrl: string, resource: string): Effect.Effect<boolean, ResourceError> =>
  Effect.gen(function*() {
    const server = yield* parse(serverUrl)
    const res = yield* parse(resource)
    return covers(server, res)
  })

const covers = (server: ParsedResource, res: ParsedResource): boolean => {
  // Same origin: RFC 6454 §4 (scheme, host, port), after RFC 3986 §6.2.2.1 case folding and §6.2.3 default port
  if (server.scheme !== res.scheme || server.authority !== res.authority) return false
  if (res.query !== "" && res.query !== server.query) return false
  const resPath = comparable(res.path)
  const serverPath = comparable(server.path)
  if (resPath === "" || resPath === "/") return true
  if (resPath.endsWith("/")) return serverPath.startsWith(resPath)
  // Prefix on a path-segment boundary: "/api" covers "/api" and "/api/…", never "/apimcp"
  return serverPath === resPath || serverPath.startsWith(`${resPath}/`)
}

/**
 * The `resource` value to send for an MCP server: the protected resource metadata's `resource` exactly as received
 * when it may serve the server URL (else a `ResourceMismatch` security error), or the server's canonical URI when the
 * metadata names none.
 *
 * @see [RFC 8707 §2](https://www.rfc-editor.org/rfc/rfc8707#section-2)
 * @see [RFC 9728 §3.3](https://www.rfc-editor.org/rfc/rfc9728#section-3.3)
 * @category constructors
 * @since 0.1.0
 */
export const chooseResource = (
  serverUrl: string,
  metadataResource: string | undefined
): Effect.Effect<string, ResourceError> =>
  Effect.gen(function*() {
    if (metadataResource === undefined) return yield* canonicalize(serverUrl)
    const allowed = yield* isResourceAllowed(serverUrl, metadataResource)
    // RFC 9728 §3.3: a resource that does not match the one the client asked about MUST NOT be used
    if (!allowed) {
      return yield* fail(new ResourceMismatch({ serverUrl: display(serverUrl), resource: display(metadataResource) }))
    }
    // The exact string received, never re-serialised
    return metadataResource
  })
