// End to end against the official MCP server SDK's resource-server helpers (code we did not write): its 401
// challenge (`bearerAuthChallengeResponse`) and its RFC 9728 document (`oauthMetadataResponse`), on 127.0.0.1.
import { assert, describe, it } from "@effect/vitest"
import { ProtectedResourceDiscovery, WwwAuthenticate } from "@mcpauth/rfc9728-discovery"
import {
  bearerAuthChallengeResponse,
  getOAuthProtectedResourceMetadataUrl,
  oauthMetadataResponse,
  type OAuthTokenVerifier,
  verifyBearerToken
} from "@modelcontextprotocol/server"
import { Effect, Layer, Option } from "effect"
import { FetchHttpClient } from "effect/http"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

const verifier: OAuthTokenVerifier = {
  verifyAccessToken: () => Promise.reject(new Error("no token is valid here"))
}

/** A resource server at `<origin>/mcp` built from the SDK's web-standard helpers, served by node:http. */
const sdkServer = (options: { readonly advertise: boolean; readonly scopes?: Array<string> }) =>
  Effect.acquireRelease(
    Effect.callback<{ readonly server: Http.Server; readonly origin: string; readonly requests: Array<string> }>(
      (resume) => {
        const requests: Array<string> = []
        let origin = ""
        const handle = async (req: Http.IncomingMessage): Promise<Response> => {
          const request = new Request(`${origin}${req.url ?? "/"}`, {
            method: req.method ?? "GET",
            headers: Object.entries(req.headers).flatMap(([k, v]) =>
              typeof v === "string" ? [[k, v] as [string, string]] : []
            )
          })
          const resourceServerUrl = new URL(`${origin}/mcp`)
          const metadata = oauthMetadataResponse(request, {
            resourceServerUrl,
            scopesSupported: ["files:read", "files:write"],
            dangerouslyAllowInsecureIssuerUrl: true,
            oauthMetadata: {
              issuer: `${origin}/as`,
              authorization_endpoint: `${origin}/as/authorize`,
              token_endpoint: `${origin}/as/token`,
              response_types_supported: ["code"],
              code_challenge_methods_supported: ["S256"]
            }
          })
          if (metadata !== undefined) return metadata
          if (new URL(request.url).pathname !== "/mcp") return new Response("not found", { status: 404 })
          const resourceMetadataUrl = getOAuthProtectedResourceMetadataUrl(resourceServerUrl)
          try {
            await verifyBearerToken(request.headers.get("authorization"), {
              verifier,
              ...(options.advertise ? { resourceMetadataUrl } : {})
            })
            return new Response("unexpected", { status: 200 })
          } catch (error) {
            return bearerAuthChallengeResponse(error, {
              ...(options.advertise ? { resourceMetadataUrl } : {}),
              ...(options.scopes ? { requiredScopes: options.scopes } : {})
            })
          }
        }
        const server = Http.createServer((req, res) => {
          requests.push(req.url ?? "/")
          const reply = async () => {
            const response = await handle(req)
            const headers: Record<string, string> = {}
            response.headers.forEach((v, k) => {
              headers[k] = v
            })
            res.writeHead(response.status, headers).end(Buffer.from(await response.arrayBuffer()))
          }
          reply().catch(() => res.writeHead(500).end())
        })
        server.listen(0, "127.0.0.1", () => {
          origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
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

/** What an MCP client sees first: the server's 401 and its WWW-Authenticate header. */
const unauthenticated = (url: string) =>
  Effect.promise(async () => {
    const response = await fetch(url, { method: "POST", body: "{}" })
    await response.arrayBuffer()
    return { status: response.status, wwwAuthenticate: response.headers.get("www-authenticate") }
  })

const discover = (request: ProtectedResourceDiscovery.DiscoveryRequest) =>
  Effect.gen(function*() {
    return yield* (yield* ProtectedResourceDiscovery.ProtectedResourceDiscovery).discover(request)
  }).pipe(
    Effect.provide(
      ProtectedResourceDiscovery.layer({ allowLoopbackHttp: true }).pipe(Layer.provide(FetchHttpClient.layer))
    )
  )

describe("official MCP server SDK", () => {
  it.effect("RFC 9728 §5.1: the SDK's 401 challenge names the metadata URL, and discovery uses it", () =>
    Effect.gen(function*() {
      const sdk = yield* sdkServer({ advertise: true })
      const serverUrl = `${sdk.origin}/mcp`
      const first = yield* unauthenticated(serverUrl)
      assert.strictEqual(first.status, 401)
      const bearer = WwwAuthenticate.parseBearer(first.wwwAuthenticate)
      assert.strictEqual(
        Option.getOrUndefined(bearer)?.resource_metadata,
        `${sdk.origin}/.well-known/oauth-protected-resource/mcp`
      )
      const result = yield* discover({ serverUrl, wwwAuthenticate: first.wwwAuthenticate })
      assert.strictEqual(result.attempts.length, 1)
      assert.strictEqual(result.attempts[0]?.kind, "resource_metadata (challenge)")
      // RFC 9728 §3.3: the SDK's resource is the server URL
      assert.strictEqual(result.resource, serverUrl)
      assert.deepStrictEqual(result.metadata.authorization_servers, [`${sdk.origin}/as`])
      assert.deepStrictEqual(result.metadata.scopes_supported, ["files:read", "files:write"])
      assert.strictEqual(Option.getOrUndefined(result.challenge)?.error, "invalid_token")
    }))

  it.effect("MCP Authorization Server Discovery: without resource_metadata, the path-inserted URL finds it", () =>
    Effect.gen(function*() {
      const sdk = yield* sdkServer({ advertise: false })
      const serverUrl = `${sdk.origin}/mcp`
      const first = yield* unauthenticated(serverUrl)
      assert.strictEqual(first.status, 401)
      assert.isUndefined(Option.getOrUndefined(WwwAuthenticate.parseBearer(first.wwwAuthenticate))?.resource_metadata)
      const result = yield* discover({ serverUrl, wwwAuthenticate: first.wwwAuthenticate })
      assert.strictEqual(result.url, `${sdk.origin}/.well-known/oauth-protected-resource/mcp`)
      assert.strictEqual(result.attempts[0]?.kind, "oauth-protected-resource (path)")
      assert.strictEqual(result.resource, serverUrl)
    }))
})
