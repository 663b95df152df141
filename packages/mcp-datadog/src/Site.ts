/**
 * Datadog sites and the remote MCP server URL of each (`https://mcp.<site>/v1/mcp`).
 *
 * Accepts a site's domain (`datadoghq.eu`) or its short name (`eu1`), in any case. The government sites
 * (`ddog-gov.com`) are refused with the reason; anything else unknown fails with the list of valid sites.
 *
 * @see [Datadog MCP Server setup](https://docs.datadoghq.com/bits_ai/mcp_server/setup/)
 * @since 0.1.0
 */
import { Effect } from "effect"
import * as DatadogMcpError from "./DatadogMcpError.ts"

/**
 * One Datadog site.
 *
 * @category models
 * @since 0.1.0
 */
export interface DatadogSite {
  /** The short name, e.g. `us1`. */
  readonly id: "us1" | "us3" | "us5" | "eu1" | "ap1" | "ap2"
  /** The site's domain as Datadog spells it, e.g. `datadoghq.com` (the value of `DATADOG_SITE`). */
  readonly domain: string
  /** The remote MCP server URL, `https://mcp.<domain>/v1/mcp`. */
  readonly mcpUrl: string
  /** The web application origin, e.g. `https://app.datadoghq.com`. */
  readonly appUrl: string
}

const site = (id: DatadogSite["id"], domain: string, appUrl: string): DatadogSite => ({
  id,
  domain,
  mcpUrl: `https://mcp.${domain}/v1/mcp`,
  appUrl
})

/**
 * The supported sites, US1 first (the default).
 *
 * @category constants
 * @since 0.1.0
 */
export const SITES: ReadonlyArray<DatadogSite> = [
  site("us1", "datadoghq.com", "https://app.datadoghq.com"),
  site("us3", "us3.datadoghq.com", "https://us3.datadoghq.com"),
  site("us5", "us5.datadoghq.com", "https://us5.datadoghq.com"),
  site("eu1", "datadoghq.eu", "https://app.datadoghq.eu"),
  site("ap1", "ap1.datadoghq.com", "https://ap1.datadoghq.com"),
  site("ap2", "ap2.datadoghq.com", "https://ap2.datadoghq.com")
]

/**
 * The default site, US1 (`datadoghq.com`).
 *
 * @category constants
 * @since 0.1.0
 */
export const DEFAULT_SITE: DatadogSite = SITES[0] as DatadogSite

const GOV_WHY = "Datadog's remote MCP server is not available on the government sites (ddog-gov.com); " +
  "use a local MCP server there, or set DATADOG_MCP_URL if your organisation runs one"

const isGovernment = (name: string): boolean =>
  name === "gov" || name === "gov2" || name.endsWith("-fed") || name === "ddog-gov.com" ||
  name.endsWith(".ddog-gov.com")

/**
 * The valid spellings, for error messages: `datadoghq.com (us1), …`.
 *
 * @category constants
 * @since 0.1.0
 */
export const validNames: ReadonlyArray<string> = SITES.map((s) => `${s.domain} (${s.id})`)

/**
 * Resolves a site name (domain or short name, any case, surrounding spaces ignored; a leading `app.` or a scheme is
 * tolerated, so `https://app.datadoghq.eu` works too). `variable` names where the value came from, for the error.
 *
 * @category constructors
 * @since 0.1.0
 */
export const resolve = (
  input: string,
  variable: string = "DATADOG_SITE"
): Effect.Effect<DatadogSite, DatadogMcpError.DatadogMcpError> => {
  const name = input.trim().toLowerCase().replace(/^https?:\/\//, "").replace(/\/+$/, "").replace(/^app\./, "")
  const found = SITES.find((s) => s.id === name || s.domain === name)
  if (found !== undefined) return Effect.succeed(found)
  if (isGovernment(name)) {
    return Effect.fail(
      DatadogMcpError.make(new DatadogMcpError.UnsupportedSite({ site: input, variable, why: GOV_WHY }))
    )
  }
  return Effect.fail(
    DatadogMcpError.make(new DatadogMcpError.UnknownSite({ site: input, variable, valid: validNames }))
  )
}
