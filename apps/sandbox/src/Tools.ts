/**
 * Registers the selected Datadog tools and the `datadog://mcp/*` resources on an MCP server (official SDK), each
 * tool with a JSON input schema (from zod) and deterministic synthetic data.
 */
import type { McpServer } from "@modelcontextprotocol/server"
import * as z from "zod"
import type { ToolKind, ToolSpec } from "./Catalog.ts"
import { toolsetCatalog } from "./Catalog.ts"
import { run, whoami } from "./SyntheticData.ts"

const time = {
  from: z.string().optional().describe(
    "Start: ISO 8601 (a date alone is midnight UTC), epoch, or now-<n><s|m|h|d|w>. Default: to - 1h."
  ),
  to: z.string().optional().describe("End: ISO 8601, epoch, or now-<n><s|m|h|d|w>. Default: now.")
}
const query = z.string().optional().describe(
  "Search query: key:value terms (value may end with *), -key:value, free text."
)
const limit = z.number().int().positive().max(1000).optional().describe("Maximum number of results (default 50).")
const maxTokens = z.number().int().positive().optional().describe("Response token budget (accepted, not enforced).")

const schemaFor = (tool: ToolSpec) => {
  const kind: ToolKind = tool.kind
  switch (kind) {
    case "logs":
      return z.object({
        query,
        ...time,
        limit,
        storage_tier: z.enum(["indexes", "online-archives", "flex"]).optional(),
        max_tokens: maxTokens
      })
    case "logs-analyze":
      return z.object({
        sql_query: z.string().describe("SQL over the logs table."),
        filter: query,
        ...time,
        max_tokens: maxTokens
      })
    case "metric":
      return z.object({
        queries: z.union([z.string(), z.array(z.string()).min(1)]).describe(
          "Metric queries, e.g. avg:system.cpu.user{service:web-store}."
        ),
        ...time,
        max_tokens: maxTokens
      })
    case "metrics":
    case "monitors":
    case "dashboards":
    case "hosts":
    case "incidents":
    case "services":
    case "generic-search":
      return z.object({ query, limit, max_tokens: maxTokens })
    case "notebooks":
      return z.object({ query, count: limit, include_facets: z.boolean().optional(), max_tokens: maxTokens })
    case "metric-context":
      return z.object({ metric_name: z.string().describe("Metric name, e.g. system.cpu.user."), max_tokens: maxTokens })
    case "trace":
      return z.object({
        trace_id: z.string().describe("Trace ID."),
        include_path: z.array(z.string()).optional(),
        max_tokens: maxTokens
      })
    case "spans":
    case "events":
      return z.object({ query, ...time, limit, max_tokens: maxTokens })
    case "aggregate":
      return z.object({
        query,
        ...time,
        group_by: z.string().optional().describe("Facet to group by (default service)."),
        max_tokens: maxTokens
      })
    case "dashboard":
      return z.object({ dashboard_id: z.string().describe("Dashboard ID."), max_tokens: maxTokens })
    case "incident":
      return z.object({ incident_id: z.string().describe("Incident ID or public ID."), max_tokens: maxTokens })
    case "notebook":
      return z.object({
        notebook_id: z.union([z.string(), z.number()]).describe("Notebook ID."),
        max_tokens: maxTokens
      })
    case "service-deps":
      return z.object({
        service: z.string(),
        direction: z.enum(["upstream", "downstream"]).optional(),
        max_tokens: maxTokens
      })
    case "docs":
      return z.object({ query: z.string().describe("Question about Datadog."), max_tokens: maxTokens })
    case "write":
      return tool.name === "upsert_datadog_dashboard"
        ? z.object({
          id: z.string().optional().describe("Dashboard ID to update; absent creates one."),
          title: z.string(),
          widgets: z.array(z.record(z.string(), z.unknown())).optional()
        })
        : tool.name === "create_datadog_notebook"
        ? z.object({ name: z.string(), cells: z.array(z.record(z.string(), z.unknown())).optional() })
        : z.object({ id: z.string().optional(), payload: z.record(z.string(), z.unknown()).optional() })
    case "generic-get":
      return z.object({ id: z.string().optional(), max_tokens: maxTokens })
  }
}

export interface SessionInfo {
  readonly toolsets: ReadonlyArray<string>
  readonly account: { readonly sub: string; readonly email: string; readonly name: string }
  readonly now: () => number
}

/** Registers the given tools and the two Datadog resources on `server`. */
export const register = (server: McpServer, tools: ReadonlyArray<ToolSpec>, info: SessionInfo): void => {
  for (const tool of tools) {
    server.registerTool(
      tool.name,
      {
        description: tool.description,
        inputSchema: schemaFor(tool),
        annotations: { readOnlyHint: !tool.write, destructiveHint: tool.write, openWorldHint: false }
      },
      (args: Record<string, unknown>) => {
        const outcome = run(tool.name, tool.kind, args, info.now())
        return outcome.ok
          ? { content: [{ type: "text" as const, text: JSON.stringify(outcome.data) }] }
          : { content: [{ type: "text" as const, text: outcome.message }], isError: true }
      }
    )
  }
  server.registerResource(
    "whoami",
    "datadog://mcp/whoami",
    {
      title: "Who am I",
      description: "The user and organisation of the credentials in use.",
      mimeType: "application/json"
    },
    (uri: URL) => ({
      contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(whoami(info.account)) }]
    })
  )
  server.registerResource(
    "toolsets",
    "datadog://mcp/toolsets",
    {
      title: "Toolsets",
      description: "The toolset catalogue and which toolsets this session enabled.",
      mimeType: "application/json"
    },
    (uri: URL) => ({
      contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(toolsetCatalog(info.toolsets)) }]
    })
  )
}
