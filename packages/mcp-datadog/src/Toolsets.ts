/**
 * Datadog MCP toolsets and the MCP server URL with its `toolsets` / `omit_tools` query parameters.
 *
 * Toolset names are checked against the names Datadog documents (GA and preview sets, plus `all`); an unknown name
 * is reported as a warning and still sent, since Datadog adds toolsets over time.
 *
 * @see [Datadog MCP Server toolsets](https://docs.datadoghq.com/bits_ai/mcp_server/toolsets/)
 * @since 0.1.0
 */

/**
 * The generally available toolsets; `core` is the server's default.
 *
 * @category constants
 * @since 0.1.0
 */
export const GA_TOOLSETS: ReadonlyArray<string> = [
  "core",
  "alerting",
  "cases",
  "cost",
  "dashboards",
  "data-observability",
  "dbm",
  "ddsql",
  "error-tracking",
  "feature-flags",
  "kubernetes",
  "llmobs",
  "networks",
  "onboarding",
  "product-analytics",
  "profiling",
  "reference-tables",
  "security",
  "software-delivery",
  "synthetics",
  "widgets",
  "workflows"
]

/**
 * The preview toolsets.
 *
 * @category constants
 * @since 0.1.0
 */
export const PREVIEW_TOOLSETS: ReadonlyArray<string> = ["apm", "code-exec", "remote-actions", "rum"]

/**
 * Every name accepted without a warning: the GA and preview toolsets and `all` (all GA toolsets).
 *
 * @category constants
 * @since 0.1.0
 */
export const KNOWN_TOOLSETS: ReadonlySet<string> = new Set([...GA_TOOLSETS, ...PREVIEW_TOOLSETS, "all"])

/**
 * Splits a comma-separated list: trims each item, drops empty ones and duplicates, keeps the order.
 *
 * @category constructors
 * @since 0.1.0
 */
export const parseList = (input: string): ReadonlyArray<string> => {
  const out: Array<string> = []
  for (const item of input.split(",")) {
    const name = item.trim()
    if (name !== "" && !out.includes(name)) out.push(name)
  }
  return out
}

/**
 * The toolset names that are not known (to be reported as warnings).
 *
 * @category guards
 * @since 0.1.0
 */
export const unknownToolsets = (toolsets: ReadonlyArray<string>): ReadonlyArray<string> =>
  toolsets.filter((t) => !KNOWN_TOOLSETS.has(t))

// MCP 2025-11-25 Tools §Tool Names: 1..128 characters of A-Z a-z 0-9 _ - .
const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/
// Toolset names as Datadog spells them (lowercase words joined by "-"); anything else could not be a toolset
const TOOLSET_NAME = /^[A-Za-z0-9_.-]{1,64}$/

/**
 * Whether a string can be an MCP tool name (1..128 of `A-Z a-z 0-9 _ - .`).
 *
 * @category guards
 * @since 0.1.0
 */
export const isToolName = (name: string): boolean => TOOL_NAME.test(name)

/**
 * Whether a string can be a toolset name (the characters that survive a comma-separated query parameter).
 *
 * @category guards
 * @since 0.1.0
 */
export const isToolsetName = (name: string): boolean => TOOLSET_NAME.test(name)

/**
 * The MCP server URL with `toolsets` and `omit_tools` set (replacing any already in the URL). The lists are joined
 * with literal commas, as Datadog documents (`?toolsets=core,alerting`); empty lists leave the parameter out, so the
 * server applies its defaults.
 *
 * @category constructors
 * @since 0.1.0
 */
export const withQuery = (
  base: URL | string,
  options: {
    readonly toolsets?: ReadonlyArray<string> | undefined
    readonly omitTools?: ReadonlyArray<string> | undefined
  }
): URL => {
  const url = new URL(base)
  url.searchParams.delete("toolsets")
  url.searchParams.delete("omit_tools")
  const parts: Array<string> = url.search === "" ? [] : [url.search.slice(1)]
  if (options.toolsets !== undefined && options.toolsets.length > 0) {
    parts.push(`toolsets=${options.toolsets.map(encodeURIComponent).join(",")}`)
  }
  if (options.omitTools !== undefined && options.omitTools.length > 0) {
    parts.push(`omit_tools=${options.omitTools.map(encodeURIComponent).join(",")}`)
  }
  url.search = parts.length === 0 ? "" : `?${parts.join("&")}`
  return url
}
