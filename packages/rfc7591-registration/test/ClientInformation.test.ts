import { assert, describe, it } from "@effect/vitest"
import { ClientInformation } from "@mcpauth/rfc7591-registration"
import { Effect, Redacted, Schema } from "effect"

const info: ClientInformation.ClientInformation = {
  issuer: "https://as.example",
  client_id: "abc",
  client_secret: Redacted.make("s3cret"),
  client_secret_expires_at: 1_700_000_100,
  client_id_issued_at: 1_700_000_000,
  token_endpoint_auth_method: "client_secret_basic",
  redirect_uris: ["http://127.0.0.1:8765/callback"],
  scope: "mcp:read",
  source: "dynamic",
  registration_access_token: Redacted.make("rat"),
  registration_client_uri: "https://as.example/reg/abc",
  response: { client_id: "abc", nested: { list: [1, "two", null, true] } }
}

describe("ClientInformation", () => {
  it.effect("round-trips through its JSON codec (what a persistent store writes), secrets back as Redacted", () =>
    Effect.gen(function*() {
      const codec = Schema.toCodecJson(ClientInformation.ClientInformation)
      const encoded = yield* Schema.encodeUnknownEffect(codec)(info)
      const text = JSON.stringify(encoded)
      assert.include(text, "s3cret")
      const decoded = yield* Schema.decodeUnknownEffect(codec)(JSON.parse(text))
      assert.strictEqual(decoded.client_secret && Redacted.value(decoded.client_secret), "s3cret")
      assert.strictEqual(decoded.registration_access_token && Redacted.value(decoded.registration_access_token), "rat")
      assert.deepStrictEqual(decoded.response, info.response)
      assert.deepStrictEqual(
        { ...decoded, client_secret: undefined, registration_access_token: undefined },
        { ...info, client_secret: undefined, registration_access_token: undefined }
      )
    }))

  it.effect("a stored document of the wrong shape is a decoding error, not credentials", () =>
    Effect.gen(function*() {
      const codec = Schema.toCodecJson(ClientInformation.ClientInformation)
      const error = yield* Effect.flip(Schema.decodeUnknownEffect(codec)({ issuer: "https://as.example", source: "x" }))
      assert.include(error.message, "client_id")
    }))

  it.effect.each([
    { name: "unexpired", at: 1_700_000_099, expired: false },
    { name: "at the expiry second", at: 1_700_000_100, expired: true },
    { name: "past expiry", at: 1_800_000_000, expired: true }
  ])(
    "RFC 7591 §3.2.1: a secret is expired $name: $expired",
    ({ at, expired }) => Effect.sync(() => assert.strictEqual(ClientInformation.isSecretExpired(info, at), expired))
  )

  it.effect("RFC 7591 §3.2.1: client_secret_expires_at 0 (or no secret) never expires", () =>
    Effect.sync(() => {
      assert.isFalse(ClientInformation.isSecretExpired({ ...info, client_secret_expires_at: 0 }, 9e9))
      const { client_secret: _, ...publicClient } = info
      assert.isFalse(ClientInformation.isSecretExpired(publicClient, 9e9))
    }))
})
