import { assert, describe, it } from "@effect/vitest"
import { Resource } from "@mcpauth/rfc8707-resource"
import { ProtectedResourceMetadata } from "@mcpauth/rfc9728-discovery"
import { Effect } from "effect"
import datadogPrm from "./fixtures/datadog-prm.us1.RECONSTRUCTED.json" with { type: "json" }

describe("wellKnownCandidates", () => {
  it.effect.each([
    {
      name: "a server with a path and no challenge: path-inserted, then root",
      serverUrl: "https://example.com/public/mcp",
      challenge: undefined,
      urls: [
        "https://example.com/.well-known/oauth-protected-resource/public/mcp",
        "https://example.com/.well-known/oauth-protected-resource"
      ]
    },
    {
      name: "a server at the root: the root URL only",
      serverUrl: "https://example.com",
      challenge: undefined,
      urls: ["https://example.com/.well-known/oauth-protected-resource"]
    },
    {
      name: "a server at the root with a slash: the root URL only",
      serverUrl: "https://example.com/",
      challenge: undefined,
      urls: ["https://example.com/.well-known/oauth-protected-resource"]
    },
    {
      name: "a challenge URL comes first",
      serverUrl: "https://example.com/mcp",
      challenge: "https://meta.example.com/prm.json",
      urls: [
        "https://meta.example.com/prm.json",
        "https://example.com/.well-known/oauth-protected-resource/mcp",
        "https://example.com/.well-known/oauth-protected-resource"
      ]
    },
    {
      name: "a challenge URL equal to a well-known one is not tried twice",
      serverUrl: "https://example.com/mcp",
      challenge: "https://example.com/.well-known/oauth-protected-resource/mcp",
      urls: [
        "https://example.com/.well-known/oauth-protected-resource/mcp",
        "https://example.com/.well-known/oauth-protected-resource"
      ]
    },
    {
      name: "the query is kept after the inserted path (RFC 9728 §3.1)",
      serverUrl: "https://mcp.datadoghq.com/v1/mcp?toolsets=core,apm",
      challenge: undefined,
      urls: [
        "https://mcp.datadoghq.com/.well-known/oauth-protected-resource/v1/mcp?toolsets=core,apm",
        "https://mcp.datadoghq.com/.well-known/oauth-protected-resource"
      ]
    },
    {
      name: "Datadog's server URL (the two URLs its README says to probe)",
      serverUrl: "https://mcp.datadoghq.com/v1/mcp",
      challenge: undefined,
      urls: datadogPrm.discovery_urls_to_try
    },
    {
      name: "a relative challenge URL is resolved against the server URL",
      serverUrl: "https://example.com/mcp",
      challenge: "/meta/prm",
      urls: [
        "https://example.com/meta/prm",
        "https://example.com/.well-known/oauth-protected-resource/mcp",
        "https://example.com/.well-known/oauth-protected-resource"
      ]
    }
  ])("MCP Authorization Server Discovery: $name", ({ serverUrl, challenge, urls }) =>
    Effect.gen(function*() {
      const candidates = yield* ProtectedResourceMetadata.wellKnownCandidates(serverUrl, challenge)
      assert.deepStrictEqual(candidates.map((c) => c.url), urls)
    }))

  it.effect("an unparseable server URL is a typed error", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(ProtectedResourceMetadata.wellKnownCandidates("mcp.example.com"))
      assert.strictEqual(error.reason._tag, "InvalidServerUrl")
    }))
})

describe("decodeMetadata (lenient)", () => {
  const base = { resource: "https://mcp.example.com/mcp", authorization_servers: ["https://as.example.com"] }

  it.effect("keeps unknown members; null in an optional member is absent", () =>
    Effect.gen(function*() {
      const m = yield* ProtectedResourceMetadata.decodeMetadata({
        ...base,
        scopes_supported: null,
        resource_name: null,
        bearer_methods_supported: ["header"],
        x_vendor: { a: 1 }
      })
      assert.isFalse("scopes_supported" in m)
      assert.isFalse("resource_name" in m)
      assert.deepStrictEqual(m.bearer_methods_supported, ["header"])
      assert.deepStrictEqual(m["x_vendor"], { a: 1 })
    }))

  it.effect.each([
    { name: "resource missing", doc: { authorization_servers: ["https://a"] }, member: "resource" },
    { name: "resource null", doc: { ...base, resource: null }, member: "resource" },
    { name: "authorization_servers missing", doc: { resource: "https://r" }, member: "authorization_servers" },
    {
      name: "authorization_servers empty",
      doc: { ...base, authorization_servers: [] },
      member: "authorization_servers"
    },
    {
      name: "authorization_servers not strings",
      doc: { ...base, authorization_servers: [1] },
      member: "authorization_servers[0]"
    },
    { name: "scopes_supported a string", doc: { ...base, scopes_supported: "a b" }, member: "scopes_supported" },
    {
      name: "dpop_bound_access_tokens_required a string",
      doc: { ...base, dpop_bound_access_tokens_required: "yes" },
      member: "dpop_bound_access_tokens_required"
    },
    { name: "an array", doc: [base], member: "(document)" }
  ])("RFC 9728 §3.2: names the member when $name", ({ doc, member }) =>
    Effect.gen(function*() {
      const problems = yield* Effect.flip(ProtectedResourceMetadata.decodeMetadata(doc))
      assert.isTrue(problems.some((p) => p.member === member), JSON.stringify(problems))
    }))
})

describe("Datadog fixture", () => {
  it.effect("the reconstructed PRM decodes; its bare-origin resource may serve /v1/mcp (RFC 9728 §3.3)", () =>
    Effect.gen(function*() {
      const m = yield* ProtectedResourceMetadata.decodeMetadata(datadogPrm)
      assert.strictEqual(m.resource, "https://mcp.datadoghq.com")
      assert.deepStrictEqual(m.authorization_servers, ["https://mcp.datadoghq.com/v1/mcp"])
      // unknown members kept
      assert.isTrue(Array.isArray(m["discovery_urls_to_try"]))
      assert.isTrue(yield* Resource.isResourceAllowed("https://mcp.datadoghq.com/v1/mcp", m.resource))
      assert.isFalse(yield* Resource.isResourceAllowed("https://mcp.datadoghq.eu/v1/mcp", m.resource))
    }))
})
