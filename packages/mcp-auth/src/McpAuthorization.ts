/**
 * The MCP authorization client for one MCP server: the RFC packages composed into the `AuthorizedFetch` steps.
 *
 * discovery (RFC 9728) → authorization server metadata (RFC 8414 / OIDC Discovery) → registration (pre-registered >
 * client ID metadata document > RFC 7591) → authorization code grant (PKCE S256, `state`, RFC 9207 `iss`,
 * RFC 8707 `resource`) over a loopback redirect → token store, with refresh under a cross-process lock.
 *
 * @see [MCP 2026-07-28 Authorization](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization)
 * @since 0.1.0
 */
import type { MachineClient } from "@mcpauth/oauth2-authorization/ClientCredentialsGrant"
import * as LoopbackCallback from "@mcpauth/oauth2-authorization/LoopbackCallback"
import { layer as OAuth2ClientLayer, OAuth2Client } from "@mcpauth/oauth2-authorization/OAuth2Client"
import { accessTokenAudience, checkAudience } from "@mcpauth/oauth2-authorization/TokenSet"
import type { TokenSet } from "@mcpauth/oauth2-authorization/TokenSet"
import type { UserAgent } from "@mcpauth/oauth2-authorization/UserAgent"
import type { ClientInformation } from "@mcpauth/rfc7591-registration/ClientInformation"
import {
  ClientRegistration,
  isUnknownClient,
  layer as ClientRegistrationLayer
} from "@mcpauth/rfc7591-registration/ClientRegistration"
import type {
  ClientIdMetadataDocumentConfig,
  PreregisteredClient
} from "@mcpauth/rfc7591-registration/ClientRegistration"
import { RegistrationCache } from "@mcpauth/rfc7591-registration/RegistrationCache"
import {
  AuthorizationServerMetadata as AsDiscovery,
  layer as AsDiscoveryLayer
} from "@mcpauth/rfc8414-metadata/AuthorizationServerMetadata"
import { Resource } from "@mcpauth/rfc8707-resource"
import {
  layer as ProtectedResourceDiscoveryLayer,
  ProtectedResourceDiscovery
} from "@mcpauth/rfc9728-discovery/ProtectedResourceDiscovery"
import * as WwwAuthenticate from "@mcpauth/rfc9728-discovery/WwwAuthenticate"
import { layerFile as TokenStoreLayerFile, refreshSingleFlight, TokenStore } from "@mcpauth/token-store/TokenStore"
import type { StoredClient, StoredEntry, StoredTokens } from "@mcpauth/token-store/TokenStore"
import { Clock, Context, Effect, Exit, Layer, Option, Ref } from "effect"
import type { Duration } from "effect"
import type { HttpClient } from "effect/http"
import { createServer } from "node:net"
import type { AuthEvent, AuthEventSink } from "./AuthEvent.ts"
import { ignore } from "./AuthEvent.ts"
import * as AuthorizedFetch from "./AuthorizedFetch.ts"
import {
  layer as LegacyDiscoveryLayer,
  LegacyDiscovery,
  PROTOCOL_VERSION as LEGACY_VERSION
} from "./LegacyDiscovery.ts"
import { ClientRejected, McpAuthError, RefreshRejected, stepFailed } from "./McpAuthError.ts"
import { parseScope } from "./ScopeSelection.ts"

/**
 * Authorization server metadata as the wiring keeps it (RFC 8414 member names; unknown members kept).
 *
 * @category models
 * @since 0.1.0
 */
export interface ServerMetadata {
  readonly issuer: string
  readonly authorization_endpoint: string
  readonly token_endpoint: string
  readonly registration_endpoint?: string | undefined
  readonly revocation_endpoint?: string | undefined
  readonly scopes_supported?: ReadonlyArray<string> | undefined
  readonly token_endpoint_auth_methods_supported?: ReadonlyArray<string> | undefined
  readonly authorization_response_iss_parameter_supported?: boolean | undefined
  readonly code_challenge_methods_supported?: ReadonlyArray<string> | undefined
  readonly client_id_metadata_document_supported?: boolean | undefined
  readonly [member: string]: unknown
}

/**
 * What discovery established, as stored with the tokens so that a restart needs no discovery.
 *
 * @category models
 * @since 0.1.0
 */
export interface Discovered extends AuthorizedFetch.Discovered {
  readonly metadata: ServerMetadata
  readonly resourceMetadata?: Readonly<Record<string, unknown>> | undefined
}

/**
 * Options of the MCP authorization client.
 *
 * @category models
 * @since 0.1.0
 */
export interface Options {
  /** The MCP server URL (e.g. `https://mcp.datadoghq.com/v1/mcp`). */
  readonly serverUrl: string
  /**
   * How the user signs in: `UserAgent.browser()`, `UserAgent.headless()`, or `UserAgent.programmatic(fn)`. Required
   * unless `machineClient` is set.
   */
  readonly userAgent?: UserAgent | undefined
  /**
   * A headless machine-to-machine client: tokens come from the OAuth 2.1 §4.2 client credentials grant with this
   * client's secret or private key (RFC 7523), with no user, no browser and no registration. Discovery and `resource`
   * are as for the authorization code flow.
   *
   * @see [MCP extension SEP-1046 - OAuth Client Credentials](https://github.com/modelcontextprotocol/ext-auth/blob/main/specification/draft/oauth-client-credentials.mdx)
   */
  readonly machineClient?: MachineClient | undefined
  /**
   * **Security-weakening.** Use the MCP 2025-03-26 discovery fallbacks for every server, not only for servers that
   * negotiated that protocol (requests carrying `MCP-Protocol-Version: 2025-03-26`, for which they are always used):
   * when no protected resource metadata exists, authorization server metadata from the server origin's
   * `/.well-known/oauth-authorization-server` (its issuer is only checked to be on that origin, not RFC 8414 §3.3
   * identical), else the default `/authorize`, `/token`, `/register` endpoints. Logged at warning level when used.
   */
  readonly legacy20250326?: boolean | undefined
  /** `client_name` and friends for dynamic registration. */
  readonly client?: {
    readonly name?: string | undefined
    readonly uri?: string | undefined
    readonly softwareId?: string | undefined
    readonly softwareVersion?: string | undefined
  } | undefined
  /**
   * The loopback redirect URI for dynamic registration (default `http://127.0.0.1:0/callback`: a free port, kept in
   * the stored registration and reused while it is free). Pre-registered clients use their own.
   */
  readonly redirectUri?: string | undefined
  /** Pre-registered credentials (first in the MCP priority order). */
  readonly preregistered?: PreregisteredClient | undefined
  /** A client ID metadata document URL (used when the server advertises support). */
  readonly clientIdMetadataDocument?: ClientIdMetadataDocumentConfig | undefined
  /** Variable names shown in the "what to configure" error (e.g. `DATADOG_CLIENT_ID`). */
  readonly variableNames?:
    | { readonly clientId?: string; readonly clientSecret?: string; readonly redirectUri?: string }
    | undefined
  /** Scopes to request instead of the MCP scope selection strategy. */
  readonly scope?: ReadonlyArray<string> | undefined
  /** Progress events (never secrets). */
  readonly events?: AuthEventSink | undefined
  /** How long to wait for the browser's redirect (default 5 minutes). */
  readonly callbackTimeout?: Duration.Input | undefined
  /** Refresh this long before expiry (default 60 s). */
  readonly refreshSkewMs?: number | undefined
  /**
   * **Security-weakening.** Accept plain `http://` for loopback hosts (127.0.0.0/8, `[::1]`, `localhost`) in every
   * URL of discovery, metadata, registration and the token endpoint. For local sandboxes and tests only; each
   * package logs every use at warning level.
   */
  readonly allowLoopbackHttp?: boolean | undefined
  /**
   * **Security-weakening.** Accept authorization server metadata for an issuer with a path served at the root
   * well-known URL (a known deviation, reported for Datadog). Logged at warning level when used.
   */
  readonly allowRootDocumentForPathIssuer?: boolean | undefined
  /** The fetch that reaches the MCP server (default `globalThis.fetch`). */
  readonly fetch?: typeof globalThis.fetch | undefined
}

/**
 * The MCP authorization client for one server.
 *
 * @category services
 * @since 0.1.0
 */
export class McpAuthorization extends Context.Service<McpAuthorization, {
  readonly serverUrl: string
  /** Drop-in `fetch` for the MCP SDK transport (`new StreamableHTTPClientTransport(url, { fetch })`). */
  readonly fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>
  readonly request: (input: string | URL | Request, init?: RequestInit) => Effect.Effect<Response, McpAuthError>
  /** The current session (restored from the token store on first use). */
  readonly session: Effect.Effect<AuthorizedFetch.Session<Discovered, ClientInformation> | undefined, McpAuthError>
  /** Refreshes now, whatever the expiry (when a refresh token is held). */
  readonly forceRefresh: Effect.Effect<AuthorizedFetch.Session<Discovered, ClientInformation> | undefined, McpAuthError>
  /**
   * RFC 7009: revokes the refresh token, then the access token, and always forgets them locally (the registration is
   * kept). Returns what the server revoked; a token it could not revoke (e.g. `unsupported_token_type` for a JWT
   * access token) is reported there, not as a failure.
   */
  readonly signOut: Effect.Effect<
    ReadonlyArray<
      { readonly token: "refresh_token" | "access_token"; readonly revoked: boolean; readonly detail?: string }
    >,
    McpAuthError
  >
}>()("@mcpauth/mcp-auth/McpAuthorization") {}

// --- conversions between the packages' shapes -----------------------------------------------------------------

const SOURCES = new Set(["preregistered", "metadata-document", "dynamic"])

const clientFromStored = (stored: StoredClient): ClientInformation => ({
  ...stored,
  source: (SOURCES.has(stored.source) ? stored.source : "dynamic") as ClientInformation["source"],
  response: stored.response as ClientInformation["response"]
})

const tokenSetOf = (tokens: StoredTokens | AuthorizedFetch.Tokens): TokenSet => ({
  ...tokens,
  raw: "raw" in tokens && tokens.raw !== undefined ? tokens.raw : {}
})

const storedTokensOf = (tokens: AuthorizedFetch.Tokens): StoredTokens => {
  const t = tokens as TokenSet
  return {
    access_token: t.access_token,
    token_type: t.token_type,
    ...(t.expires_at === undefined ? {} : { expires_at: t.expires_at }),
    ...(t.refresh_token === undefined ? {} : { refresh_token: t.refresh_token }),
    ...(t.scope === undefined ? {} : { scope: t.scope }),
    ...(t.id_token === undefined ? {} : { id_token: t.id_token }),
    ...(t.raw === undefined ? {} : { raw: t.raw })
  }
}

const keyOf = (session: AuthorizedFetch.Session<Discovered, ClientInformation>) => ({
  issuer: session.discovered.issuer,
  resource: session.discovered.resource,
  client_id: session.client.client_id
})

const asArray = (value: unknown): ReadonlyArray<string> | undefined =>
  Array.isArray(value) && value.every((v) => typeof v === "string") ? value : undefined

/** A free loopback port, for registering a redirect URI before the listener runs. */
const freePort = Effect.callback<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/**
 * A `RegistrationCache` backed by the token store, so that dynamic registrations survive restarts and are shared
 * across processes (MCP §Authorization Server Binding: per issuer).
 *
 * @category layers
 * @since 0.1.0
 */
export const registrationCacheFromTokenStore: Layer.Layer<RegistrationCache, never, TokenStore> = Layer.effect(
  RegistrationCache,
  Effect.gen(function*() {
    const store = yield* TokenStore
    const asRegistrationError = (step: string) => (e: unknown) => stepFailed(step, e) as never
    return RegistrationCache.of({
      get: (issuer) =>
        store.getClient(issuer).pipe(
          Effect.map(Option.map(clientFromStored)),
          // a store failure is a cache miss for registration (it registers again rather than failing the flow)
          Effect.catch(() => Effect.succeed(Option.none())),
          Effect.mapError(asRegistrationError("registration cache"))
        ),
      set: (_issuer, info) => store.setClient(info as StoredClient).pipe(Effect.ignore),
      invalidate: (issuer, clientId) =>
        store.getClient(issuer).pipe(
          Effect.flatMap((found) =>
            Option.isSome(found) && found.value.client_id === clientId ? store.removeClient(issuer) : Effect.void
          ),
          Effect.ignore
        )
    })
  })
)

/**
 * Builds the client from the RFC packages' services in context.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: Options) =>
  Effect.gen(function*() {
    const prd = yield* ProtectedResourceDiscovery
    const asd = yield* AsDiscovery
    const registration = yield* ClientRegistration
    const cache = yield* RegistrationCache
    const oauth = yield* OAuth2Client
    const store = yield* TokenStore
    const legacy = yield* Effect.serviceOption(LegacyDiscovery)
    const emit = options.events ?? ignore
    const serverUrl = options.serverUrl
    const configuredRedirect = new URL(options.redirectUri ?? "http://127.0.0.1:0/callback")
    // entry id -> updated_at of what this process last wrote or read: a newer one was written by another process
    const known = yield* Ref.make(new Map<string, number>())
    const pendingRejection = yield* Ref.make<
      Option.Option<{ clientId: string; signal: Parameters<typeof isUnknownClient>[0] }>
    >(Option.none())

    const remember = (entry: StoredEntry) =>
      Ref.update(known, (m) =>
        new Map(m).set(`${entry.issuer}\u0000${entry.resource}\u0000${entry.client_id}`, entry.updated_at))

    const sessionOf = (entry: StoredEntry): AuthorizedFetch.Session<Discovered, ClientInformation> => {
      const metadata = entry.metadata as unknown as ServerMetadata
      return {
        discovered: {
          issuer: entry.issuer,
          resource: entry.resource,
          metadata,
          resourceMetadata: entry.resource_metadata,
          resourceScopesSupported: asArray(entry.resource_metadata?.["scopes_supported"]),
          authorizationServerScopesSupported: asArray(metadata.scopes_supported)
        },
        client: clientFromStored(entry.client),
        tokens: entry.tokens,
        requestedScope: entry.requested_scope
      }
    }

    const restore = Effect.gen(function*() {
      const entries = yield* store.list
      const covering: Array<StoredEntry> = []
      for (const entry of entries) {
        // RFC 9728 §3.3: only an entry whose resource covers this server URL
        const allowed = yield* Resource.isResourceAllowed(serverUrl, entry.resource).pipe(
          Effect.orElseSucceed(() =>
            false
          )
        )
        if (allowed) covering.push(entry)
      }
      const latest = covering.toSorted((a, b) => b.updated_at - a.updated_at)[0]
      if (latest === undefined) return undefined
      yield* remember(latest)
      return sessionOf(latest)
    }).pipe(Effect.mapError((e) => stepFailed("restore", e)))

    const parseChallenge = (headers: Headers): AuthorizedFetch.BearerChallenge & { raw?: string } | undefined => {
      const raw = headers.get("www-authenticate")
      if (raw === null) return undefined
      const bearer = WwwAuthenticate.parseBearer(raw)
      return Option.match(bearer, {
        onNone: () => ({ raw }),
        onSome: (b) => ({
          raw,
          resource_metadata: b.resource_metadata,
          scope: b.scope,
          error: b.error,
          error_description: b.error_description
        })
      })
    }

    // MCP 2025-03-26 §2.3: a server of that protocol has no protected resource metadata; its authorization server is
    // found from the server URL's origin (only for servers that negotiated it, or when the user enabled it)
    const discoverLegacy = Effect.gen(function*() {
      if (Option.isNone(legacy)) {
        return yield* stepFailed("discovery", new Error("MCP 2025-03-26 discovery is not available in this layer"))
      }
      const found = yield* legacy.value.discover(serverUrl).pipe(Effect.mapError((e) => stepFailed("metadata", e)))
      const metadata = found.metadata as unknown as ServerMetadata
      // RFC 8707 §2 / MCP §Canonical Server URI: without protected resource metadata, the canonical server URI
      const resource = yield* Resource.canonicalize(serverUrl).pipe(Effect.mapError((e) => stepFailed("discovery", e)))
      emit({
        step: "metadata",
        phase: "info",
        message: found.url === undefined
          ? `MCP ${LEGACY_VERSION} fallback: default endpoints of ${found.baseUrl}`
          : `MCP ${LEGACY_VERSION} fallback: metadata from ${found.url}`,
        ...(found.url === undefined ? {} : { url: found.url }),
        data: { issuer: metadata.issuer, resource }
      })
      const discovered: Discovered = {
        issuer: metadata.issuer,
        resource,
        metadata,
        resourceScopesSupported: undefined,
        authorizationServerScopesSupported: asArray(metadata.scopes_supported)
      }
      return discovered
    })

    const discover = (
      challenge: (AuthorizedFetch.BearerChallenge & { raw?: string }) | undefined,
      context?: AuthorizedFetch.DiscoveryContext
    ) =>
      Effect.gen(function*() {
        const found = yield* Effect.result(prd.discover({ serverUrl, wwwAuthenticate: challenge?.raw }))
        if (found._tag === "Failure") {
          const legacyServer = context?.protocolVersion === LEGACY_VERSION || options.legacy20250326 === true
          // MCP 2025-03-26 §2.3: only when no protected resource metadata exists at all (a challenge that names one,
          // or a metadata document that is invalid or mismatched, is never bypassed)
          if (
            legacyServer && found.failure.reason._tag === "MetadataNotFound" &&
            challenge?.resource_metadata === undefined
          ) {
            return yield* discoverLegacy
          }
          return yield* stepFailed("discovery", found.failure)
        }
        const prm = found.success
        emit({
          step: "discovery",
          phase: "info",
          message: `protected resource metadata from ${prm.url}`,
          url: prm.url,
          data: {
            attempts: prm.attempts,
            resource: prm.resource,
            authorization_servers: prm.metadata.authorization_servers
          }
        })
        // MCP §Authorization Server Discovery: the client picks one of the listed authorization servers
        const issuer = prm.metadata.authorization_servers[0] as string
        const start = yield* Clock.currentTimeMillis
        emit({ step: "metadata", phase: "start", message: `authorization server ${issuer}` })
        const as = yield* asd.discover(issuer).pipe(
          Effect.tapError(() =>
            Effect.sync(() => emit({ step: "metadata", phase: "failed", message: `authorization server ${issuer}` }))
          ),
          Effect.mapError((e) => stepFailed("metadata", e))
        )
        emit({
          step: "metadata",
          phase: "done",
          message: `metadata from ${as.url}`,
          url: as.url,
          durationMs: (yield* Clock.currentTimeMillis) - start,
          data: {
            attempts: as.attempts,
            issuer: as.metadata.issuer,
            registration: as.metadata.registration_endpoint ?? "none",
            pkce: (as.metadata.code_challenge_methods_supported ?? []).join(" ")
          }
        })
        const metadata = as.metadata as unknown as ServerMetadata
        const discovered: Discovered = {
          // RFC 9207 / MCP §Authorization Response Validation: record the validated metadata's issuer
          issuer: metadata.issuer,
          // RFC 8707: the exact resource string chosen by discovery
          resource: prm.resource,
          metadata,
          resourceMetadata: prm.metadata as unknown as Readonly<Record<string, unknown>>,
          resourceScopesSupported: asArray(prm.metadata.scopes_supported),
          authorizationServerScopesSupported: asArray(metadata.scopes_supported)
        }
        return discovered
      })

    const redirectUrisFor = (discovered: Discovered) =>
      Effect.gen(function*() {
        if (configuredRedirect.port !== "0" && configuredRedirect.port !== "") return [configuredRedirect.href]
        // a free port, unless a stored registration already has a loopback redirect URI (reused while it is free)
        const cached = yield* cache.get(discovered.issuer).pipe(Effect.orElseSucceed(() => Option.none()))
        if (Option.isSome(cached) && cached.value.redirect_uris.length > 0) return cached.value.redirect_uris
        const port = yield* freePort
        return [`http://${configuredRedirect.hostname}:${port}${configuredRedirect.pathname}`]
      })

    const machine = options.machineClient
    // A machine-to-machine client is its own registration (OAuth 2.1 §4.2: a confidential client known to the server)
    const machineInformation = (discovered: Discovered, m: MachineClient): ClientInformation => ({
      issuer: discovered.issuer,
      client_id: m.client_id,
      ...(m.client_secret === undefined ? {} : { client_secret: m.client_secret }),
      token_endpoint_auth_method: m.token_endpoint_auth_method ??
        (m.private_key === undefined ? "client_secret_basic" : "private_key_jwt"),
      redirect_uris: [],
      source: "preregistered"
    })

    const register = (discovered: Discovered) =>
      Effect.gen(function*() {
        if (machine !== undefined) return machineInformation(discovered, machine)
        const redirectUris = yield* redirectUrisFor(discovered)
        const rejected = yield* Ref.getAndSet(pendingRejection, Option.none())
        const info = Option.isSome(rejected)
          ? yield* registration.reregister(discovered.metadata, rejected.value, { redirectUris })
          : yield* registration.obtain(discovered.metadata, { redirectUris })
        emit({
          step: "registration",
          phase: "info",
          message: `client ${info.client_id} (${info.source})`,
          data: {
            client_id: info.client_id,
            method: info.source,
            auth: info.token_endpoint_auth_method,
            redirect_uris: info.redirect_uris
          }
        })
        return info
      }).pipe(Effect.mapError((e) => stepFailed("registration", e)))

    const forgetClient = (_discovered: Discovered, client: ClientInformation) =>
      Ref.set(
        pendingRejection,
        Option.some({
          clientId: client.client_id,
          signal: { _tag: "TokenEndpoint" as const, status: 401, error: "invalid_client" }
        })
      )

    const toClientRejected = (client: ClientInformation, error: unknown): McpAuthError | undefined => {
      const reason = (error as {
        reason?: { _tag?: string; error?: string; error_description?: string; status?: number; endpoint?: string }
      })
        ?.reason
      if (reason?._tag === "OAuthErrorResponse" && reason.endpoint === "token") {
        const signal = {
          _tag: "TokenEndpoint" as const,
          status: reason.status ?? 400,
          error: reason.error,
          error_description: reason.error_description
        }
        if (isUnknownClient(signal)) {
          return new McpAuthError({
            reason: new ClientRejected({ clientId: client.client_id, detail: reason.error ?? "invalid_client" })
          })
        }
      }
      if (reason?._tag === "AuthorizationErrorResponse") {
        const signal = {
          _tag: "AuthorizationEndpoint" as const,
          error: reason.error,
          error_description: reason.error_description
        }
        if (isUnknownClient(signal)) {
          return new McpAuthError({
            reason: new ClientRejected({
              clientId: client.client_id,
              detail: reason.error_description ?? reason.error ?? "unknown client"
            })
          })
        }
      }
      return undefined
    }

    const signInLock = (discovered: Discovered) => `sign-in\u0000${discovered.issuer}\u0000${discovered.resource}`

    // OAuth 2.1 §4.2: a machine-to-machine client asks for tokens itself (client credentials grant), no user agent
    const authorizeMachine = (discovered: Discovered, m: MachineClient, scope: string | undefined) =>
      Effect.gen(function*() {
        emit({
          step: "authorization",
          phase: "info",
          message: "client credentials grant (machine-to-machine)",
          data: { scope: scope ?? "(omitted)", resource: discovered.resource }
        })
        const t = yield* oauth.clientCredentials({
          metadata: discovered.metadata,
          client: m,
          resource: discovered.resource,
          scope
        }).pipe(Effect.mapError((e) => stepFailed("token", e)))
        emit(tokensReceived(t))
        return { tokens: t as AuthorizedFetch.Tokens, client: machineInformation(discovered, m) }
      })

    const authorizeWithUser = (
      discovered: Discovered,
      client: ClientInformation,
      scope: string | undefined,
      userAgent: UserAgent
    ) =>
      store.withLock(
        signInLock(discovered),
        Effect.gen(function*() {
          // Another process may have signed in while we waited for the lock: use its tokens when they fit
          const latest = yield* store.latestForResource(discovered.resource, discovered.issuer)
          const otherTokens = Option.isSome(latest) ? latest.value.tokens : undefined
          if (Option.isSome(latest) && otherTokens !== undefined) {
            const entry = latest.value
            const seen = (yield* Ref.get(known)).get(`${entry.issuer}\u0000${entry.resource}\u0000${entry.client_id}`)
            const covers = parseScope(scope).every((s) => parseScope(entry.requested_scope).includes(s))
            const now = yield* Clock.currentTimeMillis
            const valid = otherTokens.expires_at === undefined || otherTokens.expires_at > now
            if ((seen === undefined || entry.updated_at > seen) && covers && valid) {
              emit({
                step: "authorization",
                phase: "info",
                message: "another process signed in meanwhile; using its tokens"
              })
              yield* remember(entry)
              return { tokens: otherTokens as AuthorizedFetch.Tokens, client: clientFromStored(entry.client) }
            }
          }
          return yield* Effect.scoped(Effect.gen(function*() {
            const registered = new URL(client.redirect_uris[0] ?? configuredRedirect.href)
            const listener = yield* LoopbackCallback.listen({
              host: registered.hostname === "localhost" ? "localhost" : "127.0.0.1",
              port: Number(registered.port || "80"),
              path: registered.pathname,
              // RFC 8252 §7.3: a pre-registered redirect URI is fixed; a dynamic client may move to a free port
              fixedPort: client.source !== "dynamic",
              timeout: options.callbackTimeout
            })
            let used = client
            if (listener.redirectUri !== registered.href && client.source === "dynamic") {
              emit({
                step: "registration",
                phase: "info",
                message: `port ${registered.port} is taken; registering ${listener.redirectUri}`
              })
              used = yield* registration.obtain(discovered.metadata, { redirectUris: [listener.redirectUri] })
            }
            emit({
              step: "authorization",
              phase: "info",
              message: `waiting for the redirect to ${listener.redirectUri}`,
              data: { scope: scope ?? "(omitted)", resource: discovered.resource }
            })
            const result = yield* oauth.authorize({
              metadata: discovered.metadata,
              client: used,
              resource: discovered.resource,
              scope,
              userAgent,
              listener
            }).pipe(Effect.mapError((e) => toClientRejected(used, e) ?? stepFailed("authorization", e)))
            const t = result.tokens
            // RFC 8707 §2: warn when a JWT access token's aud does not include the resource we asked for
            const bound = yield* checkAudience(t, discovered.resource)
            emit(tokensReceived(t, {
              refresh_token: t.refresh_token === undefined ? "none" : "[redacted]",
              audience_matches_resource: bound
            }))
            return { tokens: t as AuthorizedFetch.Tokens, client: used }
          }))
        })
      ).pipe(Effect.mapError((e) => (e instanceof McpAuthError ? e : stepFailed("authorization", e))))

    // A machine client uses the client credentials grant; everyone else the authorization code flow with a user agent
    const authorize = (discovered: Discovered, client: ClientInformation, scope: string | undefined) =>
      machine !== undefined
        ? authorizeMachine(discovered, machine, scope)
        : options.userAgent === undefined
        ? Effect.fail(stepFailed("authorization", new Error("no userAgent is configured (and no machineClient)")))
        : authorizeWithUser(discovered, client, scope, options.userAgent)

    const refresh = (session: AuthorizedFetch.Session<Discovered, ClientInformation>, tokens: AuthorizedFetch.Tokens) =>
      refreshSingleFlight(keyOf(session), {
        staleAccessToken: tokens.access_token,
        refresh: (entry) =>
          oauth.refresh({
            metadata: entry.metadata as unknown as ServerMetadata,
            client: clientFromStored(entry.client),
            tokens: tokenSetOf(entry.tokens),
            // RFC 8707 §2.2 / MCP §Resource Parameter Implementation: resource on refresh requests too
            resource: entry.resource
          }).pipe(Effect.map(storedTokensOf)),
        isRejected: (e) => (e as { reason?: { _tag?: string; error?: string } }).reason?.error === "invalid_grant"
      }).pipe(
        Effect.provideService(TokenStore, store),
        Effect.mapError((e) => {
          const reason = (e as { reason?: { _tag?: string; error?: string; error_description?: string } }).reason
          return reason?.error === "invalid_grant"
            ? new McpAuthError({ reason: new RefreshRejected({ detail: reason.error_description ?? "invalid_grant" }) })
            : stepFailed("refresh", e)
        }),
        Effect.tap(remember),
        Effect.flatMap((entry) =>
          entry.tokens === undefined
            ? Effect.fail(
              new McpAuthError({ reason: new RefreshRejected({ detail: "the stored tokens were cleared" }) })
            )
            : Effect.succeed(entry.tokens as AuthorizedFetch.Tokens)
        )
      )

    const save = (session: AuthorizedFetch.Session<Discovered, ClientInformation>) =>
      Effect.gen(function*() {
        const entry: StoredEntry = {
          issuer: session.discovered.issuer,
          resource: session.discovered.resource,
          client_id: session.client.client_id,
          ...(session.tokens === undefined ? {} : { tokens: storedTokensOf(session.tokens) }),
          client: session.client as unknown as StoredClient,
          metadata: session.discovered.metadata as unknown as StoredEntry["metadata"],
          ...(session.discovered.resourceMetadata === undefined
            ? {}
            : { resource_metadata: session.discovered.resourceMetadata as StoredEntry["resource_metadata"] }),
          ...(session.requestedScope === undefined ? {} : { requested_scope: session.requestedScope }),
          updated_at: yield* Clock.currentTimeMillis
        }
        yield* store.set(entry)
        yield* remember(entry)
        emit({
          step: "store",
          phase: "info",
          message: `saved to ${store.description}`,
          data: { tokens: session.tokens === undefined ? "cleared" : "stored" }
        })
      }).pipe(Effect.mapError((e) => stepFailed("store", e)))

    const af = yield* AuthorizedFetch.make<Discovered, ClientInformation>({
      serverUrl,
      steps: { restore, parseChallenge, discover, register, forgetClient, authorize, refresh, save },
      events: emit,
      refreshSkewMs: options.refreshSkewMs,
      scope: options.scope,
      fetch: options.fetch
    })

    // Sign-out always forgets the tokens locally; what the server could not revoke is reported, not fatal.
    const signOut = Effect.gen(function*() {
      const session = yield* af.session
      const tokens = session?.tokens
      const outcome: Array<
        { readonly token: "refresh_token" | "access_token"; readonly revoked: boolean; readonly detail?: string }
      > = []
      if (
        session !== undefined && tokens !== undefined && session.discovered.metadata.revocation_endpoint !== undefined
      ) {
        // RFC 7009 §2: revoke the refresh token first (revoking it may end the grant), then the access token
        for (
          const [token, hint] of [[tokens.refresh_token, "refresh_token"], [
            tokens.access_token,
            "access_token"
          ]] as const
        ) {
          if (token === undefined) continue
          const exit = yield* Effect.exit(
            oauth.revoke({ metadata: session.discovered.metadata, client: session.client, token, tokenTypeHint: hint })
          )
          if (Exit.isSuccess(exit)) {
            outcome.push({ token: hint, revoked: true })
          } else {
            // RFC 7009 §2.2.1: unsupported_token_type (e.g. self-contained JWT access tokens) is not a failure of ours
            const failure = exit.cause.reasons[0]
            const detail = failure?._tag === "Fail" ? failure.error.message : "revocation failed"
            outcome.push({ token: hint, revoked: false, detail })
          }
        }
        emit({
          step: "revocation",
          phase: "info",
          message: outcome.map((o) => `${o.token}: ${o.revoked ? "revoked" : `not revoked (${o.detail})`}`).join("; "),
          data: { revoked: outcome.filter((o) => o.revoked).map((o) => o.token) }
        })
      }
      yield* af.clearTokens
      return outcome
    })

    return McpAuthorization.of({
      serverUrl,
      fetch: af.fetch,
      request: af.request,
      session: af.session,
      forceRefresh: af.forceRefresh,
      signOut
    })
  })

// The "tokens received" progress event: expiry, scope and audience, never a token.
const tokensReceived = (t: TokenSet, extra: Readonly<Record<string, unknown>> = {}): AuthEvent => ({
  step: "token",
  phase: "info",
  message: "tokens received",
  data: {
    access_token: "[redacted]",
    expires_at: t.expires_at === undefined ? "unknown" : new Date(t.expires_at).toISOString(),
    scope: t.scope ?? "(not stated)",
    ...extra,
    ...audienceOf(t)
  }
})

// The access token's audience, decoded without trusting it (a JWT's `aud`), for display only.
const audienceOf = (tokens: TokenSet): Record<string, unknown> =>
  Option.match(accessTokenAudience(tokens.access_token), {
    onNone: () => ({ audience: "(opaque token)" }),
    onSome: (aud) => ({ audience: aud.join(" ") })
  })

/**
 * The client as a layer, from the RFC packages' services and a `TokenStore`.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  options: Options
): Layer.Layer<
  McpAuthorization,
  never,
  ProtectedResourceDiscovery | AsDiscovery | ClientRegistration | RegistrationCache | OAuth2Client | TokenStore
> => Layer.effect(McpAuthorization, make(options))

/**
 * Options of {@link layerDefault}: the client's options plus where tokens are kept.
 *
 * @category models
 * @since 0.1.0
 */
export interface DefaultOptions extends Options {
  /** The token store (default: the file store in `$MCPAUTH_HOME`, `$XDG_CONFIG_HOME/mcpauth` or `~/.config/mcpauth`). */
  readonly store?: Layer.Layer<TokenStore> | undefined
}

/**
 * The client with every RFC package wired in and registrations kept in the token store; needs only an `HttpClient`.
 *
 * **Example** (an authorised MCP SDK transport)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { FetchHttpClient } from "effect/http"
 * import { McpAuthorization } from "@mcpauth/mcp-auth"
 * import { UserAgent } from "@mcpauth/oauth2-authorization"
 *
 * const program = Effect.gen(function*() {
 *   const auth = yield* McpAuthorization.McpAuthorization
 *   // new StreamableHTTPClientTransport(new URL(auth.serverUrl), { fetch: auth.fetch })
 * }).pipe(
 *   Effect.provide(McpAuthorization.layerDefault({ serverUrl: "https://mcp.datadoghq.com/v1/mcp", userAgent: UserAgent.browser() })),
 *   Effect.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layerDefault = (options: DefaultOptions): Layer.Layer<McpAuthorization, never, HttpClient.HttpClient> => {
  const loopback = options.allowLoopbackHttp === true
  const registrationLayer = ClientRegistrationLayer({
    client: {
      clientName: options.client?.name ?? "mcpauth",
      ...(options.client?.uri === undefined ? {} : { clientUri: options.client.uri }),
      ...(options.client?.softwareId === undefined ? {} : { softwareId: options.client.softwareId }),
      ...(options.client?.softwareVersion === undefined ? {} : { softwareVersion: options.client.softwareVersion })
    },
    preregistered: options.preregistered,
    clientIdMetadataDocument: options.clientIdMetadataDocument,
    variableNames: options.variableNames,
    allowLoopbackHttp: loopback
  })
  return layer(options).pipe(
    Layer.provide(registrationLayer),
    Layer.provideMerge(registrationCacheFromTokenStore),
    Layer.provide([
      LegacyDiscoveryLayer({ allowLoopbackHttp: loopback }),
      ProtectedResourceDiscoveryLayer({ allowLoopbackHttp: loopback }),
      AsDiscoveryLayer({
        allowLoopbackHttp: loopback,
        allowRootDocumentForPathIssuer: options.allowRootDocumentForPathIssuer
      }),
      OAuth2ClientLayer
    ]),
    Layer.provide(options.store ?? TokenStoreLayerFile())
  ) as Layer.Layer<McpAuthorization, never, HttpClient.HttpClient>
}
