/**
 * Bearer verification for the MCP resource (RFC 6750, RFC 9068 JWT access tokens verified with `jose` against the
 * authorization server's JWKS), Datadog's API-key headers and a static personal access token, plus the scope model.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750 RFC 6750
 * @see https://www.rfc-editor.org/rfc/rfc9068 RFC 9068
 */
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from "jose"
import { timingSafeEqual } from "node:crypto"
import type { IncomingHttpHeaders } from "node:http"

/** Who is calling, with the scopes that decide what they may do. */
export interface Principal {
  readonly kind: "oauth" | "api-key" | "personal-access-token"
  readonly subject: string
  readonly clientId: string
  readonly scopes: ReadonlyArray<string>
  readonly expiresAt?: number
  readonly audience?: string
}

/** Why a request is not authenticated; `presented` is false when it carried no credentials at all. */
export interface AuthFailure {
  readonly presented: boolean
  readonly description: string
}

export type AuthResult = { readonly ok: true; readonly principal: Principal } | {
  readonly ok: false
  readonly failure: AuthFailure
}

/** Scopes that allow read tools and resources. `mcp_write` is needed on top for write tools. */
export const readScopes = ["mcp_read", "mcp_all"] as const
export const writeScope = "mcp_write"
const allScopes = ["mcp_all", "mcp_read", "mcp_write"]

export interface ResourceAuthConfig {
  readonly issuer: string
  readonly jwksUri: string
  readonly apiKey?: string | undefined
  readonly appKey?: string | undefined
  readonly personalAccessToken?: string | undefined
  /** Is the access token with this `jti` still live at the authorization server (not revoked)? */
  readonly isLive: (jti: string) => Promise<boolean>
  /** Headers marking the sandbox's own requests (JWKS fetches), so they are not counted as clients' requests. */
  readonly internalHeaders?: Record<string, string> | undefined
}

const sameSecret = (a: string, b: string): boolean => {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

const header = (headers: IncomingHttpHeaders, ...names: ReadonlyArray<string>): string | undefined => {
  for (const name of names) {
    const value = headers[name]
    if (typeof value === "string") return value
    if (Array.isArray(value)) return value[0]
  }
  return undefined
}

const describe = (error: unknown): string => {
  if (error instanceof joseErrors.JWTExpired) return "the access token expired"
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `claim "${error.claim}" is invalid (${error.reason})`
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return "the signature does not verify"
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return "the signing algorithm is not allowed"
  if (error instanceof joseErrors.JWKSNoMatchingKey) return "no key of the authorization server matches"
  if (error instanceof joseErrors.JOSEError) return `the access token is malformed (${error.code})`
  return "the access token could not be verified"
}

/** Makes the verifier of the MCP endpoint. */
export const makeResourceAuth = (config: ResourceAuthConfig) => {
  const jwks = createRemoteJWKSet(new URL(config.jwksUri), {
    cooldownDuration: 1_000,
    ...(config.internalHeaders === undefined ? {} : { headers: config.internalHeaders })
  })

  /** Authenticates a request for the resource `audience` (the identifier a token's `aud` must contain). */
  const authenticate = async (headers: IncomingHttpHeaders, audience: string): Promise<AuthResult> => {
    // Datadog API-key mode: both headers, underscore (documented) or hyphen (Datadog SDK examples) spelling.
    const apiKey = header(headers, "dd_api_key", "dd-api-key")
    const appKey = header(headers, "dd_application_key", "dd-application-key")
    if (apiKey !== undefined || appKey !== undefined) {
      if (
        config.apiKey !== undefined && config.appKey !== undefined && apiKey !== undefined && appKey !== undefined
        && sameSecret(apiKey, config.apiKey) && sameSecret(appKey, config.appKey)
      ) {
        return { ok: true, principal: { kind: "api-key", subject: "api-key", clientId: "api-key", scopes: allScopes } }
      }
      return { ok: false, failure: { presented: true, description: "invalid API key or application key" } }
    }

    const authorization = header(headers, "authorization")
    if (authorization === undefined) return { ok: false, failure: { presented: false, description: "no credentials" } }
    // RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token (scheme is case-insensitive).
    const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(authorization)
    if (match === null) {
      return { ok: false, failure: { presented: true, description: "the Authorization header is not a Bearer token" } }
    }
    const token = match[1] as string

    if (config.personalAccessToken !== undefined && sameSecret(token, config.personalAccessToken)) {
      return {
        ok: true,
        principal: {
          kind: "personal-access-token",
          subject: "personal-access-token",
          clientId: "pat",
          scopes: allScopes
        }
      }
    }

    try {
      // RFC 9068 §4: typ at+jwt, iss, aud, exp and the signature against the AS keys; `alg: none` is never accepted.
      const { payload } = await jwtVerify(token, jwks, {
        issuer: config.issuer,
        audience,
        typ: "at+jwt",
        algorithms: ["RS256", "PS256", "ES256", "EdDSA"],
        requiredClaims: ["exp", "iat", "jti", "sub", "client_id"]
      })
      // A token revoked at the authorization server (RFC 7009) stops working here too (in-process introspection).
      if (!(await config.isLive(String(payload.jti)))) {
        return { ok: false, failure: { presented: true, description: "the access token was revoked" } }
      }
      const scope = typeof payload["scope"] === "string" ? payload["scope"] : ""
      return {
        ok: true,
        principal: {
          kind: "oauth",
          subject: String(payload.sub),
          clientId: String(payload["client_id"]),
          scopes: scope.split(" ").filter((s) => s !== ""),
          audience,
          ...(payload.exp === undefined ? {} : { expiresAt: payload.exp })
        }
      }
    } catch (error) {
      return { ok: false, failure: { presented: true, description: describe(error) } }
    }
  }

  return { authenticate }
}

/** Whether the principal may use read tools and resources. */
export const canRead = (principal: Principal): boolean => readScopes.some((s) => principal.scopes.includes(s))

/** Whether the principal may use write tools. */
export const canWrite = (principal: Principal): boolean => principal.scopes.includes(writeScope)
