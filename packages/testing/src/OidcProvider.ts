/**
 * A real `oidc-provider` 9.x authorization server on 127.0.0.1 for end-to-end tests, with automatic login and consent.
 *
 * Dynamic client registration (public `none` and confidential clients), PKCE S256 required, resource indicators
 * issuing JWT access tokens (`at+jwt`, `aud` = the requested resource), refresh tokens without `offline_access`,
 * rotated on every use, RFC 9207 `iss` in the authorization response, revocation and introspection. Options change
 * single behaviours for failure tests. Every choice is listed in the package README.
 *
 * @see [RFC 8707 - Resource Indicators](https://www.rfc-editor.org/rfc/rfc8707)
 * @see [RFC 9207 - Authorization Server Issuer Identification](https://www.rfc-editor.org/rfc/rfc9207)
 * @since 0.1.0
 */
import { Effect } from "effect"
import type { Scope } from "effect"
import { generateKeyPairSync, randomBytes } from "node:crypto"
import * as Http from "node:http"
import type { AddressInfo, Socket } from "node:net"
import { errors, Provider } from "oidc-provider"
import type { ClientMetadata, Configuration, KoaContextWithOIDC } from "oidc-provider"

/**
 * Options of {@link startOidcProvider}. Every option has a by-the-book default; the ones that break a rule exist so
 * that clients can be tested against a misbehaving server.
 *
 * @category models
 * @since 0.1.0
 */
export interface OidcProviderOptions {
  /** Port to bind on 127.0.0.1; default `0` (an ephemeral port). */
  readonly port?: number | undefined
  /**
   * Which resource indicators (RFC 8707) the server accepts; others get `invalid_target`. A list of exact strings
   * or a predicate. Default: any `http://127.0.0.1…` or `http://localhost…` URL.
   */
  readonly resources?: ReadonlyArray<string> | ((resource: string) => boolean) | undefined
  /** Scopes of every resource server; default `["mcp:read", "mcp:write"]`. */
  readonly scopes?: ReadonlyArray<string> | undefined
  /**
   * RFC 6749 §3.3: the scope applied when an authorization request has none (default: every resource scope; `[]`
   * keeps oidc-provider's own behaviour, which refuses such a request with `access_denied`).
   */
  readonly defaultScope?: ReadonlyArray<string> | undefined
  /** Lifetimes in seconds. Defaults: access token 3600, refresh token 86400, authorization code 60. */
  readonly ttl?: {
    readonly accessToken?: number | undefined
    readonly refreshToken?: number | undefined
    readonly authorizationCode?: number | undefined
  } | undefined
  /** Rotate the refresh token on every use (default `true`). `false` keeps the same refresh token. */
  readonly rotateRefreshToken?: boolean | undefined
  /**
   * RFC 9207 `iss` in the authorization response: `true` (default) sends the issuer, `false` drops the parameter,
   * a string replaces it with that (wrong) value.
   */
  readonly issParameter?: boolean | string | undefined
  /** Whether discovery advertises `authorization_response_iss_parameter_supported` (default `true`). */
  readonly advertiseIssParameter?: boolean | undefined
  /** Replace the `state` in the authorization response with this value (CSRF tests). */
  readonly stateOverride?: string | undefined
  /** The automatic interaction denies the request with `access_denied` instead of consenting. */
  readonly deny?: boolean | undefined
  /** The account that automatically logs in (default `"test-user"`). */
  readonly accountId?: string | undefined
  /** Extra members merged into the discovery documents. */
  readonly discovery?: Readonly<Record<string, unknown>> | undefined
  /**
   * Enables the OAuth 2.1 §4.2 client credentials grant (machine-to-machine clients; default `false`). Access tokens
   * of this grant are JWTs bound to the requested resource, like the others.
   */
  readonly clientCredentials?: boolean | undefined
  /**
   * Statically registered clients (oidc-provider client metadata: `client_id`, `client_secret`, `grant_types`,
   * `token_endpoint_auth_method`, `jwks`, …), e.g. machine-to-machine clients with a secret or a public key.
   */
  readonly clients?: ReadonlyArray<ClientMetadata> | undefined
}

/**
 * One token endpoint call as the server saw it (for asserting how many refreshes reached the server).
 *
 * @category models
 * @since 0.1.0
 */
export interface TokenEndpointCall {
  readonly grantType: string
  readonly outcome: "success" | "error"
  readonly error?: string | undefined
}

/**
 * A running test authorization server.
 *
 * @category models
 * @since 0.1.0
 */
export interface OidcProviderHandle {
  /** The issuer identifier, `http://127.0.0.1:<port>` (no trailing slash). */
  readonly issuer: string
  /** Absolute URL of a path on this server, e.g. `url("/.well-known/openid-configuration")`. */
  readonly url: (path: string) => string
  /**
   * A scripted user agent: follows an authorization URL through login and consent (keeping cookies) and resolves
   * with the redirect URL the server sent the browser to. With `deliver: true` it also GETs that URL (as a browser
   * would hit a loopback callback) and resolves with the same URL.
   */
  readonly authorize: (
    authorizationUrl: string | URL,
    options?: { readonly deliver?: boolean | undefined }
  ) => Promise<string>
  /** Every token endpoint call so far, in order. */
  readonly tokenCalls: () => ReadonlyArray<TokenEndpointCall>
  /** The underlying `oidc-provider` instance (escape hatch; prefer options). */
  readonly provider: Provider
  /** Stops the server; resolves when every connection is closed. */
  readonly close: () => Promise<void>
}

const isLoopbackResource = (resource: string): boolean => {
  try {
    const url = new URL(resource)
    return url.protocol === "http:" && (url.hostname === "127.0.0.1" || url.hostname === "localhost")
  } catch {
    return false
  }
}

const listen = (server: Http.Server, port: number): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject)
      resolve((server.address() as AddressInfo).port)
    })
  })

/**
 * Starts the server on 127.0.0.1 (ephemeral port unless `port` is given).
 *
 * **Example** (a dynamic public client, then the authorize redirect)
 *
 * ```ts
 * const op = await startOidcProvider()
 * const reg = await fetch(op.url("/reg"), { method: "POST", headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ redirect_uris: ["http://127.0.0.1:8765/callback"], token_endpoint_auth_method: "none" }) })
 * const redirect = await op.authorize(authorizationUrl) // "http://127.0.0.1:8765/callback?code=…&state=…&iss=…"
 * await op.close()
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const startOidcProvider = async (options: OidcProviderOptions = {}): Promise<OidcProviderHandle> => {
  let handler: Http.RequestListener = (_req, res) => {
    res.statusCode = 503
    res.end()
  }
  const server = Http.createServer((req, res) => handler(req, res))
  const port = await listen(server, options.port ?? 0)
  const issuer = `http://127.0.0.1:${port}`
  const scopes = [...(options.scopes ?? ["mcp:read", "mcp:write"])]
  const defaultScope = [...(options.defaultScope ?? scopes)]
  const ttl = {
    accessToken: options.ttl?.accessToken ?? 3600,
    refreshToken: options.ttl?.refreshToken ?? 86400,
    authorizationCode: options.ttl?.authorizationCode ?? 60
  }
  const allowed = options.resources
  const resourceAllowed = (resource: string): boolean =>
    allowed === undefined
      ? isLoopbackResource(resource)
      : typeof allowed === "function"
      ? allowed(resource)
      : allowed.includes(resource)
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 })
  const jwk = { ...privateKey.export({ format: "jwk" }), use: "sig", alg: "RS256", kid: "test-key" }

  const configuration: Configuration = {
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    scopes: ["openid", "offline_access", ...scopes],
    claims: { openid: ["sub"] },
    // PKCE (RFC 7636 / OAuth 2.1): required for every client, public or confidential; 9.x supports only S256
    pkce: { required: () => true },
    // Refresh tokens whenever the client registered the refresh_token grant, offline_access or not
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    rotateRefreshToken: () => options.rotateRefreshToken ?? true,
    ttl: {
      AccessToken: ttl.accessToken,
      AuthorizationCode: ttl.authorizationCode,
      RefreshToken: ttl.refreshToken,
      Grant: ttl.refreshToken,
      Session: ttl.refreshToken,
      Interaction: 600,
      IdToken: 3600
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    ...(options.clients === undefined
      ? {}
      : { clients: options.clients.map((c) => ({ ...c })) }),
    features: {
      clientCredentials: { enabled: options.clientCredentials === true },
      devInteractions: { enabled: false },
      registration: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resourceIndicator) => {
          if (!resourceAllowed(resourceIndicator)) {
            throw new errors.InvalidTarget(`resource ${resourceIndicator} is not served by this test server`)
          }
          return {
            scope: scopes.join(" "),
            audience: resourceIndicator,
            accessTokenTTL: ttl.accessToken,
            accessTokenFormat: "jwt",
            jwt: { sign: { alg: "RS256" } }
          }
        }
      }
    }
  }

  const provider = new Provider(issuer, configuration)
  const calls: Array<TokenEndpointCall> = []
  provider.on("grant.success", (ctx: KoaContextWithOIDC) => {
    calls.push({ grantType: String(ctx.oidc.params?.["grant_type"] ?? ""), outcome: "success" })
  })
  provider.on("grant.error", (ctx: KoaContextWithOIDC, error: { error?: string }) => {
    calls.push({ grantType: String(ctx.oidc.params?.["grant_type"] ?? ""), outcome: "error", error: error.error })
  })

  // Post-process responses for the failure-test options (iss / state in redirects, discovery members).
  provider.use(async (ctx, next) => {
    await next()
    const location = ctx.response.get("location")
    if (location && ctx.status >= 300 && ctx.status < 400) {
      const url = new URL(location, `${issuer}/`)
      if (url.origin !== new URL(issuer).origin && (url.searchParams.has("code") || url.searchParams.has("error"))) {
        if (options.issParameter === false) url.searchParams.delete("iss")
        else if (typeof options.issParameter === "string") url.searchParams.set("iss", options.issParameter)
        if (options.stateOverride !== undefined) url.searchParams.set("state", options.stateOverride)
        ctx.redirect(url.href)
      }
    }
    if (ctx.path === "/.well-known/openid-configuration" && ctx.body && typeof ctx.body === "object") {
      const body: Record<string, unknown> = { ...(ctx.body as Record<string, unknown>), ...options.discovery }
      if (options.advertiseIssParameter === false) delete body["authorization_response_iss_parameter_supported"]
      ctx.body = body
    }
  })

  const interaction = async (req: Http.IncomingMessage, res: Http.ServerResponse) => {
    const details = await provider.interactionDetails(req, res)
    if (options.deny) {
      const result = { error: "access_denied", error_description: "the test user denied the request" }
      return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false })
    }
    if (details.prompt.name === "login") {
      const result = { login: { accountId: options.accountId ?? "test-user" } }
      return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false })
    }
    const accountId = details.session?.accountId ?? options.accountId ?? "test-user"
    const clientId = String(details.params["client_id"])
    const grant = details.grantId !== undefined
      ? (await provider.Grant.find(details.grantId)) ?? new provider.Grant({ accountId, clientId })
      : new provider.Grant({ accountId, clientId })
    const missing = details.prompt.details as {
      missingOIDCScope?: Array<string>
      missingOIDCClaims?: Array<string>
      missingResourceScopes?: Record<string, Array<string>>
    }
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "))
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims)
    for (const [indicator, granted] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, granted.join(" "))
    }
    const grantId = await grant.save()
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true })
  }

  const callback = provider.callback()
  handler = (req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/"
    if (path.startsWith("/interaction/")) {
      interaction(req, res).catch((error: unknown) => {
        res.statusCode = 500
        res.setHeader("content-type", "text/plain")
        res.end(`interaction failed: ${String(error)}`)
      })
      return
    }
    // RFC 6749 §3.3: a request without scope gets the pre-defined default (every resource scope); oidc-provider
    // itself would end such a request with access_denied ("no scope was granted")
    if (path === "/auth" && req.method === "GET") {
      const url = new URL(req.url ?? "/", issuer)
      if (!url.searchParams.has("scope") && defaultScope.length > 0) {
        url.searchParams.set("scope", defaultScope.join(" "))
        req.url = `${url.pathname}${url.search}`
      }
    }
    // RFC 8414 §3: serve the same metadata at the OAuth well-known location as at the OpenID one
    if (path === "/.well-known/oauth-authorization-server") req.url = "/.well-known/openid-configuration"
    void callback(req, res)
  }

  const authorize = async (
    authorizationUrl: string | URL,
    authorizeOptions?: { readonly deliver?: boolean | undefined }
  ): Promise<string> => {
    const jar = new Map<string, string>()
    let current = new URL(authorizationUrl)
    for (let hop = 0; hop < 20; hop++) {
      const response = await fetch(current, {
        redirect: "manual",
        headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; ") }
      })
      for (const cookie of response.headers.getSetCookie()) {
        const [pair = "", ...attributes] = cookie.split(";")
        const eq = pair.indexOf("=")
        const name = pair.slice(0, eq).trim()
        const value = pair.slice(eq + 1).trim()
        const expired = attributes.some((a) => {
          const [k = "", v = ""] = a.split("=").map((s) => s.trim())
          return (k.toLowerCase() === "expires" && Date.parse(v) <= Date.now()) ||
            (k.toLowerCase() === "max-age" && Number(v) <= 0)
        })
        if (expired || value === "") jar.delete(name)
        else jar.set(name, value)
      }
      const location = response.headers.get("location")
      if (response.status < 300 || response.status >= 400 || location === null) {
        const body = await response.text()
        throw new Error(
          `authorization stopped at ${current.origin}${current.pathname} with HTTP ${response.status}: ${
            body.slice(0, 500)
          }`
        )
      }
      await response.body?.cancel()
      const next = new URL(location, current)
      if (next.origin !== new URL(issuer).origin) {
        if (authorizeOptions?.deliver) {
          const delivered = await fetch(next, { redirect: "manual" })
          await delivered.body?.cancel()
        }
        return next.href
      }
      current = next
    }
    throw new Error("authorization did not reach a redirect after 20 hops")
  }

  const sockets = new Set<Socket>()
  server.on("connection", (socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })

  return {
    issuer,
    url: (path) => new URL(path, `${issuer}/`).href,
    authorize,
    tokenCalls: () => [...calls],
    provider,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeIdleConnections()
        for (const socket of sockets) socket.destroy()
      })
  }
}

/**
 * The server as a scoped Effect resource: started on acquisition, closed when the scope closes.
 *
 * @category constructors
 * @since 0.1.0
 */
export const acquire = (options?: OidcProviderOptions): Effect.Effect<OidcProviderHandle, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => startOidcProvider(options)),
    (handle) => Effect.promise(() => handle.close())
  )
