// Advanced example: step-up authorization (MCP §Scope Challenge Handling). Reads need mcp_all; the write tool
// upsert_datadog_dashboard needs mcp_write, so the server answers 403 insufficient_scope and the client
// re-authorizes with the union of scopes, then retries the call once it holds them.
import { DatadogConfig, DatadogMcp, DatadogOAuth } from "@mcpauth/mcp-datadog"
import { startSandbox } from "@mcpauth/sandbox"
import { TokenStore } from "@mcpauth/token-store"
import { Effect, Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { automaticConsent } from "../Consent.ts"
import * as R from "../Render.ts"

R.heading("Step-up authorization for a write tool")
const sandbox = await startSandbox({ profile: "datadog" })
try {
  await Effect.runPromise(Effect.gen(function*() {
    const config = yield* DatadogConfig.load({ overrides: { mcpUrl: sandbox.mcpUrl }, env: {}, dotEnvPath: false })
    const live = DatadogMcp.layer({ url: config.mcpUrl }).pipe(
      Layer.provideMerge(
        DatadogOAuth.layer(config, {
          userAgent: automaticConsent,
          store: TokenStore.layerMemory,
          events: R.eventPrinter()
        })
      ),
      Layer.provide(FetchHttpClient.layer)
    )
    yield* Effect.gen(function*() {
      const dd = yield* DatadogMcp.DatadogMcp
      R.heading("Reading works with the first grant (scope mcp_all)")
      R.ok(`${(yield* dd.listTools).length} tools`)
      R.heading("Writing: upsert_datadog_dashboard")
      const result = yield* dd.callTool("upsert_datadog_dashboard", { title: "Created by the step-up example" })
      R.ok(
        `the write succeeded after step-up: ${
          result.content.map((c) => ("text" in c ? c.text : "")).join("").slice(0, 160)
        }`
      )
    }).pipe(Effect.provide(live))
  }))
  const authorizations = sandbox.stats().requests.filter((r) => r.path.endsWith("/authorize")).length
  R.ok(`${authorizations} authorization requests in all (the first sign-in and one step-up)`)
} finally {
  await sandbox.close()
}
