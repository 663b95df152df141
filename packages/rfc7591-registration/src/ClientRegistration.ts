/**
 * Client credentials for an authorization server, chosen in the MCP priority order: pre-registered credentials,
 * then a client ID metadata document, then dynamic client registration, else an error saying what to configure.
 *
 * @see [MCP 2026-07-28 Authorization §Client Registration](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization/client-registration)
 * @see [RFC 7591 - OAuth 2.0 Dynamic Client Registration Protocol](https://www.rfc-editor.org/rfc/rfc7591)
 * @see [OAuth Client ID Metadata Document (draft-02)](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document-02)
 * @since 0.1.0
 */
import { Clock, Config, ConfigProvider, Context, Effect, Layer, Option, Semaphore } from "effect"
import type { Redacted } from "effect"
import { HttpClient } from "effect/http"
import { validateClientIdUrl } from "./ClientIdMetadataDocument.ts"
import { type ClientInformation, isSecretExpired } from "./ClientInformation.ts"
import { buildRegistrationRequest, type ClientDescription, register } from "./DynamicRegistration.ts"
import { redirectUriProblem, sameLoopbackEndpointAnyPort } from "./internal/urls.ts"
import { layerMemory as cacheLayerMemory, RegistrationCache } from "./RegistrationCache.ts"
import {
  ConfigurationRequired,
  fail,
  InvalidRedirectUri,
  isTransient,
  NoRedirectUris,
  NotUnknownClient,
  PreregisteredIssuerMismatch,
  type RegistrationError,
  ReRegistrationRefused,
  UnsupportedByServer
} from "./RegistrationError.ts"
import { type RegistrationServerMetadata, supportsAuthMethod } from "./ServerMetadata.ts"

/**
 * Client credentials registered out of band (MCP §Pre-registration).
 *
 * @category models
 * @since 0.1.0
 */
export interface PreregisteredClient {
  /**
   * The issuer these credentials were registered with. When set, they are offered to that authorization server only,
   * and another issuer fails with `PreregisteredIssuerMismatch`. When unset, they are for whichever authorization
   * server this configuration is used with.
   */
  readonly issuer?: string | undefined
  readonly client_id: string
  readonly client_secret?: Redacted.Redacted<string> | undefined
  /** The redirect URI registered with the client; the authorization code flow must listen on it. */
  readonly redirect_uri: string
  /**
   * How to authenticate at the token endpoint. Default: `client_secret_basic` when a secret is given and the server
   * supports it (else `client_secret_post`), `none` without a secret.
   */
  readonly token_endpoint_auth_method?: string | undefined
}

/**
 * A client ID metadata document hosted by the client (the URL is the client id).
 *
 * @category models
 * @since 0.1.0
 */
export interface ClientIdMetadataDocumentConfig {
  /** https URL with a path; the document at it has `client_id` equal to this URL. */
  readonly url: string
  /** The `redirect_uris` listed in the hosted document; requested redirect URIs must be among them. */
  readonly redirectUris?: ReadonlyArray<string> | undefined
}

/**
 * The names of the configuration variables named in `ConfigurationRequired` errors.
 *
 * @category models
 * @since 0.1.0
 */
export interface VariableNames {
  readonly clientId: string
  readonly clientSecret: string
  readonly redirectUri: string
}

/**
 * The generic variable names (`OAUTH_CLIENT_ID`, `OAUTH_CLIENT_SECRET`, `OAUTH_REDIRECT_URI`).
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultVariableNames: VariableNames = {
  clientId: "OAUTH_CLIENT_ID",
  clientSecret: "OAUTH_CLIENT_SECRET",
  redirectUri: "OAUTH_REDIRECT_URI"
}

/**
 * Pre-registered credentials read from configuration (environment variables by default): the client id, the
 * optional secret (`Redacted`) and the redirect URI, under the given variable names (default
 * `defaultVariableNames`). `Option.none()` when the client id variable is unset; a `ConfigError` naming the
 * variables when only some of them are set.
 *
 * **Example** (Datadog's variables)
 *
 * ```ts
 * import { ClientRegistration } from "@mcpauth/rfc7591-registration"
 *
 * const preregistered = ClientRegistration.preregisteredConfig({
 *   clientId: "DATADOG_CLIENT_ID",
 *   clientSecret: "DATADOG_CLIENT_SECRET",
 *   redirectUri: "DATADOG_REDIRECT_URI"
 * })
 * ```
 *
 * @see [MCP 2026-07-28 Authorization §Pre-registration](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization/client-registration)
 * @category constructors
 * @since 0.1.0
 */
export const preregisteredConfig = (
  names?: Partial<VariableNames> | undefined
): Config.Config<Option.Option<PreregisteredClient>> => {
  const n: VariableNames = { ...defaultVariableNames, ...names }
  return Config.all({
    clientId: Config.option(Config.NonEmptyString(n.clientId)),
    clientSecret: Config.option(Config.Redacted(n.clientSecret)),
    redirectUri: Config.option(Config.NonEmptyString(n.redirectUri))
  }).pipe(Config.flatMap(({ clientId, clientSecret, redirectUri }) => {
    if (Option.isNone(clientId)) {
      return Option.isSome(clientSecret) || Option.isSome(redirectUri)
        ? Config.fail(
          new ConfigProvider.SourceError({
            message: `${n.clientSecret} or ${n.redirectUri} is set but ${n.clientId} is not; set ${n.clientId} too`
          })
        )
        : Config.succeed(Option.none<PreregisteredClient>())
    }
    if (Option.isNone(redirectUri)) {
      return Config.fail(
        new ConfigProvider.SourceError({
          message:
            `${n.clientId} is set but ${n.redirectUri} is not; set it to the redirect URI registered with the client`
        })
      )
    }
    return Config.succeed(Option.some<PreregisteredClient>({
      client_id: clientId.value,
      redirect_uri: redirectUri.value,
      ...(Option.isSome(clientSecret) ? { client_secret: clientSecret.value } : {})
    }))
  }))
}

/**
 * How the service registers.
 *
 * @category models
 * @since 0.1.0
 */
export interface ClientRegistrationConfig {
  /** What describes this client in dynamic registration requests. */
  readonly client: ClientDescription
  readonly preregistered?: PreregisteredClient | undefined
  readonly clientIdMetadataDocument?: ClientIdMetadataDocumentConfig | undefined
  /** Variable names for the "what to configure" error (default `defaultVariableNames`). */
  readonly variableNames?: Partial<VariableNames> | undefined
  /**
   * **Security-weakening.** Accept an `http://` registration endpoint on a loopback host (local test servers).
   * Every use is logged as a warning.
   */
  readonly allowLoopbackHttp?: boolean | undefined
  /** How long a registration request may take (default `DynamicRegistration.DEFAULT_TIMEOUT_MILLIS`). */
  readonly timeoutMillis?: number | undefined
  /** Loop guard: at most `maxPerWindow` re-registrations per issuer within `windowMillis` (default 1 per 10 min). */
  readonly reRegistration?: {
    readonly maxPerWindow?: number | undefined
    readonly windowMillis?: number | undefined
  } | undefined
}

/**
 * Per-call inputs.
 *
 * @category models
 * @since 0.1.0
 */
export interface ObtainOptions {
  /** The redirect URIs the authorization code flow will listen on (dynamic registration and metadata documents). */
  readonly redirectUris?: ReadonlyArray<string> | undefined
  /** RFC 7591 §2 `scope` to register (sent only when given). */
  readonly scope?: string | undefined
}

/**
 * The registration method the priority order picks for a server.
 *
 * @category models
 * @since 0.1.0
 */
export type Method = "preregistered" | "metadata-document" | "dynamic" | "none"

/**
 * The MCP priority order as data: pre-registered credentials if configured, else a client ID metadata document if
 * the server advertises support and one is configured, else dynamic registration if the server has a registration
 * endpoint, else none.
 *
 * @see [MCP 2026-07-28 Authorization §Client Registration](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization/client-registration)
 * @category constructors
 * @since 0.1.0
 */
export const chooseMethod = (
  metadata: RegistrationServerMetadata,
  config: Pick<ClientRegistrationConfig, "preregistered" | "clientIdMetadataDocument">
): Method => {
  // MCP §Client Registration: 1. pre-registered client information if available
  if (config.preregistered !== undefined) return "preregistered"
  // MCP §Client Registration: 2. client ID metadata documents if the server indicates support
  if (metadata.client_id_metadata_document_supported === true && config.clientIdMetadataDocument !== undefined) {
    return "metadata-document"
  }
  // MCP §Client Registration: 3. dynamic client registration if the server has a registration_endpoint
  if (metadata.registration_endpoint !== undefined) return "dynamic"
  // MCP §Client Registration: 4. ask the user for client information
  return "none"
}

/**
 * Something the authorization server said about a client id, as seen by the caller.
 *
 * @category models
 * @since 0.1.0
 */
export type UnknownClientSignal =
  | {
    readonly _tag: "TokenEndpoint"
    readonly status: number
    readonly error?: string | undefined
    readonly error_description?: string | undefined
  }
  | {
    readonly _tag: "AuthorizationEndpoint"
    readonly error?: string | undefined
    readonly error_description?: string | undefined
  }

const UNKNOWN_CLIENT =
  /\b(?:unknown|unregistered|invalid|no such)\s+client\b|\bclient(?:[\s_-]?id)?\b.{0,40}\b(?:not found|unknown|does not exist|not registered|is invalid)\b/i

/**
 * Whether a signal means the server no longer knows the client id: `invalid_client` from the token endpoint
 * (RFC 6749 §5.2, not a 5xx), or an authorization-time refusal saying the client is unknown.
 *
 * @see [RFC 6749 §5.2](https://www.rfc-editor.org/rfc/rfc6749#section-5.2)
 * @category guards
 * @since 0.1.0
 */
export const isUnknownClient = (signal: UnknownClientSignal): boolean => {
  if (signal._tag === "TokenEndpoint") {
    // a 5xx is transient: it never discards a working registration
    if (signal.status >= 500) return false
    // RFC 6749 §5.2: invalid_client — client authentication failed (e.g., unknown client)
    return signal.error === "invalid_client"
  }
  // RFC 6749 §4.1.2.1: an invalid client_id is reported to the user; some servers redirect with invalid_client
  if (signal.error === "invalid_client") return true
  return signal.error_description !== undefined && UNKNOWN_CLIENT.test(signal.error_description)
}

const describeSignal = (signal: UnknownClientSignal): string =>
  signal._tag === "TokenEndpoint"
    ? `the token endpoint's HTTP ${signal.status}${signal.error !== undefined ? ` "${signal.error}"` : ""}`
    : `the authorization endpoint's refusal${signal.error !== undefined ? ` "${signal.error}"` : ""}${
      signal.error_description !== undefined ? ` (${signal.error_description})` : ""
    }`

/**
 * The client registration service.
 *
 * **Example** (credentials for an authorization server)
 *
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { FetchHttpClient } from "effect/http"
 * import { ClientRegistration, RegistrationCache } from "@mcpauth/rfc7591-registration"
 *
 * const Registration = ClientRegistration.layer({ client: { clientName: "my MCP client" } }).pipe(
 *   Layer.provide([RegistrationCache.layerMemory, FetchHttpClient.layer])
 * )
 * const program = Effect.gen(function*() {
 *   const registration = yield* ClientRegistration.ClientRegistration
 *   const info = yield* registration.obtain(
 *     { issuer: "https://as.example", registration_endpoint: "https://as.example/register" },
 *     { redirectUris: ["http://127.0.0.1:8765/callback"] }
 *   )
 *   return info.client_id
 * }).pipe(Effect.provide(Registration))
 * ```
 *
 * @category services
 * @since 0.1.0
 */
export class ClientRegistration extends Context.Service<ClientRegistration, {
  /**
   * Credentials for the authorization server described by `metadata`, in the MCP priority order. Dynamic
   * registrations are stored per issuer and reused while they are usable (same issuer, a requested redirect URI
   * registered, secret not expired, requested scope covered).
   */
  readonly obtain: (
    metadata: RegistrationServerMetadata,
    options?: ObtainOptions
  ) => Effect.Effect<ClientInformation, RegistrationError>
  /**
   * Registers again after the server rejected `clientId` as unknown. Refuses (`NotUnknownClient`) when the signal
   * does not say so, refuses (`ReRegistrationRefused`) a second re-registration after the same client id or beyond
   * the per-issuer budget, and for pre-registered or metadata-document clients. The stored registration is replaced
   * only when the new one succeeds.
   */
  readonly reregister: (
    metadata: RegistrationServerMetadata,
    rejected: { readonly clientId: string; readonly signal: UnknownClientSignal },
    options?: ObtainOptions
  ) => Effect.Effect<ClientInformation, RegistrationError>
}>()("@mcpauth/rfc7591-registration/ClientRegistration") {}

const scopeTokens = (scope: string | undefined): ReadonlyArray<string> =>
  scope === undefined ? [] : scope.split(" ").filter((s) => s !== "")

const preregisteredInformation = Effect.fnUntraced(function*(
  metadata: RegistrationServerMetadata,
  client: PreregisteredClient,
  variables: VariableNames
): Effect.fn.Return<ClientInformation, RegistrationError> {
  // MCP §Authorization Server Binding: pre-registered credentials are specific to one authorization server
  if (client.issuer !== undefined && client.issuer !== metadata.issuer) {
    return yield* fail(new PreregisteredIssuerMismatch({ configured: client.issuer, actual: metadata.issuer }))
  }
  const problem = redirectUriProblem(client.redirect_uri)
  if (problem !== undefined) {
    return yield* fail(
      new InvalidRedirectUri({ uri: client.redirect_uri, detail: `${problem} (from ${variables.redirectUri})` })
    )
  }
  let method = client.token_endpoint_auth_method
  if (method === undefined) {
    if (client.client_secret === undefined) method = "none"
    // RFC 8414 §2: client_secret_basic is the default when token_endpoint_auth_methods_supported is omitted
    else if (supportsAuthMethod(metadata, "client_secret_basic")) method = "client_secret_basic"
    else if (supportsAuthMethod(metadata, "client_secret_post")) method = "client_secret_post"
    else {
      return yield* fail(
        new UnsupportedByServer({
          issuer: metadata.issuer,
          field: "token_endpoint_auth_methods_supported",
          supported: metadata.token_endpoint_auth_methods_supported ?? [],
          needed: "client_secret_basic or client_secret_post for the configured client secret"
        })
      )
    }
  }
  if ((method === "client_secret_basic" || method === "client_secret_post") && client.client_secret === undefined) {
    return yield* fail(
      new ConfigurationRequired({
        issuer: metadata.issuer,
        clientIdVariable: variables.clientId,
        clientSecretVariable: variables.clientSecret,
        redirectUriVariable: variables.redirectUri,
        redirectUris: [client.redirect_uri],
        detail: `token_endpoint_auth_method "${method}" needs a client secret and ${variables.clientSecret} is not set`
      })
    )
  }
  return {
    issuer: metadata.issuer,
    client_id: client.client_id,
    ...(client.client_secret !== undefined ? { client_secret: client.client_secret } : {}),
    token_endpoint_auth_method: method,
    redirect_uris: [client.redirect_uri],
    source: "preregistered" as const
  }
})

const metadataDocumentInformation = Effect.fnUntraced(function*(
  metadata: RegistrationServerMetadata,
  document: ClientIdMetadataDocumentConfig,
  options: ObtainOptions
): Effect.fn.Return<ClientInformation, RegistrationError> {
  const clientId = yield* validateClientIdUrl(document.url)
  const listed = document.redirectUris
  const requested = options.redirectUris ?? listed ?? []
  if (requested.length === 0) {
    return yield* fail(new NoRedirectUris({ issuer: metadata.issuer, method: "a client ID metadata document" }))
  }
  for (const uri of requested) {
    const problem = redirectUriProblem(uri)
    if (problem !== undefined) return yield* fail(new InvalidRedirectUri({ uri, detail: problem }))
    // MCP §Client ID Metadata Documents: the server validates redirect URIs against those in the document
    // (RFC 8252 §7.3: a loopback redirect URI may differ in port)
    if (listed !== undefined && !listed.some((l) => l === uri || sameLoopbackEndpointAnyPort(uri, l))) {
      return yield* fail(
        new InvalidRedirectUri({
          uri,
          detail: `not among the redirect_uris of the client ID metadata document ${document.url}: ${
            JSON.stringify(listed)
          }`
        })
      )
    }
  }
  return {
    issuer: metadata.issuer,
    client_id: clientId,
    // CIMD draft-02 §4.1: no shared secret can exist for a metadata-document client
    token_endpoint_auth_method: "none",
    redirect_uris: [...requested],
    ...(options.scope !== undefined ? { scope: options.scope } : {}),
    source: "metadata-document" as const
  }
})

/**
 * Builds the service from a configuration, the `HttpClient` and the `RegistrationCache` in context.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = Effect.fnUntraced(function*(config: ClientRegistrationConfig) {
  const http = yield* HttpClient.HttpClient
  const cache = yield* RegistrationCache
  const lock = yield* Semaphore.make(1)
  const variables: VariableNames = { ...defaultVariableNames, ...config.variableNames }
  const maxPerWindow = config.reRegistration?.maxPerWindow ?? 1
  const windowMillis = config.reRegistration?.windowMillis ?? 10 * 60 * 1000
  const guards = new Map<string, { readonly rejected: Set<string>; times: Array<number> }>()

  const nowSeconds = Effect.map(Clock.currentTimeMillis, (ms) => Math.floor(ms / 1000))

  const configurationRequired = (metadata: RegistrationServerMetadata, options: ObtainOptions) => {
    const cimd = metadata.client_id_metadata_document_supported === true
    const detail = cimd
      ? "it accepts client ID metadata documents but none is configured, and it has no registration_endpoint"
      : config.clientIdMetadataDocument !== undefined
      ? "it does not advertise client_id_metadata_document_supported, so the configured client ID metadata document cannot be used, and it has no registration_endpoint"
      : "it has no registration_endpoint (no dynamic client registration) and does not accept client ID metadata documents"
    return fail(
      new ConfigurationRequired({
        issuer: metadata.issuer,
        clientIdVariable: variables.clientId,
        clientSecretVariable: variables.clientSecret,
        redirectUriVariable: variables.redirectUri,
        redirectUris: [...(options.redirectUris ?? [])],
        detail
      })
    )
  }

  // MCP §Authorization Server Binding: a stored registration is offered only to the issuer it came from
  const usableStored = Effect.fnUntraced(function*(metadata: RegistrationServerMetadata, options: ObtainOptions) {
    const stored = yield* cache.get(metadata.issuer)
    if (Option.isNone(stored)) return Option.none<ClientInformation>()
    const info = stored.value
    if (info.issuer !== metadata.issuer) {
      yield* Effect.logWarning(
        `registration store returned a client of ${info.issuer} for ${metadata.issuer}; ignored (MCP §Authorization Server Binding)`
      )
      return Option.none<ClientInformation>()
    }
    // RFC 7591 §3.2.1: an expired client secret means registering again
    if (isSecretExpired(info, yield* nowSeconds)) return Option.none<ClientInformation>()
    const requested = options.redirectUris ?? []
    if (requested.length > 0 && !requested.some((uri) => info.redirect_uris.includes(uri))) {
      return Option.none<ClientInformation>()
    }
    const registeredScope = scopeTokens(info.scope)
    if (info.scope !== undefined && !scopeTokens(options.scope).every((s) => registeredScope.includes(s))) {
      return Option.none<ClientInformation>()
    }
    return Option.some(info)
  })

  const registerFresh = Effect.fnUntraced(function*(metadata: RegistrationServerMetadata, options: ObtainOptions) {
    const request = yield* buildRegistrationRequest(metadata, {
      ...config.client,
      redirectUris: options.redirectUris ?? [],
      scope: options.scope,
      allowLoopbackHttp: config.allowLoopbackHttp
    })
    const info = yield* register(request, yield* nowSeconds, { timeoutMillis: config.timeoutMillis }).pipe(
      Effect.provideService(HttpClient.HttpClient, http)
    )
    yield* cache.set(metadata.issuer, info)
    return info
  })

  const obtainDynamic = Effect.fnUntraced(function*(metadata: RegistrationServerMetadata, options: ObtainOptions) {
    if ((options.redirectUris ?? []).length === 0) {
      return yield* fail(new NoRedirectUris({ issuer: metadata.issuer, method: "dynamic client registration" }))
    }
    const stored = yield* usableStored(metadata, options)
    if (Option.isSome(stored)) return stored.value
    return yield* lock.withPermit(Effect.gen(function*() {
      // another fiber may have registered while this one waited
      const again = yield* usableStored(metadata, options)
      if (Option.isSome(again)) return again.value
      return yield* registerFresh(metadata, options)
    }))
  })

  const obtain = Effect.fn("ClientRegistration.obtain")(function*(
    metadata: RegistrationServerMetadata,
    options: ObtainOptions = {}
  ): Effect.fn.Return<ClientInformation, RegistrationError> {
    yield* Effect.annotateCurrentSpan({ issuer: metadata.issuer })
    const method = chooseMethod(metadata, config)
    switch (method) {
      case "preregistered":
        return yield* preregisteredInformation(metadata, config.preregistered as PreregisteredClient, variables)
      case "metadata-document":
        return yield* metadataDocumentInformation(
          metadata,
          config.clientIdMetadataDocument as ClientIdMetadataDocumentConfig,
          options
        )
      case "dynamic":
        return yield* obtainDynamic(metadata, options)
      case "none":
        return yield* configurationRequired(metadata, options)
    }
  })

  const reregister = Effect.fn("ClientRegistration.reregister")(function*(
    metadata: RegistrationServerMetadata,
    rejected: { readonly clientId: string; readonly signal: UnknownClientSignal },
    options: ObtainOptions = {}
  ): Effect.fn.Return<ClientInformation, RegistrationError> {
    const issuer = metadata.issuer
    yield* Effect.annotateCurrentSpan({ issuer, client_id: rejected.clientId })
    // a transient failure (5xx, network) or any other refusal never discards a working registration
    if (!isUnknownClient(rejected.signal)) {
      return yield* fail(
        new NotUnknownClient({ issuer, client_id: rejected.clientId, detail: describeSignal(rejected.signal) })
      )
    }
    const method = chooseMethod(metadata, config)
    if (method === "preregistered") {
      return yield* fail(
        new ReRegistrationRefused({
          issuer,
          client_id: rejected.clientId,
          detail: `the pre-registered client is unknown to the server (${
            describeSignal(rejected.signal)
          }); check ${variables.clientId} and ${variables.clientSecret}`
        })
      )
    }
    if (method === "metadata-document") {
      return yield* fail(
        new ReRegistrationRefused({
          issuer,
          client_id: rejected.clientId,
          detail: `the server refused the client ID metadata document client (${
            describeSignal(rejected.signal)
          }); check the document hosted at that URL`
        })
      )
    }
    if (method === "none") return yield* configurationRequired(metadata, options)
    if ((options.redirectUris ?? []).length === 0) {
      return yield* fail(new NoRedirectUris({ issuer, method: "dynamic client registration" }))
    }
    return yield* lock.withPermit(Effect.gen(function*() {
      // someone already replaced the rejected client: use theirs
      const stored = yield* usableStored(metadata, options)
      if (Option.isSome(stored) && stored.value.client_id !== rejected.clientId) return stored.value
      const guard = guards.get(issuer) ?? { rejected: new Set<string>(), times: [] }
      const now = yield* Clock.currentTimeMillis
      // loop guard: one re-registration per rejected client id
      if (guard.rejected.has(rejected.clientId)) {
        return yield* fail(
          new ReRegistrationRefused({
            issuer,
            client_id: rejected.clientId,
            detail: "it was already registered again once after this client id was rejected"
          })
        )
      }
      // loop guard: at most maxPerWindow re-registrations per issuer per window
      guard.times = guard.times.filter((t) => now - t < windowMillis)
      if (guard.times.length >= maxPerWindow) {
        return yield* fail(
          new ReRegistrationRefused({
            issuer,
            client_id: rejected.clientId,
            detail: `${guard.times.length} re-registration(s) already in the last ${Math.round(windowMillis / 1000)} s`
          })
        )
      }
      yield* Effect.logInfo(`registering again with ${issuer}: ${describeSignal(rejected.signal)}`)
      const info = yield* registerFresh(metadata, options).pipe(
        // the server said the client is unknown and refused a new one for good: drop it so it is not offered again;
        // a transient failure (5xx, no answer) keeps it
        Effect.tapError((error) => isTransient(error) ? Effect.void : cache.invalidate(issuer, rejected.clientId))
      )
      guard.rejected.add(rejected.clientId)
      guard.times.push(now)
      guards.set(issuer, guard)
      return info
    }))
  })

  return ClientRegistration.of({ obtain, reregister })
})

/**
 * The service as a layer; requires `HttpClient` and a `RegistrationCache` (e.g. `RegistrationCache.layerMemory`).
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  config: ClientRegistrationConfig
): Layer.Layer<ClientRegistration, never, HttpClient.HttpClient | RegistrationCache> =>
  Layer.effect(ClientRegistration, make(config))

/**
 * The service with an in-memory `RegistrationCache` (registrations last as long as the process).
 *
 * @category layers
 * @since 0.1.0
 */
export const layerMemory = (
  config: ClientRegistrationConfig
): Layer.Layer<ClientRegistration, never, HttpClient.HttpClient> => layer(config).pipe(Layer.provide(cacheLayerMemory))
