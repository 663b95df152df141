// End to end against a real authorization server we did not write: oidc-provider, on 127.0.0.1.
import { assert, describe, it } from "@effect/vitest"
import { AuthorizationServerMetadata } from "@mcpauth/rfc8414-metadata"
import { Effect, Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { Provider } from "oidc-provider"

/**
 * oidc-provider mounted at `mount` ("" for the root) of a server on 127.0.0.1; everything else, and the paths in
 * `hide`, is 404.
 */
const oidcProvider = (mount: string, hide: ReadonlyArray<string> = []) =>
  Effect.acquireRelease(
    Effect.callback<{ readonly server: Http.Server; readonly origin: string; readonly requests: Array<string> }>(
      (resume) => {
        const requests: Array<string> = []
        let handler: ((req: Http.IncomingMessage, res: Http.ServerResponse) => void) | undefined
        const server = Http.createServer((req, res) => {
          const url = req.url ?? "/"
          requests.push(url)
          const mounted = mount === "" || url === mount || url.startsWith(`${mount}/`)
          if (handler !== undefined && mounted && !hide.includes(url)) {
            // as a mounting router does: the provider sees the path below the mount, and the original URL
            Object.assign(req, { originalUrl: url, url: url.slice(mount.length) || "/" })
            handler(req, res)
          } else {
            res.writeHead(404).end()
          }
        })
        server.listen(0, "127.0.0.1", () => {
          const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
          const provider = new Provider(`${origin}${mount}`, {
            clients: [{ client_id: "c", redirect_uris: ["http://127.0.0.1/cb"], token_endpoint_auth_method: "none" }]
          })
          handler = provider.callback()
          resume(Effect.succeed({ server, origin, requests }))
        })
      }
    ),
    ({ server }) =>
      Effect.callback<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

const discover = (issuer: string) =>
  Effect.gen(function*() {
    return yield* (yield* AuthorizationServerMetadata.AuthorizationServerMetadata).discover(issuer)
  }).pipe(
    Effect.provide(
      AuthorizationServerMetadata.layer({ allowLoopbackHttp: true }).pipe(Layer.provide(FetchHttpClient.layer))
    )
  )

describe("oidc-provider", () => {
  it.effect("MCP Authorization Server Discovery: a path issuer found by OIDC path appending (the third location)", () =>
    Effect.gen(function*() {
      const op = yield* oidcProvider("/tenant1")
      const issuer = `${op.origin}/tenant1`
      const result = yield* discover(issuer)
      assert.strictEqual(result.url, `${issuer}/.well-known/openid-configuration`)
      assert.deepStrictEqual(result.attempts.map((a) => a.outcome), ["client-error", "client-error", "ok"])
      // RFC 8414 §3.3: the document's issuer is the issuer the URL was built from
      assert.strictEqual(result.metadata.issuer, issuer)
      assert.isTrue(result.metadata.code_challenge_methods_supported?.includes("S256"))
      assert.strictEqual(result.metadata.token_endpoint, `${issuer}/token`)
      // OIDC members are kept as unknown members
      assert.isTrue(Array.isArray(result.metadata["subject_types_supported"]))
    }))

  it.effect("MCP Authorization Server Discovery: a root issuer found at the RFC 8414 location first", () =>
    Effect.gen(function*() {
      const op = yield* oidcProvider("")
      const result = yield* discover(op.origin)
      assert.strictEqual(result.url, `${op.origin}/.well-known/oauth-authorization-server`)
      assert.deepStrictEqual(op.requests, ["/.well-known/oauth-authorization-server"])
      assert.strictEqual(result.metadata.issuer, op.origin)
    }))

  it.effect("MCP Authorization Server Discovery: an OIDC-only root issuer is found at openid-configuration", () =>
    Effect.gen(function*() {
      const op = yield* oidcProvider("", ["/.well-known/oauth-authorization-server"])
      const result = yield* discover(op.origin)
      assert.strictEqual(result.url, `${op.origin}/.well-known/openid-configuration`)
      assert.deepStrictEqual(op.requests, [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration"
      ])
      assert.isTrue(result.metadata.code_challenge_methods_supported?.includes("S256"))
    }))

  it.effect("RFC 8414 §3.3: the issuer with a trailing slash does not match oidc-provider's issuer", () =>
    Effect.gen(function*() {
      const op = yield* oidcProvider("/tenant1")
      const error = yield* Effect.flip(discover(`${op.origin}/tenant1/`))
      assert.strictEqual(error.reason._tag, "IssuerMismatch")
      if (error.reason._tag !== "IssuerMismatch") return
      assert.strictEqual(error.reason.received, `${op.origin}/tenant1`)
      assert.strictEqual(error.reason.expected, `${op.origin}/tenant1/`)
    }))
})
