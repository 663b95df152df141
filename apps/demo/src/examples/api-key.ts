// Advanced example: API-key mode (headless, no OAuth) with the Promise facade `DatadogMCPClient`.
// Against Datadog: set DD_API_KEY, DD_APPLICATION_KEY (and DATADOG_SITE) and use `new DatadogMCPClient()`.
import { DatadogMCPClient } from "@mcpauth/mcp-datadog/DatadogMCPClient"
import { startSandbox } from "@mcpauth/sandbox"
import * as R from "../Render.ts"

R.heading("API-key mode: DD_API_KEY + DD_APPLICATION_KEY headers, the Promise facade")
const sandbox = await startSandbox({ profile: "datadog", apiKey: "demo-api-key", appKey: "demo-app-key" })
const client = new DatadogMCPClient({
  mcpUrl: sandbox.mcpUrl,
  apiKey: "demo-api-key",
  appKey: "demo-app-key",
  // the example ignores your own environment and .env
  env: {},
  dotEnvPath: false
})
try {
  await client.initialize()
  R.ok(`connected with ${client.config?.auth._tag} to ${sandbox.mcpUrl}`)
  const tools = await client.listTools()
  R.ok(`${tools.length} tools`)
  const monitors = await client.callTool("search_datadog_monitors", { query: "status:Alert" })
  const text = monitors.content.map((c) => ("text" in c ? c.text : "")).join("")
  R.info(R.dim(R.safe(text.slice(0, 300))))
  const me = await client.whoami()
  R.ok(`whoami: ${me.user_email} in ${me.org_name}`)
  const oauthRequests = sandbox.stats().requests.filter((r) =>
    r.path.includes("oauth") || r.path.startsWith("/.well-known")
  )
  R.ok(`${oauthRequests.length} OAuth requests were made (API keys need none)`)
} finally {
  await client.close()
  await sandbox.close()
}
