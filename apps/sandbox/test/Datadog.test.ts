import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import type { Sandbox } from "../src/index.ts"
import { startSandbox } from "../src/index.ts"
import {
  authorizeUrl,
  codeFlow,
  decodeJwt,
  followToRedirect,
  getJson,
  initializeBody,
  type Json,
  mcpPost,
  metadata,
  openSession,
  pkce,
  postForm,
  redirectUri,
  register,
  registerPublic,
  rpcResult,
  tokenRequest
} from "./support/Http.ts"

const toolsCall = (id: number, name: string, args: Json = {}) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: args }
})

describe("datadog profile", () => {
  let sandbox: Sandbox
  let as: Json
  beforeAll(async () => {
    sandbox = await startSandbox({
      profile: "datadog",
      apiKey: "dd-api-key-value",
      appKey: "dd-app-key-value",
      rateLimit: { max: 5, windowMs: 60_000 }
    })
    as = await metadata(sandbox)
  })
  afterAll(() => sandbox.close())

  describe("metadata (the reported Datadog shape)", () => {
    it("serves AS metadata on the MCP origin with the issuer carrying /v1/mcp and endpoints on the second origin", () => {
      assert.strictEqual(as["issuer"], sandbox.mcpUrl)
      assert.strictEqual(sandbox.issuer, sandbox.mcpUrl)
      for (const key of ["authorization_endpoint", "token_endpoint", "registration_endpoint"]) {
        assert.strictEqual(new URL(String(as[key])).origin, sandbox.authorizationServerOrigin, key)
      }
      assert.notStrictEqual(sandbox.authorizationServerOrigin, sandbox.resourceOrigin)
      assert.deepStrictEqual(as["scopes_supported"], ["mcp_all"])
      assert.deepStrictEqual(as["code_challenge_methods_supported"], ["S256"])
      assert.deepStrictEqual(as["token_endpoint_auth_methods_supported"], ["none"])
    })

    it("serves the same document at the RFC 8414 path-inserted URL of the issuer", async () => {
      const inserted = await getJson(`${sandbox.resourceOrigin}/.well-known/oauth-authorization-server/v1/mcp`)
      assert.strictEqual(inserted.status, 200)
      assert.deepStrictEqual(inserted.body, as)
    })

    it("serves PRM with the bare origin as resource, at the root and path-inserted URLs", async () => {
      for (const path of ["", "/v1/mcp", "/api/unstable/mcp-server/mcp"]) {
        const prm = await getJson(`${sandbox.resourceOrigin}/.well-known/oauth-protected-resource${path}`)
        assert.strictEqual(prm.status, 200, path)
        assert.strictEqual(prm.body["resource"], sandbox.resourceOrigin)
        assert.deepStrictEqual(prm.body["authorization_servers"], [sandbox.mcpUrl])
        assert.deepStrictEqual(prm.body["scopes_supported"], ["mcp_all"])
      }
    })
  })

  describe("registration (RFC 7591)", () => {
    it("registers a public client with a UUID client_id and no secret", async () => {
      const client = await registerPublic(as)
      assert.match(String(client["client_id"]), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
      assert.isUndefined(client["client_secret"])
      assert.strictEqual(client["token_endpoint_auth_method"], "none")
    })

    it("defaults an omitted token_endpoint_auth_method to none", async () => {
      const r = await register(as, { redirect_uris: [redirectUri] })
      assert.strictEqual(r.status, 201)
      assert.strictEqual(r.body["token_endpoint_auth_method"], "none")
    })

    it("refuses confidential clients (public clients only)", async () => {
      const r = await register(as, { redirect_uris: [redirectUri], token_endpoint_auth_method: "client_secret_basic" })
      assert.strictEqual(r.status, 400)
      assert.strictEqual(r.body["error"], "invalid_client_metadata")
    })
  })

  describe("authorization code + PKCE", () => {
    it("RFC 9207: the authorization response carries iss and the state; the JWT access token has aud = resource", async () => {
      const { redirect, state, token } = await codeFlow(sandbox)
      assert.strictEqual(redirect.searchParams.get("iss"), sandbox.issuer)
      assert.strictEqual(redirect.searchParams.get("state"), state)
      assert.strictEqual(token.status, 200)
      assert.strictEqual(token.body["token_type"], "Bearer")
      assert.strictEqual(token.body["expires_in"], 3600)
      assert.strictEqual(token.body["scope"], "mcp_all")
      const { header, payload } = decodeJwt(String(token.body["access_token"]))
      assert.strictEqual(header["typ"], "at+jwt")
      assert.strictEqual(payload["aud"], sandbox.resourceOrigin)
      assert.strictEqual(payload["iss"], sandbox.issuer)
      assert.isString(token.body["refresh_token"])
    })

    it("consent auto: GET /authorize answers one 303 straight to the redirect_uri with a code", async () => {
      const client = await registerPublic(as)
      const { challenge } = pkce()
      const res = await fetch(
        authorizeUrl(as, {
          response_type: "code",
          client_id: String(client["client_id"]),
          redirect_uri: redirectUri,
          code_challenge: challenge,
          code_challenge_method: "S256",
          state: "one-hop",
          resource: sandbox.resource
        }),
        { redirect: "manual" }
      )
      assert.strictEqual(res.status, 303)
      const location = new URL(res.headers.get("location") ?? "http://invalid")
      assert.strictEqual(`${location.origin}${location.pathname}`, redirectUri)
      assert.isString(location.searchParams.get("code"))
      assert.strictEqual(location.searchParams.get("state"), "one-hop")
      assert.strictEqual(location.searchParams.get("iss"), sandbox.issuer)
    })

    it("issues the JWT for the MCP resource even when no resource parameter is sent", async () => {
      const { token } = await codeFlow(sandbox, { resource: null })
      assert.strictEqual(token.status, 200)
      assert.strictEqual(decodeJwt(String(token.body["access_token"])).payload["aud"], sandbox.resourceOrigin)
    })

    it("RFC 8707 §2: refuses a resource it does not serve (invalid_target)", async () => {
      const client = await registerPublic(as)
      const { challenge } = pkce()
      const { redirect } = await followToRedirect(authorizeUrl(as, {
        response_type: "code",
        client_id: String(client["client_id"]),
        redirect_uri: redirectUri,
        code_challenge: challenge,
        code_challenge_method: "S256",
        state: "s",
        resource: "http://127.0.0.1:1/elsewhere"
      }))
      assert.strictEqual(redirect?.searchParams.get("error"), "invalid_target")
    })

    it("refuses a non-loopback redirect_uri at /authorize with an error page (Datadog's org allow-list)", async () => {
      const client = await registerPublic(as, { redirect_uris: ["https://app.example.com/callback"] })
      const { challenge } = pkce()
      const res = await fetch(
        authorizeUrl(as, {
          response_type: "code",
          client_id: String(client["client_id"]),
          redirect_uri: "https://app.example.com/callback",
          code_challenge: challenge,
          code_challenge_method: "S256",
          state: "s"
        }),
        { redirect: "manual" }
      )
      assert.strictEqual(res.status, 400)
      assert.isNull(res.headers.get("location"))
      assert.include(await res.text(), "Invalid redirect_uri")
    })

    it("OAuth 2.1 §4.1.1: PKCE is required (no code_challenge is refused)", async () => {
      const client = await registerPublic(as)
      const { redirect } = await followToRedirect(authorizeUrl(as, {
        response_type: "code",
        client_id: String(client["client_id"]),
        redirect_uri: redirectUri,
        state: "s"
      }))
      assert.strictEqual(redirect?.searchParams.get("error"), "invalid_request")
    })

    it("RFC 7636 §4.2: the plain method is refused (S256 only)", async () => {
      const client = await registerPublic(as)
      const { redirect } = await followToRedirect(authorizeUrl(as, {
        response_type: "code",
        client_id: String(client["client_id"]),
        redirect_uri: redirectUri,
        code_challenge: "a".repeat(43),
        code_challenge_method: "plain",
        state: "s"
      }))
      assert.strictEqual(redirect?.searchParams.get("error"), "invalid_request")
    })

    it("RFC 7636 §4.6: a wrong code_verifier is invalid_grant", async () => {
      const client = await registerPublic(as)
      const { challenge } = pkce()
      const { redirect } = await followToRedirect(authorizeUrl(as, {
        response_type: "code",
        client_id: String(client["client_id"]),
        redirect_uri: redirectUri,
        code_challenge: challenge,
        code_challenge_method: "S256",
        state: "s",
        resource: sandbox.resource
      }))
      const code = redirect?.searchParams.get("code")
      assert.isString(code)
      const token = await tokenRequest(as, {
        grant_type: "authorization_code",
        code: code as string,
        redirect_uri: redirectUri,
        client_id: String(client["client_id"]),
        code_verifier: pkce().verifier
      })
      assert.strictEqual(token.status, 400)
      assert.strictEqual(token.body["error"], "invalid_grant")
    })
  })

  describe("refresh tokens", () => {
    it("OAuth 2.1 §4.3.1: rotates the refresh token on every use, without offline_access", async () => {
      const { client, token } = await codeFlow(sandbox)
      const first = String(token.body["refresh_token"])
      const refreshed = await tokenRequest(as, {
        grant_type: "refresh_token",
        refresh_token: first,
        client_id: String(client["client_id"])
      })
      assert.strictEqual(refreshed.status, 200)
      const second = String(refreshed.body["refresh_token"])
      assert.notStrictEqual(second, first)
      assert.strictEqual(decodeJwt(String(refreshed.body["access_token"])).payload["aud"], sandbox.resourceOrigin)
      const third = await tokenRequest(as, {
        grant_type: "refresh_token",
        refresh_token: second,
        client_id: String(client["client_id"])
      })
      assert.strictEqual(third.status, 200)
      assert.notStrictEqual(third.body["refresh_token"], second)
    })

    it("OAuth 2.1 §4.3.1: reuse of a rotated refresh token is detected and revokes the whole grant", async () => {
      const { client, token } = await codeFlow(sandbox)
      const clientId = String(client["client_id"])
      const first = String(token.body["refresh_token"])
      const rotated = await tokenRequest(as, { grant_type: "refresh_token", refresh_token: first, client_id: clientId })
      assert.strictEqual(rotated.status, 200)
      const reuse = await tokenRequest(as, { grant_type: "refresh_token", refresh_token: first, client_id: clientId })
      assert.strictEqual(reuse.status, 400)
      assert.strictEqual(reuse.body["error"], "invalid_grant")
      // The grant is gone: the newest refresh token and its access token stop working too.
      const after = await tokenRequest(as, {
        grant_type: "refresh_token",
        refresh_token: String(rotated.body["refresh_token"]),
        client_id: clientId
      })
      assert.strictEqual(after.body["error"], "invalid_grant")
      const mcp = await mcpPost(sandbox.mcpUrl, initializeBody, {
        authorization: `Bearer ${String(rotated.body["access_token"])}`
      })
      assert.strictEqual(mcp.status, 401)
    })
  })

  describe("revocation and introspection", () => {
    it("RFC 7009: a revoked refresh token can no longer be used, and its grant's access tokens are refused", async () => {
      const { client, token } = await codeFlow(sandbox)
      const clientId = String(client["client_id"])
      const revoked = await postForm(String(as["revocation_endpoint"]), {
        token: String(token.body["refresh_token"]),
        token_type_hint: "refresh_token",
        client_id: clientId
      })
      assert.strictEqual(revoked.status, 200)
      const refresh = await tokenRequest(as, {
        grant_type: "refresh_token",
        refresh_token: String(token.body["refresh_token"]),
        client_id: clientId
      })
      assert.strictEqual(refresh.body["error"], "invalid_grant")
      const mcp = await mcpPost(sandbox.mcpUrl, initializeBody, {
        authorization: `Bearer ${String(token.body["access_token"])}`
      })
      assert.strictEqual(mcp.status, 401)
    })

    it("RFC 7009 §2.2.1: a JWT access token cannot be revoked on its own (unsupported_token_type)", async () => {
      const { client, token } = await codeFlow(sandbox)
      const res = await postForm(String(as["revocation_endpoint"]), {
        token: String(token.body["access_token"]),
        client_id: String(client["client_id"])
      })
      assert.strictEqual(res.status, 400)
      assert.strictEqual(res.body["error"], "unsupported_token_type")
    })

    it("RFC 7009 §2.1: a client cannot revoke another client's refresh token", async () => {
      const victim = await codeFlow(sandbox)
      const other = await registerPublic(as)
      await postForm(String(as["revocation_endpoint"]), {
        token: String(victim.token.body["refresh_token"]),
        client_id: String(other["client_id"])
      })
      const refresh = await tokenRequest(as, {
        grant_type: "refresh_token",
        refresh_token: String(victim.token.body["refresh_token"]),
        client_id: String(victim.client["client_id"])
      })
      assert.strictEqual(refresh.status, 200)
    })

    it("RFC 7662: introspection answers for a refresh token", async () => {
      const { client, token } = await codeFlow(sandbox)
      const endpoint = `${sandbox.authorizationServerOrigin}/api/v2/oauth2/introspect`
      const active = await postForm(endpoint, {
        token: String(token.body["refresh_token"]),
        client_id: String(client["client_id"])
      })
      assert.strictEqual(active.status, 200)
      assert.strictEqual(active.body["active"], true)
      assert.strictEqual(active.body["client_id"], client["client_id"])
    })
  })

  describe("the MCP endpoint", () => {
    it("answers 401 with no WWW-Authenticate challenge (Datadog quirk)", async () => {
      const res = await mcpPost(sandbox.mcpUrl, initializeBody)
      assert.strictEqual(res.status, 401)
      assert.isNull(res.headers.get("www-authenticate"))
    })

    it("RFC 6750 §3.1: a write tool without mcp_write is 403 insufficient_scope naming the scope", async () => {
      const { token } = await codeFlow(sandbox)
      const headers = { authorization: `Bearer ${String(token.body["access_token"])}` }
      const session = await openSession(sandbox.mcpUrl, headers)
      const res = await mcpPost(sandbox.mcpUrl, toolsCall(7, "create_datadog_notebook", { name: "n" }), {
        ...headers,
        "mcp-session-id": session,
        "mcp-protocol-version": "2025-06-18"
      })
      assert.strictEqual(res.status, 403)
      const challenge = res.headers.get("www-authenticate") ?? ""
      assert.match(challenge, /^Bearer /)
      assert.match(challenge, /error="insufficient_scope"/)
      assert.match(challenge, /scope="mcp_write"/)
    })

    it("accepts DD_API_KEY + DD_APPLICATION_KEY, in both spellings, and refuses a wrong key", async () => {
      for (
        const headers of [
          { dd_api_key: "dd-api-key-value", dd_application_key: "dd-app-key-value" },
          { "dd-api-key": "dd-api-key-value", "dd-application-key": "dd-app-key-value" }
        ]
      ) {
        const res = await mcpPost(sandbox.mcpUrl, initializeBody, headers)
        assert.strictEqual(res.status, 200)
        assert.isString(res.headers.get("mcp-session-id"))
        await res.text()
      }
      const wrong = await mcpPost(sandbox.mcpUrl, initializeBody, {
        dd_api_key: "dd-api-key-value",
        dd_application_key: "nope"
      })
      assert.strictEqual(wrong.status, 401)
    })

    it("rate limits tool calls: 429 with Retry-After past the configured maximum", async () => {
      const headers = { "dd-api-key": "dd-api-key-value", "dd-application-key": "dd-app-key-value" }
      const session = await openSession(sandbox.mcpUrl, headers)
      const h = { ...headers, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" }
      const statuses: Array<number> = []
      for (let i = 0; i < 6; i++) {
        const res = await mcpPost(sandbox.mcpUrl, toolsCall(10 + i, "search_datadog_hosts"), h)
        statuses.push(res.status)
        if (res.status === 429) {
          const retryAfter = Number(res.headers.get("retry-after"))
          assert.isAbove(retryAfter, 0)
          assert.isAtMost(retryAfter, 60)
        }
        await res.text()
      }
      assert.deepStrictEqual(statuses, [200, 200, 200, 200, 200, 429])
    })

    it("filters tools by ?toolsets=, X-Datadog-MCP-Toolsets and ?omit_tools=, and refuses unknown toolsets", async () => {
      const { token } = await codeFlow(sandbox)
      const headers = { authorization: `Bearer ${String(token.body["access_token"])}` }
      const list = async (url: string, extra: Record<string, string> = {}) => {
        const session = await openSession(url, { ...headers, ...extra })
        const res = await mcpPost(url, { jsonrpc: "2.0", id: 2, method: "tools/list" }, {
          ...headers,
          ...extra,
          "mcp-session-id": session,
          "mcp-protocol-version": "2025-06-18"
        })
        const body = await rpcResult(res)
        return ((body["result"] as Json)["tools"] as ReadonlyArray<{ name: string }>).map((t) => t.name)
      }
      const core = await list(sandbox.mcpUrl)
      assert.include(core, "search_datadog_logs")
      assert.notInclude(core, "search_datadog_slos")
      const alerting = await list(`${sandbox.mcpUrl}?toolsets=alerting`)
      assert.include(alerting, "search_datadog_slos")
      assert.notInclude(alerting, "search_datadog_logs")
      const byHeader = await list(sandbox.mcpUrl, { "x-datadog-mcp-toolsets": "core,alerting" })
      assert.include(byHeader, "search_datadog_slos")
      assert.include(byHeader, "search_datadog_logs")
      const omitted = await list(`${sandbox.mcpUrl}?omit_tools=search_datadog_logs,get_datadog_trace`)
      assert.notInclude(omitted, "search_datadog_logs")
      assert.notInclude(omitted, "get_datadog_trace")
      assert.strictEqual(omitted.length, core.length - 2)
      const unknown = await mcpPost(`${sandbox.mcpUrl}?toolsets=nope`, initializeBody, headers)
      assert.strictEqual(unknown.status, 400)
    })

    it("counts requests by endpoint in stats()", () => {
      const requests = sandbox.stats().requests
      assert.isAbove(requests.filter((r) => r.path === "/api/v2/oauth2/token" && r.status === 200).length, 0)
      assert.isAbove(requests.filter((r) => r.path === "/v1/mcp" && r.status === 401).length, 0)
      assert.isTrue(requests.every((r) => !r.path.includes("?")))
      // The automatic consent's server-side round-trips are not counted as client traffic.
      assert.isFalse(requests.some((r) => r.path.startsWith("/interaction/")))
    })
  })
})
