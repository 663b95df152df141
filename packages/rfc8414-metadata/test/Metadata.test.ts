import { assert, describe, it } from "@effect/vitest"
import { Metadata } from "@mcpauth/rfc8414-metadata"
import { Duration, Effect, Exit } from "effect"
import datadogLegacy from "./fixtures/datadog-as-metadata.us1.2026-05.LEGACY.json" with { type: "json" }
import datadog from "./fixtures/datadog-as-metadata.us1.2026-08.json" with { type: "json" }

const base = {
  issuer: "https://as.example",
  authorization_endpoint: "https://as.example/authorize",
  token_endpoint: "https://as.example/token",
  code_challenge_methods_supported: ["S256"]
}

const { issuer: _issuer, ...withoutIssuer } = base

describe("wellKnownCandidates", () => {
  it.effect.each([
    {
      name: "an issuer with a path: RFC 8414 insertion, OIDC insertion, OIDC appending",
      issuer: "https://auth.example.com/tenant1",
      urls: [
        "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
        "https://auth.example.com/.well-known/openid-configuration/tenant1",
        "https://auth.example.com/tenant1/.well-known/openid-configuration"
      ]
    },
    {
      name: "an issuer with a path and a terminating slash (RFC 8414 §3.1: the slash is removed)",
      issuer: "https://auth.example.com/tenant1/",
      urls: [
        "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
        "https://auth.example.com/.well-known/openid-configuration/tenant1",
        "https://auth.example.com/tenant1/.well-known/openid-configuration"
      ]
    },
    {
      name: "an issuer without a path: the two root forms",
      issuer: "https://auth.example.com",
      urls: [
        "https://auth.example.com/.well-known/oauth-authorization-server",
        "https://auth.example.com/.well-known/openid-configuration"
      ]
    },
    {
      name: "an issuer that is only an origin and a slash: the two root forms",
      issuer: "https://auth.example.com/",
      urls: [
        "https://auth.example.com/.well-known/oauth-authorization-server",
        "https://auth.example.com/.well-known/openid-configuration"
      ]
    },
    {
      name: "Datadog's path issuer",
      issuer: "https://mcp.datadoghq.com/v1/mcp",
      urls: [
        "https://mcp.datadoghq.com/.well-known/oauth-authorization-server/v1/mcp",
        "https://mcp.datadoghq.com/.well-known/openid-configuration/v1/mcp",
        "https://mcp.datadoghq.com/v1/mcp/.well-known/openid-configuration"
      ]
    },
    {
      name: "a port is kept",
      issuer: "https://auth.example.com:8443/a/b",
      urls: [
        "https://auth.example.com:8443/.well-known/oauth-authorization-server/a/b",
        "https://auth.example.com:8443/.well-known/openid-configuration/a/b",
        "https://auth.example.com:8443/a/b/.well-known/openid-configuration"
      ]
    }
  ])("MCP Authorization Server Discovery: $name", ({ issuer, urls }) =>
    Effect.gen(function*() {
      const candidates = yield* Metadata.wellKnownCandidates(issuer)
      assert.deepStrictEqual(candidates.map((c) => c.url), urls)
      // All candidates are on the authorization server's own origin
      for (const c of candidates) assert.strictEqual(new URL(c.url).origin, new URL(issuer).origin)
    }))

  it.effect("the root fallback for a path issuer is only added on request, and last", () =>
    Effect.gen(function*() {
      const candidates = yield* Metadata.wellKnownCandidates("https://mcp.datadoghq.com/v1/mcp", {
        rootForPathIssuer: true
      })
      assert.deepStrictEqual(candidates.slice(3).map((c) => c.url), [
        "https://mcp.datadoghq.com/.well-known/oauth-authorization-server",
        "https://mcp.datadoghq.com/.well-known/openid-configuration"
      ])
      const root = yield* Metadata.wellKnownCandidates("https://as.example", { rootForPathIssuer: true })
      assert.strictEqual(root.length, 2)
    }))

  it.effect.each(["https://as.example/t?x=1", "https://as.example/t#f", "not a url", "ftp://as.example/t"])(
    "RFC 8414 §2: refuses the issuer %s",
    (issuer) =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(Metadata.wellKnownCandidates(issuer))
        assert.isTrue(Exit.isFailure(exit))
        const error = yield* Effect.flip(Metadata.wellKnownCandidates(issuer))
        assert.strictEqual(error.reason._tag, "InvalidIssuer")
      })
  )
})

describe("decodeMetadata (lenient)", () => {
  it.effect("keeps unknown members and treats null in an optional member as absent", () =>
    Effect.gen(function*() {
      const m = yield* Metadata.decodeMetadata({
        ...base,
        registration_endpoint: null,
        scopes_supported: null,
        x_vendor_extension: { nested: [1, 2] },
        another_unknown: null
      })
      assert.strictEqual(m.issuer, "https://as.example")
      assert.isFalse("registration_endpoint" in m)
      assert.isFalse("scopes_supported" in m)
      assert.deepStrictEqual(m["x_vendor_extension"], { nested: [1, 2] })
      assert.isTrue("another_unknown" in m)
      assert.strictEqual(m["another_unknown"], null)
    }))

  it.effect.each([
    { name: "issuer missing", doc: withoutIssuer, member: "issuer", expected: "Missing key" },
    { name: "issuer null (required members may not be null)", doc: { ...base, issuer: null }, member: "issuer" },
    { name: "token_endpoint a number", doc: { ...base, token_endpoint: 42 }, member: "token_endpoint" },
    {
      name: "code_challenge_methods_supported a string",
      doc: { ...base, code_challenge_methods_supported: "S256" },
      member: "code_challenge_methods_supported"
    },
    {
      name: "scopes_supported with a number",
      doc: { ...base, scopes_supported: ["a", 1] },
      member: "scopes_supported[1]"
    },
    {
      name: "a boolean member as a string",
      doc: { ...base, authorization_response_iss_parameter_supported: "true" },
      member: "authorization_response_iss_parameter_supported"
    },
    { name: "an array instead of an object", doc: [base], member: "(document)" },
    { name: "a JSON string", doc: "hello", member: "(document)" }
  ])("RFC 8414 §3.2: names the member when $name", ({ doc, member, expected }) =>
    Effect.gen(function*() {
      const problems = yield* Effect.flip(Metadata.decodeMetadata(doc))
      assert.isTrue(problems.some((p) => p.member === member), JSON.stringify(problems))
      if (expected !== undefined) assert.isTrue(problems.some((p) => p.expected.includes(expected)))
    }))

  it.effect("reports every problem at once", () =>
    Effect.gen(function*() {
      const problems = yield* Effect.flip(Metadata.decodeMetadata({ issuer: 1 }))
      assert.deepStrictEqual(problems.map((p) => p.member).toSorted(), [
        "authorization_endpoint",
        "issuer",
        "token_endpoint"
      ])
    }))
})

describe("Datadog fixtures", () => {
  it.effect("the 2026-08 US1 document decodes, advertises S256, and has only https endpoints", () =>
    Effect.gen(function*() {
      const m = yield* Metadata.decodeMetadata(datadog)
      assert.strictEqual(m.issuer, "https://mcp.datadoghq.com/v1/mcp")
      assert.strictEqual(m.token_endpoint, "https://app.datadoghq.com/api/v2/oauth2/token")
      assert.deepStrictEqual(m.scopes_supported, ["mcp_all"])
      assert.deepStrictEqual(m.token_endpoint_auth_methods_supported, ["none"])
      // unknown members kept: pkce_required and the fixture's own _provenance
      assert.strictEqual(m["pkce_required"], true)
      assert.isTrue(Metadata.supportsS256(m))
      assert.isUndefined(Metadata.findInsecureUrl(m, false))
      // MCP: the issuer has a path, and its authorization endpoint is on another host (app.datadoghq.com)
      assert.strictEqual(new URL(m.authorization_endpoint).host, "app.datadoghq.com")
    }))

  it.effect("the 2026-05 legacy capture has no issuer: an invalid document that says so", () =>
    Effect.gen(function*() {
      const problems = yield* Effect.flip(Metadata.decodeMetadata(datadogLegacy))
      assert.deepStrictEqual(problems.map((p) => p.member), ["issuer"])
    }))
})

describe("compareIssuer", () => {
  it.effect.each([
    { expected: "https://a.example/t", received: "https://a.example/t", result: "exact" },
    { expected: "https://a.example/t", received: "https://a.example/t/", result: "trailing-slash" },
    { expected: "https://a.example/", received: "https://a.example", result: "trailing-slash" },
    { expected: "https://a.example/t", received: "https://A.example/t", result: "mismatch" },
    { expected: "https://a.example/t", received: "https://a.example/t//", result: "mismatch" },
    { expected: "https://a.example/t", received: "https://a.example:443/t", result: "mismatch" },
    { expected: "https://honest.example", received: "https://attacker.example", result: "mismatch" }
  ])(
    "RFC 8414 §3.3: $expected vs $received is $result",
    ({ expected, received, result }) =>
      Effect.sync(() => assert.strictEqual(Metadata.compareIssuer(expected, received), result))
  )
})

describe("supportsS256", () => {
  it.effect.each([
    { methods: undefined, ok: false },
    { methods: [], ok: false },
    { methods: ["plain"], ok: false },
    { methods: ["s256"], ok: false },
    { methods: ["plain", "S256"], ok: true }
  ])(
    "MCP Authorization §Authorization Code Protection: $methods gives $ok",
    ({ methods, ok }) =>
      Effect.gen(function*() {
        const { code_challenge_methods_supported: _, ...rest } = base
        const m = yield* Metadata.decodeMetadata(
          methods === undefined ? rest : { ...rest, code_challenge_methods_supported: methods }
        )
        assert.strictEqual(Metadata.supportsS256(m), ok)
      })
  )
})

describe("findInsecureUrl", () => {
  it.effect.each([
    { name: "all https", patch: {}, allow: false, member: undefined },
    {
      name: "an http token endpoint",
      patch: { token_endpoint: "http://as.example/token" },
      allow: false,
      member: "token_endpoint"
    },
    {
      name: "an http unknown *_endpoint",
      patch: { pushed_authorization_request_endpoint: "http://as.example/par" },
      allow: false,
      member: "pushed_authorization_request_endpoint"
    },
    { name: "an http jwks_uri", patch: { jwks_uri: "http://as.example/jwks" }, allow: false, member: "jwks_uri" },
    {
      name: "loopback http, not allowed",
      patch: { token_endpoint: "http://127.0.0.1:9/token" },
      allow: false,
      member: "token_endpoint"
    },
    {
      name: "loopback http, allowed",
      patch: { token_endpoint: "http://127.0.0.1:9/token" },
      allow: true,
      member: undefined
    },
    { name: "[::1] http, allowed", patch: { token_endpoint: "http://[::1]:9/token" }, allow: true, member: undefined },
    {
      name: "non-loopback http even when loopback is allowed",
      patch: { token_endpoint: "http://127.0.0.1.evil.example/token" },
      allow: true,
      member: "token_endpoint"
    },
    { name: "a non-URL endpoint", patch: { token_endpoint: "/token" }, allow: true, member: "token_endpoint" },
    {
      name: "http service_documentation is informational",
      patch: { service_documentation: "http://x" },
      allow: false,
      member: undefined
    }
  ])("MCP Authorization §Communication Security: $name", ({ patch, allow, member }) =>
    Effect.gen(function*() {
      const m = yield* Metadata.decodeMetadata({ ...base, ...patch })
      assert.strictEqual(Metadata.findInsecureUrl(m, allow)?.member, member)
    }))
})

describe("cacheLifetime", () => {
  const settings = { fallback: Duration.minutes(15), max: Duration.hours(24) }
  it.effect.each([
    { header: undefined, seconds: 900 },
    { header: "max-age=60", seconds: 60 },
    { header: "public, MAX-AGE=120, must-revalidate", seconds: 120 },
    { header: "max-age=\"30\"", seconds: 30 },
    { header: "max-age=0", seconds: 0 },
    { header: "no-store", seconds: 0 },
    { header: "no-cache, max-age=60", seconds: 0 },
    { header: "max-age=999999999", seconds: 86400 },
    { header: "max-age=abc", seconds: 900 },
    { header: "private", seconds: 900 }
  ])("RFC 9111 §5.2.2: Cache-Control $header gives $seconds s", ({ header, seconds }) =>
    Effect.sync(() => {
      assert.strictEqual(Duration.toSeconds(Metadata.cacheLifetime(header, settings)), seconds)
    }))
})
