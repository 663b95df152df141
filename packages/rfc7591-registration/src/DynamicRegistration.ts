/**
 * RFC 7591 dynamic client registration: the pure request builder, the pure response parser, and the one HTTP call.
 *
 * @see [RFC 7591 - OAuth 2.0 Dynamic Client Registration Protocol](https://www.rfc-editor.org/rfc/rfc7591)
 * @see [RFC 7592 - OAuth 2.0 Dynamic Client Registration Management Protocol](https://www.rfc-editor.org/rfc/rfc7592)
 * @see [MCP 2026-07-28 Authorization §Dynamic Client Registration](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization/client-registration)
 * @since 0.1.0
 */
import { Effect, Option, Predicate, Redacted, Schema } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http"
import type { ClientInformation } from "./ClientInformation.ts"
import { endpointProblem, redirectUriProblem } from "./internal/urls.ts"
import {
  fail,
  InsecureEndpoint,
  InvalidRedirectUri,
  InvalidRegistrationResponse,
  NoRedirectUris,
  RedirectUrisChanged,
  RegistrationRejected,
  RequestFailed,
  SecretExpired,
  UnexpectedResponse,
  UnsupportedByServer
} from "./RegistrationError.ts"
import type { RegistrationError } from "./RegistrationError.ts"
import { type RegistrationServerMetadata, supportsAuthMethod } from "./ServerMetadata.ts"

/**
 * The client metadata we send (RFC 7591 §2, plus OpenID Connect Registration's `application_type`).
 *
 * @category schemas
 * @since 0.1.0
 */
export const ClientMetadata = Schema.Struct({
  redirect_uris: Schema.Array(Schema.String),
  token_endpoint_auth_method: Schema.String,
  grant_types: Schema.Array(Schema.String),
  response_types: Schema.Array(Schema.String),
  application_type: Schema.optionalKey(Schema.Literals(["native", "web"])),
  client_name: Schema.optionalKey(Schema.String),
  client_uri: Schema.optionalKey(Schema.String),
  logo_uri: Schema.optionalKey(Schema.String),
  software_id: Schema.optionalKey(Schema.String),
  software_version: Schema.optionalKey(Schema.String),
  scope: Schema.optionalKey(Schema.String)
})

/**
 * @category models
 * @since 0.1.0
 */
export type ClientMetadata = typeof ClientMetadata.Type

/**
 * What describes this client to a registration endpoint.
 *
 * @category models
 * @since 0.1.0
 */
export interface ClientDescription {
  /** RFC 7591 §2: human-readable name shown on consent screens. */
  readonly clientName: string
  readonly clientUri?: string | undefined
  readonly logoUri?: string | undefined
  readonly softwareId?: string | undefined
  readonly softwareVersion?: string | undefined
  /** MCP §Application Type: `native` (the default) for CLI and desktop clients on loopback redirects. */
  readonly applicationType?: "native" | "web" | undefined
  /** Force a token endpoint authentication method instead of choosing one from the server's list. */
  readonly tokenEndpointAuthMethod?: string | undefined
}

/**
 * The inputs of one registration request.
 *
 * @category models
 * @since 0.1.0
 */
export interface RegistrationOptions extends ClientDescription {
  /** The redirect URIs to register (loopback http, https, or a private-use scheme); at least one. */
  readonly redirectUris: ReadonlyArray<string>
  /** RFC 7591 §2 `scope`: sent only when given. */
  readonly scope?: string | undefined
  /**
   * **Security-weakening.** Accept an `http://` registration endpoint on a loopback host (local test servers).
   * Every use is logged as a warning.
   */
  readonly allowLoopbackHttp?: boolean | undefined
}

/**
 * A registration request ready to send: where, and the client metadata as the JSON body.
 *
 * @category models
 * @since 0.1.0
 */
export interface RegistrationRequest {
  readonly issuer: string
  readonly endpoint: string
  readonly metadata: ClientMetadata
}

/** The token endpoint authentication methods this client can perform, best first for a public client. */
const PERFORMABLE = ["none", "client_secret_basic", "client_secret_post"] as const

const chooseAuthMethod = (
  metadata: RegistrationServerMetadata,
  forced: string | undefined
): Effect.Effect<string, RegistrationError> => {
  const supported = metadata.token_endpoint_auth_methods_supported
  if (forced !== undefined) {
    // RFC 8414 §2: token_endpoint_auth_methods_supported lists what the server accepts
    return supportsAuthMethod(metadata, forced) ? Effect.succeed(forced) : Effect.fail(fail(
      new UnsupportedByServer({
        issuer: metadata.issuer,
        field: "token_endpoint_auth_methods_supported",
        supported: supported ?? ["client_secret_basic"],
        needed: forced
      })
    ))
  }
  // RFC 7591 §2 / RFC 8252 §8.4: a native app is a public client, so prefer "none"
  const chosen = PERFORMABLE.find((m) => supportsAuthMethod(metadata, m))
  return chosen !== undefined ? Effect.succeed(chosen) : Effect.fail(fail(
    new UnsupportedByServer({
      issuer: metadata.issuer,
      field: "token_endpoint_auth_methods_supported",
      supported: supported ?? [],
      needed: `one of ${PERFORMABLE.join(", ")}`
    })
  ))
}

/**
 * Builds an RFC 7591 §3.1 client registration request for a native MCP client: `application_type: "native"`, the
 * given (loopback) redirect URIs, `authorization_code` + `refresh_token` (the latter only if the server lists it or
 * lists no grant types), `response_types: ["code"]`, the token endpoint authentication method (`none` preferred,
 * then `client_secret_basic`, then `client_secret_post`), and `scope` only when asked for.
 *
 * **Example** (a registration request)
 *
 * ```ts
 * import { DynamicRegistration } from "@mcpauth/rfc7591-registration"
 *
 * const request = DynamicRegistration.buildRegistrationRequest(
 *   { issuer: "https://as.example", registration_endpoint: "https://as.example/register" },
 *   { clientName: "my MCP client", redirectUris: ["http://127.0.0.1:8765/callback"] }
 * )
 * ```
 *
 * @see [RFC 7591 §3.1](https://www.rfc-editor.org/rfc/rfc7591#section-3.1)
 * @category constructors
 * @since 0.1.0
 */
export const buildRegistrationRequest = Effect.fnUntraced(function*(
  metadata: RegistrationServerMetadata,
  options: RegistrationOptions
): Effect.fn.Return<RegistrationRequest, RegistrationError> {
  const endpoint = metadata.registration_endpoint
  // RFC 8414 §2: no registration_endpoint means the server offers no dynamic registration
  if (endpoint === undefined) {
    return yield* fail(
      new UnsupportedByServer({
        issuer: metadata.issuer,
        field: "registration_endpoint",
        supported: [],
        needed: "a registration endpoint for dynamic client registration"
      })
    )
  }
  // MCP §Security: endpoints from metadata are https (loopback http only when explicitly allowed)
  const endpointIssue = endpointProblem(endpoint, options.allowLoopbackHttp === true)
  if (endpointIssue !== undefined) {
    return yield* fail(new InsecureEndpoint({ field: "registration_endpoint", url: endpoint, detail: endpointIssue }))
  }
  if (options.allowLoopbackHttp === true && endpoint.startsWith("http:")) {
    yield* Effect.logWarning(
      `Security-weakening: allowLoopbackHttp lets the registration request go to plain http ${endpoint}`
    )
  }
  // RFC 7591 §2: redirect_uris is required for redirect-based flows
  if (options.redirectUris.length === 0) {
    return yield* fail(new NoRedirectUris({ issuer: metadata.issuer, method: "dynamic client registration" }))
  }
  for (const uri of options.redirectUris) {
    const problem = redirectUriProblem(uri)
    if (problem !== undefined) return yield* fail(new InvalidRedirectUri({ uri, detail: problem }))
  }
  // RFC 8414 §2: response_types_supported must allow the authorization code flow
  const responseTypes = metadata.response_types_supported
  if (responseTypes !== undefined && !responseTypes.includes("code")) {
    return yield* fail(
      new UnsupportedByServer({
        issuer: metadata.issuer,
        field: "response_types_supported",
        supported: responseTypes,
        needed: "code"
      })
    )
  }
  // RFC 8414 §2: grant_types_supported (default authorization_code and implicit)
  const grants = metadata.grant_types_supported
  if (grants !== undefined && !grants.includes("authorization_code")) {
    return yield* fail(
      new UnsupportedByServer({
        issuer: metadata.issuer,
        field: "grant_types_supported",
        supported: grants,
        needed: "authorization_code"
      })
    )
  }
  const grantTypes = grants === undefined || grants.includes("refresh_token")
    ? ["authorization_code", "refresh_token"]
    : ["authorization_code"]
  const method = yield* chooseAuthMethod(metadata, options.tokenEndpointAuthMethod)
  const body: ClientMetadata = {
    redirect_uris: [...options.redirectUris],
    token_endpoint_auth_method: method,
    grant_types: grantTypes,
    response_types: ["code"],
    // MCP §Application Type and Redirect URI Constraints: clients MUST specify an appropriate application_type
    application_type: options.applicationType ?? "native",
    client_name: options.clientName,
    ...(options.clientUri !== undefined ? { client_uri: options.clientUri } : {}),
    ...(options.logoUri !== undefined ? { logo_uri: options.logoUri } : {}),
    ...(options.softwareId !== undefined ? { software_id: options.softwareId } : {}),
    ...(options.softwareVersion !== undefined ? { software_version: options.softwareVersion } : {}),
    ...(options.scope !== undefined ? { scope: options.scope } : {})
  }
  return { issuer: metadata.issuer, endpoint, metadata: body }
})

/**
 * The HTTP request of a registration request: `POST` of the JSON client metadata (RFC 7591 §3.1).
 *
 * @category constructors
 * @since 0.1.0
 */
export const toHttpRequest = (request: RegistrationRequest): HttpClientRequest.HttpClientRequest =>
  HttpClientRequest.post(request.endpoint).pipe(
    HttpClientRequest.acceptJson,
    HttpClientRequest.bodyJsonUnsafe(request.metadata)
  )

/**
 * A registration endpoint's answer, as read off the wire.
 *
 * @category models
 * @since 0.1.0
 */
export interface RegistrationResponse {
  readonly status: number
  readonly contentType?: string | undefined
  readonly body: string
}

// RFC 7591 §3.2.1: the client information response members we read; the rest are kept as received
const ResponseBody = Schema.Struct({
  client_id: Schema.String.check(Schema.isNonEmpty()),
  client_secret: Schema.optional(Schema.String),
  client_id_issued_at: Schema.optional(Schema.Number.check(Schema.isFinite())),
  client_secret_expires_at: Schema.optional(Schema.Number.check(Schema.isFinite())),
  redirect_uris: Schema.optional(Schema.Array(Schema.String)),
  token_endpoint_auth_method: Schema.optional(Schema.String),
  grant_types: Schema.optional(Schema.Array(Schema.String)),
  response_types: Schema.optional(Schema.Array(Schema.String)),
  scope: Schema.optional(Schema.String),
  registration_access_token: Schema.optional(Schema.String),
  registration_client_uri: Schema.optional(Schema.String)
})
const decodeBody = Schema.decodeUnknownEffect(ResponseBody)
const ErrorBody = Schema.Struct({
  error: Schema.String,
  error_description: Schema.optional(Schema.String),
  error_uri: Schema.optional(Schema.String)
})
const decodeErrorBody = Schema.decodeUnknownExit(ErrorBody)

const parseJson = (text: string): { readonly ok: true; readonly value: unknown } | { readonly ok: false } => {
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    return { ok: false }
  }
}

// Lenient decoding: `null` in a member means the member is absent
const withoutNulls = (value: Record<string, unknown>): Record<string, Schema.Json> => {
  const out: Record<string, Schema.Json> = {}
  for (const [key, member] of Object.entries(value)) {
    if (member !== null) out[key] = member as Schema.Json
  }
  return out
}

const SECRET_MEMBERS = new Set(["client_secret", "registration_access_token"])
const SHARED_SECRET_METHODS = new Set(["client_secret_basic", "client_secret_post", "client_secret_jwt"])

const firstPath = (error: Schema.SchemaError): string => {
  const match = /at \["([^"\]]+)"/.exec(error.message)
  return match?.[1] ?? "(document)"
}

/**
 * Reads an RFC 7591 §3.2.2 error response: `RegistrationRejected` when the body is a JSON object with an `error`
 * string, `UnexpectedResponse` otherwise (non-JSON, or JSON without `error`).
 *
 * @see [RFC 7591 §3.2.2](https://www.rfc-editor.org/rfc/rfc7591#section-3.2.2)
 * @category constructors
 * @since 0.1.0
 */
export const parseErrorResponse = (endpoint: string, response: RegistrationResponse): RegistrationError => {
  const json = parseJson(response.body)
  const excerpt = response.body.slice(0, 200)
  if (!json.ok) {
    return fail(
      new UnexpectedResponse({
        endpoint,
        status: response.status,
        contentType: response.contentType,
        detail: "the error body is not JSON (RFC 7591 §3.2.2 expects a JSON object with an \"error\" member)",
        excerpt
      })
    )
  }
  const decoded = decodeErrorBody(Predicate.isObject(json.value) ? withoutNulls(json.value) : json.value)
  if (decoded._tag === "Failure") {
    return fail(
      new UnexpectedResponse({
        endpoint,
        status: response.status,
        contentType: response.contentType,
        detail: "the error body has no string \"error\" member (RFC 7591 §3.2.2)",
        excerpt
      })
    )
  }
  // RFC 7591 §3.2.2: error (REQUIRED), error_description (OPTIONAL); any code is carried as received
  return fail(
    new RegistrationRejected({
      endpoint,
      status: response.status,
      error: decoded.value.error,
      error_description: decoded.value.error_description,
      error_uri: decoded.value.error_uri
    })
  )
}

/**
 * What the parser compares the response with.
 *
 * @category models
 * @since 0.1.0
 */
export interface ParseExpectations {
  readonly request: RegistrationRequest
  /** The current time in epoch seconds, for `client_secret_expires_at`. */
  readonly nowSeconds: number
}

/**
 * Parses a registration endpoint's answer into `ClientInformation` (RFC 7591 §3.2.1), or the typed error of an
 * error response (RFC 7591 §3.2.2).
 *
 * Lenient: any 2xx is a success (the RFC says 201, some servers send 200), unknown members are kept in `response`,
 * `null` means absent, a missing `token_endpoint_auth_method` or `redirect_uris` means what was asked for. Strict:
 * `client_id` must be a non-empty string, a shared-secret method needs a secret, an already expired secret is an
 * error, and if none of the requested redirect URIs survived the server's changes the registration is refused.
 *
 * @see [RFC 7591 §3.2.1](https://www.rfc-editor.org/rfc/rfc7591#section-3.2.1)
 * @category constructors
 * @since 0.1.0
 */
export const parseRegistrationResponse = Effect.fnUntraced(function*(
  expected: ParseExpectations,
  response: RegistrationResponse
): Effect.fn.Return<ClientInformation, RegistrationError> {
  const { endpoint, issuer, metadata: asked } = expected.request
  // RFC 7591 §3.2.1: success is 201 Created (any 2xx accepted); RFC 7591 §3.2.2: errors are 400 with a JSON body
  if (response.status < 200 || response.status > 299) return yield* parseErrorResponse(endpoint, response)
  const json = parseJson(response.body)
  if (!json.ok) {
    return yield* fail(
      new UnexpectedResponse({
        endpoint,
        status: response.status,
        contentType: response.contentType,
        detail: "the registration response is not JSON (RFC 7591 §3.2.1)"
      })
    )
  }
  if (!Predicate.isObject(json.value) || Array.isArray(json.value)) {
    return yield* fail(
      new InvalidRegistrationResponse({
        endpoint,
        field: "(document)",
        expected: "a JSON object",
        detail: `got ${Array.isArray(json.value) ? "an array" : typeof json.value}`
      })
    )
  }
  const raw = withoutNulls(json.value)
  const body = yield* decodeBody(raw).pipe(Effect.mapError((error) =>
    fail(
      new InvalidRegistrationResponse({
        endpoint,
        field: firstPath(error),
        expected: "the RFC 7591 §3.2.1 member types",
        detail: error.message
      })
    )
  ))
  const method = body.token_endpoint_auth_method ?? asked.token_endpoint_auth_method
  // RFC 7591 §2: client_secret_basic / client_secret_post need a client secret to authenticate with
  if (SHARED_SECRET_METHODS.has(method) && body.client_secret === undefined) {
    return yield* fail(
      new InvalidRegistrationResponse({
        endpoint,
        field: "client_secret",
        expected: `a client secret for token_endpoint_auth_method "${method}"`,
        detail: "the server assigned a shared-secret method but issued no secret"
      })
    )
  }
  // RFC 7591 §3.2.1: client_secret_expires_at is the expiry in seconds since the epoch, 0 for never
  if (
    body.client_secret !== undefined && body.client_secret_expires_at !== undefined &&
    body.client_secret_expires_at > 0 && body.client_secret_expires_at <= expected.nowSeconds
  ) {
    return yield* fail(
      new SecretExpired({
        issuer,
        client_id: body.client_id,
        client_secret_expires_at: body.client_secret_expires_at
      })
    )
  }
  // RFC 7591 §3.2.1: the server MAY replace requested metadata; only the redirect URIs we asked for are usable
  const registered = body.redirect_uris ?? asked.redirect_uris
  const usable = asked.redirect_uris.filter((uri) => registered.includes(uri))
  if (usable.length === 0) {
    return yield* fail(new RedirectUrisChanged({ endpoint, requested: asked.redirect_uris, registered }))
  }
  // RFC 7591 §3.2.1: a replaced grant_types without authorization_code leaves the client unusable
  if (body.grant_types !== undefined && !body.grant_types.includes("authorization_code")) {
    return yield* fail(
      new InvalidRegistrationResponse({
        endpoint,
        field: "grant_types",
        expected: "a list holding \"authorization_code\"",
        detail: `got ${JSON.stringify(body.grant_types)}`
      })
    )
  }
  const kept: Record<string, Schema.Json> = {}
  for (const [key, value] of Object.entries(raw)) if (!SECRET_MEMBERS.has(key)) kept[key] = value
  const scope = body.scope ?? asked.scope
  const info: ClientInformation = {
    issuer,
    client_id: body.client_id,
    ...(body.client_secret !== undefined
      ? { client_secret: Redacted.make(body.client_secret, { label: "client_secret" }) }
      : {}),
    ...(body.client_secret_expires_at !== undefined ? { client_secret_expires_at: body.client_secret_expires_at } : {}),
    ...(body.client_id_issued_at !== undefined ? { client_id_issued_at: body.client_id_issued_at } : {}),
    token_endpoint_auth_method: method,
    redirect_uris: usable,
    ...(scope !== undefined ? { scope } : {}),
    source: "dynamic",
    ...(body.registration_access_token !== undefined
      ? {
        registration_access_token: Redacted.make(body.registration_access_token, {
          label: "registration_access_token"
        })
      }
      : {}),
    ...(body.registration_client_uri !== undefined ? { registration_client_uri: body.registration_client_uri } : {}),
    response: kept
  }
  return info
})

/**
 * How long `register` waits for the registration endpoint by default.
 *
 * @category constants
 * @since 0.1.0
 */
export const DEFAULT_TIMEOUT_MILLIS = 30_000

/**
 * Sends one registration request and parses the answer (`RequestFailed` when no answer comes within the timeout,
 * default `DEFAULT_TIMEOUT_MILLIS`). Requires `HttpClient`.
 *
 * @see [RFC 7591 §3](https://www.rfc-editor.org/rfc/rfc7591#section-3)
 * @category constructors
 * @since 0.1.0
 */
export const register = Effect.fn("DynamicRegistration.register")(function*(
  request: RegistrationRequest,
  nowSeconds: number,
  options?: { readonly timeoutMillis?: number | undefined }
): Effect.fn.Return<ClientInformation, RegistrationError, HttpClient.HttpClient> {
  const client = yield* HttpClient.HttpClient
  yield* Effect.annotateCurrentSpan({ issuer: request.issuer, endpoint: request.endpoint })
  const timeoutMillis = options?.timeoutMillis ?? DEFAULT_TIMEOUT_MILLIS
  // a redirect is not followed: the client metadata goes to the advertised endpoint only, and a 3xx is an error
  const init = Option.getOrElse(yield* Effect.serviceOption(FetchHttpClient.RequestInit), () => ({}))
  const response = yield* client.execute(toHttpRequest(request)).pipe(
    Effect.provideService(FetchHttpClient.RequestInit, { ...init, redirect: "manual" }),
    Effect.flatMap((res) =>
      Effect.map(res.text, (body) => ({ status: res.status, contentType: res.headers["content-type"], body }))
    ),
    Effect.mapError((error) => fail(new RequestFailed({ endpoint: request.endpoint, detail: error.message }))),
    Effect.timeoutOrElse({
      duration: timeoutMillis,
      orElse: () =>
        Effect.fail(
          fail(new RequestFailed({ endpoint: request.endpoint, detail: `no answer within ${timeoutMillis} ms` }))
        )
    })
  )
  return yield* parseRegistrationResponse({ request, nowSeconds }, response)
})
