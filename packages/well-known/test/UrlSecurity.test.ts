import { assert, describe, it } from "@effect/vitest"
import { UrlSecurity } from "@mcpauth/well-known"
import { Effect } from "effect"

describe("UrlSecurity", () => {
  it.effect.each<[string, boolean, string | undefined]>([
    ["https://as.example.com/token", false, undefined],
    ["http://as.example.com/token", true, "http is not allowed (https is required)"],
    ["http://127.0.0.1:8080/token", false, "http to a loopback host needs the allowLoopbackHttp option"],
    ["http://127.0.0.1:8080/token", true, undefined],
    ["http://localhost/token", true, undefined],
    ["http://app.localhost/token", true, undefined],
    ["http://[::1]:9/token", true, undefined],
    ["http://127.1.2.3/token", true, undefined],
    ["http://127.0.0.1.evil.example/token", true, "http is not allowed (https is required)"],
    ["ftp://as.example.com/x", true, "the scheme ftp: is not allowed (https is required)"],
    ["/token", true, "not an absolute URL"]
  ])(
    "MCP §Communication Security: %s (allowLoopbackHttp=%s) -> %s",
    ([url, allow, expected]) => Effect.sync(() => assert.strictEqual(UrlSecurity.insecureReason(url, allow), expected))
  )
})
