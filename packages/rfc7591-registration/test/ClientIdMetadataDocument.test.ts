import { assert, describe, it } from "@effect/vitest"
import { ClientIdMetadataDocument } from "@mcpauth/rfc7591-registration"
import type { RegistrationError } from "@mcpauth/rfc7591-registration"
import { Effect, Logger } from "effect"

const reasonOf = <A>(effect: Effect.Effect<A, RegistrationError.RegistrationError>) =>
  Effect.map(Effect.flip(effect), (error) => error.reason)

describe("validateClientIdUrl", () => {
  it.effect.each([
    "https://client.example/oauth/client.json",
    "https://client.example:8443/client.json",
    "https://client.example/client.json?version=2",
    "https://client.example/"
  ])("CIMD draft-02 §3: accepts %s unchanged", (url) =>
    Effect.gen(function*() {
      assert.strictEqual(yield* ClientIdMetadataDocument.validateClientIdUrl(url), url)
    }))

  it.effect.each([
    { url: "http://client.example/client.json", why: "https" },
    { url: "https://client.example", why: "path" },
    { url: "https://client.example/a/../client.json", why: "\"..\"" },
    { url: "https://client.example/./client.json", why: "\".\"" },
    { url: "https://client.example/a/%2E%2E/client.json", why: "\"..\"" },
    { url: "https://client.example/client.json#x", why: "fragment" },
    { url: "https://user:pw@client.example/client.json", why: "username" },
    { url: "https://user@client.example/client.json", why: "username" },
    { url: "client.json", why: "absolute" }
  ])("CIMD draft-02 §3: refuses $url ($why)", ({ url, why }) =>
    Effect.gen(function*() {
      const reason = yield* reasonOf(ClientIdMetadataDocument.validateClientIdUrl(url))
      assert.strictEqual(reason._tag, "InvalidClientIdUrl")
      assert.include(reason.message, why)
    }))
})

describe("validateClientIdUrl warnings", () => {
  it.effect.each([
    { url: "https://client.example/client.json?version=2", warning: "query component" },
    { url: "https://client.example/", warning: "NOT RECOMMENDED" }
  ])("CIMD draft-02 §3: $url is accepted but logged ($warning)", ({ url, warning }) =>
    Effect.gen(function*() {
      const messages: Array<string> = []
      const collector = Logger.make((options) => void messages.push(`${options.logLevel}: ${String(options.message)}`))
      yield* ClientIdMetadataDocument.validateClientIdUrl(url).pipe(Effect.provide(Logger.layer([collector])))
      assert.strictEqual(messages.length, 1)
      assert.include(messages[0] ?? "", "Warn")
      assert.include(messages[0] ?? "", warning)
      yield* ClientIdMetadataDocument.validateClientIdUrl("https://client.example/c.json").pipe(
        Effect.provide(Logger.layer([collector]))
      )
      assert.strictEqual(messages.length, 1)
    }))
})

describe("makeDocument", () => {
  it.effect("MCP §Client ID Metadata Documents: client_id equals the URL; client_name and redirect_uris present", () =>
    Effect.gen(function*() {
      const url = "https://client.example/oauth/client.json"
      const document = yield* ClientIdMetadataDocument.makeDocument(url, {
        clientName: "Example MCP Client",
        redirectUris: ["http://127.0.0.1:3000/callback", "http://localhost:3000/callback"],
        clientUri: "https://client.example"
      })
      assert.deepStrictEqual(document, {
        client_id: url,
        client_name: "Example MCP Client",
        redirect_uris: ["http://127.0.0.1:3000/callback", "http://localhost:3000/callback"],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "none",
        client_uri: "https://client.example"
      })
    }))

  it.effect("RFC 8252 §8.3: a document with a non-loopback http redirect URI is refused", () =>
    Effect.gen(function*() {
      const reason = yield* reasonOf(
        ClientIdMetadataDocument.makeDocument("https://client.example/c.json", {
          clientName: "x",
          redirectUris: ["http://client.example/cb"]
        })
      )
      assert.strictEqual(reason._tag, "InvalidRedirectUri")
    }))
})
