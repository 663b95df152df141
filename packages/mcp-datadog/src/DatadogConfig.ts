/**
 * The Datadog MCP client's configuration, read with Effect `Config` from (highest precedence first) explicit
 * options, the real environment, and a `.env` file.
 *
 * | variable | meaning |
 * |---|---|
 * | `DATADOG_SITE` | site domain or short name (default `datadoghq.com`) |
 * | `DATADOG_MCP_URL` | full MCP server URL, overriding the site's (https, or http on loopback) |
 * | `DATADOG_MCP_TOOLSETS` / `DATADOG_MCP_OMIT_TOOLS` | comma lists sent as `toolsets` / `omit_tools` |
 * | `DD_API_KEY` + `DD_APPLICATION_KEY` | API-key mode (both or neither) |
 * | `DATADOG_ACCESS_TOKEN` | access-token mode (personal or service access token) |
 * | `DATADOG_CLIENT_ID` / `DATADOG_CLIENT_SECRET` | pre-registered OAuth client, used first (the fallback where dynamic registration is unavailable) |
 * | `DATADOG_REDIRECT_URI` | OAuth redirect URI (default `http://localhost:8080/callback`) |
 * | `MCPAUTH_HOME` | where OAuth tokens and registrations are kept (default `$XDG_CONFIG_HOME/mcpauth`, else `~/.config/mcpauth`) |
 *
 * Every invalid value fails with a `DatadogMcpError` whose `InvalidConfig` reason names the variable; secrets are
 * `Redacted` and never echoed.
 *
 * @since 0.1.0
 */
import { Config, ConfigProvider, Effect, Option, Redacted } from "effect"
import * as DatadogMcpError from "./DatadogMcpError.ts"
import * as DotEnv from "./DotEnv.ts"
import { showValue } from "./internal/show.ts"
import * as Site from "./Site.ts"
import * as Toolsets from "./Toolsets.ts"

/**
 * The environment variables this client reads.
 *
 * @category constants
 * @since 0.1.0
 */
export const VARIABLES = [
  "DATADOG_SITE",
  "DATADOG_MCP_URL",
  "DATADOG_MCP_TOOLSETS",
  "DATADOG_MCP_OMIT_TOOLS",
  "DD_API_KEY",
  "DD_APPLICATION_KEY",
  "DATADOG_ACCESS_TOKEN",
  "DATADOG_CLIENT_ID",
  "DATADOG_CLIENT_SECRET",
  "DATADOG_REDIRECT_URI",
  "MCPAUTH_HOME"
] as const

/**
 * The default OAuth redirect URI (as in the Python client this package re-imagines).
 *
 * @category constants
 * @since 0.1.0
 */
export const DEFAULT_REDIRECT_URI = "http://localhost:8080/callback"

/**
 * How requests to the MCP server are authenticated.
 *
 * @category models
 * @since 0.1.0
 */
export type Auth =
  | {
    readonly _tag: "ApiKey"
    readonly apiKey: Redacted.Redacted<string>
    readonly appKey: Redacted.Redacted<string>
  }
  | { readonly _tag: "AccessToken"; readonly accessToken: Redacted.Redacted<string> }
  | { readonly _tag: "OAuth" }

/**
 * The resolved configuration.
 *
 * @category models
 * @since 0.1.0
 */
export interface DatadogConfig {
  readonly site: Site.DatadogSite
  /** The MCP server URL to connect to, with the `toolsets` / `omit_tools` query parameters. */
  readonly mcpUrl: URL
  /** Whether `mcpUrl` came from `DATADOG_MCP_URL` rather than from the site. */
  readonly mcpUrlOverridden: boolean
  readonly toolsets: ReadonlyArray<string>
  readonly omitTools: ReadonlyArray<string>
  readonly redirectUri: string
  readonly clientId: string | undefined
  readonly clientSecret: Redacted.Redacted<string> | undefined
  /** The OAuth token store directory (`MCPAUTH_HOME`); absent = the store's own default. */
  readonly storeDirectory: string | undefined
  readonly auth: Auth
}

/**
 * Explicit values, which win over the environment and the `.env` file. Lists may be arrays or comma-separated
 * strings; secrets may be plain strings or `Redacted`.
 *
 * @category models
 * @since 0.1.0
 */
export interface DatadogConfigInput {
  readonly site?: string | undefined
  readonly mcpUrl?: string | URL | undefined
  readonly toolsets?: ReadonlyArray<string> | string | undefined
  readonly omitTools?: ReadonlyArray<string> | string | undefined
  readonly apiKey?: string | Redacted.Redacted<string> | undefined
  readonly appKey?: string | Redacted.Redacted<string> | undefined
  readonly accessToken?: string | Redacted.Redacted<string> | undefined
  readonly clientId?: string | undefined
  readonly clientSecret?: string | Redacted.Redacted<string> | undefined
  readonly redirectUri?: string | undefined
  /** The OAuth token store directory (as `MCPAUTH_HOME`). */
  readonly storeDirectory?: string | undefined
}

/**
 * Where the configuration comes from.
 *
 * @category models
 * @since 0.1.0
 */
export interface LoadOptions {
  /** Explicit values; they win over everything else. */
  readonly overrides?: DatadogConfigInput | undefined
  /** The environment; defaults to `process.env`. It wins over the `.env` file. */
  readonly env?: Record<string, string | undefined> | undefined
  /** The `.env` file to read (default `.env` in the working directory); `false` reads none. A missing file is fine. */
  readonly dotEnvPath?: string | false | undefined
  /**
   * **Security-weakening.** Accept an `http:` `DATADOG_MCP_URL` on a host other than loopback, which sends keys and
   * tokens in clear text. Its use is logged.
   */
  readonly allowInsecureHttp?: boolean | undefined
}

const invalid = (variable: string, expected: string, value?: string) =>
  DatadogMcpError.make(
    new DatadogMcpError.InvalidConfig(value === undefined ? { variable, expected } : { variable, expected, value })
  )

const reveal = (v: string | Redacted.Redacted<string>): string => typeof v === "string" ? v : Redacted.value(v)

const overridesRecord = (input: DatadogConfigInput | undefined): Record<string, string> => {
  const out: Record<string, string> = {}
  if (input === undefined) return out
  const put = (name: string, value: string | undefined) => {
    if (value !== undefined) out[name] = value
  }
  const list = (v: ReadonlyArray<string> | string | undefined) =>
    typeof v === "string" || v === undefined ? v : v.join(",")
  put("DATADOG_SITE", input.site)
  put("DATADOG_MCP_URL", input.mcpUrl === undefined ? undefined : String(input.mcpUrl))
  put("DATADOG_MCP_TOOLSETS", list(input.toolsets))
  put("DATADOG_MCP_OMIT_TOOLS", list(input.omitTools))
  put("DD_API_KEY", input.apiKey === undefined ? undefined : reveal(input.apiKey))
  put("DD_APPLICATION_KEY", input.appKey === undefined ? undefined : reveal(input.appKey))
  put("DATADOG_ACCESS_TOKEN", input.accessToken === undefined ? undefined : reveal(input.accessToken))
  put("DATADOG_CLIENT_ID", input.clientId)
  put("DATADOG_CLIENT_SECRET", input.clientSecret === undefined ? undefined : reveal(input.clientSecret))
  put("DATADOG_REDIRECT_URI", input.redirectUri)
  put("MCPAUTH_HOME", input.storeDirectory)
  return out
}

/**
 * The option of `DatadogConfigInput` that sets each variable.
 *
 * @category constants
 * @since 0.1.0
 */
export const OPTION_NAMES: Readonly<Record<(typeof VARIABLES)[number], keyof DatadogConfigInput>> = {
  DATADOG_SITE: "site",
  DATADOG_MCP_URL: "mcpUrl",
  DATADOG_MCP_TOOLSETS: "toolsets",
  DATADOG_MCP_OMIT_TOOLS: "omitTools",
  DD_API_KEY: "apiKey",
  DD_APPLICATION_KEY: "appKey",
  DATADOG_ACCESS_TOKEN: "accessToken",
  DATADOG_CLIENT_ID: "clientId",
  DATADOG_CLIENT_SECRET: "clientSecret",
  DATADOG_REDIRECT_URI: "redirectUri",
  MCPAUTH_HOME: "storeDirectory"
}

const layered = (options: LoadOptions) =>
  Effect.gen(function*() {
    const path = options.dotEnvPath === false ? undefined : options.dotEnvPath ?? ".env"
    const file = path === undefined ? {} : yield* DotEnv.load(path)
    const env = options.env ?? process.env
    const overrides = overridesRecord(options.overrides)
    const provider = ConfigProvider.orElse(
      ConfigProvider.orElse(ConfigProvider.fromEnvRecord(overrides), ConfigProvider.fromEnvRecord({ ...env })),
      ConfigProvider.fromEnvRecord(file)
    )
    // where a variable's value came from, for the errors; undefined = the environment (or nowhere)
    const sourceOf = (variable: string): string | undefined => {
      if (overrides[variable] !== undefined) {
        return `the ${OPTION_NAMES[variable as keyof typeof OPTION_NAMES] ?? variable} option`
      }
      if (env[variable] !== undefined) return undefined
      return file[variable] === undefined ? undefined : path
    }
    return { provider, sourceOf }
  })

/**
 * The layered `ConfigProvider`: explicit overrides, then the environment, then the `.env` file.
 *
 * @category constructors
 * @since 0.1.0
 */
export const provider = (options: LoadOptions = {}): Effect.Effect<
  ConfigProvider.ConfigProvider,
  DatadogMcpError.DatadogMcpError
> => Effect.map(layered(options), (l) => l.provider)

/**
 * Names where a rejected value came from (`DATADOG_SITE (from the site option)`), when that was not the environment.
 */
const withSource = (sourceOf: (variable: string) => string | undefined) => (error: DatadogMcpError.DatadogMcpError) => {
  const reason = error.reason
  if (reason._tag !== "InvalidConfig" && reason._tag !== "UnknownSite" && reason._tag !== "UnsupportedSite") {
    return error
  }
  const source = sourceOf(reason.variable)
  if (source === undefined) return error
  switch (reason._tag) {
    case "InvalidConfig":
      return DatadogMcpError.make(new DatadogMcpError.InvalidConfig({ ...reason, source }))
    case "UnknownSite":
      return DatadogMcpError.make(new DatadogMcpError.UnknownSite({ ...reason, source }))
    case "UnsupportedSite":
      return DatadogMcpError.make(new DatadogMcpError.UnsupportedSite({ ...reason, source }))
  }
}

const readString = (p: ConfigProvider.ConfigProvider, name: string) =>
  Config.option(Config.String(name)).parse(p).pipe(
    Effect.map(Option.getOrUndefined),
    Effect.mapError((e) => invalid(name, `cannot be read: ${e.message}`))
  )

// A header value must be visible ASCII: a key or token with spaces or line breaks would corrupt the request.
const HEADER_SAFE = /^[\x21-\x7e]+$/

const readSecret = (p: ConfigProvider.ConfigProvider, name: string) =>
  Config.option(Config.Redacted(name)).parse(p).pipe(
    Effect.mapError(() => invalid(name, "cannot be read")),
    Effect.flatMap((o) => {
      if (Option.isNone(o)) return Effect.succeed(undefined)
      const value = Redacted.value(o.value).trim()
      if (value === "") return Effect.succeed(undefined)
      if (!HEADER_SAFE.test(value)) {
        return Effect.fail(
          invalid(name, "must be printable ASCII without spaces or line breaks (it is sent in an HTTP header)")
        )
      }
      return Effect.succeed(Redacted.make(value, { label: name }))
    })
  )

const isLoopbackHost = (hostname: string): boolean =>
  hostname === "localhost" || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname)

/**
 * Checks an MCP server URL: absolute `https:` (or `http:` on a loopback host), no user information, no fragment.
 *
 * @category guards
 * @since 0.1.0
 */
export const validateMcpUrl = (
  input: string,
  variable: string = "DATADOG_MCP_URL",
  options: { readonly allowInsecureHttp?: boolean | undefined } = {}
): Effect.Effect<URL, DatadogMcpError.DatadogMcpError> =>
  Effect.gen(function*() {
    const url = URL.parse(input.trim())
    if (url === null) return yield* invalid(variable, "expected an absolute http(s) URL", input)
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      return yield* invalid(variable, "expected an https URL (or http on loopback)", input)
    }
    // Never carry credentials in a URL
    if (url.username !== "" || url.password !== "") {
      return yield* invalid(variable, "must not carry user information (user:password@)")
    }
    // RFC 3986 §3.5: a fragment is never sent to the server; refuse it rather than silently drop it
    if (url.hash !== "") return yield* invalid(variable, "must not have a fragment (#…)", input)
    if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
      if (options.allowInsecureHttp !== true) {
        return yield* invalid(
          variable,
          "an http URL is only allowed on loopback (localhost, 127.0.0.1, [::1]); use https",
          input
        )
      }
      yield* Effect.logWarning(
        `${variable}: allowInsecureHttp is set; credentials go in clear text to ${url.origin}`
      )
    }
    return url
  })

/**
 * Checks an OAuth redirect URI: `https:`, or `http:` on a loopback host; absolute; no fragment.
 *
 * @see [RFC 8252 §7.3 - Loopback Interface Redirection](https://www.rfc-editor.org/rfc/rfc8252#section-7.3)
 * @see [RFC 6749 §3.1.2 - Redirection Endpoint](https://www.rfc-editor.org/rfc/rfc6749#section-3.1.2)
 * @category guards
 * @since 0.1.0
 */
export const validateRedirectUri = (
  input: string,
  variable: string = "DATADOG_REDIRECT_URI"
): Effect.Effect<string, DatadogMcpError.DatadogMcpError> =>
  Effect.gen(function*() {
    const url = URL.parse(input.trim())
    // RFC 6749 §3.1.2: the redirection endpoint URI MUST be an absolute URI
    if (url === null) return yield* invalid(variable, "expected an absolute URI", input)
    // RFC 6749 §3.1.2: the endpoint URI MUST NOT include a fragment component
    if (url.hash !== "") return yield* invalid(variable, "must not have a fragment (#…)", input)
    // RFC 8252 §7.3 / §8.3: http redirects only on the loopback interface; anything else must be https
    if (url.protocol === "http:") {
      if (!isLoopbackHost(url.hostname)) {
        return yield* invalid(
          variable,
          "an http redirect URI must be on loopback (localhost, 127.0.0.1, [::1]); otherwise use https",
          input
        )
      }
    } else if (url.protocol !== "https:") {
      return yield* invalid(variable, "expected an https URI or a loopback http URI", input)
    }
    return input.trim()
  })

const readList = (
  p: ConfigProvider.ConfigProvider,
  name: string,
  check: (item: string) => boolean,
  what: string
) =>
  readString(p, name).pipe(
    Effect.flatMap((raw) => {
      const items = raw === undefined ? [] : Toolsets.parseList(raw)
      const bad = items.find((i) => !check(i))
      if (bad === undefined) return Effect.succeed(items)
      // the whole value only when it is more than the bad item, so a long value is not echoed twice
      return Effect.fail(
        invalid(name, `${showValue(bad)} is not ${what}`, raw === undefined || raw.trim() === bad ? undefined : raw)
      )
    })
  )

/**
 * Reads and checks the configuration from a `ConfigProvider`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromProvider = (
  p: ConfigProvider.ConfigProvider,
  options: { readonly allowInsecureHttp?: boolean | undefined } = {}
): Effect.Effect<DatadogConfig, DatadogMcpError.DatadogMcpError> =>
  Effect.gen(function*() {
    const siteName = (yield* readString(p, "DATADOG_SITE")) ?? Site.DEFAULT_SITE.domain
    const site = yield* Site.resolve(siteName, "DATADOG_SITE")

    const toolsets = yield* readList(p, "DATADOG_MCP_TOOLSETS", Toolsets.isToolsetName, "a toolset name")
    const unknown = Toolsets.unknownToolsets(toolsets)
    if (unknown.length > 0) {
      yield* Effect.logWarning(
        `DATADOG_MCP_TOOLSETS: unknown toolset(s) ${unknown.join(", ")} (sent anyway; known: ${
          [...Toolsets.KNOWN_TOOLSETS].join(", ")
        })`
      )
    }
    const omitTools = yield* readList(p, "DATADOG_MCP_OMIT_TOOLS", Toolsets.isToolName, "an MCP tool name")

    const override = yield* readString(p, "DATADOG_MCP_URL")
    const base = override === undefined
      ? new URL(site.mcpUrl)
      : yield* validateMcpUrl(override, "DATADOG_MCP_URL", options)
    const mcpUrl = Toolsets.withQuery(base, { toolsets, omitTools })

    const redirectUri = yield* validateRedirectUri(
      (yield* readString(p, "DATADOG_REDIRECT_URI")) ?? DEFAULT_REDIRECT_URI
    )
    const clientId = (yield* readString(p, "DATADOG_CLIENT_ID"))?.trim() || undefined
    const clientSecret = yield* readSecret(p, "DATADOG_CLIENT_SECRET")
    if (clientSecret !== undefined && clientId === undefined) {
      return yield* invalid(
        "DATADOG_CLIENT_SECRET",
        "is set but DATADOG_CLIENT_ID is not; a client secret needs its client id"
      )
    }

    const storeDirectory = (yield* readString(p, "MCPAUTH_HOME"))?.trim() || undefined

    const apiKey = yield* readSecret(p, "DD_API_KEY")
    const appKey = yield* readSecret(p, "DD_APPLICATION_KEY")
    const accessToken = yield* readSecret(p, "DATADOG_ACCESS_TOKEN")
    if (apiKey !== undefined && appKey === undefined) {
      return yield* invalid("DD_APPLICATION_KEY", "is missing; DD_API_KEY and DD_APPLICATION_KEY go together")
    }
    if (appKey !== undefined && apiKey === undefined) {
      return yield* invalid("DD_API_KEY", "is missing; DD_API_KEY and DD_APPLICATION_KEY go together")
    }
    if (apiKey !== undefined && accessToken !== undefined) {
      return yield* invalid(
        "DATADOG_ACCESS_TOKEN",
        "is set together with DD_API_KEY and DD_APPLICATION_KEY; choose one authentication mode"
      )
    }
    const auth: Auth = apiKey !== undefined && appKey !== undefined
      ? { _tag: "ApiKey", apiKey, appKey }
      : accessToken !== undefined
      ? { _tag: "AccessToken", accessToken }
      : { _tag: "OAuth" }

    return {
      site,
      mcpUrl,
      mcpUrlOverridden: override !== undefined,
      toolsets,
      omitTools,
      redirectUri,
      clientId,
      clientSecret,
      storeDirectory,
      auth
    }
  })

/**
 * Loads the configuration: explicit overrides, then the environment, then the `.env` file.
 *
 * **Example** (API-key mode from the environment)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { DatadogConfig } from "@mcpauth/mcp-datadog"
 *
 * const config = DatadogConfig.load({ overrides: { site: "eu1" } })
 * // Effect<DatadogConfig, DatadogMcpError>: config.mcpUrl is https://mcp.datadoghq.eu/v1/mcp
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const load = (options: LoadOptions = {}): Effect.Effect<DatadogConfig, DatadogMcpError.DatadogMcpError> =>
  layered(options).pipe(
    Effect.flatMap(({ provider, sourceOf }) =>
      fromProvider(provider, options).pipe(Effect.mapError(withSource(sourceOf)))
    )
  )
