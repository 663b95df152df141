import { assert, describe, it } from "@effect/vitest"
import { ProtectedResourceDiscovery, type ProtectedResourceMetadata } from "@mcpauth/rfc9728-discovery"
import { serve } from "@mcpauth/testing/TestServer"
import { Effect, Layer, Logger, Option } from "effect"
import { FetchHttpClient } from "effect/http"
import datadogPrm from "./fixtures/datadog-prm.us1.RECONSTRUCTED.json" with { type: "json" }

const PRM = "/.well-known/oauth-protected-resource"

const prm = (resource: string, extra: Record<string, unknown> = {}) => ({
  resource,
  authorization_servers: ["https://as.example.com"],
  ...extra
})

// Loopback tests run over http://127.0.0.1, so the Security-weakening option is explicit here.
const LOOPBACK: ProtectedResourceDiscovery.Options = { allowLoopbackHttp: true }

const logs: Array<string> = []
const capture = Logger.layer([Logger.make((o) => logs.push(`${o.logLevel}: ${String(o.message)}`))])

const discover = (
  request: ProtectedResourceDiscovery.DiscoveryRequest,
  options: ProtectedResourceDiscovery.Options = LOOPBACK
) =>
  Effect.gen(function*() {
    return yield* (yield* ProtectedResourceDiscovery.ProtectedResourceDiscovery).discover(request)
  }).pipe(
    Effect.provide(ProtectedResourceDiscovery.layer(options).pipe(Layer.provide(FetchHttpClient.layer))),
    Effect.provide(capture)
  )

const reason = (request: ProtectedResourceDiscovery.DiscoveryRequest, options?: ProtectedResourceDiscovery.Options) =>
  discover(request, options).pipe(Effect.flip, Effect.map((e) => e.reason))

const outcomes = (attempts: ReadonlyArray<ProtectedResourceMetadata.Attempt>) =>
  attempts.map((a) => `${new URL(a.url).pathname} ${a.status ?? "-"} ${a.outcome}`)

describe("ProtectedResourceDiscovery: where the document is (real HTTP on 127.0.0.1)", () => {
  it.effect("MCP Authorization Server Discovery: PRM only at the path-inserted URL", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({ [`${PRM}/public/mcp`]: { json: prm(`${origin}/public/mcp`) } }))
      const serverUrl = `${server.origin}/public/mcp`
      const result = yield* discover({ serverUrl })
      assert.strictEqual(result.url, `${server.origin}${PRM}/public/mcp`)
      assert.strictEqual(result.resource, serverUrl)
      assert.deepStrictEqual(outcomes(result.attempts), [`${PRM}/public/mcp 200 ok`])
      assert.deepStrictEqual(server.requests, [`${PRM}/public/mcp`])
      assert.isTrue(Option.isNone(result.challenge))
    }))

  it.effect("MCP Authorization Server Discovery: PRM only at the root, with resource equal to the origin", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({ [PRM]: { json: prm(origin) } }))
      const result = yield* discover({ serverUrl: `${server.origin}/v1/mcp` })
      assert.strictEqual(result.url, `${server.origin}${PRM}`)
      // the resource is carried exactly as received: no trailing slash added
      assert.strictEqual(result.resource, server.origin)
      assert.deepStrictEqual(outcomes(result.attempts), [`${PRM}/v1/mcp 404 client-error`, `${PRM} 200 ok`])
    }))

  it.effect("RFC 9728 §5.1: PRM at a custom URL named only in the challenge", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({
        "/meta/custom-prm.json": { json: prm(`${origin}/mcp`, { scopes_supported: ["files:read"] }) }
      }))
      const result = yield* discover({
        serverUrl: `${server.origin}/mcp`,
        wwwAuthenticate:
          `Bearer realm="mcp", resource_metadata="${server.origin}/meta/custom-prm.json", scope="files:read"`
      })
      assert.strictEqual(result.url, `${server.origin}/meta/custom-prm.json`)
      assert.strictEqual(result.attempts[0]?.kind, "resource_metadata (challenge)")
      assert.deepStrictEqual(server.requests, ["/meta/custom-prm.json"])
      assert.strictEqual(Option.getOrUndefined(result.challenge)?.scope, "files:read")
    }))

  it.effect("the challenge may arrive as several header lines", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({ "/m": { json: prm(`${origin}/mcp`) } }))
      const result = yield* discover({
        serverUrl: `${server.origin}/mcp`,
        wwwAuthenticate: [`Basic realm="x"`, `Bearer resource_metadata="${server.origin}/m"`]
      })
      assert.strictEqual(result.url, `${server.origin}/m`)
    }))

  it.effect("a challenge URL that answers 404 falls back to the well-known URLs, in order", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({ [PRM]: { json: prm(origin) } }))
      const result = yield* discover({
        serverUrl: `${server.origin}/mcp`,
        wwwAuthenticate: `Bearer resource_metadata="${server.origin}/gone"`
      })
      assert.deepStrictEqual(outcomes(result.attempts), [
        "/gone 404 client-error",
        `${PRM}/mcp 404 client-error`,
        `${PRM} 200 ok`
      ])
    }))

  it.effect("a 401 and a 403 (not 404) from well-known URLs are skipped", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({
        "/m": { status: 403 },
        [`${PRM}/mcp`]: { status: 401, headers: { "www-authenticate": "Bearer" } },
        [PRM]: { json: prm(origin) }
      }))
      const result = yield* discover({
        serverUrl: `${server.origin}/mcp`,
        wwwAuthenticate: `Bearer resource_metadata="${server.origin}/m"`
      })
      assert.deepStrictEqual(outcomes(result.attempts), [
        "/m 403 client-error",
        `${PRM}/mcp 401 client-error`,
        `${PRM} 200 ok`
      ])
    }))

  it.effect("nothing anywhere: MetadataNotFound lists every URL tried and its status", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => ({}))
      const r = yield* reason({ serverUrl: `${server.origin}/mcp` })
      assert.strictEqual(r._tag, "MetadataNotFound")
      if (r._tag !== "MetadataNotFound") return
      assert.deepStrictEqual(outcomes(r.attempts), [`${PRM}/mcp 404 client-error`, `${PRM} 404 client-error`])
      assert.include(r.message, `${server.origin}${PRM}/mcp (404)`)
    }))
})

describe("ProtectedResourceDiscovery: security rules", () => {
  it.effect("RFC 9728 §3.3: a foreign resource is a security error, never retried at the next URL", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({
        [`${PRM}/mcp`]: { json: prm("https://attacker.example/mcp") },
        [PRM]: { json: prm(origin) }
      }))
      const r = yield* reason({ serverUrl: `${server.origin}/mcp` })
      assert.strictEqual(r._tag, "ResourceMismatch")
      if (r._tag !== "ResourceMismatch") return
      assert.strictEqual(r.resource, "https://attacker.example/mcp")
      assert.strictEqual(r.url, `${server.origin}${PRM}/mcp`)
      assert.deepStrictEqual(server.requests, [`${PRM}/mcp`])
    }))

  it.effect.each([
    { name: "another path on the same origin", resource: (o: string) => `${o}/other` },
    { name: "a path that is a prefix but not on a segment boundary", resource: (o: string) => `${o}/mc` },
    { name: "another port", resource: (o: string) => o.replace(/:\d+$/, ":1") },
    { name: "https instead of http", resource: (o: string) => o.replace("http:", "https:") },
    { name: "not a URL", resource: () => "mcp-server" }
  ])("RFC 9728 §3.3: a resource on $name is refused", ({ resource }) =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({ [`${PRM}/mcp`]: { json: prm(resource(origin)) } }))
      const r = yield* reason({ serverUrl: `${server.origin}/mcp` })
      assert.strictEqual(r._tag, "ResourceMismatch")
    }))

  it.effect("a resource_metadata URL on another origin is allowed, but its resource must still match", () =>
    Effect.gen(function*() {
      const mcp = yield* serve(() => ({}))
      const meta = yield* serve(() => ({ "/prm": { json: prm("https://mcp.example.com/other") } }))
      const r = yield* reason({
        serverUrl: `${mcp.origin}/mcp`,
        wwwAuthenticate: `Bearer resource_metadata="${meta.origin}/prm"`
      })
      assert.strictEqual(r._tag, "ResourceMismatch")
      assert.deepStrictEqual(mcp.requests, [])
    }))

  it.effect("MCP Authorization §Communication Security: loopback http is refused without the option", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({ [PRM]: { json: prm(origin) } }))
      const r = yield* reason({ serverUrl: `${server.origin}/mcp` }, {})
      assert.strictEqual(r._tag, "InsecureUrl")
      assert.deepStrictEqual(server.requests, [])
    }))

  it.effect("MCP Authorization §Communication Security: allowLoopbackHttp is logged when used", () =>
    Effect.gen(function*() {
      logs.length = 0
      const server = yield* serve((origin) => ({ [PRM]: { json: prm(origin) } }))
      yield* discover({ serverUrl: server.origin })
      assert.isTrue(logs.some((l) => l.startsWith("Warn") && l.includes("allowLoopbackHttp")), logs.join("\n"))
    }))

  it.effect("an http challenge URL on a non-loopback host is not fetched; the attempt says why", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({ [PRM]: { json: prm(origin) } }))
      const result = yield* discover({
        serverUrl: `${server.origin}/mcp`,
        wwwAuthenticate: `Bearer resource_metadata="http://metadata.example/prm"`
      })
      assert.strictEqual(result.attempts[0]?.outcome, "insecure-url")
      assert.strictEqual(result.url, `${server.origin}${PRM}`)
    }))

  it.effect("a redirect to another origin is not followed", () =>
    Effect.gen(function*() {
      const elsewhere = yield* serve((origin) => ({ [PRM]: { json: prm(origin) } }))
      const server = yield* serve((origin) => ({
        [`${PRM}/mcp`]: { status: 302, headers: { location: `${elsewhere.origin}${PRM}` } },
        [PRM]: { json: prm(origin) }
      }))
      const result = yield* discover({ serverUrl: `${server.origin}/mcp` })
      assert.deepStrictEqual(outcomes(result.attempts), [`${PRM}/mcp 302 redirect-refused`, `${PRM} 200 ok`])
      assert.deepStrictEqual(elsewhere.requests, [])
    }))

  it.effect("a same-origin redirect is followed", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({
        [`${PRM}/mcp`]: { status: 301, headers: { location: "/static/prm.json" } },
        "/static/prm.json": { json: prm(`${origin}/mcp`) }
      }))
      const result = yield* discover({ serverUrl: `${server.origin}/mcp` })
      assert.strictEqual(result.resource, `${server.origin}/mcp`)
      assert.deepStrictEqual(server.requests, [`${PRM}/mcp`, "/static/prm.json"])
    }))

  it.effect("a redirect loop stops after maxRedirects", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => ({ [PRM]: { status: 302, headers: { location: PRM } } }))
      const r = yield* reason({ serverUrl: server.origin }, { ...LOOPBACK, maxRedirects: 2 })
      assert.strictEqual(r._tag, "MetadataNotFound")
      if (r._tag !== "MetadataNotFound") return
      assert.strictEqual(r.attempts[0]?.outcome, "redirect-refused")
      assert.strictEqual(server.requests.length, 3)
    }))
})

describe("ProtectedResourceDiscovery: bad documents", () => {
  it.effect("null members are absent and unknown members are kept", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({
        [PRM]: { json: prm(origin, { scopes_supported: null, jwks_uri: null, x_extra: [1, { b: 2 }] }) }
      }))
      const { metadata } = yield* discover({ serverUrl: server.origin })
      assert.isUndefined(metadata.scopes_supported)
      assert.isFalse("jwks_uri" in metadata)
      assert.deepStrictEqual(metadata["x_extra"], [1, { b: 2 }])
    }))

  it.effect("a document that is not JSON moves on to the next URL", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({
        [`${PRM}/mcp`]: { headers: { "content-type": "text/html" }, body: "<!doctype html><p>Sign in</p>" },
        [PRM]: { json: prm(origin) }
      }))
      const result = yield* discover({ serverUrl: `${server.origin}/mcp` })
      assert.strictEqual(result.attempts[0]?.outcome, "not-json")
      assert.include(result.attempts[0]?.detail ?? "", "text/html")
      assert.strictEqual(result.url, `${server.origin}${PRM}`)
    }))

  it.effect("RFC 9728 §3.2: an invalid document names the member, and is reported when nothing else answers", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({ [PRM]: { json: { resource: origin, authorization_servers: [] } } }))
      const r = yield* reason({ serverUrl: `${server.origin}/mcp` })
      assert.strictEqual(r._tag, "InvalidMetadata")
      if (r._tag !== "InvalidMetadata") return
      assert.strictEqual(r.member, "authorization_servers")
      assert.strictEqual(r.url, `${server.origin}${PRM}`)
      assert.deepStrictEqual(outcomes(r.attempts), [`${PRM}/mcp 404 client-error`, `${PRM} 200 invalid-document`])
    }))

  it.effect("an invalid document does not hide a valid one at a later URL", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({
        [`${PRM}/mcp`]: { json: { resource: `${origin}/mcp` } },
        [PRM]: { json: prm(origin) }
      }))
      const result = yield* discover({ serverUrl: `${server.origin}/mcp` })
      assert.deepStrictEqual(outcomes(result.attempts), [`${PRM}/mcp 200 invalid-document`, `${PRM} 200 ok`])
    }))

  it.effect("a huge document is not read past the limit", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({
        [PRM]: {
          headers: { "content-type": "application/json" },
          body: (res) => {
            // no Content-Length: the body streams; the client must stop reading by itself
            res.write(JSON.stringify(prm(origin)).slice(0, -1) + ",\"pad\":\"")
            res.end("x".repeat(2 * 1024 * 1024) + "\"}")
          }
        }
      }))
      const r = yield* reason({ serverUrl: server.origin }, { ...LOOPBACK, maxBodyBytes: 64 * 1024 })
      assert.strictEqual(r._tag, "MetadataNotFound")
      if (r._tag !== "MetadataNotFound") return
      assert.strictEqual(r.attempts[0]?.outcome, "too-large")
    }))

  it.effect("a 5xx is reported, not skipped", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({ [`${PRM}/mcp`]: { status: 502 }, [PRM]: { json: prm(origin) } }))
      const r = yield* reason({ serverUrl: `${server.origin}/mcp` })
      assert.strictEqual(r._tag, "ServerError")
      if (r._tag !== "ServerError") return
      assert.strictEqual(r.status, 502)
      assert.deepStrictEqual(server.requests, [`${PRM}/mcp`])
    }))

  it.effect("a network failure is reported, not skipped", () =>
    Effect.gen(function*() {
      const origin = yield* Effect.scoped(serve(() => ({})).pipe(Effect.map((s) => s.origin)))
      const r = yield* reason({ serverUrl: `${origin}/mcp` })
      assert.strictEqual(r._tag, "Unreachable")
    }))

  it.effect("an invalid server URL is a typed error naming it", () =>
    Effect.gen(function*() {
      const r = yield* reason({ serverUrl: "mcp.example.com/mcp" })
      assert.strictEqual(r._tag, "InvalidServerUrl")
      assert.include(r.message, "mcp.example.com/mcp")
    }))
})

describe("ProtectedResourceDiscovery: Datadog", () => {
  it.effect("the 401 carries no challenge; PRM at the root names the bare origin; the server URL is /v1/mcp", () =>
    Effect.gen(function*() {
      // The reconstructed US1 document with its origin moved to the test server.
      const server = yield* serve((origin) => ({
        [PRM]: {
          json: { ...datadogPrm, resource: origin, authorization_servers: [`${origin}/v1/mcp`] }
        }
      }))
      const result = yield* discover({ serverUrl: `${server.origin}/v1/mcp`, wwwAuthenticate: null })
      assert.strictEqual(result.resource, server.origin)
      assert.deepStrictEqual(result.metadata.authorization_servers, [`${server.origin}/v1/mcp`])
      assert.deepStrictEqual(outcomes(result.attempts), [`${PRM}/v1/mcp 404 client-error`, `${PRM} 200 ok`])
    }))

  it.effect("the same document served at the path-inserted URL is accepted too", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({
        [`${PRM}/v1/mcp`]: { json: { ...datadogPrm, resource: origin, authorization_servers: [`${origin}/v1/mcp`] } }
      }))
      const result = yield* discover({ serverUrl: `${server.origin}/v1/mcp` })
      assert.strictEqual(result.resource, server.origin)
      assert.strictEqual(result.url, `${server.origin}${PRM}/v1/mcp`)
    }))

  it.effect("Datadog's document for another site is refused (RFC 9728 §3.3)", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => ({ [PRM]: { json: datadogPrm } }))
      const r = yield* reason({ serverUrl: `${server.origin}/v1/mcp` })
      assert.strictEqual(r._tag, "ResourceMismatch")
    }))
})
