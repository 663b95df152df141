// The demo and the advanced examples run non-interactively (as in CI) and their output is checked.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { join } from "node:path"

const src = join(import.meta.dirname, "..", "src")

// Runs a script with a clean environment (no Datadog variables of the developer's), no colours, bounded in time.
const run = (args: ReadonlyArray<string>) =>
  Effect.callback<{ code: number | null; out: string }>((resume) => {
    const env: Record<string, string> = {
      PATH: process.env["PATH"] ?? "",
      HOME: process.env["HOME"] ?? "/tmp",
      NO_COLOR: "1"
    }
    const child = spawn(process.execPath, args, { cwd: join(src, ".."), env, stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    child.stdout.on("data", (d) => (out += d))
    child.stderr.on("data", (d) => (out += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000)
    child.on("close", (code) => {
      clearTimeout(timer)
      resume(Effect.succeed({ code, out }))
    })
  })

// A JWT (three base64url segments starting with {"...) or a long opaque secret after "Bearer " must never be printed
const assertNoSecrets = (out: string) => {
  assert.notMatch(out, /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./, "a JWT was printed")
  assert.notMatch(out, /Bearer [A-Za-z0-9._~+/-]{20,}/, "a bearer token was printed")
  assert.notMatch(out, /code=(?!%5Bredacted%5D)[A-Za-z0-9_-]{10,}/, "an authorization code was printed")
}

describe("demo", () => {
  it.live("./run demo: the whole flow against the sandbox, step by step", () =>
    Effect.gen(function*() {
      const { code, out } = yield* run([join(src, "main.ts")])
      assert.strictEqual(code, 0, out)
      for (
        const expected of [
          "against the local sandbox",
          "POST /v1/mcp → 401",
          "tried http://127.0.0.1:", // every discovery URL tried
          "/.well-known/oauth-protected-resource/v1/mcp",
          "/.well-known/oauth-authorization-server/v1/mcp",
          "(dynamic)", // registration
          "code_challenge_method  S256",
          "resource ", // the resource parameter on the authorization URL
          "automatic consent",
          "access_token: [redacted]",
          "audience_matches_resource: true",
          "search_datadog_logs",
          "whoami",
          "Jane Doe",
          "2. Second connection",
          "0 discovery, registration, authorization or token requests",
          "3. Forced refresh",
          "POST /api/v2/oauth2/token → 200"
        ]
      ) assert.include(out, expected)
      assertNoSecrets(out)
    }))

  it.live("--help explains the options", () =>
    Effect.gen(function*() {
      const { code, out } = yield* run([join(src, "main.ts"), "--help"])
      assert.strictEqual(code, 0)
      assert.include(out, "--site")
      assert.include(out, "--headless")
    }))

  it.live("an unknown site is refused with an error naming the valid ones, exit code 1", () =>
    Effect.gen(function*() {
      const { code, out } = yield* run([join(src, "main.ts"), "--site", "datadoghq.example"])
      assert.strictEqual(code, 1)
      assert.include(out, "datadoghq.eu")
    }))
})

describe("advanced examples", () => {
  it.live.each<[string, ReadonlyArray<string>]>([
    ["api-key", ["connected with ApiKey", "0 OAuth requests were made"]],
    ["step-up", ["insufficient_scope", "the write succeeded after step-up", "2 authorization requests"]],
    ["logout", ["refresh_token: revoked", "local tokens forgotten: true", "refused by the server: HTTP 401"]],
    ["two-sites", ["2 distinct registrations"]],
    ["custom-client", ["2. RFC 9728", "3. RFC 8414", "4. RFC 7591", "5. code flow", "6. the official MCP client"]]
  ])("%s", ([name, expected]) =>
    Effect.gen(function*() {
      const { code, out } = yield* run([join(src, "example.ts"), name])
      assert.strictEqual(code, 0, out)
      for (const e of expected) assert.include(out, e)
      assertNoSecrets(out)
    }))

  it.live("--list names every example", () =>
    Effect.gen(function*() {
      const { code, out } = yield* run([join(src, "example.ts"), "--list"])
      assert.strictEqual(code, 0)
      for (const n of ["api-key", "step-up", "logout", "two-sites", "custom-client"]) assert.include(out, n)
    }))
})

describe("demo command line", () => {
  it.live.each<[ReadonlyArray<string>, string]>([
    [["--bogus"], "Unknown option '--bogus'"],
    [["--url"], "argument missing"],
    [["extra"], "Unexpected argument"],
    [["--url", ""], "--url needs a value"],
    [["--site", " "], "--site needs a value"]
  ])("a bad flag %s is one line and the usage, exit 2, no stack trace", ([flags, message]) =>
    Effect.gen(function*() {
      const { code, out } = yield* run([join(src, "main.ts"), ...flags])
      assert.strictEqual(code, 2)
      assert.include(out, message)
      assert.include(out, "Usage: ./run demo")
      assert.notInclude(out, "    at ")
    }))
})
