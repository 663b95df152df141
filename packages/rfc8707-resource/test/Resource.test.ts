import { assert, describe, it } from "@effect/vitest"
import { Resource } from "@mcpauth/rfc8707-resource"
import { Effect, Exit, Schema } from "effect"

const reasonOf = <A>(exit: Exit.Exit<A, Resource.ResourceError>) => {
  assert.isTrue(Exit.isFailure(exit), "expected a failure")
  const first = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
  return first?._tag === "Fail" ? first.error.reason : undefined
}

describe("canonicalize", () => {
  it.effect.each<[string, string]>([
    // MCP 2026-07-28 Authorization §Canonical Server URI: the spec's own valid examples are their own canonical form
    ["https://mcp.example.com/mcp", "https://mcp.example.com/mcp"],
    ["https://mcp.example.com", "https://mcp.example.com"],
    ["https://mcp.example.com:8443", "https://mcp.example.com:8443"],
    ["https://mcp.example.com/server/mcp", "https://mcp.example.com/server/mcp"],
    // lower-case scheme and host; path case kept
    ["HTTPS://MCP.Example.COM/V1/Mcp", "https://mcp.example.com/V1/Mcp"],
    // default port dropped, other ports kept
    ["https://mcp.example.com:443/mcp", "https://mcp.example.com/mcp"],
    ["http://127.0.0.1:80/mcp", "http://127.0.0.1/mcp"],
    ["http://127.0.0.1:8080/mcp", "http://127.0.0.1:8080/mcp"],
    ["https://mcp.example.com:80/mcp", "https://mcp.example.com:80/mcp"],
    // a root "/" alone is dropped (SHOULD use the form without the trailing slash); no slash is ever added
    ["https://mcp.example.com/", "https://mcp.example.com"],
    ["https://mcp.example.com/mcp/", "https://mcp.example.com/mcp/"],
    // RFC 8707 §2: SHOULD NOT include a query: dropped
    ["https://mcp.datadoghq.com/v1/mcp?toolsets=core,apm", "https://mcp.datadoghq.com/v1/mcp"],
    ["https://mcp.example.com?x=1", "https://mcp.example.com"],
    // IPv6 hosts keep their brackets and are lower-cased
    ["http://[::1]:3000/mcp", "http://[::1]:3000/mcp"],
    ["http://[FE80::1]/mcp", "http://[fe80::1]/mcp"],
    // percent-encoding is kept exactly as written
    ["https://mcp.example.com/a%2Fb/%7euser", "https://mcp.example.com/a%2Fb/%7euser"],
    // Datadog sites
    ["https://mcp.datadoghq.eu/v1/mcp", "https://mcp.datadoghq.eu/v1/mcp"]
  ])("MCP §Canonical Server URI: %s -> %s", ([input, expected]) =>
    Effect.gen(function*() {
      assert.strictEqual(yield* Resource.canonicalize(input), expected)
    }))

  it.effect.each<[string, string]>([
    // the spec's invalid examples
    ["mcp.example.com", "NotAbsolute"],
    ["https://mcp.example.com#fragment", "HasFragment"],
    ["/mcp", "NotAbsolute"],
    ["", "NotAbsolute"],
    ["https://mcp.example.com/mcp#", "HasFragment"],
    ["ftp://mcp.example.com/mcp", "UnsupportedScheme"],
    ["ws://mcp.example.com/mcp", "UnsupportedScheme"],
    ["localhost:8080/mcp", "UnsupportedScheme"],
    ["javascript:alert(1)", "UnsupportedScheme"],
    ["https:mcp.example.com", "InvalidUri"],
    ["https://", "InvalidUri"],
    ["https://exa mple.com/mcp", "InvalidUri"],
    ["https://mcp.example.com/a b", "InvalidUri"],
    ["https://evil.example\\@mcp.example.com/", "InvalidUri"],
    ["https://user:s3cret@mcp.example.com/mcp", "HasUserInfo"],
    ["https://[::1/mcp", "InvalidUri"]
  ])("RFC 8707 §2: %s is refused with %s", ([input, tag]) =>
    Effect.gen(function*() {
      const reason = reasonOf(yield* Effect.exit(Resource.canonicalize(input)))
      assert.strictEqual(reason?._tag, tag)
      assert.isString(reason?.message)
    }))

  it.effect("never echoes a password in an error", () =>
    Effect.gen(function*() {
      const reason = reasonOf(yield* Effect.exit(Resource.canonicalize("https://user:s3cret@mcp.example.com/mcp")))
      assert.notInclude(reason?.message ?? "s3cret", "s3cret")
      assert.notInclude(JSON.stringify(reason), "s3cret")
    }))

  it.effect("suggests the https form of a URL typed without a scheme", () =>
    Effect.gen(function*() {
      const reason = reasonOf(yield* Effect.exit(Resource.canonicalize("mcp.example.com/mcp")))
      assert.include(reason?.message ?? "", "https://mcp.example.com/mcp")
    }))

  it.effect.prop(
    "never fails with anything but a ResourceError, on any string",
    [Schema.String],
    ([input]) =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(Resource.canonicalize(input))
        if (Exit.isFailure(exit)) {
          const first = exit.cause.reasons[0]
          assert.strictEqual(first?._tag, "Fail")
          assert.strictEqual(first?._tag === "Fail" ? first.error._tag : "", "ResourceError")
        } else {
          // a canonical URI canonicalizes to itself
          assert.strictEqual(yield* Resource.canonicalize(exit.value), exit.value)
        }
      })
  )
})

describe("isResourceAllowed", () => {
  it.effect.each<[string, string, boolean]>([
    // RFC 9728 §3.3 / MCP: same origin, resource path a prefix on a segment boundary
    ["https://mcp.example.com/api/mcp", "https://mcp.example.com/api", true],
    ["https://mcp.example.com/apimcp", "https://mcp.example.com/api", false],
    ["https://mcp.example.com/api", "https://mcp.example.com/api", true],
    ["https://mcp.example.com/api/", "https://mcp.example.com/api", true],
    ["https://mcp.example.com/api/mcp", "https://mcp.example.com/api/", true],
    ["https://mcp.example.com/api", "https://mcp.example.com/api/", false],
    ["https://mcp.example.com/mcp", "https://mcp.example.com/mcp/v2", false],
    // a bare origin (Datadog's PRM) covers every path of that origin, with or without a slash
    ["https://mcp.datadoghq.com/v1/mcp", "https://mcp.datadoghq.com", true],
    ["https://mcp.datadoghq.com/v1/mcp", "https://mcp.datadoghq.com/", true],
    ["https://mcp.datadoghq.com", "https://mcp.datadoghq.com", true],
    // another origin never
    ["https://mcp.datadoghq.com/v1/mcp", "https://mcp.datadoghq.eu", false],
    ["https://mcp.example.com/mcp", "https://evil.example.com/mcp", false],
    ["https://mcp.example.com/mcp", "https://mcp.example.com.evil.example/mcp", false],
    ["https://mcp.example.com/mcp", "http://mcp.example.com/mcp", false],
    ["https://mcp.example.com:8443/mcp", "https://mcp.example.com/mcp", false],
    ["http://127.0.0.1:3000/mcp", "http://localhost:3000/mcp", false],
    ["http://127.0.0.1:3000/mcp", "http://127.0.0.1:3001/mcp", false],
    // case of scheme and host, default ports
    ["https://MCP.example.com/mcp", "HTTPS://mcp.EXAMPLE.com/mcp", true],
    ["https://mcp.example.com:443/mcp", "https://mcp.example.com/mcp", true],
    // path case matters
    ["https://mcp.example.com/MCP", "https://mcp.example.com/mcp", false],
    // IPv6
    ["http://[::1]:3000/v1/mcp", "http://[::1]:3000", true],
    ["http://[::1]:3000/v1/mcp", "http://[::2]:3000", false],
    // percent-encoding: hex case and encoded unreserved characters compare equal (RFC 3986 §6.2.2)
    ["https://mcp.example.com/%7Euser/mcp", "https://mcp.example.com/~user", true],
    ["https://mcp.example.com/a%2fb/mcp", "https://mcp.example.com/a%2Fb", true],
    ["https://mcp.example.com/a/b/mcp", "https://mcp.example.com/a%2Fb", false],
    // queries: a resource with a query only covers that exact query; the server's own query is ignored otherwise
    ["https://mcp.example.com/mcp?toolsets=core", "https://mcp.example.com/mcp", true],
    ["https://mcp.example.com/mcp?t=1", "https://mcp.example.com/mcp?t=1", true],
    ["https://mcp.example.com/mcp?t=2", "https://mcp.example.com/mcp?t=1", false]
  ])("RFC 9728 §3.3: server %s, resource %s -> %s", ([server, resource, expected]) =>
    Effect.gen(function*() {
      assert.strictEqual(yield* Resource.isResourceAllowed(server, resource), expected)
    }))

  it.effect.each<[string, string, string]>([
    ["https://mcp.example.com/mcp", "mcp.example.com", "NotAbsolute"],
    ["https://mcp.example.com/mcp", "https://mcp.example.com#x", "HasFragment"],
    ["ftp://mcp.example.com/mcp", "https://mcp.example.com", "UnsupportedScheme"]
  ])("bad input is a typed error: %s / %s -> %s", ([server, resource, tag]) =>
    Effect.gen(function*() {
      assert.strictEqual(reasonOf(yield* Effect.exit(Resource.isResourceAllowed(server, resource)))?._tag, tag)
    }))
})

describe("chooseResource", () => {
  it.effect("keeps the metadata's resource exactly as received: a bare origin gains no slash", () =>
    Effect.gen(function*() {
      assert.strictEqual(
        yield* Resource.chooseResource("https://mcp.datadoghq.com/v1/mcp", "https://mcp.datadoghq.com"),
        "https://mcp.datadoghq.com"
      )
      // not re-serialised, not even to fold case or drop a default port
      assert.strictEqual(
        yield* Resource.chooseResource("https://mcp.example.com/mcp", "HTTPS://MCP.example.com:443/mcp"),
        "HTTPS://MCP.example.com:443/mcp"
      )
    }))

  it.effect("falls back to the canonical server URI when the metadata names none", () =>
    Effect.gen(function*() {
      assert.strictEqual(
        yield* Resource.chooseResource("HTTPS://Mcp.Example.com/mcp?x=1", undefined),
        "https://mcp.example.com/mcp"
      )
    }))

  it.effect("RFC 9728 §3.3: a foreign resource is a ResourceMismatch security error", () =>
    Effect.gen(function*() {
      const reason = reasonOf(
        yield* Effect.exit(Resource.chooseResource("https://mcp.example.com/mcp", "https://attacker.example/mcp"))
      )
      assert.strictEqual(reason?._tag, "ResourceMismatch")
      assert.include(reason?.message ?? "", "attacker.example")
    }))

  it.effect("recovering from one reason with Effect.catchReason", () =>
    Effect.gen(function*() {
      const result = yield* Resource.chooseResource("https://a.example/mcp", "https://b.example/mcp").pipe(
        Effect.catchReason("ResourceError", "ResourceMismatch", (r) => Effect.succeed(`refused ${r.resource}`))
      )
      assert.strictEqual(result, "refused https://b.example/mcp")
    }))
})
