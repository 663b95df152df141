import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client"
import type { Sandbox } from "../src/index.ts"
import { startSandbox } from "../src/index.ts"
import { codeFlow } from "./support/Http.ts"

// MCP-level checks through the official client SDK with a static Authorization header (no SDK OAuth).
const connect = async (url: string, headers: Record<string, string>) => {
  const client = new Client({ name: "sandbox-test", version: "0.0.0" })
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } })
  await client.connect(transport)
  return { client, transport }
}

const text = (result: { content?: unknown }): string => {
  const content = result.content as ReadonlyArray<{ type: string; text?: string }>
  return content.map((c) => c.text ?? "").join("")
}

describe("MCP over the official client SDK", () => {
  let sandbox: Sandbox
  let bearer: Record<string, string>
  let writeBearer: Record<string, string>
  beforeAll(async () => {
    sandbox = await startSandbox({ profile: "datadog", personalAccessToken: "pat-123", rateLimit: false })
    const { token } = await codeFlow(sandbox)
    bearer = { authorization: `Bearer ${String(token.body["access_token"])}` }
    const write = await codeFlow(sandbox, { scope: "mcp_all mcp_write" })
    writeBearer = { authorization: `Bearer ${String(write.token.body["access_token"])}` }
  })
  afterAll(() => sandbox.close())

  it("initializes a stateful session (Mcp-Session-Id) and lists Datadog's core tools", async () => {
    const { client, transport } = await connect(sandbox.mcpUrl, bearer)
    try {
      assert.isString(transport.sessionId)
      const { tools } = await client.listTools()
      const names = tools.map((t) => t.name)
      for (
        const name of [
          "search_datadog_logs",
          "get_datadog_metric",
          "search_datadog_monitors",
          "get_datadog_trace",
          "search_datadog_spans",
          "search_datadog_incidents",
          "search_datadog_dashboards",
          "search_datadog_hosts",
          "search_datadog_services",
          "search_datadog_events"
        ]
      ) assert.include(names, name)
      const logs = tools.find((t) => t.name === "search_datadog_logs")
      assert.strictEqual(logs?.inputSchema.type, "object")
      assert.property(logs?.inputSchema.properties ?? {}, "from")
    } finally {
      await client.close()
    }
  })

  it("returns deterministic logs inside the requested time range that match the query", async () => {
    const { client } = await connect(sandbox.mcpUrl, bearer)
    try {
      const args = { query: "service:checkout status:error", from: "2026-11-30T10:00:00Z", to: "2026-11-30T12:00:00Z" }
      const first = JSON.parse(text(await client.callTool({ name: "search_datadog_logs", arguments: args })))
      const again = JSON.parse(text(await client.callTool({ name: "search_datadog_logs", arguments: args })))
      assert.deepStrictEqual(first, again)
      assert.isAbove(first.data.length, 0)
      for (const log of first.data) {
        assert.strictEqual(log.service, "checkout")
        assert.strictEqual(log.status, "error")
        const ts = Date.parse(log.timestamp)
        assert.isAtLeast(ts, Date.parse(args.from))
        assert.isAtMost(ts, Date.parse(args.to))
      }
    } finally {
      await client.close()
    }
  })

  it("reads datadog://mcp/whoami and datadog://mcp/toolsets", async () => {
    const { client } = await connect(sandbox.mcpUrl, bearer)
    try {
      const whoami = await client.readResource({ uri: "datadog://mcp/whoami" })
      const me = JSON.parse(String((whoami.contents[0] as { text: string }).text))
      assert.strictEqual(me.user_email, "jane@example.com")
      assert.isString(me.org_uuid)
      const toolsets = await client.readResource({ uri: "datadog://mcp/toolsets" })
      const catalog = JSON.parse(String((toolsets.contents[0] as { text: string }).text))
      const core = catalog.toolsets.find((t: { name: string }) => t.name === "core")
      assert.strictEqual(core.enabled, true)
      assert.strictEqual(core.default, true)
    } finally {
      await client.close()
    }
  })

  it("refuses a write tool to an mcp_all token (403 insufficient_scope) and runs it with mcp_write", async () => {
    const { client } = await connect(sandbox.mcpUrl, bearer)
    try {
      let refused = false
      try {
        await client.callTool({ name: "upsert_datadog_dashboard", arguments: { title: "x" } })
      } catch (error) {
        refused = true
        assert.match(String(error), /InsufficientScope/)
      }
      assert.isTrue(refused)
    } finally {
      await client.close()
    }
    const writer = await connect(sandbox.mcpUrl, writeBearer)
    try {
      const result = await writer.client.callTool({
        name: "upsert_datadog_dashboard",
        arguments: { title: "Checkout" }
      })
      assert.strictEqual(result.isError ?? false, false)
      assert.strictEqual(JSON.parse(text(result)).applied.title, "Checkout")
    } finally {
      await writer.client.close()
    }
  })

  it("serves the legacy path and accepts the personal access token", async () => {
    const { client } = await connect(sandbox.legacyMcpUrl, { authorization: "Bearer pat-123" })
    try {
      const { tools } = await client.listTools()
      assert.isAbove(tools.length, 10)
    } finally {
      await client.close()
    }
  })
})
