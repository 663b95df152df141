/**
 * Names the sandbox's requests by endpoint, so that request counts can be compared per endpoint and with the
 * minimum the MCP authorization spec requires for a profile.
 */

export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly status: number
}

export type Endpoint =
  | "mcp 401"
  | "mcp"
  | "protected resource metadata"
  | "authorization server metadata"
  | "registration"
  | "authorization"
  | "token"
  | "revocation"
  | "jwks (resource server)"
  | "other"

/** The endpoints a client calls to obtain or renew credentials (the JWKS is fetched by the resource server). */
export const authEndpoints: ReadonlyArray<Endpoint> = [
  "mcp 401",
  "protected resource metadata",
  "authorization server metadata",
  "registration",
  "authorization",
  "token"
]

export const classify = (r: RecordedRequest): Endpoint => {
  const p = r.path
  if (p.startsWith("/.well-known/oauth-protected-resource")) return "protected resource metadata"
  if (p.startsWith("/.well-known/oauth-authorization-server") || p.includes("openid-configuration")) {
    return "authorization server metadata"
  }
  if (p.endsWith("/mcp")) return r.status === 401 ? "mcp 401" : "mcp"
  if (/register/.test(p)) return "registration"
  if (/authorize/.test(p)) return "authorization"
  if (/revoke/.test(p)) return "revocation"
  if (r.method === "POST" && p.endsWith("token")) return "token"
  if (/keys$|jwks$/.test(p)) return "jwks (resource server)"
  return "other"
}

export type Counts = Partial<Record<Endpoint, number>>

export const countByEndpoint = (requests: ReadonlyArray<RecordedRequest>): Counts => {
  const counts: Record<string, number> = {}
  for (const r of requests) {
    const e = classify(r)
    counts[e] = (counts[e] ?? 0) + 1
  }
  return counts as Counts
}

/** Requests made by the client (the resource server's own JWKS fetches are not the client's). */
export const clientTotal = (counts: Counts): number =>
  Object.entries(counts).reduce((s, [k, v]) => (k === "jwks (resource server)" ? s : s + (v ?? 0)), 0)

/**
 * The fewest requests a client can make per auth endpoint on a cold connect (MCP 2026-07-28 Authorization):
 * one unauthenticated MCP request answered 401; one protected resource metadata document (the challenge's
 * `resource_metadata` in the strict profile, the first well-known URL in the datadog profile, where both documents
 * sit at the first URL tried); one authorization server metadata document (the RFC 8414 URL tried first);
 * one dynamic registration; one authorization request; one token request.
 */
export const specMinimum: Counts = {
  "mcp 401": 1,
  "protected resource metadata": 1,
  "authorization server metadata": 1,
  registration: 1,
  authorization: 1,
  token: 1
}
