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
  tokenRequest
} from "./support/Http.ts"

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`

describe("strict profile", () => {
  let sandbox: Sandbox
  let as: Json
  beforeAll(async () => {
    sandbox = await startSandbox({ profile: "strict", rateLimit: false })
    as = await metadata(sandbox)
  })
  afterAll(() => sandbox.close())

  it("RFC 8414 §3: AS metadata at /.well-known/oauth-authorization-server of the issuer's own origin", () => {
    assert.strictEqual(sandbox.issuer, sandbox.authorizationServerOrigin)
    assert.strictEqual(as["issuer"], sandbox.issuer)
    assert.deepStrictEqual(as["code_challenge_methods_supported"], ["S256"])
    assert.strictEqual(as["authorization_response_iss_parameter_supported"], true)
    for (const key of ["registration_endpoint", "revocation_endpoint", "introspection_endpoint", "jwks_uri"]) {
      assert.strictEqual(new URL(String(as[key])).origin, sandbox.authorizationServerOrigin, key)
    }
    const scopes = as["scopes_supported"] as ReadonlyArray<string>
    for (const scope of ["mcp_read", "mcp_write"]) assert.include(scopes, scope)
    const methods = as["token_endpoint_auth_methods_supported"] as ReadonlyArray<string>
    for (const method of ["none", "client_secret_basic", "client_secret_post"]) assert.include(methods, method)
  })

  it("RFC 9728 §3.1: PRM at the path-inserted URL names the MCP URL as resource; nothing at the root", async () => {
    const prm = await getJson(`${sandbox.resourceOrigin}/.well-known/oauth-protected-resource/v1/mcp`)
    assert.strictEqual(prm.status, 200)
    assert.strictEqual(prm.body["resource"], sandbox.mcpUrl)
    assert.deepStrictEqual(prm.body["authorization_servers"], [sandbox.issuer])
    const legacy = await getJson(
      `${sandbox.resourceOrigin}/.well-known/oauth-protected-resource/api/unstable/mcp-server/mcp`
    )
    assert.strictEqual(legacy.body["resource"], sandbox.legacyMcpUrl)
    const root = await fetch(`${sandbox.resourceOrigin}/.well-known/oauth-protected-resource`)
    assert.strictEqual(root.status, 404)
    await root.text()
  })

  it("RFC 9728 §5.1: 401 carries a Bearer challenge with resource_metadata and scope, no error without a token", async () => {
    const res = await mcpPost(sandbox.mcpUrl, initializeBody)
    assert.strictEqual(res.status, 401)
    const challenge = res.headers.get("www-authenticate") ?? ""
    assert.match(challenge, /^Bearer /)
    assert.include(
      challenge,
      `resource_metadata="${sandbox.resourceOrigin}/.well-known/oauth-protected-resource/v1/mcp"`
    )
    assert.include(challenge, `scope="mcp_read"`)
    assert.notInclude(challenge, "error=")
  })

  it("RFC 6750 §3.1: a bad token gets error=\"invalid_token\"", async () => {
    const res = await mcpPost(sandbox.mcpUrl, initializeBody, { authorization: "Bearer not-a-jwt" })
    assert.strictEqual(res.status, 401)
    assert.match(res.headers.get("www-authenticate") ?? "", /error="invalid_token"/)
  })

  it("RFC 6749 §3.3: a request without scope is granted the default mcp_read; aud is the MCP URL", async () => {
    const { token, redirect } = await codeFlow(sandbox)
    assert.strictEqual(redirect.searchParams.get("iss"), sandbox.issuer)
    assert.strictEqual(token.body["scope"], "mcp_read")
    const { payload } = decodeJwt(String(token.body["access_token"]))
    assert.strictEqual(payload["aud"], sandbox.mcpUrl)
    assert.strictEqual(payload["iss"], sandbox.issuer)
  })

  it("RFC 8707: a token for the legacy resource is refused at /v1/mcp (wrong aud) and accepted at its own URL", async () => {
    const { token } = await codeFlow(sandbox, { resource: sandbox.legacyMcpUrl })
    const headers = { authorization: `Bearer ${String(token.body["access_token"])}` }
    const wrong = await mcpPost(sandbox.mcpUrl, initializeBody, headers)
    assert.strictEqual(wrong.status, 401)
    assert.match(wrong.headers.get("www-authenticate") ?? "", /claim \\"aud\\"/)
    const right = await mcpPost(sandbox.legacyMcpUrl, initializeBody, headers)
    assert.strictEqual(right.status, 200)
    await right.text()
  })

  it("RFC 6749 §2.3.1: a confidential client (client_secret_basic) gets tokens, rotates and revokes", async () => {
    const r = await register(as, {
      client_name: "confidential",
      redirect_uris: [redirectUri],
      grant_types: ["authorization_code", "refresh_token"],
      token_endpoint_auth_method: "client_secret_basic"
    })
    assert.strictEqual(r.status, 201)
    const clientId = String(r.body["client_id"])
    const secret = String(r.body["client_secret"])
    assert.isAbove(secret.length, 20)
    const { verifier, challenge } = pkce()
    const { redirect } = await followToRedirect(authorizeUrl(as, {
      response_type: "code",
      client_id: clientId,
      redirect_uri: redirectUri,
      code_challenge: challenge,
      code_challenge_method: "S256",
      state: "st",
      scope: "mcp_read mcp_write",
      resource: sandbox.mcpUrl
    }))
    const code = String(redirect?.searchParams.get("code"))
    const auth = { authorization: basic(clientId, secret) }
    const noSecret = await tokenRequest(as, {
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      client_id: clientId
    })
    assert.strictEqual(noSecret.body["error"], "invalid_client")
    const second = pkce()
    const { redirect: redirect2 } = await followToRedirect(authorizeUrl(as, {
      response_type: "code",
      client_id: clientId,
      redirect_uri: redirectUri,
      code_challenge: second.challenge,
      code_challenge_method: "S256",
      state: "st",
      scope: "mcp_read mcp_write",
      resource: sandbox.mcpUrl
    }))
    const token = await tokenRequest(as, {
      grant_type: "authorization_code",
      code: String(redirect2?.searchParams.get("code")),
      redirect_uri: redirectUri,
      code_verifier: second.verifier
    }, auth)
    assert.strictEqual(token.status, 200)
    assert.strictEqual(token.body["scope"], "mcp_read mcp_write")
    const refreshed = await tokenRequest(as, {
      grant_type: "refresh_token",
      refresh_token: String(token.body["refresh_token"])
    }, auth)
    assert.strictEqual(refreshed.status, 200)
    assert.notStrictEqual(refreshed.body["refresh_token"], token.body["refresh_token"])
    const revoked = await postForm(String(as["revocation_endpoint"]), {
      token: String(refreshed.body["refresh_token"])
    }, auth)
    assert.strictEqual(revoked.status, 200)
    const afterRevoke = await tokenRequest(as, {
      grant_type: "refresh_token",
      refresh_token: String(refreshed.body["refresh_token"])
    }, auth)
    assert.strictEqual(afterRevoke.body["error"], "invalid_grant")
  })

  it("issues refresh tokens only to clients registered with the refresh_token grant", async () => {
    const r = await register(as, { redirect_uris: [redirectUri], token_endpoint_auth_method: "none" })
    assert.strictEqual(r.status, 201)
    assert.deepStrictEqual(r.body["grant_types"], ["authorization_code"])
    const { token } = await codeFlow(sandbox, { client: r.body, scope: "mcp_read offline_access" })
    assert.strictEqual(token.status, 200)
    assert.isUndefined(token.body["refresh_token"])
  })

  it("403 insufficient_scope names mcp_write and the resource metadata", async () => {
    const { token } = await codeFlow(sandbox)
    const headers = { authorization: `Bearer ${String(token.body["access_token"])}` }
    const session = await openSession(sandbox.mcpUrl, headers)
    const res = await mcpPost(sandbox.mcpUrl, {
      jsonrpc: "2.0",
      id: 3,
      method: "tools/call",
      params: { name: "upsert_datadog_dashboard", arguments: { title: "t" } }
    }, { ...headers, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" })
    assert.strictEqual(res.status, 403)
    const challenge = res.headers.get("www-authenticate") ?? ""
    assert.match(challenge, /error="insufficient_scope"/)
    assert.match(challenge, /scope="mcp_write"/)
    assert.include(challenge, "resource_metadata=")
  })

  it("403 insufficient_scope when the token has no read scope at all", async () => {
    const { token } = await codeFlow(sandbox, { scope: "mcp_write" })
    assert.strictEqual(token.body["scope"], "mcp_write")
    const res = await mcpPost(sandbox.mcpUrl, initializeBody, {
      authorization: `Bearer ${String(token.body["access_token"])}`
    })
    assert.strictEqual(res.status, 403)
    assert.match(res.headers.get("www-authenticate") ?? "", /scope="mcp_read"/)
  })
})
