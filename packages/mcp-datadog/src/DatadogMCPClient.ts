/**
 * A Promise facade over the `DatadogMcp` service, for code that does not use Effect: `initialize`, `listTools`,
 * `callTool`, `readResource`, `whoami`, `close` — the shape of the Python `DatadogMCPClient` it re-imagines.
 *
 * Configuration comes from the constructor's options, then the environment, then `.env`. Failures reject with a
 * `DatadogMcpError` (an `Error` whose `reason` tells what went wrong and whose message says how to fix it).
 *
 * @since 0.1.0
 */
import type { CallToolResult, ReadResourceResult, Tool } from "@modelcontextprotocol/client"
import { Cause, Effect, Exit, Layer, ManagedRuntime } from "effect"
import { FetchHttpClient } from "effect/http"
import * as DatadogConfig from "./DatadogConfig.ts"
import * as DatadogMcp from "./DatadogMcp.ts"
import * as DatadogMcpError from "./DatadogMcpError.ts"
import * as DatadogOAuth from "./DatadogOAuth.ts"
import * as McpFetch from "./McpFetch.ts"
import type * as Whoami from "./Whoami.ts"

/**
 * Options of the facade: any configuration value (they win over the environment and `.env`), where to read `.env`,
 * and how to authenticate in OAuth mode.
 *
 * @category models
 * @since 0.1.0
 */
export interface DatadogMCPClientOptions
  extends
    DatadogConfig.DatadogConfigInput,
    Omit<DatadogMcp.Options, "url">,
    Omit<DatadogConfig.LoadOptions, "overrides">
{
  /**
   * The OAuth-authorised fetch (from `@mcpauth/mcp-auth`), used when neither API keys nor an access token are
   * configured.
   */
  readonly authorizedFetch?: McpFetch.FetchLike | undefined
  /**
   * Builds the OAuth `McpFetch` layer from the configuration (redirect URI, fallback client, MCP URL), when neither
   * API keys nor an access token are configured. Takes precedence over `authorizedFetch`.
   */
  readonly oauth?: ((config: DatadogConfig.DatadogConfig) => Layer.Layer<McpFetch.McpFetch, unknown>) | undefined
  /**
   * How OAuth mode signs in, when neither `oauth` nor `authorizedFetch` is given: the default is the full MCP
   * authorization flow of `@mcpauth/mcp-auth` (system browser, file token store). See `DatadogOAuth.OAuthOptions`.
   */
  readonly signIn?: DatadogOAuth.OAuthOptions | undefined
  /** The fetch under the API-key / access-token modes (default `globalThis.fetch`). */
  readonly fetch?: McpFetch.FetchLike | undefined
}

const CONFIG_KEYS = [
  "site",
  "mcpUrl",
  "toolsets",
  "omitTools",
  "apiKey",
  "appKey",
  "accessToken",
  "clientId",
  "clientSecret",
  "redirectUri",
  "storeDirectory"
] as const

/**
 * The Datadog MCP client with Promises.
 *
 * **Example** (list the tools and read whoami)
 *
 * ```ts
 * import { DatadogMCPClient } from "@mcpauth/mcp-datadog/DatadogMCPClient"
 *
 * const client = new DatadogMCPClient({ site: "datadoghq.eu" }) // keys from env / .env
 * await client.initialize()
 * const tools = await client.listTools()
 * const me = await client.whoami()
 * await client.close()
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export class DatadogMCPClient {
  readonly #options: DatadogMCPClientOptions
  #runtime: ManagedRuntime.ManagedRuntime<DatadogMcp.DatadogMcp, unknown> | undefined
  #initializing: Promise<void> | undefined
  #closed = false
  #config: DatadogConfig.DatadogConfig | undefined

  constructor(options: DatadogMCPClientOptions = {}) {
    this.#options = options
  }

  /** The configuration in use, once `initialize` has loaded it. */
  get config(): DatadogConfig.DatadogConfig | undefined {
    return this.#config
  }

  #layer(): Layer.Layer<DatadogMcp.DatadogMcp, unknown> {
    const options = this.#options
    const overrides: Record<string, unknown> = {}
    for (const key of CONFIG_KEYS) if (options[key] !== undefined) overrides[key] = options[key]
    const remember = (config: DatadogConfig.DatadogConfig) => {
      this.#config = config
    }
    return Layer.unwrap(
      Effect.gen(function*() {
        const config = yield* DatadogConfig.load({
          overrides: overrides as DatadogConfig.DatadogConfigInput,
          env: options.env,
          dotEnvPath: options.dotEnvPath,
          allowInsecureHttp: options.allowInsecureHttp
        })
        remember(config)
        const fetchLayer: Layer.Layer<McpFetch.McpFetch, unknown> = config.auth._tag !== "OAuth"
          ? McpFetch.layerHeadless(config, { fetch: options.fetch })
          : options.oauth !== undefined
          ? options.oauth(config)
          : options.authorizedFetch !== undefined
          ? McpFetch.layerFromFetch(options.authorizedFetch, "oauth")
          : DatadogOAuth.layer(config, options.signIn).pipe(Layer.provide(FetchHttpClient.layer))
        return DatadogMcp.layer({
          url: config.mcpUrl,
          referrer: options.referrer,
          rateLimit: options.rateLimit,
          requestTimeoutMs: options.requestTimeoutMs,
          maxPages: options.maxPages
        }).pipe(Layer.provide(fetchLayer))
      })
    )
  }

  /**
   * Loads the configuration and connects (the MCP `initialize` handshake). Calling it again is harmless; the other
   * methods call it when needed. After a failure, the next call tries again from scratch.
   */
  initialize(): Promise<void> {
    if (this.#closed) return Promise.reject(DatadogMcpError.make(new DatadogMcpError.Closed()))
    if (this.#initializing !== undefined) return this.#initializing
    const runtime = ManagedRuntime.make(this.#layer())
    this.#runtime = runtime
    const attempt = runtime.runPromiseExit(DatadogMcp.DatadogMcp).then(async (exit) => {
      if (Exit.isSuccess(exit)) return
      if (this.#runtime === runtime) {
        this.#runtime = undefined
        this.#initializing = undefined
      }
      await runtime.dispose()
      // close() interrupted the connection (or the sign-in under it): that is the Closed reason, not a failure
      if (this.#closed) throw DatadogMcpError.make(new DatadogMcpError.Closed())
      throw Cause.squash(exit.cause)
    })
    this.#initializing = attempt
    return attempt
  }

  async #run<A>(f: (dd: DatadogMcp.DatadogMcp["Service"]) => Effect.Effect<A, DatadogMcpError.DatadogMcpError>) {
    await this.initialize()
    const runtime = this.#runtime
    if (this.#closed || runtime === undefined) throw DatadogMcpError.make(new DatadogMcpError.Closed())
    const exit = await runtime.runPromiseExit(Effect.flatMap(DatadogMcp.DatadogMcp, f))
    if (Exit.isSuccess(exit)) return exit.value
    throw Cause.squash(exit.cause)
  }

  /** Every tool the server offers (all pages). */
  listTools(): Promise<ReadonlyArray<Tool>> {
    return this.#run((dd) => dd.listTools)
  }

  /** Calls a tool; a result with `isError` rejects with the `ToolError` reason. */
  callTool(name: string, args?: { readonly [key: string]: unknown }): Promise<CallToolResult> {
    return this.#run((dd) => dd.callTool(name, args))
  }

  /** Reads a resource, e.g. `datadog://mcp/toolsets`. */
  readResource(uri: string): Promise<ReadResourceResult> {
    return this.#run((dd) => dd.readResource(uri))
  }

  /** Who the credentials belong to (`datadog://mcp/whoami`). */
  whoami(): Promise<Whoami.Whoami> {
    return this.#run((dd) => dd.whoami)
  }

  /**
   * Ends the session and releases everything; later calls reject with the `Closed` reason. A connection or OAuth
   * sign-in still in progress is interrupted (its `initialize` rejects with `Closed`), not waited for.
   */
  async close(): Promise<void> {
    this.#closed = true
    const runtime = this.#runtime
    this.#runtime = undefined
    if (runtime === undefined) return
    // disposing interrupts the layer build still running (connect, sign-in) and runs every finalizer
    await runtime.dispose()
    await this.#initializing?.catch(() => {})
  }
}
