/**
 * The tool and toolset catalogue the sandbox serves: Datadog's real tool names (from the public documentation, see
 * /work/shared/datadog/official_toolsets_and_tools.json) grouped into Datadog's toolsets, each tagged with the kind
 * of input it takes and whether it writes (which decides the scope it needs).
 */

/** What a tool takes as input; decides its JSON input schema and its synthetic data. */
export type ToolKind =
  | "logs"
  | "logs-analyze"
  | "metric"
  | "metrics"
  | "metric-context"
  | "monitors"
  | "trace"
  | "spans"
  | "dashboards"
  | "dashboard"
  | "events"
  | "hosts"
  | "incidents"
  | "incident"
  | "notebook"
  | "notebooks"
  | "services"
  | "service-deps"
  | "docs"
  | "aggregate"
  | "write"
  | "generic-search"
  | "generic-get"

export interface ToolSpec {
  readonly name: string
  readonly description: string
  readonly kind: ToolKind
  /** `true` for tools that change something in the org: they need the `mcp_write` scope. */
  readonly write: boolean
}

const t = (name: string, kind: ToolKind, description: string, write = false): ToolSpec => ({
  name,
  kind,
  description,
  write
})

/** The `core` toolset, the default (`default_toolsets: ["core"]`). */
export const coreTools: ReadonlyArray<ToolSpec> = [
  t(
    "search_datadog_logs",
    "logs",
    "Search logs with filters (time, query, service, host, storage tier) and return log details."
  ),
  t(
    "analyze_datadog_logs",
    "logs-analyze",
    "Analyze logs using SQL queries for counting, aggregations, numerical analysis."
  ),
  t("get_datadog_metric", "metric", "Query historical/real-time metric data with custom queries and aggregations."),
  t(
    "search_datadog_metrics",
    "metrics",
    "List available metrics with filtering and metadata (searches last 2 weeks by default)."
  ),
  t("get_datadog_metric_context", "metric-context", "Metric metadata, available tags and tag values."),
  t("search_datadog_monitors", "monitors", "Monitors with statuses, thresholds, alert conditions."),
  t("get_datadog_trace", "trace", "Fetch a complete APM trace by trace ID (large traces truncated)."),
  t("search_datadog_spans", "spans", "Spans filtered by service, time, resource, etc."),
  t("search_datadog_dashboards", "dashboards", "List dashboards and key details."),
  t("get_datadog_dashboard", "dashboard", "Dashboard by ID with widgets."),
  t("upsert_datadog_dashboard", "write", "Create/update dashboard (write).", true),
  t("search_datadog_events", "events", "Events: monitor alerts, deployments, infra changes."),
  t("search_datadog_hosts", "hosts", "Hosts with filtering/search."),
  t("search_datadog_incidents", "incidents", "Incidents with state, severity, metadata."),
  t("get_datadog_incident", "incident", "Incident details (no timeline data)."),
  t("get_datadog_notebook", "notebook", "Notebook by ID."),
  t("search_datadog_notebooks", "notebooks", "Search notebooks (count, include_facets params)."),
  t("create_datadog_notebook", "write", "Create notebook (write).", true),
  t("edit_datadog_notebook", "write", "Edit notebook (write).", true),
  t("search_datadog_rum_events", "events", "RUM events with advanced query syntax."),
  t("search_datadog_services", "services", "Services in Software Catalog."),
  t(
    "search_datadog_service_dependencies",
    "service-deps",
    "Upstream/downstream deps (default downstream) and team-owned services."
  ),
  t("search_datadog_docs", "docs", "RAG search over Datadog docs."),
  t("aggregate_spans", "aggregate", "Counts/groupings/percentiles over spans."),
  t("aggregate_events", "aggregate", "Counts/groupings/percentiles over events."),
  t("aggregate_rum_events", "aggregate", "Counts/groupings/percentiles over RUM events."),
  t("submit_mcp_feedback", "generic-get", "Agent-submitted feedback about the MCP server.")
]

const search = (name: string, description = "Search (synthetic).") => t(name, "generic-search", description)
const get = (name: string, description = "Get by ID (synthetic).") => t(name, "generic-get", description)
const write = (name: string, description = "Write (synthetic).") => t(name, "write", description, true)

/** Non-core toolsets (names from Datadog's documentation), served with generic synthetic handlers. */
export const otherToolsets: Readonly<Record<string, ReadonlyArray<ToolSpec>>> = {
  alerting: [
    get("validate_datadog_monitor"),
    get("get_datadog_monitor_templates"),
    search("search_datadog_monitor_groups"),
    search("search_datadog_slos"),
    write("create_datadog_monitor", "Create a draft monitor (priority 5, no notifications) (write)."),
    get("get_monitor_coverage")
  ],
  apm: [
    search("apm_search_spans"),
    get("apm_query_trace"),
    search("apm_discover_span_tags"),
    get("apm_get_primary_tag_keys"),
    search("apm_search_watchdog_stories"),
    get("apm_get_watchdog_story"),
    get("apm_latency_bottleneck_summary"),
    get("get_change_stories"),
    search("semantic_search_change_stories"),
    search("apm_search_recommendations"),
    get("apm_get_recommendation")
  ],
  cases: [
    search("search_datadog_cases"),
    get("get_datadog_case"),
    write("create_datadog_case"),
    write("update_datadog_case"),
    write("add_comment_to_datadog_case"),
    write("link_jira_issue_to_datadog_case"),
    search("list_datadog_case_projects"),
    get("get_datadog_case_project"),
    search("search_datadog_users")
  ],
  dashboards: [
    t("get_datadog_dashboard", "dashboard", "Dashboard by ID with widgets."),
    t("upsert_datadog_dashboard", "write", "Create/update dashboard (write).", true),
    write("delete_datadog_dashboard", "Delete a dashboard (write)."),
    get("get_widget_reference"),
    get("validate_dashboard_widget"),
    get("ask_widget_expert")
  ],
  dbm: [
    search("find_datadog_database_instances"),
    get("get_datadog_database_calling_services"),
    get("get_datadog_database_explain_plans"),
    get("get_datadog_database_health_signals"),
    get("get_datadog_database_query_performance"),
    get("get_datadog_database_query_statement"),
    get("get_datadog_database_recommendations"),
    get("get_datadog_database_schemas"),
    get("optimize_datadog_database_query"),
    search("search_datadog_database_plans"),
    search("search_datadog_database_samples")
  ],
  ddsql: [
    get("ddsql_get_spec"),
    search("ddsql_schema_search_tables"),
    get("ddsql_schema_get_table_columns"),
    search("ddsql_schema_search_unstructured_fields"),
    search("ddsql_run_query")
  ],
  "error-tracking": [search("search_datadog_error_tracking_issues"), get("get_datadog_error_tracking_issue")],
  kubernetes: [search("search_datadog_k8s_resources")],
  llmobs: [search("search_llmobs_spans")],
  networks: [
    get("analyze_cloud_network_monitoring"),
    search("search_ndm_devices"),
    get("get_ndm_device"),
    search("search_ndm_interfaces"),
    get("get_network_path_test_runs")
  ],
  security: [
    get("datadog_code_security_scan"),
    get("datadog_sast_scan"),
    get("datadog_secrets_scan"),
    search("search_datadog_security_signals"),
    get("security_findings_schema"),
    get("analyze_security_findings"),
    search("search_security_findings")
  ],
  "software-delivery": [
    search("search_datadog_ci_pipeline_events"),
    search("aggregate_datadog_ci_pipeline_events"),
    get("get_datadog_flaky_tests"),
    search("aggregate_datadog_test_events"),
    search("search_datadog_test_events"),
    get("get_datadog_code_coverage_branch_summary"),
    get("get_datadog_code_coverage_commit_summary")
  ],
  synthetics: [
    get("get_synthetics_tests"),
    write("edit_synthetics_tests"),
    get("synthetics_test_wizard")
  ],
  workflows: [
    search("list_datadog_workflows"),
    get("get_datadog_workflow"),
    write("execute_datadog_workflow"),
    get("get_datadog_workflow_instance"),
    write("update_datadog_workflow_with_agent_trigger")
  ],
  // Documented GA toolsets whose tool names are not public: accepted, serve no extra tool.
  cost: [],
  "data-observability": [],
  "feature-flags": [],
  onboarding: [],
  "product-analytics": [],
  profiling: [],
  "reference-tables": [],
  widgets: [],
  // Preview toolsets whose tool names are not public.
  "code-exec": [],
  "remote-actions": [],
  rum: []
}

export const defaultToolsets: ReadonlyArray<string> = ["core"]

export const gaToolsets: ReadonlyArray<string> = [
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

export const previewToolsets: ReadonlyArray<string> = ["apm", "code-exec", "remote-actions", "rum"]

/** The tools of one toolset, or `undefined` for a name Datadog does not have. */
export const toolsOf = (toolset: string): ReadonlyArray<ToolSpec> | undefined =>
  toolset === "core" ? coreTools : otherToolsets[toolset]

/** The outcome of resolving the `toolsets` / `omit_tools` selection of a session. */
export type Selection =
  | {
    readonly _tag: "Ok"
    readonly toolsets: ReadonlyArray<string>
    readonly tools: ReadonlyArray<ToolSpec>
    readonly unknownOmitted: ReadonlyArray<string>
  }
  | { readonly _tag: "UnknownToolset"; readonly names: ReadonlyArray<string> }

/**
 * Resolves a session's tool selection like Datadog documents it: `toolsets` is a comma list (`all` = every GA
 * toolset; absent = the defaults), then `omit_tools` removes tools by name (unknown names are reported, not fatal).
 */
export const select = (toolsetsParam: string | undefined, omitParam: string | undefined): Selection => {
  const requested = splitList(toolsetsParam)
  const expanded = requested.length === 0
    ? defaultToolsets
    : [...new Set(requested.flatMap((name) => name === "all" ? gaToolsets : [name]))]
  const unknown = expanded.filter((name) => toolsOf(name) === undefined)
  if (unknown.length > 0) return { _tag: "UnknownToolset", names: unknown }
  const omit = new Set(splitList(omitParam))
  const byName = new Map<string, ToolSpec>()
  for (const name of expanded) for (const tool of toolsOf(name) ?? []) byName.set(tool.name, tool)
  const unknownOmitted = [...omit].filter((name) => !byName.has(name))
  const tools = [...byName.values()].filter((tool) => !omit.has(tool.name))
  return { _tag: "Ok", toolsets: expanded, tools, unknownOmitted }
}

const splitList = (value: string | undefined): ReadonlyArray<string> =>
  value === undefined ? [] : value.split(",").map((s) => s.trim()).filter((s) => s.length > 0)

/** The `datadog://mcp/toolsets` resource body: the catalogue with enabled/default/preview flags. */
export const toolsetCatalog = (enabled: ReadonlyArray<string>) => ({
  toolsets: [...gaToolsets, ...previewToolsets].map((name) => ({
    name,
    enabled: enabled.includes(name),
    default: defaultToolsets.includes(name),
    preview: previewToolsets.includes(name),
    tools: (toolsOf(name) ?? []).map((tool) => tool.name)
  })),
  aliases: [{ name: "all", expandsTo: gaToolsets }]
})
