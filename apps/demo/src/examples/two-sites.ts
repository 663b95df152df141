// Advanced example: two Datadog sites side by side. Each site has its own authorization server, so each gets its
// own registration (MCP §Authorization Server Binding: credentials from one issuer are never offered to another),
// kept in one token store.
import { DatadogConfig, DatadogMcp, DatadogOAuth } from "@mcpauth/mcp-datadog"
import { startSandbox } from "@mcpauth/sandbox"
import { TokenStore } from "@mcpauth/token-store"
import { Effect, Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { automaticConsent } from "../Consent.ts"
import * as R from "../Render.ts"

R.heading("Two sites side by side (two sandboxes standing in for US1 and EU1)")
const us1 = await startSandbox({ profile: "datadog" })
const eu1 = await startSandbox({ profile: "datadog" })
const dir = await mkdtemp(join(tmpdir(), "mcpauth-two-sites-"))
const store = TokenStore.layerFile({ directory: dir })
try {
  await Effect.runPromise(Effect.gen(function*() {
    for (const [name, sandbox] of [["US1", us1], ["EU1", eu1]] as const) {
      const config = yield* DatadogConfig.load({ overrides: { mcpUrl: sandbox.mcpUrl }, env: {}, dotEnvPath: false })
      yield* Effect.gen(function*() {
        const dd = yield* DatadogMcp.DatadogMcp
        R.ok(`${name}: ${(yield* dd.listTools).length} tools from ${sandbox.mcpUrl}`)
      }).pipe(Effect.provide(
        DatadogMcp.layer({ url: config.mcpUrl }).pipe(
          Layer.provideMerge(DatadogOAuth.layer(config, { userAgent: automaticConsent, store })),
          Layer.provide(FetchHttpClient.layer)
        )
      ))
    }
    const entries = yield* Effect.gen(function*() {
      return yield* (yield* TokenStore.TokenStore).list
    }).pipe(Effect.provide(store))
    R.heading("The token store holds one entry per site, each with its own client")
    R.table(["issuer", "client_id"], entries.map((e) => [e.issuer, e.client_id]))
    const ids = new Set(entries.map((e) => e.client_id))
    ;(ids.size === 2 ? R.ok : R.fail)(`${ids.size} distinct registrations`)
  }))
} finally {
  await us1.close()
  await eu1.close()
  await rm(dir, { recursive: true, force: true })
}
