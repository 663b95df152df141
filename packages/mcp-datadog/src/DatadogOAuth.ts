/**
 * OAuth for the Datadog MCP server: the `McpFetch` of OAuth mode, from `@mcpauth/mcp-auth`'s `McpAuthorization`.
 *
 * - Client registration follows MCP §Client Registration's priority: `DATADOG_CLIENT_ID` / `DATADOG_CLIENT_SECRET` /
 *   `DATADOG_REDIRECT_URI` when configured (which makes them the fallback for organisations where dynamic
 *   registration is unavailable or fails), else a client ID metadata document, else dynamic registration (RFC 7591).
 * - Datadog's issuer carries the `/v1/mcp` path and its metadata was reported at the root well-known URL: for
 *   Datadog's own sites (not for a `DATADOG_MCP_URL` override) the named, logged policy
 *   `allowRootDocumentForPathIssuer` is switched on; the document must still name exactly that issuer.
 * - Plain `http://` is accepted only for a loopback `DATADOG_MCP_URL` (the sandbox), through the logged
 *   `allowLoopbackHttp` option.
 *
 * @see [MCP 2026-07-28 Authorization §Client Registration](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization/client-registration)
 * @since 0.1.0
 */
import { McpAuthorization } from "@mcpauth/mcp-auth"
import type { AuthEventSink } from "@mcpauth/mcp-auth/AuthEvent"
import type { UserAgent } from "@mcpauth/oauth2-authorization/UserAgent"
import { browser } from "@mcpauth/oauth2-authorization/UserAgent"
import * as TokenStore from "@mcpauth/token-store/TokenStore"
import type { Duration } from "effect"
import { Effect, Layer } from "effect"
import type { HttpClient } from "effect/http"
import type * as DatadogConfig from "./DatadogConfig.ts"
import * as DatadogMcp from "./DatadogMcp.ts"
import * as McpFetch from "./McpFetch.ts"

/**
 * How OAuth mode signs in.
 *
 * @category models
 * @since 0.1.0
 */
export interface OAuthOptions {
  /** How the user signs in (default: the system browser, the URL always printed too). */
  readonly userAgent?: UserAgent | undefined
  /** Progress events of the authorization flow (never secrets). */
  readonly events?: AuthEventSink | undefined
  /**
   * Where tokens and registrations are kept (default: the file store in the configuration's `MCPAUTH_HOME`, else the
   * store's default, `$XDG_CONFIG_HOME/mcpauth` or `~/.config/mcpauth`).
   */
  readonly store?: Layer.Layer<TokenStore.TokenStore> | undefined
  /** How long to wait for the browser's redirect (default 5 minutes). */
  readonly callbackTimeout?: Duration.Input | undefined
}

const isLoopbackHttp = (url: URL) =>
  url.protocol === "http:" &&
  (url.hostname === "localhost" || url.hostname === "[::1]" || url.hostname.startsWith("127."))

/**
 * The options of `McpAuthorization` for a Datadog configuration.
 *
 * @category constructors
 * @since 0.1.0
 */
export const authorizationOptions = (
  config: DatadogConfig.DatadogConfig,
  options: OAuthOptions = {}
): McpAuthorization.DefaultOptions => ({
  serverUrl: config.mcpUrl.href,
  userAgent: options.userAgent ?? browser(),
  client: { name: DatadogMcp.CLIENT_NAME, softwareVersion: DatadogMcp.VERSION },
  redirectUri: config.redirectUri,
  preregistered: config.clientId === undefined
    ? undefined
    : {
      client_id: config.clientId,
      redirect_uri: config.redirectUri,
      ...(config.clientSecret === undefined ? {} : { client_secret: config.clientSecret })
    },
  variableNames: {
    clientId: "DATADOG_CLIENT_ID",
    clientSecret: "DATADOG_CLIENT_SECRET",
    redirectUri: "DATADOG_REDIRECT_URI"
  },
  events: options.events,
  // MCPAUTH_HOME from the options, the environment or .env (not only process.env, which the store reads itself)
  store: options.store ??
    (config.storeDirectory === undefined ? undefined : TokenStore.layerFile({ directory: config.storeDirectory })),
  callbackTimeout: options.callbackTimeout,
  // Security-weakening, logged by the packages: only a loopback DATADOG_MCP_URL (the sandbox) may be plain http
  allowLoopbackHttp: isLoopbackHttp(config.mcpUrl),
  // Security-weakening, logged when used: Datadog's path issuer served at the root (Datadog's own sites only)
  allowRootDocumentForPathIssuer: !config.mcpUrlOverridden
})

/**
 * OAuth mode's `McpFetch` together with the `McpAuthorization` behind it (for sign-out, refresh and session info).
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  config: DatadogConfig.DatadogConfig,
  options: OAuthOptions = {}
): Layer.Layer<McpFetch.McpFetch | McpAuthorization.McpAuthorization, never, HttpClient.HttpClient> =>
  Layer.effect(
    McpFetch.McpFetch,
    Effect.gen(function*() {
      const auth = yield* McpAuthorization.McpAuthorization
      // mcp-auth runs sign-in, refresh and step-up as fibers of the McpAuthorization layer's scope, tied to each
      // request's AbortSignal: closing the client interrupts a sign-in still waiting for the browser (its loopback
      // listener closes and nothing is stored), and so does the transport aborting the request.
      const fetch: McpFetch.FetchLike = auth.fetch
      return { fetch, mode: "oauth" as const }
    })
  ).pipe(Layer.provideMerge(McpAuthorization.layerDefault(authorizationOptions(config, options))))
