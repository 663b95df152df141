/**
 * The `fetch` the MCP transport uses, and how it authenticates: API keys (`DD_API_KEY` + `DD_APPLICATION_KEY`
 * headers), a static access token (`Authorization: Bearer`), or an OAuth-authorised fetch handed in by the
 * orchestrator (`@mcpauth/mcp-auth`), which adds the bearer token and handles 401/403 and refresh itself.
 *
 * Credentials only ever travel in headers, never in a URL, and are revealed only at the moment the header is set.
 *
 * @see [Datadog MCP Server setup - authentication](https://docs.datadoghq.com/bits_ai/mcp_server/setup/)
 * @see [RFC 6750 §2.1 - Authorization Request Header Field](https://www.rfc-editor.org/rfc/rfc6750#section-2.1)
 * @since 0.1.0
 */
import { Context, Effect, Layer, Redacted } from "effect"
import type * as DatadogConfig from "./DatadogConfig.ts"
import * as DatadogMcpError from "./DatadogMcpError.ts"

/**
 * A WHATWG `fetch`.
 *
 * @category models
 * @since 0.1.0
 */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>

/**
 * How the MCP requests are authenticated.
 *
 * @category models
 * @since 0.1.0
 */
export type Mode = "oauth" | "api-key" | "access-token"

/**
 * The fetch handed to the MCP SDK transport, and the authentication mode it implements.
 *
 * @category services
 * @since 0.1.0
 */
export class McpFetch extends Context.Service<McpFetch, {
  readonly fetch: FetchLike
  readonly mode: Mode
}>()("@mcpauth/mcp-datadog/McpFetch") {}

/**
 * The API-key headers, as Datadog's MCP server documents them (with underscores). The values are revealed here and
 * must only be put on a request.
 *
 * @category constructors
 * @since 0.1.0
 */
export const apiKeyHeaders = (credentials: {
  readonly apiKey: Redacted.Redacted<string>
  readonly appKey: Redacted.Redacted<string>
}): Record<string, string> => ({
  DD_API_KEY: Redacted.value(credentials.apiKey),
  DD_APPLICATION_KEY: Redacted.value(credentials.appKey)
})

/**
 * The bearer header of a personal or service access token.
 *
 * @see [RFC 6750 §2.1](https://www.rfc-editor.org/rfc/rfc6750#section-2.1)
 * @category constructors
 * @since 0.1.0
 */
export const bearerHeaders = (accessToken: Redacted.Redacted<string>): Record<string, string> => ({
  // RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token
  Authorization: `Bearer ${Redacted.value(accessToken)}`
})

/**
 * A fetch that sets the given headers on every request (over same-named headers of the request). `headers` is called
 * per request, so secrets stay `Redacted` until then.
 *
 * @category combinators
 * @since 0.1.0
 */
export const withHeaders = (base: FetchLike, headers: () => Record<string, string>): FetchLike => (input, init) => {
  const merged = new Headers(input instanceof Request ? input.headers : undefined)
  new Headers(init?.headers).forEach((value, name) => merged.set(name, value))
  for (const [name, value] of Object.entries(headers())) merged.set(name, value)
  return base(input, { ...init, headers: merged })
}

/**
 * A fetch that only reaches one origin: a request anywhere else is refused (rejects with an `Error`) before anything
 * is sent, so credentials added underneath never leave the MCP server's origin.
 *
 * @category combinators
 * @since 0.1.0
 */
export const restrictToOrigin = (base: FetchLike, origin: string): FetchLike => (input, init) => {
  const target = new URL(input instanceof Request ? input.url : input)
  // Credentials go to the MCP server only: never to another origin (e.g. a redirect or an SSE endpoint elsewhere)
  if (target.origin !== origin) {
    return Promise.reject(new Error(`refusing to send credentials to ${target.origin}; only ${origin} is allowed`))
  }
  return base(input, init)
}

const defaultFetch: FetchLike = (input, init) => globalThis.fetch(input, init)

/**
 * API-key mode: `DD_API_KEY` and `DD_APPLICATION_KEY` on every request.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerApiKey = (
  credentials: { readonly apiKey: Redacted.Redacted<string>; readonly appKey: Redacted.Redacted<string> },
  options: { readonly fetch?: FetchLike | undefined } = {}
): Layer.Layer<McpFetch> =>
  Layer.succeed(McpFetch, {
    fetch: withHeaders(options.fetch ?? defaultFetch, () => apiKeyHeaders(credentials)),
    mode: "api-key"
  })

/**
 * Access-token mode: `Authorization: Bearer <token>` on every request (personal or service access tokens, for
 * headless use).
 *
 * @category layers
 * @since 0.1.0
 */
export const layerAccessToken = (
  credentials: { readonly accessToken: Redacted.Redacted<string> },
  options: { readonly fetch?: FetchLike | undefined } = {}
): Layer.Layer<McpFetch> =>
  Layer.succeed(McpFetch, {
    fetch: withHeaders(options.fetch ?? defaultFetch, () => bearerHeaders(credentials.accessToken)),
    mode: "access-token"
  })

/**
 * A fetch supplied from outside, by default an OAuth-authorised one from `@mcpauth/mcp-auth` (which adds the bearer
 * token and handles 401/403 and refresh itself).
 *
 * @category layers
 * @since 0.1.0
 */
export const layerFromFetch = (fetch: FetchLike, mode: Mode = "oauth"): Layer.Layer<McpFetch> =>
  Layer.succeed(McpFetch, { fetch, mode })

/**
 * The headless layer chosen by the configuration: API keys, else the access token; fails with `OAuthNotConfigured`
 * when the configuration asks for OAuth (provide `layerFromFetch(authorisedFetch)` instead).
 *
 * @category layers
 * @since 0.1.0
 */
export const layerHeadless = (
  config: Pick<DatadogConfig.DatadogConfig, "auth">,
  options: { readonly fetch?: FetchLike | undefined } = {}
): Layer.Layer<McpFetch, DatadogMcpError.DatadogMcpError> => {
  switch (config.auth._tag) {
    case "ApiKey":
      return layerApiKey(config.auth, options)
    case "AccessToken":
      return layerAccessToken(config.auth, options)
    case "OAuth":
      return Layer.effect(McpFetch, Effect.fail(DatadogMcpError.make(new DatadogMcpError.OAuthNotConfigured())))
  }
}
