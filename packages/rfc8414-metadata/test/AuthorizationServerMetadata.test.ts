import { assert, describe, it } from "@effect/vitest"
import { AuthorizationServerMetadata, type Metadata } from "@mcpauth/rfc8414-metadata"
import { type Reply, serve } from "@mcpauth/testing/TestServer"
import { Effect, Layer, Logger } from "effect"
import { FetchHttpClient } from "effect/http"
import { TestClock } from "effect/testing"
import datadog from "./fixtures/datadog-as-metadata.us1.2026-08.json" with { type: "json" }

const OAUTH = "/.well-known/oauth-authorization-server"
const OIDC = "/.well-known/openid-configuration"

const doc = (issuer: string, extra: Record<string, unknown> = {}) => ({
  issuer,
  authorization_endpoint: `${issuer}/authorize`,
  token_endpoint: `${issuer}/token`,
  code_challenge_methods_supported: ["S256"],
  ...extra
})

// Loopback tests run over http://127.0.0.1, so the Security-weakening option is explicit here.
const LOOPBACK: AuthorizationServerMetadata.Options = { allowLoopbackHttp: true }

const logs: Array<string> = []
const capture = Logger.layer([Logger.make((o) => logs.push(`${o.logLevel}: ${String(o.message)}`))])

/** Runs `discover` once against a fresh service (fresh cache). */
const discover = (issuer: string, options: AuthorizationServerMetadata.Options = LOOPBACK) =>
  Effect.gen(function*() {
    const asm = yield* AuthorizationServerMetadata.AuthorizationServerMetadata
    return yield* asm.discover(issuer)
  }).pipe(
    Effect.provide(AuthorizationServerMetadata.layer(options).pipe(Layer.provide(FetchHttpClient.layer))),
    Effect.provide(capture)
  )

const reason = (issuer: string, options?: AuthorizationServerMetadata.Options) =>
  discover(issuer, options).pipe(Effect.flip, Effect.map((e) => e.reason))

const outcomes = (attempts: ReadonlyArray<Metadata.Attempt>) =>
  attempts.map((a) => `${new URL(a.url).pathname} ${a.status ?? ""} ${a.outcome}`.replace("  ", " "))

describe("AuthorizationServerMetadata: locations (real HTTP on 127.0.0.1)", () => {
  it.effect.each([
    { name: "RFC 8414 path insertion", at: (p: string) => `${OAUTH}${p}`, tried: 1 },
    { name: "OIDC path insertion", at: (p: string) => `${OIDC}${p}`, tried: 2 },
    { name: "OIDC path appending", at: (p: string) => `${p}${OIDC}`, tried: 3 }
  ])(
    "MCP Authorization Server Discovery: a path issuer whose metadata is at the $name location",
    ({ at, tried }) =>
      Effect.gen(function*() {
        const server = yield* serve((origin) => ({ [at("/tenant1")]: { json: doc(`${origin}/tenant1`) } }))
        const issuer = `${server.origin}/tenant1`
        const result = yield* discover(issuer)
        assert.strictEqual(result.metadata.issuer, issuer)
        assert.strictEqual(result.url, `${server.origin}${at("/tenant1")}`)
        assert.strictEqual(result.attempts.length, tried)
        assert.deepStrictEqual(
          result.attempts.map((a) => a.outcome),
          [...Array(tried - 1).fill("client-error"), "ok"]
        )
        // nothing after the document that answered was requested
        assert.strictEqual(server.requests.length, tried)
      })
  )

  it.effect("MCP Authorization Server Discovery: an issuer without a path, at the RFC 8414 root location", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({ [OAUTH]: { json: doc(origin) } }))
      const result = yield* discover(server.origin)
      assert.strictEqual(result.url, `${server.origin}${OAUTH}`)
      assert.deepStrictEqual(server.requests, [OAUTH])
    }))

  it.effect("MCP Authorization Server Discovery: OIDC-only location; OIDC-only members are not required", () =>
    Effect.gen(function*() {
      // no subject_types_supported, id_token_signing_alg_values_supported, jwks_uri, response_types_supported
      const server = yield* serve((origin) => ({ [OIDC]: { json: doc(origin) } }))
      const result = yield* discover(server.origin)
      assert.strictEqual(result.url, `${server.origin}${OIDC}`)
      assert.deepStrictEqual(outcomes(result.attempts), [`${OAUTH} 404 client-error`, `${OIDC} 200 ok`])
    }))

  it.effect("RFC 8414 §3.2: a 401 and a 403 from well-known URLs are skipped, not fatal", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({
        [`${OAUTH}/t`]: { status: 401, headers: { "www-authenticate": "Bearer" } },
        [`${OIDC}/t`]: { status: 403 },
        [`/t${OIDC}`]: { json: doc(`${origin}/t`) }
      }))
      const result = yield* discover(`${server.origin}/t`)
      assert.deepStrictEqual(outcomes(result.attempts), [
        `${OAUTH}/t 401 client-error`,
        `${OIDC}/t 403 client-error`,
        `/t${OIDC} 200 ok`
      ])
    }))

  it.effect("nothing anywhere: MetadataNotFound lists every URL tried and its status", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => ({}))
      const r = yield* reason(`${server.origin}/t`)
      assert.strictEqual(r._tag, "MetadataNotFound")
      if (r._tag !== "MetadataNotFound") return
      assert.deepStrictEqual(outcomes(r.attempts), [
        `${OAUTH}/t 404 client-error`,
        `${OIDC}/t 404 client-error`,
        `/t${OIDC} 404 client-error`
      ])
      assert.include(r.message, `${server.origin}${OAUTH}/t (404)`)
    }))
})

describe("AuthorizationServerMetadata: security rules", () => {
  it.effect("RFC 8414 §3.3: a document naming another issuer is not used, and discovery stops there", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({
        [OAUTH]: { json: doc("https://honest.example") },
        [OIDC]: { json: doc(origin) }
      }))
      const r = yield* reason(server.origin)
      assert.strictEqual(r._tag, "IssuerMismatch")
      if (r._tag !== "IssuerMismatch") return
      assert.strictEqual(r.expected, server.origin)
      assert.strictEqual(r.received, "https://honest.example")
      assert.strictEqual(r.url, `${server.origin}${OAUTH}`)
      // never retried at the next location
      assert.deepStrictEqual(server.requests, [OAUTH])
    }))

  it.effect("RFC 8414 §3.3: a trailing-slash difference is a mismatch by default", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({ [`${OAUTH}/t`]: { json: doc(`${origin}/t/`) } }))
      const r = yield* reason(`${server.origin}/t`)
      assert.strictEqual(r._tag, "IssuerMismatch")
    }))

  it.effect("RFC 8414 §3.3: allowIssuerTrailingSlashMismatch accepts it, keeps the received issuer, and logs", () =>
    Effect.gen(function*() {
      logs.length = 0
      const server = yield* serve((origin) => ({ [`${OAUTH}/t`]: { json: doc(`${origin}/t/`) } }))
      const result = yield* discover(`${server.origin}/t`, { ...LOOPBACK, allowIssuerTrailingSlashMismatch: true })
      assert.strictEqual(result.metadata.issuer, `${server.origin}/t/`)
      assert.isTrue(logs.some((l) => l.includes("allowIssuerTrailingSlashMismatch")), logs.join("\n"))
    }))

  it.effect("MCP Authorization §Authorization Code Protection: no code_challenge_methods_supported is refused", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({
        [OAUTH]: { json: { ...doc(origin), code_challenge_methods_supported: undefined } }
      }))
      const r = yield* reason(server.origin)
      assert.strictEqual(r._tag, "PkceUnsupported")
      assert.include(r.message, "does not list code_challenge_methods_supported")
    }))

  it.effect("MCP Authorization §Authorization Code Protection: methods without S256 are refused", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({
        [OAUTH]: { json: doc(origin, { code_challenge_methods_supported: ["plain"] }) }
      }))
      const r = yield* reason(server.origin)
      assert.strictEqual(r._tag, "PkceUnsupported")
      if (r._tag !== "PkceUnsupported") return
      assert.deepStrictEqual(r.code_challenge_methods_supported, ["plain"])
      assert.include(r.message, "without S256")
    }))

  it.effect("MCP Authorization §Communication Security: loopback http is refused without the option", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({ [OAUTH]: { json: doc(origin) } }))
      const r = yield* reason(server.origin, {})
      assert.strictEqual(r._tag, "InsecureUrl")
      if (r._tag !== "InsecureUrl") return
      assert.strictEqual(r.member, "issuer")
      // refused before any request
      assert.deepStrictEqual(server.requests, [])
    }))

  it.effect("MCP Authorization §Communication Security: allowLoopbackHttp is logged when used", () =>
    Effect.gen(function*() {
      logs.length = 0
      const server = yield* serve((origin) => ({ [OAUTH]: { json: doc(origin) } }))
      yield* discover(server.origin)
      assert.isTrue(logs.some((l) => l.startsWith("Warn") && l.includes("allowLoopbackHttp")), logs.join("\n"))
    }))

  it.effect("MCP Authorization §Communication Security: an http endpoint on a non-loopback host is refused", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({
        [OAUTH]: { json: doc(origin, { token_endpoint: "http://as.example/token" }) }
      }))
      const r = yield* reason(server.origin)
      assert.strictEqual(r._tag, "InsecureUrl")
      if (r._tag !== "InsecureUrl") return
      assert.strictEqual(r.member, "token_endpoint")
      assert.strictEqual(r.value, "http://as.example/token")
    }))

  it.effect("a redirect to another origin is not followed; the next candidate is tried", () =>
    Effect.gen(function*() {
      const elsewhere = yield* serve((origin) => ({ [OAUTH]: { json: doc(origin) } }))
      const server = yield* serve((origin) => ({
        [OAUTH]: { status: 302, headers: { location: `${elsewhere.origin}${OAUTH}` } },
        [OIDC]: { json: doc(origin) }
      }))
      const result = yield* discover(server.origin)
      assert.strictEqual(result.url, `${server.origin}${OIDC}`)
      assert.strictEqual(result.attempts[0]?.outcome, "redirect-refused")
      assert.include(result.attempts[0]?.detail ?? "", elsewhere.origin)
      assert.deepStrictEqual(elsewhere.requests, [])
    }))

  it.effect("a same-origin redirect is followed, and the attempt says so", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({
        [OAUTH]: { status: 307, headers: { location: "/meta.json" } },
        "/meta.json": { json: doc(origin) }
      }))
      const result = yield* discover(server.origin)
      assert.strictEqual(result.metadata.issuer, server.origin)
      assert.deepStrictEqual(server.requests, [OAUTH, "/meta.json"])
      assert.include(result.attempts[0]?.detail ?? "", "/meta.json")
    }))
})

describe("AuthorizationServerMetadata: bad documents", () => {
  it.effect("null members are absent and unknown members are kept", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({
        [OAUTH]: {
          json: doc(origin, { registration_endpoint: null, jwks_uri: null, x_custom: { a: [1] }, mcp_flag: true })
        }
      }))
      const { metadata } = yield* discover(server.origin)
      assert.isUndefined(metadata.registration_endpoint)
      assert.isFalse("jwks_uri" in metadata)
      assert.deepStrictEqual(metadata["x_custom"], { a: [1] })
      assert.strictEqual(metadata["mcp_flag"], true)
    }))

  it.effect("a document that is not JSON moves on; if nothing else answers, the attempts say why", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => ({
        [OAUTH]: { headers: { "content-type": "text/html" }, body: "<html>login</html>" }
      }))
      const r = yield* reason(server.origin)
      assert.strictEqual(r._tag, "MetadataNotFound")
      if (r._tag !== "MetadataNotFound") return
      assert.strictEqual(r.attempts[0]?.outcome, "not-json")
      assert.include(r.attempts[0]?.detail ?? "", "text/html")
      assert.strictEqual(r.attempts[1]?.outcome, "client-error")
    }))

  it.effect("RFC 8414 §3.2: an invalid document names the member and what was expected", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({ [OAUTH]: { json: { issuer: origin, token_endpoint: 7 } } }))
      const r = yield* reason(server.origin)
      assert.strictEqual(r._tag, "InvalidMetadata")
      if (r._tag !== "InvalidMetadata") return
      assert.strictEqual(r.url, `${server.origin}${OAUTH}`)
      assert.deepStrictEqual(r.problems.map((p) => p.member).toSorted(), ["authorization_endpoint", "token_endpoint"])
      assert.isTrue(r.problems.some((p) => p.member === "token_endpoint" && p.expected.includes("string")))
      // the later candidate was tried too, and is listed
      assert.strictEqual(r.attempts.length, 2)
    }))

  it.effect("an invalid document does not hide a valid one at a later location", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({
        [OAUTH]: { json: { issuer: origin } },
        [OIDC]: { json: doc(origin) }
      }))
      const result = yield* discover(server.origin)
      assert.strictEqual(result.url, `${server.origin}${OIDC}`)
      assert.strictEqual(result.attempts[0]?.outcome, "invalid-document")
    }))

  it.effect("a huge document is not read past the limit (declared length)", () =>
    Effect.gen(function*() {
      const big = JSON.stringify(doc("x", { padding: "a".repeat(300_000) }))
      const server = yield* serve(() => ({
        [OAUTH]: { headers: { "content-length": String(Buffer.byteLength(big)) }, body: big }
      }))
      const r = yield* reason(server.origin)
      assert.strictEqual(r._tag, "MetadataNotFound")
      if (r._tag !== "MetadataNotFound") return
      assert.strictEqual(r.attempts[0]?.outcome, "too-large")
    }))

  it.effect("a huge streamed document (no Content-Length) is cut off at the limit", () =>
    Effect.gen(function*() {
      let written = 0
      let closed = false
      const server = yield* serve(() => ({
        [OAUTH]: {
          headers: { "content-type": "application/json" },
          body: (res) => {
            // an endless document: 64 KiB at a time until the client hangs up
            res.write("{\"padding\":\"")
            const chunk = "a".repeat(64 * 1024)
            const more = () => !closed && written < 50 * 1024 * 1024
            const pump = () => {
              while (more()) {
                written += chunk.length
                if (!res.write(chunk)) return res.once("drain", pump)
              }
              res.end()
            }
            res.on("close", () => {
              closed = true
            })
            pump()
          }
        }
      }))
      const r = yield* reason(server.origin, { ...LOOPBACK, maxBodyBytes: 100_000 })
      assert.strictEqual(r._tag, "MetadataNotFound")
      if (r._tag !== "MetadataNotFound") return
      assert.strictEqual(r.attempts[0]?.outcome, "too-large")
      assert.isBelow(written, 50 * 1024 * 1024)
    }))

  it.effect("a 5xx is reported, not skipped", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({
        [OAUTH]: { status: 503 },
        [OIDC]: { json: doc(origin) }
      }))
      const r = yield* reason(server.origin)
      assert.strictEqual(r._tag, "ServerError")
      if (r._tag !== "ServerError") return
      assert.strictEqual(r.status, 503)
      assert.deepStrictEqual(server.requests, [OAUTH])
    }))

  it.live("a server that never answers is reported after the timeout, not waited on forever", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => ({
        [OAUTH]: {
          body: () => {
            // headers sent, body never finished
          }
        }
      }))
      const r = yield* reason(server.origin, { ...LOOPBACK, timeout: "300 millis" })
      assert.strictEqual(r._tag, "Unreachable")
      if (r._tag !== "Unreachable") return
      assert.include(r.detail, "no answer within")
    }))

  it.effect("a network failure is reported, not skipped", () =>
    Effect.gen(function*() {
      // a server that is closed again at once: its port refuses connections
      const origin = yield* Effect.scoped(serve(() => ({})).pipe(Effect.map((s) => s.origin)))
      const r = yield* reason(origin)
      assert.strictEqual(r._tag, "Unreachable")
      if (r._tag !== "Unreachable") return
      assert.strictEqual(r.attempts.length, 1)
      assert.strictEqual(r.attempts[0]?.outcome, "network-error")
    }))
})

describe("AuthorizationServerMetadata: cache", () => {
  const twice = (issuer: string, options: AuthorizationServerMetadata.Options = LOOPBACK, between = Effect.void) =>
    Effect.gen(function*() {
      const asm = yield* AuthorizationServerMetadata.AuthorizationServerMetadata
      const first = yield* asm.discover(issuer)
      yield* between
      const second = yield* asm.discover(issuer)
      return [first, second] as const
    }).pipe(Effect.provide(AuthorizationServerMetadata.layer(options).pipe(Layer.provide(FetchHttpClient.layer))))

  it.effect("a second discovery in the same process makes no request", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({ [OAUTH]: { json: doc(origin) } }))
      const [a, b] = yield* twice(server.origin)
      assert.strictEqual(a.metadata.issuer, b.metadata.issuer)
      assert.deepStrictEqual(server.requests, [OAUTH])
    }))

  it.effect("concurrent discoveries of one issuer share one set of requests", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({ [`${OIDC}/t`]: { json: doc(`${origin}/t`) } }))
      const results = yield* Effect.gen(function*() {
        const asm = yield* AuthorizationServerMetadata.AuthorizationServerMetadata
        return yield* Effect.all(Array.from({ length: 5 }, () => asm.discover(`${server.origin}/t`)), {
          concurrency: "unbounded"
        })
      }).pipe(Effect.provide(AuthorizationServerMetadata.layer(LOOPBACK).pipe(Layer.provide(FetchHttpClient.layer))))
      assert.strictEqual(results.length, 5)
      assert.deepStrictEqual(server.requests, [`${OAUTH}/t`, `${OIDC}/t`])
    }))

  it.effect("invalidate drops the cached document", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({ [OAUTH]: { json: doc(origin) } }))
      yield* Effect.gen(function*() {
        const asm = yield* AuthorizationServerMetadata.AuthorizationServerMetadata
        yield* asm.discover(server.origin)
        yield* asm.invalidate(server.origin)
        yield* asm.discover(server.origin)
      }).pipe(Effect.provide(AuthorizationServerMetadata.layer(LOOPBACK).pipe(Layer.provide(FetchHttpClient.layer))))
      assert.deepStrictEqual(server.requests, [OAUTH, OAUTH])
    }))

  it.effect("RFC 9111 §5.2.2.1: max-age is honoured: after it passes, discovery runs again", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({
        [OAUTH]: { json: doc(origin), headers: { "cache-control": "max-age=60" } }
      }))
      yield* twice(server.origin, LOOPBACK, TestClock.adjust("59 seconds"))
      assert.deepStrictEqual(server.requests, [OAUTH])
      yield* twice(server.origin, LOOPBACK, TestClock.adjust("61 seconds"))
      assert.deepStrictEqual(server.requests, [OAUTH, OAUTH, OAUTH])
    }))

  it.effect("RFC 9111 §5.2.2.5: no-store is not cached", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({
        [OAUTH]: { json: doc(origin), headers: { "cache-control": "no-store" } }
      }))
      yield* twice(server.origin)
      assert.deepStrictEqual(server.requests, [OAUTH, OAUTH])
    }))

  it.effect("failures are not cached", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => ({ [OAUTH]: { status: 500 } }))
      yield* Effect.gen(function*() {
        const asm = yield* AuthorizationServerMetadata.AuthorizationServerMetadata
        yield* Effect.exit(asm.discover(server.origin))
        yield* Effect.exit(asm.discover(server.origin))
      }).pipe(Effect.provide(AuthorizationServerMetadata.layer(LOOPBACK).pipe(Layer.provide(FetchHttpClient.layer))))
      assert.deepStrictEqual(server.requests, [OAUTH, OAUTH])
    }))
})

describe("AuthorizationServerMetadata: Datadog", () => {
  // The 2026-08 capture, with its origin moved to the test server: issuer with a path (`/v1/mcp`), document served
  // at the root well-known URL only, endpoints on another host.
  const datadogAt = (origin: string): Reply => ({
    json: {
      ...datadog,
      issuer: `${origin}/v1/mcp`,
      authorization_endpoint: datadog.authorization_endpoint,
      token_endpoint: datadog.token_endpoint,
      registration_endpoint: datadog.registration_endpoint
    }
  })

  it.effect("strict: the path issuer's document only at the root is not found (the three MCP locations are 404)", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({ [OAUTH]: datadogAt(origin) }))
      const r = yield* reason(`${server.origin}/v1/mcp`)
      assert.strictEqual(r._tag, "MetadataNotFound")
      assert.deepStrictEqual(server.requests, [`${OAUTH}/v1/mcp`, `${OIDC}/v1/mcp`, `/v1/mcp${OIDC}`])
    }))

  it.effect("allowRootDocumentForPathIssuer: the root document naming the path issuer is accepted and logged", () =>
    Effect.gen(function*() {
      logs.length = 0
      const server = yield* serve((origin) => ({ [OAUTH]: datadogAt(origin) }))
      const result = yield* discover(`${server.origin}/v1/mcp`, { ...LOOPBACK, allowRootDocumentForPathIssuer: true })
      assert.strictEqual(result.metadata.issuer, `${server.origin}/v1/mcp`)
      assert.strictEqual(result.url, `${server.origin}${OAUTH}`)
      assert.strictEqual(result.metadata.token_endpoint, "https://app.datadoghq.com/api/v2/oauth2/token")
      assert.deepStrictEqual(result.metadata.scopes_supported, ["mcp_all"])
      assert.strictEqual(result.attempts.length, 4)
      assert.isTrue(logs.some((l) => l.includes("allowRootDocumentForPathIssuer")), logs.join("\n"))
    }))

  it.effect("allowRootDocumentForPathIssuer still refuses a root document naming another issuer", () =>
    Effect.gen(function*() {
      const server = yield* serve((origin) => ({ [OAUTH]: { json: doc(origin) } }))
      const r = yield* reason(`${server.origin}/v1/mcp`, { ...LOOPBACK, allowRootDocumentForPathIssuer: true })
      assert.strictEqual(r._tag, "IssuerMismatch")
    }))
})
