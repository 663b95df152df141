/**
 * `startSandbox`: a local Datadog MCP look-alike on loopback, the resource origin (MCP + metadata) and the
 * authorization-server origin, in one of two profiles (`datadog`, `strict`). See the README.
 */
import { localhostHostValidation } from "@modelcontextprotocol/node"
import type { JWK } from "jose"
import { exportJWK, generateKeyPair } from "jose"
import { randomUUID } from "node:crypto"
import type { IncomingMessage, Server, ServerResponse } from "node:http"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { makeAuthServer, resourceScopes } from "./AuthServer.ts"
import { makeMcpEndpoint } from "./McpEndpoint.ts"
import { makeResourceAuth } from "./ResourceAuth.ts"

export interface SandboxOptions {
  readonly profile?: "datadog" | "strict"
  readonly host?: "127.0.0.1"
  readonly port?: number
  readonly authPort?: number
  readonly consent?: "auto" | "page"
  readonly accessTokenTtlSeconds?: number
  readonly refreshTokenTtlSeconds?: number
  readonly apiKey?: string
  readonly appKey?: string
  readonly personalAccessToken?: string
  readonly rateLimit?: { readonly max: number; readonly windowMs: number } | false
  readonly log?: (line: string) => void
  /**
   * The authorization server's private signing key (RS256 JWK with `kid`). Default: a fresh key per start. Tests
   * pass their own to forge tokens that are correctly signed but wrong in one claim.
   */
  readonly signingKey?: JWK
}

export interface Sandbox {
  readonly profile: "datadog" | "strict"
  readonly mcpUrl: string
  readonly legacyMcpUrl: string
  readonly resourceOrigin: string
  readonly issuer: string
  readonly authorizationServerOrigin: string
  /** The RFC 8707 resource identifier tokens are issued for (`aud`): the bare origin (datadog) or `mcpUrl` (strict). */
  readonly resource: string
  /** Where the protected resource metadata of `mcpUrl` is served. */
  readonly resourceMetadataUrl: string
  /** Where the authorization server metadata is served (RFC 8414). */
  readonly authorizationServerMetadataUrl: string
  readonly stats: () => { readonly requests: ReadonlyArray<{ method: string; path: string; status: number }> }
  readonly close: () => Promise<void>
}

export const mcpPath = "/v1/mcp"
export const legacyMcpPath = "/api/unstable/mcp-server/mcp"

const listen = (server: Server, port: number): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject)
      resolve((server.address() as AddressInfo).port)
    })
  })

const closeServer = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" })
  res.end(JSON.stringify(body))
}

/** Starts the sandbox; resolves once both origins listen. */
export const startSandbox = async (options: SandboxOptions = {}): Promise<Sandbox> => {
  const profile = options.profile ?? "datadog"
  if ((options.host ?? "127.0.0.1") !== "127.0.0.1") throw new Error("the sandbox binds 127.0.0.1 only")
  const log = options.log ?? (() => {})
  const requests: Array<{ method: string; path: string; status: number }> = []

  let resourceHandler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => json(res, 503, {})
  let authHandler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => json(res, 503, {})
  // The sandbox's own server-side requests (automatic consent) carry this header; they are logged, not counted.
  const internalHeader = ["x-sandbox-internal", randomUUID()] as const
  const track =
    (origin: string, handler: () => (req: IncomingMessage, res: ServerResponse) => void) =>
    (req: IncomingMessage, res: ServerResponse) => {
      const started = Date.now()
      // Only the path is ever recorded or logged: queries may hold codes or state.
      const path = (req.url ?? "/").split("?")[0] as string
      const method = req.method ?? "GET"
      const internal = req.headers[internalHeader[0]] === internalHeader[1]
      res.on("finish", () => {
        if (!internal) requests.push({ method, path, status: res.statusCode })
        log(`${origin}${internal ? " (internal)" : ""} ${method} ${path} ${res.statusCode} ${Date.now() - started}ms`)
      })
      handler()(req, res)
    }
  const resourceHttp = createServer(track("mcp", () => resourceHandler))
  const authHttp = createServer(track("as", () => authHandler))
  const [resourcePort, authPort] = await Promise.all([
    listen(resourceHttp, options.port ?? 0),
    listen(authHttp, options.authPort ?? 0)
  ])

  const resourceOrigin = `http://127.0.0.1:${resourcePort}`
  const authOrigin = `http://127.0.0.1:${authPort}`
  const mcpUrl = `${resourceOrigin}${mcpPath}`
  const legacyMcpUrl = `${resourceOrigin}${legacyMcpPath}`
  const datadog = profile === "datadog"
  // Datadog quirk: the issuer is the MCP URL (a path, on the resource origin), its endpoints on a second origin.
  const issuer = datadog ? mcpUrl : authOrigin
  // Datadog quirk: the resource is the bare origin for both paths. Strict: each MCP URL is its own resource.
  const resources = datadog ? [resourceOrigin] : [mcpUrl, legacyMcpUrl]
  const routes = datadog
    ? {
      authorization: "/oauth2/v1/authorize",
      token: "/api/v2/oauth2/token",
      registration: "/api/v2/oauth2/register",
      revocation: "/api/v2/oauth2/revoke",
      introspection: "/api/v2/oauth2/introspect",
      jwks: "/oauth2/v1/keys"
    }
    : {
      authorization: "/authorize",
      token: "/token",
      registration: "/register",
      revocation: "/revoke",
      introspection: "/introspect",
      jwks: "/jwks"
    }

  const signingKey = options.signingKey ?? await (async () => {
    const { privateKey } = await generateKeyPair("RS256", { extractable: true })
    return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: "RS256", use: "sig" }
  })()

  const auth = makeAuthServer({
    profile,
    issuer,
    resources,
    defaultScope: datadog ? "mcp_all" : "mcp_read",
    consent: options.consent ?? "auto",
    origin: authOrigin,
    internalHeader,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 3600,
    refreshTokenTtlSeconds: options.refreshTokenTtlSeconds ?? 14 * 24 * 3600,
    signingKey,
    routes,
    log
  })

  const resourceAuth = makeResourceAuth({
    issuer,
    jwksUri: `${authOrigin}${routes.jwks}`,
    apiKey: options.apiKey,
    appKey: options.appKey,
    personalAccessToken: options.personalAccessToken,
    isLive: (jti) => Promise.resolve(auth.isAccessTokenLive(jti)),
    internalHeaders: { [internalHeader[0]]: internalHeader[1] }
  })

  // RFC 9728 §3.1: PRM at the path-inserted URL of each resource (and, for Datadog, also at the root).
  const prmPath = (path: string) => `/.well-known/oauth-protected-resource${path}`
  const prm = (resource: string) => ({
    resource,
    authorization_servers: [issuer],
    scopes_supported: datadog ? ["mcp_all"] : [...resourceScopes],
    bearer_methods_supported: ["header"],
    resource_name: "Datadog MCP sandbox",
    ...(datadog ? {} : { resource_documentation: `${resourceOrigin}/` })
  })
  const prmDocuments = new Map<string, unknown>(
    datadog
      ? [
        ["/.well-known/oauth-protected-resource", prm(resourceOrigin)],
        [prmPath(mcpPath), prm(resourceOrigin)],
        [prmPath(legacyMcpPath), prm(resourceOrigin)]
      ]
      : [[prmPath(mcpPath), prm(mcpUrl)], [prmPath(legacyMcpPath), prm(legacyMcpUrl)]]
  )

  const mcp = makeMcpEndpoint({
    profile,
    authenticate: resourceAuth.authenticate,
    resources: {
      [mcpPath]: { audience: resources[0] as string, metadataUrl: `${resourceOrigin}${prmPath(mcpPath)}` },
      [legacyMcpPath]: {
        audience: (datadog ? resources[0] : resources[1]) as string,
        metadataUrl: `${resourceOrigin}${datadog ? prmPath(mcpPath) : prmPath(legacyMcpPath)}`
      }
    },
    rateLimit: options.rateLimit ?? { max: 50, windowMs: 10_000 },
    log
  })

  // The provider's own discovery document, read once through its HTTP endpoint (so the URLs are oidc-provider's).
  let discovery: Promise<Record<string, unknown>> | undefined
  const providerDiscovery = () => {
    discovery ??= fetch(`${authOrigin}/.well-known/openid-configuration`, {
      headers: { [internalHeader[0]]: internalHeader[1] }
    }).then(async (r) => {
      if (!r.ok) throw new Error(`oidc-provider discovery answered ${r.status}`)
      return (await r.json()) as Record<string, unknown>
    })
    return discovery
  }
  const pickDefined = (doc: Record<string, unknown>, keys: ReadonlyArray<string>) =>
    Object.fromEntries(keys.filter((k) => doc[k] !== undefined).map((k) => [k, doc[k]]))

  // Datadog shape (captured 2026-08), with the endpoints of oidc-provider on the second origin.
  const datadogMetadata = async () => {
    const doc = await providerDiscovery()
    return {
      ...pickDefined(doc, [
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "registration_endpoint",
        "revocation_endpoint",
        "jwks_uri"
      ]),
      scopes_supported: ["mcp_all"],
      response_types_supported: ["code"],
      grant_types_supported: ["authorization_code", "refresh_token"],
      code_challenge_methods_supported: ["S256"],
      pkce_required: true,
      token_endpoint_auth_methods_supported: ["none"],
      authorization_response_iss_parameter_supported: doc["authorization_response_iss_parameter_supported"] ?? true
    }
  }
  // Strict: oidc-provider's document, served at the RFC 8414 location too, with the resource scopes listed.
  const strictMetadata = async () => {
    const doc = await providerDiscovery()
    const scopes = Array.isArray(doc["scopes_supported"]) ? doc["scopes_supported"] : []
    return { ...doc, scopes_supported: [...new Set([...scopes, ...resourceScopes])] }
  }

  const serve = (res: ServerResponse, make: () => Promise<unknown>) => {
    make().then((body) => json(res, 200, body), (error: unknown) => {
      log(`metadata failed: ${error instanceof Error ? error.message : String(error)}`)
      json(res, 500, { error: "server_error" })
    })
  }

  const asMetadataPaths = datadog
    ? new Set(["/.well-known/oauth-authorization-server", `/.well-known/oauth-authorization-server${mcpPath}`])
    : new Set<string>()

  // DNS-rebinding protection for a loopback MCP server (MCP transports §Security): Host must be a loopback name.
  const validateHost = localhostHostValidation()
  resourceHandler = (req, res) => {
    const url = new URL(req.url ?? "/", resourceOrigin)
    const document = prmDocuments.get(url.pathname)
    if (req.method === "GET" && document !== undefined) return json(res, 200, document)
    if (req.method === "GET" && asMetadataPaths.has(url.pathname)) return serve(res, datadogMetadata)
    if (url.pathname === mcpPath || url.pathname === legacyMcpPath) {
      if (!validateHost(req, res)) return
      mcp.handle(req, res, url).catch((error: unknown) => {
        log(`mcp request failed: ${error instanceof Error ? error.message : String(error)}`)
        if (!res.headersSent) json(res, 500, { errors: ["Internal error"] })
      })
      return
    }
    json(res, 404, { errors: ["Not found"] })
  }

  authHandler = (req, res) => {
    const url = new URL(req.url ?? "/", authOrigin)
    // RFC 8414 §3: metadata at /.well-known/oauth-authorization-server for an issuer without a path.
    if (!datadog && req.method === "GET" && url.pathname === "/.well-known/oauth-authorization-server") {
      return serve(res, strictMetadata)
    }
    auth.handle(req, res)
  }

  let closed = false
  return {
    profile,
    mcpUrl,
    legacyMcpUrl,
    resourceOrigin,
    issuer,
    authorizationServerOrigin: authOrigin,
    resource: resources[0] as string,
    resourceMetadataUrl: `${resourceOrigin}${datadog ? "/.well-known/oauth-protected-resource" : prmPath(mcpPath)}`,
    authorizationServerMetadataUrl: datadog
      ? `${resourceOrigin}/.well-known/oauth-authorization-server`
      : `${authOrigin}/.well-known/oauth-authorization-server`,
    stats: () => ({ requests: [...requests] }),
    close: async () => {
      if (closed) return
      closed = true
      await mcp.close()
      await Promise.all([closeServer(resourceHttp), closeServer(authHttp)])
    }
  }
}
