// Advanced example: logout with revocation (RFC 7009). The refresh token is revoked first, then the access token;
// the tokens are always forgotten locally, and what the server could not revoke is reported, not thrown.
import { McpAuthorization } from "@mcpauth/mcp-auth"
import { DatadogConfig, DatadogMcp, DatadogOAuth } from "@mcpauth/mcp-datadog"
import { startSandbox } from "@mcpauth/sandbox"
import { TokenStore } from "@mcpauth/token-store"
import { Effect, Layer, Redacted } from "effect"
import { FetchHttpClient } from "effect/http"
import { automaticConsent } from "../Consent.ts"
import * as R from "../Render.ts"

R.heading("Logout with revocation")
const sandbox = await startSandbox({ profile: "datadog" })
try {
  await Effect.runPromise(Effect.gen(function*() {
    const config = yield* DatadogConfig.load({ overrides: { mcpUrl: sandbox.mcpUrl }, env: {}, dotEnvPath: false })
    const live = DatadogMcp.layer({ url: config.mcpUrl }).pipe(
      Layer.provideMerge(DatadogOAuth.layer(config, { userAgent: automaticConsent, store: TokenStore.layerMemory })),
      Layer.provide(FetchHttpClient.layer)
    )
    yield* Effect.gen(function*() {
      const dd = yield* DatadogMcp.DatadogMcp
      const auth = yield* McpAuthorization.McpAuthorization
      R.ok(`signed in; ${(yield* dd.listTools).length} tools`)
      const old = (yield* auth.session)?.tokens?.access_token
      const outcome = yield* auth.signOut
      for (const o of outcome) {
        ;(o.revoked ? R.ok : R.warn)(`${o.token}: ${o.revoked ? "revoked" : `not revoked — ${o.detail}`}`)
      }
      R.ok(`local tokens forgotten: ${(yield* auth.session)?.tokens === undefined}`)
      if (old !== undefined) {
        const res = yield* Effect.promise(() =>
          fetch(sandbox.mcpUrl, {
            method: "POST",
            headers: {
              authorization: `Bearer ${Redacted.value(old)}`,
              "content-type": "application/json",
              accept: "application/json, text/event-stream"
            },
            body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" })
          })
        )
        R.ok(`the old access token is now refused by the server: HTTP ${res.status}`)
      }
    }).pipe(Effect.provide(live))
  }))
} finally {
  await sandbox.close()
}
