import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import type { Sandbox } from "../src/index.ts"
import { startSandbox } from "../src/index.ts"
import {
  codeFlow,
  decodeJwt,
  initializeBody,
  type Json,
  mcpPost,
  openSession,
  postForm,
  rpcResult,
  tokenRequest
} from "./support/Http.ts"

// One end-to-end walk per profile, curl-level: discover → register → PKCE → token (aud) → MCP → step-up (403) →
// refresh rotation → revocation → API keys → rate limit → toolsets.
for (const profile of ["datadog", "strict"] as const) {
  describe(`full flow, ${profile} profile`, () => {
    let sandbox: Sandbox
    beforeAll(async () => {
      sandbox = await startSandbox({ profile, apiKey: "api", appKey: "app", rateLimit: { max: 3, windowMs: 30_000 } })
    })
    afterAll(() => sandbox.close())

    it("walks the whole protocol", async () => {
      // Discovery: the 401 (with or without challenge), then PRM → AS metadata.
      const unauth = await mcpPost(sandbox.mcpUrl, initializeBody)
      assert.strictEqual(unauth.status, 401)
      const challenge = unauth.headers.get("www-authenticate")
      if (profile === "strict") assert.include(challenge ?? "", "resource_metadata=")
      else assert.isNull(challenge)
      const prm = (await (await fetch(sandbox.resourceMetadataUrl)).json()) as Json
      assert.strictEqual(prm["resource"], sandbox.resource)
      const issuer = (prm["authorization_servers"] as ReadonlyArray<string>)[0]
      assert.strictEqual(issuer, sandbox.issuer)

      // Registration + authorization code with PKCE + token bound to the resource.
      const { as, client, token } = await codeFlow(sandbox, { scope: profile === "datadog" ? "mcp_all" : "mcp_read" })
      assert.strictEqual(as["issuer"], issuer)
      assert.strictEqual(token.status, 200)
      const access = String(token.body["access_token"])
      assert.strictEqual(decodeJwt(access).payload["aud"], sandbox.resource)
      const clientId = String(client["client_id"])

      // MCP with the token; a write tool needs the step-up scope.
      const bearer = { authorization: `Bearer ${access}` }
      const session = await openSession(sandbox.mcpUrl, bearer)
      const h = { ...bearer, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" }
      const read = await mcpPost(sandbox.mcpUrl, {
        jsonrpc: "2.0",
        id: 2,
        method: "tools/call",
        params: { name: "search_datadog_monitors", arguments: { query: "status:Alert" } }
      }, h)
      assert.strictEqual(read.status, 200)
      const monitors = JSON.parse(
        String(((((await rpcResult(read))["result"] as Json)["content"]) as ReadonlyArray<Json>)[0]?.["text"])
      )
      assert.isAbove(monitors.data.length, 0)
      assert.isTrue(monitors.data.every((m: Json) => m["status"] === "Alert"))
      const write = await mcpPost(sandbox.mcpUrl, {
        jsonrpc: "2.0",
        id: 3,
        method: "tools/call",
        params: { name: "create_datadog_notebook", arguments: { name: "n" } }
      }, h)
      assert.strictEqual(write.status, 403)
      assert.match(write.headers.get("www-authenticate") ?? "", /error="insufficient_scope", scope="mcp_write"/)
      await write.text()

      // Refresh rotation, then revocation ends the grant.
      const refreshed = await tokenRequest(as, {
        grant_type: "refresh_token",
        refresh_token: String(token.body["refresh_token"]),
        client_id: clientId
      })
      assert.strictEqual(refreshed.status, 200)
      assert.notStrictEqual(refreshed.body["refresh_token"], token.body["refresh_token"])
      const revoke = await postForm(String(as["revocation_endpoint"]), {
        token: String(refreshed.body["refresh_token"]),
        client_id: clientId
      })
      assert.strictEqual(revoke.status, 200)
      const dead = await mcpPost(sandbox.mcpUrl, initializeBody, {
        authorization: `Bearer ${String(refreshed.body["access_token"])}`
      })
      assert.strictEqual(dead.status, 401)
      await dead.text()

      // API keys, then the rate limit (3 tool calls per window here), then toolset filtering.
      const keys = { dd_api_key: "api", dd_application_key: "app" }
      const keySession = await openSession(
        `${sandbox.mcpUrl}?toolsets=core,dashboards&omit_tools=search_datadog_logs`,
        keys
      )
      const k = { ...keys, "mcp-session-id": keySession, "mcp-protocol-version": "2025-06-18" }
      const list = await rpcResult(await mcpPost(sandbox.mcpUrl, { jsonrpc: "2.0", id: 4, method: "tools/list" }, k))
      const names = ((list["result"] as Json)["tools"] as ReadonlyArray<Json>).map((t) => String(t["name"]))
      assert.include(names, "delete_datadog_dashboard")
      assert.notInclude(names, "search_datadog_logs")
      const statuses: Array<number> = []
      for (let i = 0; i < 4; i++) {
        const res = await mcpPost(sandbox.mcpUrl, {
          jsonrpc: "2.0",
          id: 10 + i,
          method: "tools/call",
          params: { name: "search_datadog_hosts", arguments: {} }
        }, k)
        statuses.push(res.status)
        if (res.status === 429) assert.isAbove(Number(res.headers.get("retry-after")), 0)
        await res.text()
      }
      assert.deepStrictEqual(statuses, [200, 200, 200, 429])
    })
  })
}
