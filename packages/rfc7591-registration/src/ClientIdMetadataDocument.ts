/**
 * OAuth Client ID Metadata Documents: an https URL used as the client id, pointing at the client's metadata.
 *
 * The client does not fetch anything here: the authorization server fetches the document. This module checks the
 * configured URL against the draft's rules and builds the document the client must host at it.
 *
 * @see [OAuth Client ID Metadata Document (draft-ietf-oauth-client-id-metadata-document-02)](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document-02)
 * @see [MCP 2026-07-28 Authorization §Client ID Metadata Documents](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization/client-registration)
 * @since 0.1.0
 */
import { Effect } from "effect"
import { redirectUriProblem } from "./internal/urls.ts"
import { fail, InvalidClientIdUrl, InvalidRedirectUri } from "./RegistrationError.ts"
import type { RegistrationError } from "./RegistrationError.ts"

/**
 * Checks a client identifier URL against the draft's rules and returns it unchanged (it is compared as a string).
 *
 * @see [CIMD draft-02 §3](https://www.ietf.org/archive/id/draft-ietf-oauth-client-id-metadata-document-02.html#section-3)
 * @category guards
 * @since 0.1.0
 */
export const validateClientIdUrl = (url: string): Effect.Effect<string, RegistrationError> => {
  const bad = (detail: string) => Effect.fail(fail(new InvalidClientIdUrl({ url, detail })))
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return bad("not an absolute URL")
  }
  // CIMD draft-02 §3 / MCP §Client ID Metadata Documents: the client_id URL MUST use the "https" scheme
  if (parsed.protocol !== "https:") return bad("the scheme must be https")
  // CIMD draft-02 §3: MUST contain a path component
  const rawPath = /^https:\/\/[^/?#]*(\/[^?#]*)?/i.exec(url)?.[1] ?? ""
  if (rawPath === "") return bad("the URL must have a path, e.g. https://example.com/client.json")
  // CIMD draft-02 §3: MUST NOT contain single-dot or double-dot path segments
  const segments = rawPath.split("/").map((s) => s.toLowerCase().replaceAll("%2e", "."))
  if (segments.some((s) => s === "." || s === "..")) return bad("the path must not hold \".\" or \"..\" segments")
  // CIMD draft-02 §3: MUST NOT contain a fragment component
  if (url.includes("#")) return bad("the URL must not hold a fragment")
  // CIMD draft-02 §3: MUST NOT contain a userinfo component
  if (parsed.username !== "" || parsed.password !== "" || /^https:\/\/[^/?#]*@/i.test(url)) {
    return bad("the URL must not hold a username or password")
  }
  const warnings: Array<string> = []
  // CIMD draft-02 §3: SHOULD NOT contain a query component
  if (parsed.search !== "") warnings.push("has a query component (CIMD draft-02 §3: SHOULD NOT)")
  // CIMD draft-02 §3: a path of "/" is NOT RECOMMENDED
  if (rawPath === "/") warnings.push("has the path \"/\" (CIMD draft-02 §3: NOT RECOMMENDED)")
  return Effect.as(
    Effect.forEach(warnings, (w) => Effect.logWarning(`client ID metadata document URL ${url} ${w}`), {
      discard: true
    }),
    url
  )
}

/**
 * What the hosted document says about the client.
 *
 * @category models
 * @since 0.1.0
 */
export interface DocumentOptions {
  readonly clientName: string
  readonly redirectUris: ReadonlyArray<string>
  readonly clientUri?: string | undefined
  readonly logoUri?: string | undefined
  readonly softwareId?: string | undefined
  readonly softwareVersion?: string | undefined
}

/**
 * The client ID metadata document to host at `url`: `client_id` equal to the URL, `client_name`, `redirect_uris`,
 * the authorization code grant and `token_endpoint_auth_method: "none"` (§4.1: no shared secret is possible).
 *
 * @see [CIMD draft-02 §4, §4.1](https://www.ietf.org/archive/id/draft-ietf-oauth-client-id-metadata-document-02.html#section-4)
 * @category constructors
 * @since 0.1.0
 */
export const makeDocument = Effect.fnUntraced(function*(url: string, options: DocumentOptions) {
  yield* validateClientIdUrl(url)
  for (const uri of options.redirectUris) {
    const problem = redirectUriProblem(uri)
    if (problem !== undefined) return yield* fail(new InvalidRedirectUri({ uri, detail: problem }))
  }
  return {
    // CIMD draft-02 §4 / MCP §Client ID Metadata Documents: client_id MUST match the document URL exactly
    client_id: url,
    // MCP §Client ID Metadata Documents: the document MUST include client_id, client_name, redirect_uris
    client_name: options.clientName,
    redirect_uris: [...options.redirectUris],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    // CIMD draft-02 §4.1: token_endpoint_auth_method MUST NOT be a shared-secret method
    token_endpoint_auth_method: "none",
    ...(options.clientUri !== undefined ? { client_uri: options.clientUri } : {}),
    ...(options.logoUri !== undefined ? { logo_uri: options.logoUri } : {}),
    ...(options.softwareId !== undefined ? { software_id: options.softwareId } : {}),
    ...(options.softwareVersion !== undefined ? { software_version: options.softwareVersion } : {})
  }
})
