// A server that answers 500 during discovery, met by a client whose file store already holds a working session for
// another server: the failure is a typed error naming the step, the URL and the status, the store is left
// byte-for-byte as it was, and the stored session still reconnects without any authorization traffic.
import { assert, describe, it } from "@effect/vitest"
import { McpAuthorization } from "@mcpauth/mcp-auth"
import type { AuthEvent } from "@mcpauth/mcp-auth/AuthEvent"
import { UserAgent } from "@mcpauth/oauth2-authorization"
import { TokenStore } from "@mcpauth/token-store"
import { Effect, Exit, Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { readdir, readFile } from "node:fs/promises"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import {
  count,
  isAuthorize,
  isDiscovery,
  isRegister,
  isToken,
  sandboxResource,
  tempDir,
  withMcp
} from "./support/Fixtures.ts"

const auto = UserAgent.programmatic(async (url) => {
  const res = await fetch(url, { redirect: "manual" })
  const location = res.headers.get("location")
  if (location === null) throw new Error(`authorize answered ${res.status} without a Location`)
  return new URL(location, url)
})
const none = UserAgent.programmatic(() => Promise.reject(new Error("no sign-in may be needed here")))

const layerFor = (serverUrl: string, dir: string, userAgent: UserAgent.UserAgent, events: Array<AuthEvent>) =>
  McpAuthorization.layerDefault({
    serverUrl,
    userAgent,
    client: { name: "mcpauth e2e (failures)" },
    allowLoopbackHttp: true,
    store: TokenStore.layerFile({ directory: dir }),
    events: (e) => events.push(e)
  }).pipe(Layer.provide(FetchHttpClient.layer))

// Every file of the store with its content: what "not damaged" is compared on
const snapshot = (dir: string) =>
  Effect.promise(async () => {
    const names = (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((d) => d.isFile())
      .map((d) => join(d.parentPath, d.name))
      .toSorted()
    return Object.fromEntries(await Promise.all(names.map(async (n) => [n, await readFile(n, "utf8")] as const)))
  })

// "prm": the protected resource metadata answers 500. "metadata": the PRM is fine (it names this server as the
// authorization server), the authorization server metadata answers 500.
const brokenServer = (mode: "prm" | "metadata") =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<{ url: string; close: () => Promise<void>; seen: Array<string> }>((resolve) => {
        const seen: Array<string> = []
        let origin = ""
        const server = createServer((req, res) => {
          const path = new URL(req.url ?? "/", origin).pathname
          seen.push(`${req.method ?? ""} ${path}`)
          if (path.startsWith("/.well-known/oauth-protected-resource")) {
            if (mode === "prm") return res.writeHead(500).end("internal error")
            res.writeHead(200, { "content-type": "application/json" })
            return res.end(JSON.stringify({ resource: `${origin}/mcp`, authorization_servers: [origin] }))
          }
          if (path.startsWith("/.well-known/")) return res.writeHead(500).end("internal error")
          res.writeHead(401, {
            "www-authenticate": `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"`
          }).end()
        })
        server.listen(0, "127.0.0.1", () => {
          origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
          resolve({
            url: `${origin}/mcp`,
            seen,
            close: () =>
              new Promise<void>((done) => {
                server.close(() => done())
                server.closeAllConnections()
              })
          })
        })
      })
    ),
    (s) => Effect.promise(() => s.close())
  )

const cases = [
  { mode: "prm", step: "discovery", failing: "/.well-known/oauth-protected-resource/mcp" },
  { mode: "metadata", step: "metadata", failing: "/.well-known/oauth-authorization-server" }
] as const

describe("a server that answers 500 during discovery", () => {
  it.live.each(cases)(
    "500 at the $mode document: a typed error naming step, URL and status; the shared store is left intact",
    ({ failing, mode, step }) =>
      Effect.scoped(Effect.gen(function*() {
        const sandbox = yield* sandboxResource({ profile: "datadog", rateLimit: false })
        const dir = yield* tempDir("failures")
        // a working session for the sandbox, in the store
        yield* withMcp((c) => c.listTools()).pipe(Effect.provide(layerFor(sandbox.mcpUrl, dir, auto, [])))
        const before = yield* snapshot(dir)
        assert.isAbove(Object.keys(before).length, 0)

        const broken = yield* brokenServer(mode)
        const events: Array<AuthEvent> = []
        const exit = yield* Effect.exit(
          Effect.gen(function*() {
            const auth = yield* McpAuthorization.McpAuthorization
            return yield* auth.request(broken.url, { method: "POST", body: "{}" })
          }).pipe(Effect.provide(layerFor(broken.url, dir, none, events)))
        )
        assert.isTrue(Exit.isFailure(exit))
        const first = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
        const error = first?._tag === "Fail" ? first.error : undefined
        assert.strictEqual(error?._tag, "McpAuthError")
        const reason = error?.reason
        assert.strictEqual(reason?._tag, "StepFailed")
        assert.strictEqual(reason?._tag === "StepFailed" ? reason.step : undefined, step)
        const message = error?.message ?? ""
        assert.include(message, "500")
        assert.include(message, failing)
        // the server really was asked for that document, and nothing was registered or authorized anywhere
        assert.isTrue(broken.seen.some((s) => s.startsWith("GET /.well-known/") && s.includes(failing)))
        assert.isFalse(events.some((e) => e.step === "registration" || e.step === "authorization"))

        // no stored state damaged: every file as it was
        assert.deepStrictEqual(yield* snapshot(dir), before)
        // and the sandbox's stored session still works with no authorization traffic
        const trafficBefore = sandbox.stats().requests.length
        const tools = yield* withMcp((c) => c.listTools()).pipe(Effect.provide(layerFor(sandbox.mcpUrl, dir, none, [])))
        assert.isAbove(tools.tools.length, 5)
        const later = sandbox.stats().requests.slice(trafficBefore)
        assert.deepStrictEqual(
          later.filter((r) => isDiscovery(r.path) || isRegister(r.path, r.method) || isToken(r.path, r.method)),
          []
        )
        assert.strictEqual(count(sandbox, isAuthorize), 1)
      })),
    45_000
  )
})
