/**
 * The sandbox's authorization server: `oidc-provider` configured like an OAuth 2.1 server for an MCP resource.
 * Every configuration choice is listed (with why) in the README, section "oidc-provider configuration".
 */
import type { JWK } from "jose"
import { randomBytes, randomUUID } from "node:crypto"
import type { IncomingMessage, ServerResponse } from "node:http"
import { errors, Provider } from "oidc-provider"
import type { Configuration, KoaContextWithOIDC } from "oidc-provider"
import { type Account, defaultAccount, findAccountById, findAccountByLogin } from "./Accounts.ts"
import { makeMemoryAdapter } from "./MemoryAdapter.ts"
import { consentPage, errorPage, loginPage } from "./Pages.ts"

/** The scopes the MCP resource understands (see README, "Scope model"). */
export const resourceScopes = ["mcp_all", "mcp_read", "mcp_write"] as const

export interface AuthServerConfig {
  readonly profile: "datadog" | "strict"
  readonly issuer: string
  /** Resource indicators this server issues tokens for; the first is the default when a request names none. */
  readonly resources: ReadonlyArray<string>
  /** Scope granted when the authorization request asks for none (RFC 6749 §3.3 default scope). */
  readonly defaultScope: string
  readonly consent: "auto" | "page"
  /** This server's origin, for the server-side interaction round-trips of `consent: "auto"`. */
  readonly origin: string
  /** Marks the sandbox's own internal requests (a random value per start). */
  readonly internalHeader: readonly [name: string, value: string]
  readonly accessTokenTtlSeconds: number
  readonly refreshTokenTtlSeconds: number
  readonly signingKey: JWK
  readonly routes: Readonly<
    Record<"authorization" | "token" | "registration" | "revocation" | "introspection" | "jwks", string>
  >
  readonly log: (line: string) => void
}

export interface AuthServer {
  readonly provider: Provider
  /** Node request handler for the authorization-server origin (routing layer + oidc-provider). */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void
  /**
   * Whether the JWT access token `jti` is still live: its grant was not revoked (refresh-token revocation, reuse of a
   * rotated refresh token). oidc-provider does not store JWT access tokens, so they cannot be revoked one by one.
   */
  readonly isAccessTokenLive: (jti: string) => boolean
}

const readForm = (req: IncomingMessage): Promise<URLSearchParams> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => resolve(new URLSearchParams(Buffer.concat(chunks).toString("utf8"))))
    req.on("error", reject)
  })

const sendHtml = (res: ServerResponse, status: number, html: string): void => {
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    // No `form-action`: browsers apply it to the redirect chain after a submit, which ends at the client's
    // redirect_uri on another origin.
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'"
  })
  res.end(html)
}

/** Builds the `oidc-provider` instance and the request handler of the authorization-server origin. */
export const makeAuthServer = (config: AuthServerConfig): AuthServer => {
  const { profile } = config
  const revokedGrants = new Set<string>()
  const grantOfJti = new Map<string, string>()
  const configuration: Configuration = {
    // Per-instance in-memory storage (the built-in development adapter is process-global).
    adapter: makeMemoryAdapter(revokedGrants),
    // No static clients: clients come from dynamic registration (RFC 7591).
    clients: [],
    // Datadog registers public clients only ("none"); strict accepts public and confidential clients.
    clientAuthMethods: profile === "datadog" ? ["none"] : ["none", "client_secret_basic", "client_secret_post"],
    clientDefaults: profile === "datadog"
      ? {
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "none",
        id_token_signed_response_alg: "RS256"
      }
      : {
        // RFC 7591 §2 defaults.
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
        id_token_signed_response_alg: "RS256"
      },
    responseTypes: ["code"],
    scopes: ["openid", "offline_access"],
    // OAuth 2.1 §4.1.1 / MCP: PKCE for every client, whatever its authentication; oidc-provider 9 knows only S256.
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      registration: {
        enabled: true,
        // Datadog's client_id is a UUID.
        ...(profile === "datadog" ? { idFactory: () => randomUUID() } : {})
      },
      // RFC 7009 §2.1 / RFC 7662 §4: a client may only revoke or introspect its own tokens.
      revocation: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId },
      introspection: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId },
      userinfo: { enabled: false },
      resourceIndicators: {
        enabled: true,
        // A request without `resource` still gets a JWT for the MCP resource (the MCP server is the only resource
        // this server protects), instead of oidc-provider's default opaque userinfo token.
        defaultResource: () => config.resources[0] as string,
        // The token and refresh requests may omit `resource`: the granted one is used.
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: KoaContextWithOIDC, indicator: string) => {
          // RFC 8707 §2: a resource this server does not know is `invalid_target`.
          if (!config.resources.includes(indicator)) throw new errors.InvalidTarget(`unknown resource ${indicator}`)
          return {
            scope: resourceScopes.join(" "),
            audience: indicator,
            accessTokenTTL: config.accessTokenTtlSeconds,
            accessTokenFormat: "jwt",
            jwt: { sign: { alg: "RS256" } }
          }
        }
      }
    },
    // Refresh tokens go to every client registered with the refresh_token grant, offline_access or not (oidc-provider
    // would otherwise require offline_access, which it drops unless consent is prompted).
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    // OAuth 2.1 §4.3.1: rotate on every use; a consumed token presented again revokes the grant (oidc-provider).
    rotateRefreshToken: true,
    // Tokens outlive the login session (there is no logout in the sandbox).
    expiresWithSession: () => false,
    ttl: {
      AccessToken: config.accessTokenTtlSeconds,
      AuthorizationCode: 60,
      RefreshToken: config.refreshTokenTtlSeconds,
      Grant: config.refreshTokenTtlSeconds,
      Session: config.refreshTokenTtlSeconds,
      Interaction: 600
    },
    routes: config.routes,
    jwks: { keys: [config.signingKey] },
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    findAccount: (_ctx, id) => {
      const account = findAccountById(id)
      return account === undefined ? undefined : {
        accountId: account.sub,
        claims: () => ({ sub: account.sub, email: account.email, name: account.name })
      }
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError: (ctx, out) => {
      ctx.type = "html"
      ctx.body = errorPage(String(out["error"] ?? "error"), String(out["error_description"] ?? ""))
    }
  }

  const provider = new Provider(config.issuer, configuration)
  // The sandbox is plain http on loopback only; see README "http on loopback".
  provider.proxy = false
  provider.on(
    "server_error",
    (_ctx: unknown, error: Error) => config.log(`oidc-provider server_error: ${error.message}`)
  )

  provider.on("access_token.issued", (token: { jti: string; grantId?: string }) => {
    if (token.grantId !== undefined) grantOfJti.set(token.jti, token.grantId)
  })
  const isAccessTokenLive = (jti: string): boolean => {
    const grantId = grantOfJti.get(jti)
    return grantId !== undefined && !revokedGrants.has(grantId)
  }

  const oidc = provider.callback()

  const grantFor = async (accountId: string, clientId: string, details: Record<string, unknown>, grantId?: string) => {
    const grant = grantId === undefined
      ? new provider.Grant({ accountId, clientId })
      : (await provider.Grant.find(grantId)) ?? new provider.Grant({ accountId, clientId })
    const missingOIDCScope = details["missingOIDCScope"]
    if (Array.isArray(missingOIDCScope)) grant.addOIDCScope(missingOIDCScope.join(" "))
    const missingOIDCClaims = details["missingOIDCClaims"]
    if (Array.isArray(missingOIDCClaims)) grant.addOIDCClaims(missingOIDCClaims.map(String))
    const missingResourceScopes = details["missingResourceScopes"]
    if (missingResourceScopes !== null && typeof missingResourceScopes === "object") {
      for (const [indicator, scopes] of Object.entries(missingResourceScopes)) {
        if (Array.isArray(scopes)) grant.addResourceScope(indicator, scopes.join(" "))
      }
    }
    return grant.save()
  }

  const finish = async (req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>) => {
    // `interactionFinished` redirects back to the authorization endpoint to resume the request.
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false })
  }

  const interaction = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const parts = url.pathname.split("/").filter((p) => p !== "")
    const action = parts[2]
    const details = await provider.interactionDetails(req, res)
    const { prompt, params, session, grantId } = details
    const clientId = String(params["client_id"])
    const client = await provider.Client.find(clientId)
    const clientName = client?.clientName ?? clientId

    const doConsent = async (accountId: string) => {
      const id = await grantFor(accountId, clientId, prompt.details, grantId)
      await finish(req, res, { consent: { grantId: id } })
    }

    if (req.method === "GET" && action === undefined) {
      if (config.consent === "auto") {
        if (prompt.name === "login") return finish(req, res, { login: { accountId: defaultAccount.sub } })
        if (prompt.name === "consent") return doConsent(session?.accountId ?? defaultAccount.sub)
        return sendHtml(res, 400, errorPage("interaction_required", `unsupported prompt ${prompt.name}`))
      }
      if (prompt.name === "login") return sendHtml(res, 200, loginPage(details.uid, clientName, undefined))
      return sendHtml(
        res,
        200,
        consentPage(details.uid, clientName, String(params["scope"] ?? ""), prompt.details["missingResourceScopes"])
      )
    }
    if (req.method === "POST" && action === "login") {
      const form = await readForm(req)
      const account: Account | undefined = findAccountByLogin(form.get("login") ?? "", form.get("password") ?? "")
      if (account === undefined) {
        return sendHtml(res, 401, loginPage(details.uid, clientName, "Invalid login or password."))
      }
      return finish(req, res, { login: { accountId: account.sub } })
    }
    if (req.method === "POST" && action === "confirm") {
      await readForm(req)
      return doConsent(session?.accountId ?? defaultAccount.sub)
    }
    if (req.method === "POST" && action === "abort") {
      await readForm(req)
      return finish(req, res, { error: "access_denied", error_description: "The user denied the request." })
    }
    sendHtml(res, 404, errorPage("not_found", "no such interaction step"))
  }

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? "/", "http://sandbox.invalid")
    if (url.pathname.startsWith("/interaction/")) {
      interaction(req, res, url).catch((error: unknown) => {
        config.log(`interaction failed: ${error instanceof Error ? error.message : String(error)}`)
        if (!res.headersSent) {
          sendHtml(res, 400, errorPage("invalid_request", "The login session expired or is invalid."))
        }
      })
      return
    }
    // RFC 6749 §3.3: an authorization request without `scope` gets the default scope (routing layer: oidc-provider
    // would grant no resource scope at all).
    if (url.pathname === config.routes.authorization && req.method === "GET" && !url.searchParams.has("scope")) {
      url.searchParams.set("scope", config.defaultScope)
      req.url = `${url.pathname}${url.search}`
    }
    // Datadog quirk: only loopback redirect URIs pass /authorize unless an org admin allow-listed them (the sandbox
    // has no allow-list); anything else is an error page, never a redirect.
    if (profile === "datadog" && url.pathname === config.routes.authorization && url.searchParams.has("redirect_uri")) {
      const redirect = URL.parse(url.searchParams.get("redirect_uri") ?? "")
      const loopback = redirect !== null && ["127.0.0.1", "localhost", "[::1]"].includes(redirect.hostname)
      if (!loopback) {
        return sendHtml(
          res,
          400,
          errorPage(
            "invalid_request",
            "Invalid redirect_uri: the redirect URI mismatches the allowed MCP OAuth redirect URLs"
          )
        )
      }
    }
    const [internalName, internalValue] = config.internalHeader
    if (
      config.consent === "auto" && req.method === "GET" && url.pathname === config.routes.authorization
      && req.headers[internalName] !== internalValue
    ) {
      autoAuthorize(`${config.origin}${url.pathname}${url.search}`, res).catch((error: unknown) => {
        config.log(`automatic authorization failed: ${error instanceof Error ? error.message : String(error)}`)
        if (!res.headersSent) sendHtml(res, 500, errorPage("server_error", "automatic authorization failed"))
      })
      return
    }
    oidc(req, res)
  }

  /**
   * `consent: "auto"`: runs oidc-provider's authorize → login → consent → resume round-trips server-side (with their
   * own cookie jar), so the caller's GET /authorize is answered by one redirect to its redirect_uri.
   */
  const autoAuthorize = async (start: string, res: ServerResponse): Promise<void> => {
    const cookies = new Map<string, string>()
    const [internalName, internalValue] = config.internalHeader
    let url = start
    for (let hop = 0; hop < 10; hop++) {
      const response = await fetch(url, {
        redirect: "manual",
        headers: {
          [internalName]: internalValue,
          cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join("; ")
        }
      })
      for (const line of response.headers.getSetCookie()) {
        const pair = line.split(";")[0] ?? ""
        const eq = pair.indexOf("=")
        if (eq > 0) cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim())
      }
      const location = response.headers.get("location")
      if (response.status >= 300 && response.status < 400 && location !== null) {
        const next = new URL(location, url)
        if (next.origin === config.origin) {
          url = next.href
          await response.arrayBuffer()
          continue
        }
        // Leaving the AS: the authorization response (code or error, with state and iss) for the client.
        res.writeHead(303, { location: next.href, "cache-control": "no-store" })
        res.end()
        return
      }
      // Anything else (an error page for a bad client_id or redirect_uri) goes to the caller as it is.
      const body = await response.text()
      res.writeHead(response.status, {
        "content-type": response.headers.get("content-type") ?? "text/html; charset=utf-8",
        "cache-control": "no-store"
      })
      res.end(body)
      return
    }
    sendHtml(res, 500, errorPage("server_error", "too many authorization round-trips"))
  }

  return { provider, handle, isAccessTokenLive }
}
