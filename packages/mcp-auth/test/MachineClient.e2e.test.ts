// The headless machine-to-machine mode end to end: McpAuthorization with a machineClient against oidc-provider (client
// credentials grant, client secret or RFC 7523 private key JWT). The protected resource accepts only JWT access tokens
// signed by oidc-provider whose audience is the resource.
import { assert, describe, it } from "@effect/vitest"
import { McpAuthorization } from "@mcpauth/mcp-auth"
import type { AuthEvent } from "@mcpauth/mcp-auth/AuthEvent"
import type { MachineClient } from "@mcpauth/oauth2-authorization/ClientCredentialsGrant"
import { OidcProvider } from "@mcpauth/testing"
import { TokenStore } from "@mcpauth/token-store"
import { Effect, Layer, Redacted } from "effect"
import { FetchHttpClient } from "effect/http"
import { generateKeyPairSync } from "node:crypto"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"

const SECRET = "machine-secret-long-enough-for-oidc-provider-0123456789"

// Verifies a JWT access token (RS256) with the authorization server's JWKS: signature, exp and aud.
const verify = async (jwksUri: string, token: string, audience: string): Promise<boolean> => {
  const [header = "", payload = "", signature = ""] = token.split(".")
  if (signature === "") return false
  const { kid } = JSON.parse(Buffer.from(header, "base64url").toString()) as { kid?: string }
  const { keys } = await (await fetch(jwksUri)).json() as { keys: Array<JsonWebKey & { kid?: string }> }
  const jwk = keys.find((k) => k.kid === kid)
  if (jwk === undefined) return false
  const key = await crypto.subtle.importKey("jwk", jwk, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, [
    "verify"
  ])
  const valid = await crypto.subtle.verify(
    "RSASSA-PKCS1-v1_5",
    key,
    Buffer.from(signature, "base64url"),
    new TextEncoder().encode(`${header}.${payload}`)
  )
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as {
    aud?: string | Array<string>
    exp?: number
  }
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
  return valid && aud.includes(audience) && (claims.exp ?? 0) * 1000 > Date.now()
}

// A protected resource: PRM at the path-inserted well-known URL, 401 with resource_metadata, JWT access tokens
// verified against the authorization server's JWKS (signature, exp, aud = this resource).
const startResource = (issuer: string, jwksUri: string) =>
  Effect.acquireRelease(
    Effect.callback<{ url: string; seen: Array<string>; close: () => void }>((resume) => {
      const seen: Array<string> = []
      let origin = ""
      const server = createServer((req, res) => {
        const path = req.url ?? "/"
        seen.push(`${req.method} ${path}`)
        if (path === "/.well-known/oauth-protected-resource/mcp") {
          res.writeHead(200, { "content-type": "application/json" })
          return res.end(JSON.stringify({ resource: `${origin}/mcp`, authorization_servers: [issuer] }))
        }
        const token = req.headers.authorization?.startsWith("Bearer ") ? req.headers.authorization.slice(7) : ""
        const challenge = `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"`
        verify(jwksUri, token, `${origin}/mcp`).then(
          (ok) =>
            ok
              ? res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true }))
              : res.writeHead(401, { "www-authenticate": challenge }).end(),
          () => res.writeHead(500).end()
        )
      })
      server.listen(0, "127.0.0.1", () => {
        origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
        resume(Effect.succeed({ url: `${origin}/mcp`, seen, close: () => server.close() }))
      })
    }),
    (s) => Effect.sync(() => s.close())
  )

const ecKey = () => {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" })
  return {
    pem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    jwk: { ...publicKey.export({ format: "jwk" }), kid: "m2m", alg: "ES256", use: "sig" }
  }
}

const run = (machineClient: MachineClient, clients: ReadonlyArray<Record<string, unknown>>) =>
  Effect.gen(function*() {
    const op = yield* OidcProvider.acquire({
      clientCredentials: true,
      clients: clients.map((c) => ({ client_id: "", ...c }))
    })
    const resource = yield* startResource(op.issuer, op.url("/jwks"))
    const events: Array<AuthEvent> = []
    const response = yield* Effect.gen(function*() {
      const auth = yield* McpAuthorization.McpAuthorization
      return yield* auth.request(auth.serverUrl, { method: "POST", body: "{}" })
    }).pipe(
      Effect.provide(
        McpAuthorization.layerDefault({
          serverUrl: resource.url,
          machineClient,
          allowLoopbackHttp: true,
          store: TokenStore.layerMemory,
          events: (e) => events.push(e)
        }).pipe(Layer.provide(FetchHttpClient.layer))
      )
    )
    return { op, resource, events, response }
  })

describe("McpAuthorization machine-to-machine (client credentials) against oidc-provider", () => {
  it.live("OAuth 2.1 §4.2: a client secret gets a resource-bound token; no registration, no user agent", () =>
    Effect.gen(function*() {
      const { op, resource, events, response } = yield* run(
        { client_id: "machine", client_secret: Redacted.make(SECRET) },
        [{
          client_id: "machine",
          client_secret: SECRET,
          grant_types: ["client_credentials"],
          response_types: [],
          redirect_uris: []
        }]
      )
      assert.strictEqual(response.status, 200)
      assert.deepStrictEqual(op.tokenCalls().map((c) => [c.grantType, c.outcome]), [["client_credentials", "success"]])
      // discovery went through the protected resource metadata of the resource
      assert.include(resource.seen, "GET /.well-known/oauth-protected-resource/mcp")
      const token = events.find((e) => e.step === "token")
      // RFC 8707: the token's audience is the resource
      assert.strictEqual(token?.data?.["audience"], resource.url)
      // the machine client is its own registration: no dynamic registration took place
      assert.isFalse(events.some((e) => e.step === "registration" && e.phase === "info"))
      assert.notInclude(JSON.stringify(events), SECRET)
    }).pipe(Effect.scoped))

  it.live("RFC 7523 §2.2: a private key JWT client (ES256) gets a resource-bound token", () =>
    Effect.gen(function*() {
      const key = ecKey()
      const { op, resource, events, response } = yield* run(
        {
          client_id: "machine-jwt",
          private_key: { privateKeyPem: Redacted.make(key.pem), algorithm: "ES256", keyId: "m2m" }
        },
        [{
          client_id: "machine-jwt",
          grant_types: ["client_credentials"],
          response_types: [],
          redirect_uris: [],
          token_endpoint_auth_method: "private_key_jwt",
          token_endpoint_auth_signing_alg: "ES256",
          jwks: { keys: [key.jwk] }
        }]
      )
      assert.strictEqual(response.status, 200)
      assert.deepStrictEqual(op.tokenCalls().map((c) => c.outcome), ["success"])
      assert.strictEqual(events.find((e) => e.step === "token")?.data?.["audience"], resource.url)
      assert.notInclude(JSON.stringify(events), "PRIVATE KEY")
    }).pipe(Effect.scoped))
})
