// The client credentials grant end to end against oidc-provider (client secret and RFC 7523 private key JWT), and the
// pure assertion / request builders.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Redacted } from "effect"
import { generateKeyPairSync } from "node:crypto"
import { ClientCredentialsGrant, OAuth2Client } from "../src/index.ts"
import type { OAuth2AuthorizationError } from "../src/index.ts"
import { jwtPayload, metadataOf, startProvider, TestLayer } from "./helpers.ts"

const RESOURCE = "http://127.0.0.1:9/mcp"

const ecKey = () => {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" })
  return {
    pem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    jwk: { ...publicKey.export({ format: "jwk" }), kid: "m2m-key", alg: "ES256", use: "sig" },
    publicKey
  }
}

const reasonOf = <A>(exit: Exit.Exit<A, OAuth2AuthorizationError.OAuth2AuthorizationError>) => {
  assert.isTrue(Exit.isFailure(exit), "expected a failure")
  const first = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
  return first?._tag === "Fail" ? first.error.reason : undefined
}

describe("ClientCredentialsGrant against oidc-provider", () => {
  it.live.each(["client_secret_basic", "client_secret_post"] as const)(
    "OAuth 2.1 §4.2: %s gets an access token bound to the resource (RFC 8707 §2.2)",
    (method) =>
      Effect.gen(function*() {
        const op = yield* startProvider({
          clientCredentials: true,
          clients: [{
            client_id: "m2m",
            client_secret: "m2m-secret-that-is-long-enough-0123456789",
            grant_types: ["client_credentials"],
            response_types: [],
            redirect_uris: [],
            token_endpoint_auth_method: method
          }]
        })
        const metadata = yield* metadataOf(op)
        const oauth = yield* OAuth2Client.OAuth2Client
        const tokens = yield* oauth.clientCredentials({
          metadata,
          client: {
            client_id: "m2m",
            client_secret: Redacted.make("m2m-secret-that-is-long-enough-0123456789"),
            token_endpoint_auth_method: method
          },
          resource: RESOURCE,
          scope: "mcp:read"
        })
        assert.strictEqual(tokens.token_type, "Bearer")
        assert.isUndefined(tokens.refresh_token)
        const claims = jwtPayload(tokens.access_token)
        assert.strictEqual(claims["aud"], RESOURCE)
        assert.strictEqual(claims["client_id"], "m2m")
        assert.strictEqual(claims["scope"], "mcp:read")
        assert.deepStrictEqual(op.tokenCalls().map((c) => [c.grantType, c.outcome]), [[
          "client_credentials",
          "success"
        ]])
      }).pipe(Effect.scoped, Effect.provide(TestLayer))
  )

  it.live("RFC 7523 §2.2: private_key_jwt (ES256) authenticates with a signed client assertion", () =>
    Effect.gen(function*() {
      const key = ecKey()
      const op = yield* startProvider({
        clientCredentials: true,
        clients: [{
          client_id: "m2m-jwt",
          grant_types: ["client_credentials"],
          response_types: [],
          redirect_uris: [],
          token_endpoint_auth_method: "private_key_jwt",
          token_endpoint_auth_signing_alg: "ES256",
          jwks: { keys: [key.jwk] }
        }]
      })
      const metadata = yield* metadataOf(op)
      const oauth = yield* OAuth2Client.OAuth2Client
      const tokens = yield* oauth.clientCredentials({
        metadata,
        client: {
          client_id: "m2m-jwt",
          private_key: { privateKeyPem: Redacted.make(key.pem), algorithm: "ES256", keyId: "m2m-key" }
        },
        resource: RESOURCE
      })
      assert.strictEqual(jwtPayload(tokens.access_token)["aud"], RESOURCE)
      assert.strictEqual(jwtPayload(tokens.access_token)["client_id"], "m2m-jwt")
    }).pipe(Effect.scoped, Effect.provide(TestLayer)))

  it.live("RFC 6749 §5.2: a wrong secret is invalid_client at the token endpoint", () =>
    Effect.gen(function*() {
      const op = yield* startProvider({
        clientCredentials: true,
        clients: [{
          client_id: "m2m",
          client_secret: "m2m-secret-that-is-long-enough-0123456789",
          grant_types: ["client_credentials"],
          response_types: [],
          redirect_uris: []
        }]
      })
      const metadata = yield* metadataOf(op)
      const oauth = yield* OAuth2Client.OAuth2Client
      const reason = reasonOf(
        yield* Effect.exit(oauth.clientCredentials({
          metadata,
          client: { client_id: "m2m", client_secret: Redacted.make("wrong") },
          resource: RESOURCE
        }))
      )
      assert.strictEqual(reason?._tag, "OAuthErrorResponse")
      assert.strictEqual(reason?._tag === "OAuthErrorResponse" ? reason.error : "", "invalid_client")
    }).pipe(Effect.scoped, Effect.provide(TestLayer)))
})

describe("ClientCredentialsGrant pure parts", () => {
  it.effect("RFC 7523 §3: the assertion has iss = sub = client_id, aud = the issuer, exp, iat, jti, and verifies", () =>
    Effect.gen(function*() {
      const key = ecKey()
      const assertion = yield* ClientCredentialsGrant.signClientAssertion({
        clientId: "client-1",
        audience: "https://as.example.com",
        key: { privateKeyPem: Redacted.make(key.pem), algorithm: "ES256" },
        now: 1_700_000_000,
        jti: "jti-1"
      })
      const [header = "", payload = "", signature = ""] = Redacted.value(assertion).split(".")
      assert.deepStrictEqual(JSON.parse(Buffer.from(header, "base64url").toString()), { alg: "ES256", typ: "JWT" })
      assert.deepStrictEqual(JSON.parse(Buffer.from(payload, "base64url").toString()), {
        iss: "client-1",
        sub: "client-1",
        aud: "https://as.example.com",
        exp: 1_700_000_060,
        iat: 1_700_000_000,
        jti: "jti-1"
      })
      const verifyKey = yield* Effect.promise(() =>
        crypto.subtle.importKey("jwk", key.jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"])
      )
      const valid = yield* Effect.promise(() =>
        crypto.subtle.verify(
          { name: "ECDSA", hash: "SHA-256" },
          verifyKey,
          Buffer.from(signature, "base64url"),
          new TextEncoder().encode(`${header}.${payload}`)
        )
      )
      assert.isTrue(valid)
    }))

  it.effect("RFC 7523: a PEM that is not a PKCS #8 key of the algorithm is InvalidClientKey, without the key", () =>
    Effect.gen(function*() {
      const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
        format: "pem",
        type: "pkcs8"
      })
      const sign = (pem: string) =>
        ClientCredentialsGrant.signClientAssertion({
          clientId: "c",
          audience: "https://as.example.com",
          key: { privateKeyPem: Redacted.make(pem), algorithm: "ES256" },
          now: 0,
          jti: "j"
        })
      const notPem = reasonOf(yield* Effect.exit(sign("not a key")))
      assert.strictEqual(notPem?._tag, "InvalidClientKey")
      const wrongType = reasonOf(yield* Effect.exit(sign(rsa.toString())))
      assert.strictEqual(wrongType?._tag, "InvalidClientKey")
      assert.notInclude(JSON.stringify(wrongType), "PRIVATE KEY")
    }))

  it.effect("OAuth 2.1 §4.2: a client with neither secret nor key cannot use the grant", () =>
    Effect.gen(function*() {
      const reason = reasonOf(
        yield* Effect.exit(ClientCredentialsGrant.selectMachineAuthMethod({ client_id: "public" }, {}))
      )
      assert.strictEqual(reason?._tag, "UnsupportedAuthMethod")
      // RFC 8414 §2: without a list the server supports client_secret_basic
      const basic = yield* ClientCredentialsGrant.selectMachineAuthMethod(
        { client_id: "c", client_secret: Redacted.make("s") },
        {}
      )
      assert.strictEqual(basic, "client_secret_basic")
      const post = yield* ClientCredentialsGrant.selectMachineAuthMethod(
        { client_id: "c", client_secret: Redacted.make("s") },
        { token_endpoint_auth_methods_supported: ["client_secret_post"] }
      )
      assert.strictEqual(post, "client_secret_post")
    }))

  it.effect("OAuth 2.1 §4.2.1 / RFC 8707 §2.2: the request carries grant_type, scope, resource and the assertion", () =>
    Effect.sync(() => {
      const request = ClientCredentialsGrant.buildClientCredentialsRequest({
        tokenEndpoint: "https://as.example.com/token",
        client: { client_id: "c" },
        method: "private_key_jwt",
        resource: "https://mcp.example.com/mcp",
        scope: "mcp:read",
        assertion: Redacted.make("a.b.c")
      })
      const body = request.body
      assert.strictEqual(body._tag, "Uint8Array")
      const params = new URLSearchParams(
        body._tag === "Uint8Array" ? new TextDecoder().decode(body.body) : ""
      )
      assert.strictEqual(params.get("grant_type"), "client_credentials")
      assert.strictEqual(params.get("scope"), "mcp:read")
      assert.strictEqual(params.get("resource"), "https://mcp.example.com/mcp")
      assert.strictEqual(params.get("client_assertion_type"), ClientCredentialsGrant.JWT_BEARER_ASSERTION_TYPE)
      assert.strictEqual(params.get("client_assertion"), "a.b.c")
      assert.isUndefined(request.headers["authorization"])
    }))
})
