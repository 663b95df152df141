import { assert, describe, it } from "@effect/vitest"
import { ClientRegistration, RegistrationCache } from "@mcpauth/rfc7591-registration"
import type { ClientInformation, RegistrationError, ServerMetadata } from "@mcpauth/rfc7591-registration"
import { ConfigProvider, Effect, Exit, Fiber, Layer, Option, Redacted } from "effect"
import { FetchHttpClient } from "effect/http"
import { TestClock } from "effect/testing"
import { json, loopbackServer } from "./fixtures/loopback.ts"
import type { Reply } from "./fixtures/loopback.ts"

const REDIRECT = "http://127.0.0.1:8765/callback"
const CLIENT = { clientName: "mcpauth test client" }

type Service = ClientRegistration.ClientRegistration["Service"]
type Cache = RegistrationCache.RegistrationCache["Service"]

const withService = <A, E>(
  config: Partial<ClientRegistration.ClientRegistrationConfig>,
  f: (service: Service, cache: Cache) => Effect.Effect<A, E>,
  cacheOverride?: Cache
) =>
  Effect.gen(function*() {
    const cache = cacheOverride ?? (yield* RegistrationCache.makeMemory)
    const service = yield* ClientRegistration.make({ client: CLIENT, allowLoopbackHttp: true, ...config }).pipe(
      Effect.provideService(RegistrationCache.RegistrationCache, cache),
      Effect.provide(FetchHttpClient.layer)
    )
    return yield* f(service, cache)
  })

const reasonOf = <A>(effect: Effect.Effect<A, RegistrationError.RegistrationError>) =>
  Effect.map(Effect.flip(effect), (error) => error.reason)

const stored = (cache: Cache, issuer: string) => Effect.map(cache.get(issuer), Option.getOrUndefined)

// a registration endpoint that answers each request with `reply`, echoing the requested redirect URIs
const registrar = (reply: (body: Record<string, unknown>, index: number) => Reply | "silent") =>
  Effect.gen(function*() {
    const server = yield* loopbackServer((request, index) =>
      reply(JSON.parse(request.body === "" ? "{}" : request.body) as Record<string, unknown>, index)
    )
    const metadata: ServerMetadata.RegistrationServerMetadata = {
      issuer: server.origin,
      registration_endpoint: server.url("/register")
    }
    return { server, metadata }
  })

const echo = (extra: Record<string, unknown> = {}) => (body: Record<string, unknown>, index: number) =>
  json(201, { ...body, client_id: `client-${index + 1}`, ...extra })

describe("chooseMethod", () => {
  const pre = { client_id: "pre", redirect_uri: REDIRECT }
  const doc = { url: "https://client.example/client.json" }
  const dcr = { issuer: "https://as.example", registration_endpoint: "https://as.example/reg" }
  it.effect.each([
    {
      name: "pre-registered beats everything",
      metadata: { ...dcr, client_id_metadata_document_supported: true },
      config: { preregistered: pre, clientIdMetadataDocument: doc },
      method: "preregistered"
    },
    {
      name: "an advertised metadata document beats DCR",
      metadata: { ...dcr, client_id_metadata_document_supported: true },
      config: { clientIdMetadataDocument: doc },
      method: "metadata-document"
    },
    {
      name: "a metadata document the server does not advertise falls to DCR",
      metadata: dcr,
      config: { clientIdMetadataDocument: doc },
      method: "dynamic"
    },
    {
      name: "advertised support without a configured document falls to DCR",
      metadata: { ...dcr, client_id_metadata_document_supported: true },
      config: {},
      method: "dynamic"
    },
    {
      name: "no registration endpoint and nothing configured is none",
      metadata: { issuer: "https://as.example" },
      config: {},
      method: "none"
    }
  ])(
    "MCP §Client Registration priority: $name",
    ({ metadata, config, method }) =>
      Effect.sync(() => assert.strictEqual(ClientRegistration.chooseMethod(metadata, config), method))
  )
})

describe("isUnknownClient", () => {
  it.effect.each(
    [
      { signal: { _tag: "TokenEndpoint", status: 401, error: "invalid_client" }, unknown: true },
      { signal: { _tag: "TokenEndpoint", status: 400, error: "invalid_client" }, unknown: true },
      { signal: { _tag: "TokenEndpoint", status: 503, error: "invalid_client" }, unknown: false },
      { signal: { _tag: "TokenEndpoint", status: 500 }, unknown: false },
      { signal: { _tag: "TokenEndpoint", status: 400, error: "invalid_grant" }, unknown: false },
      { signal: { _tag: "AuthorizationEndpoint", error: "invalid_client" }, unknown: true },
      {
        signal: { _tag: "AuthorizationEndpoint", error: "invalid_request", error_description: "client not found" },
        unknown: true
      },
      {
        signal: { _tag: "AuthorizationEndpoint", error: "unauthorized_client", error_description: "Unknown client" },
        unknown: true
      },
      {
        signal: {
          _tag: "AuthorizationEndpoint",
          error: "invalid_request",
          error_description: "Mismatching redirect URI"
        },
        unknown: false
      },
      { signal: { _tag: "AuthorizationEndpoint", error: "access_denied" }, unknown: false }
    ] as const
  )(
    "RFC 6749 §5.2: $signal is unknown-client: $unknown",
    ({ signal, unknown }) => Effect.sync(() => assert.strictEqual(ClientRegistration.isUnknownClient(signal), unknown))
  )
})

describe("pre-registered credentials", () => {
  it.effect("MCP §Client Registration: pre-registered credentials are used first; nothing is sent to the server", () =>
    Effect.gen(function*() {
      const { server, metadata } = yield* registrar(echo())
      const info = yield* withService(
        { preregistered: { client_id: "pre-1", redirect_uri: REDIRECT } },
        (service) => service.obtain(metadata, { redirectUris: ["http://127.0.0.1:9999/callback"] })
      )
      assert.deepStrictEqual(
        { ...info },
        {
          issuer: metadata.issuer,
          client_id: "pre-1",
          token_endpoint_auth_method: "none",
          redirect_uris: [REDIRECT],
          source: "preregistered"
        }
      )
      assert.strictEqual(server.requests.length, 0)
    }))

  it.effect.each([
    { supported: undefined, method: "client_secret_basic" },
    { supported: ["client_secret_basic", "client_secret_post"], method: "client_secret_basic" },
    { supported: ["none", "client_secret_post"], method: "client_secret_post" }
  ])(
    "RFC 8414 §2: with a secret and server methods $supported the method is $method",
    ({ supported, method }) =>
      Effect.gen(function*() {
        const secret = Redacted.make("pre-secret")
        const info = yield* withService(
          { preregistered: { client_id: "pre-1", client_secret: secret, redirect_uri: REDIRECT } },
          (service) =>
            service.obtain({ issuer: "https://as.example", token_endpoint_auth_methods_supported: supported })
        )
        assert.strictEqual(info.token_endpoint_auth_method, method)
        assert.strictEqual(info.client_secret, secret)
      })
  )

  it.effect("MCP §Authorization Server Binding: credentials bound to one issuer are not offered to another", () =>
    Effect.gen(function*() {
      const reason = yield* reasonOf(withService(
        { preregistered: { issuer: "https://a.example", client_id: "pre-1", redirect_uri: REDIRECT } },
        (service) => service.obtain({ issuer: "https://b.example" })
      ))
      assert.strictEqual(reason._tag, "PreregisteredIssuerMismatch")
      const same = yield* withService(
        { preregistered: { issuer: "https://a.example", client_id: "pre-1", redirect_uri: REDIRECT } },
        (service) => service.obtain({ issuer: "https://a.example" })
      )
      assert.strictEqual(same.client_id, "pre-1")
    }))

  it.effect("a shared-secret method without a secret names the secret variable", () =>
    Effect.gen(function*() {
      const reason = yield* reasonOf(withService(
        {
          preregistered: {
            client_id: "pre-1",
            redirect_uri: REDIRECT,
            token_endpoint_auth_method: "client_secret_post"
          },
          variableNames: {
            clientId: "DATADOG_CLIENT_ID",
            clientSecret: "DATADOG_CLIENT_SECRET",
            redirectUri: "DATADOG_REDIRECT_URI"
          }
        },
        (service) => service.obtain({ issuer: "https://as.example" })
      ))
      assert.strictEqual(reason._tag, "ConfigurationRequired")
      assert.include(reason.message, "DATADOG_CLIENT_SECRET")
    }))

  it.effect("RFC 8252 §8.3: a configured non-loopback http redirect URI is InvalidRedirectUri naming the variable", () =>
    Effect.gen(function*() {
      const reason = yield* reasonOf(withService(
        { preregistered: { client_id: "pre-1", redirect_uri: "http://example.com/cb" } },
        (service) => service.obtain({ issuer: "https://as.example" })
      ))
      assert.strictEqual(reason._tag, "InvalidRedirectUri")
      assert.include(reason.message, "OAUTH_REDIRECT_URI")
    }))
})

describe("preregisteredConfig", () => {
  const names = {
    clientId: "DATADOG_CLIENT_ID",
    clientSecret: "DATADOG_CLIENT_SECRET",
    redirectUri: "DATADOG_REDIRECT_URI"
  }
  const read = (env: Record<string, string>) =>
    ClientRegistration.preregisteredConfig(names).parse(ConfigProvider.fromEnv({ env }))

  it.effect("MCP §Pre-registration: unset variables mean no pre-registered client", () =>
    Effect.gen(function*() {
      assert.isTrue(Option.isNone(yield* read({})))
    }))

  it.effect("MCP §Pre-registration: id, Redacted secret and redirect URI from the named variables", () =>
    Effect.gen(function*() {
      const client = yield* read({
        DATADOG_CLIENT_ID: "dd-client",
        DATADOG_CLIENT_SECRET: "dd-secret",
        DATADOG_REDIRECT_URI: REDIRECT
      })
      assert.isTrue(Option.isSome(client))
      if (Option.isSome(client)) {
        assert.strictEqual(client.value.client_id, "dd-client")
        assert.strictEqual(client.value.redirect_uri, REDIRECT)
        assert.strictEqual(client.value.client_secret && Redacted.value(client.value.client_secret), "dd-secret")
        assert.notInclude(String(client.value.client_secret), "dd-secret")
        // the service uses it first
        const info = yield* withService(
          { preregistered: client.value },
          (service) => service.obtain({ issuer: "https://as.example", registration_endpoint: "https://as.example/r" })
        )
        assert.strictEqual(info.token_endpoint_auth_method, "client_secret_basic")
        assert.strictEqual(info.source, "preregistered")
      }
      const publicClient = yield* read({ DATADOG_CLIENT_ID: "dd-client", DATADOG_REDIRECT_URI: REDIRECT })
      assert.isTrue(Option.isSome(publicClient) && publicClient.value.client_secret === undefined)
    }))

  it.effect.each([
    { env: { DATADOG_CLIENT_ID: "dd-client" }, names: "DATADOG_REDIRECT_URI" },
    { env: { DATADOG_CLIENT_SECRET: "s" }, names: "DATADOG_CLIENT_ID" },
    { env: { DATADOG_REDIRECT_URI: REDIRECT }, names: "DATADOG_CLIENT_ID" }
  ])("a partial configuration is a ConfigError naming $names", ({ env, names: missing }) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(read(env))
      assert.include(error.message, missing)
    }))
})

describe("client ID metadata documents", () => {
  const url = "https://client.example/oauth/client.json"
  const advertised = { issuer: "https://as.example", client_id_metadata_document_supported: true }

  it.effect("MCP §Client ID Metadata Documents: the URL is the client id, public, nothing is registered", () =>
    Effect.gen(function*() {
      const { server, metadata } = yield* registrar(echo())
      const info = yield* withService(
        { clientIdMetadataDocument: { url } },
        (service, cache) =>
          Effect.gen(function*() {
            const info = yield* service.obtain({ ...metadata, client_id_metadata_document_supported: true }, {
              redirectUris: [REDIRECT]
            })
            assert.isUndefined(yield* stored(cache, metadata.issuer))
            return info
          })
      )
      assert.strictEqual(info.client_id, url)
      assert.strictEqual(info.source, "metadata-document")
      assert.strictEqual(info.token_endpoint_auth_method, "none")
      assert.deepStrictEqual(info.redirect_uris, [REDIRECT])
      assert.strictEqual(server.requests.length, 0)
    }))

  it.effect("MCP §Client ID Metadata Documents: a server that does not advertise support gets DCR instead", () =>
    Effect.gen(function*() {
      const { server, metadata } = yield* registrar(echo())
      const info = yield* withService(
        { clientIdMetadataDocument: { url } },
        (service) => service.obtain(metadata, { redirectUris: [REDIRECT] })
      )
      assert.strictEqual(info.source, "dynamic")
      assert.strictEqual(server.requests.length, 1)
    }))

  it.effect("CIMD draft-02 §3: an invalid configured URL is InvalidClientIdUrl", () =>
    Effect.gen(function*() {
      const reason = yield* reasonOf(withService(
        { clientIdMetadataDocument: { url: "http://client.example/client.json" } },
        (service) => service.obtain(advertised, { redirectUris: [REDIRECT] })
      ))
      assert.strictEqual(reason._tag, "InvalidClientIdUrl")
    }))

  it.effect("MCP §Client ID Metadata Documents: redirect URIs must be listed in the document (any loopback port)", () =>
    Effect.gen(function*() {
      const config = { clientIdMetadataDocument: { url, redirectUris: ["http://127.0.0.1/callback"] } }
      const info = yield* withService(config, (service) => service.obtain(advertised, { redirectUris: [REDIRECT] }))
      assert.deepStrictEqual(info.redirect_uris, [REDIRECT])
      const reason = yield* reasonOf(
        withService(config, (service) => service.obtain(advertised, { redirectUris: ["http://127.0.0.1:8765/other"] }))
      )
      assert.strictEqual(reason._tag, "InvalidRedirectUri")
      const listed = yield* withService(config, (service) => service.obtain(advertised))
      assert.deepStrictEqual(listed.redirect_uris, ["http://127.0.0.1/callback"])
    }))
})

describe("nothing available", () => {
  it.effect("MCP §Client Registration: no method is ConfigurationRequired naming the variables and redirect URI", () =>
    Effect.gen(function*() {
      const reason = yield* reasonOf(withService(
        {
          variableNames: {
            clientId: "DATADOG_CLIENT_ID",
            clientSecret: "DATADOG_CLIENT_SECRET",
            redirectUri: "DATADOG_REDIRECT_URI"
          }
        },
        (service) => service.obtain({ issuer: "https://as.example" }, { redirectUris: [REDIRECT] })
      ))
      assert.strictEqual(reason._tag, "ConfigurationRequired")
      for (
        const part of [
          "DATADOG_CLIENT_ID",
          "DATADOG_CLIENT_SECRET",
          "DATADOG_REDIRECT_URI",
          REDIRECT,
          "https://as.example"
        ]
      ) {
        assert.include(reason.message, part)
      }
    }))

  it.effect("the generic variable names are the default", () =>
    Effect.gen(function*() {
      const reason = yield* reasonOf(withService({}, (service) => service.obtain({ issuer: "https://as.example" })))
      assert.include(reason.message, "OAUTH_CLIENT_ID")
      assert.include(reason.message, "OAUTH_REDIRECT_URI")
    }))

  it.effect("a metadata document the server does not advertise is named in the error", () =>
    Effect.gen(function*() {
      const reason = yield* reasonOf(withService(
        { clientIdMetadataDocument: { url: "https://client.example/client.json" } },
        (service) => service.obtain({ issuer: "https://as.example" })
      ))
      assert.include(reason.message, "client_id_metadata_document_supported")
    }))
})

describe("layerMemory", () => {
  it.effect("the layer with an in-memory cache registers once per issuer", () =>
    Effect.gen(function*() {
      const { server, metadata } = yield* registrar(echo())
      const ids = yield* Effect.gen(function*() {
        const service = yield* ClientRegistration.ClientRegistration
        const a = yield* service.obtain(metadata, { redirectUris: [REDIRECT] })
        const b = yield* service.obtain(metadata, { redirectUris: [REDIRECT] })
        return [a.client_id, b.client_id]
      }).pipe(
        Effect.provide(
          ClientRegistration.layerMemory({ client: CLIENT, allowLoopbackHttp: true }).pipe(
            Layer.provide(FetchHttpClient.layer)
          )
        )
      )
      assert.deepStrictEqual(ids, ["client-1", "client-1"])
      assert.strictEqual(server.requests.length, 1)
    }))
})

describe("dynamic registration against a scripted loopback server", () => {
  it.effect("RFC 7591 §3.1: registers once per issuer and reuses the stored registration", () =>
    Effect.gen(function*() {
      const { server, metadata } = yield* registrar(echo())
      yield* withService({}, (service, cache) =>
        Effect.gen(function*() {
          const first = yield* service.obtain(metadata, { redirectUris: [REDIRECT] })
          const second = yield* service.obtain(metadata, { redirectUris: [REDIRECT] })
          assert.strictEqual(first.client_id, "client-1")
          assert.strictEqual(second.client_id, "client-1")
          assert.strictEqual(server.requests.length, 1)
          assert.strictEqual(server.requests[0]?.method, "POST")
          assert.strictEqual(server.requests[0]?.headers["content-type"], "application/json")
          assert.strictEqual((yield* stored(cache, metadata.issuer))?.client_id, "client-1")
        }))
    }))

  it.effect("concurrent obtains register once", () =>
    Effect.gen(function*() {
      const { server, metadata } = yield* registrar(echo())
      const ids = yield* withService({}, (service) =>
        Effect.all(
          Array.from({ length: 5 }, () => service.obtain(metadata, { redirectUris: [REDIRECT] })),
          { concurrency: "unbounded" }
        ))
      assert.deepStrictEqual(ids.map((i) => i.client_id), Array(5).fill("client-1"))
      assert.strictEqual(server.requests.length, 1)
    }))

  it.effect("MCP §Authorization Server Binding: registrations are per issuer and never offered to another", () =>
    Effect.gen(function*() {
      const { server, metadata } = yield* registrar(echo())
      const other = { ...metadata, issuer: `${metadata.issuer}/tenant-b` }
      yield* withService({}, (service) =>
        Effect.gen(function*() {
          const a = yield* service.obtain(metadata, { redirectUris: [REDIRECT] })
          const b = yield* service.obtain(other, { redirectUris: [REDIRECT] })
          assert.strictEqual(a.issuer, metadata.issuer)
          assert.strictEqual(b.issuer, other.issuer)
          assert.notStrictEqual(a.client_id, b.client_id)
          assert.strictEqual(server.requests.length, 2)
        }))
    }))

  it.effect("MCP §Authorization Server Binding: a store entry of another issuer is ignored", () =>
    Effect.gen(function*() {
      const { server, metadata } = yield* registrar(echo())
      const foreign: ClientInformation.ClientInformation = {
        issuer: "https://elsewhere.example",
        client_id: "foreign",
        token_endpoint_auth_method: "none",
        redirect_uris: [REDIRECT],
        source: "dynamic"
      }
      const lying: Cache = {
        get: () => Effect.succeed(Option.some(foreign)),
        set: () => Effect.void,
        invalidate: () => Effect.void
      }
      const info = yield* withService({}, (service) => service.obtain(metadata, { redirectUris: [REDIRECT] }), lying)
      assert.strictEqual(info.client_id, "client-1")
      assert.strictEqual(server.requests.length, 1)
    }))

  it.effect("a new redirect URI (another loopback port) registers again; a registered one reuses", () =>
    Effect.gen(function*() {
      const { server, metadata } = yield* registrar(echo())
      yield* withService({}, (service) =>
        Effect.gen(function*() {
          yield* service.obtain(metadata, { redirectUris: [REDIRECT] })
          const moved = yield* service.obtain(metadata, { redirectUris: ["http://127.0.0.1:9999/callback"] })
          assert.strictEqual(moved.client_id, "client-2")
          assert.deepStrictEqual(moved.redirect_uris, ["http://127.0.0.1:9999/callback"])
          assert.strictEqual(server.requests.length, 2)
        }))
    }))

  it.effect("RFC 7591 §2: scope is registered only when asked, and a wider scope registers again", () =>
    Effect.gen(function*() {
      const { server, metadata } = yield* registrar(echo())
      yield* withService({}, (service) =>
        Effect.gen(function*() {
          yield* service.obtain(metadata, { redirectUris: [REDIRECT] })
          assert.isFalse("scope" in JSON.parse(server.requests[0]?.body ?? "{}"))
          // no scope registered: any scope may be requested later without registering again
          yield* service.obtain(metadata, { redirectUris: [REDIRECT], scope: "mcp:read" })
          assert.strictEqual(server.requests.length, 1)
        }))
      yield* withService({}, (service) =>
        Effect.gen(function*() {
          const narrow = yield* service.obtain(metadata, { redirectUris: [REDIRECT], scope: "mcp:read" })
          assert.strictEqual(narrow.scope, "mcp:read")
          yield* service.obtain(metadata, { redirectUris: [REDIRECT], scope: "mcp:read" })
          const wide = yield* service.obtain(metadata, { redirectUris: [REDIRECT], scope: "mcp:read mcp:write" })
          assert.strictEqual(wide.scope, "mcp:read mcp:write")
        }))
      assert.strictEqual(server.requests.length, 3)
    }))

  it.effect("RFC 7591 §3.2.1: an expired client secret means registering again", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_000_000)
      const { server, metadata } = yield* registrar(
        echo({
          client_secret: "s3cret",
          client_secret_expires_at: 1_700_000_100,
          token_endpoint_auth_method: "client_secret_basic"
        })
      )
      yield* withService({}, (service) =>
        Effect.gen(function*() {
          const first = yield* service.obtain(metadata, { redirectUris: [REDIRECT] })
          yield* TestClock.adjust("50 seconds")
          assert.strictEqual((yield* service.obtain(metadata, { redirectUris: [REDIRECT] })).client_id, first.client_id)
          yield* TestClock.adjust("60 seconds")
          const reason = yield* reasonOf(service.obtain(metadata, { redirectUris: [REDIRECT] }))
          // the server keeps issuing a secret that has expired by now: typed error, nothing stored
          assert.strictEqual(reason._tag, "SecretExpired")
          assert.strictEqual(server.requests.length, 2)
        }))
    }))

  it.effect("RFC 7591 §3.2.1: a secret that expires later is replaced by registering again once expired", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_000_000)
      const { server, metadata } = yield* registrar((body, index) =>
        json(201, {
          ...body,
          client_id: `client-${index + 1}`,
          client_secret: `secret-${index + 1}`,
          client_secret_expires_at: 1_700_000_100 + index * 1000,
          token_endpoint_auth_method: "client_secret_basic"
        })
      )
      yield* withService({}, (service) =>
        Effect.gen(function*() {
          assert.strictEqual((yield* service.obtain(metadata, { redirectUris: [REDIRECT] })).client_id, "client-1")
          yield* TestClock.adjust("101 seconds")
          const renewed = yield* service.obtain(metadata, { redirectUris: [REDIRECT] })
          assert.strictEqual(renewed.client_id, "client-2")
          assert.strictEqual(renewed.client_secret && Redacted.value(renewed.client_secret), "secret-2")
          assert.strictEqual(server.requests.length, 2)
        }))
    }))

  it.effect.each(
    [
      {
        name: "invalid_redirect_uri",
        reply: json(400, { error: "invalid_redirect_uri", error_description: "no" }),
        tag: "RegistrationRejected",
        code: "invalid_redirect_uri",
        status: 400
      },
      {
        name: "invalid_client_metadata",
        reply: json(400, { error: "invalid_client_metadata", error_description: "bad grant" }),
        tag: "RegistrationRejected",
        code: "invalid_client_metadata",
        status: 400
      },
      {
        name: "invalid_software_statement",
        reply: json(400, { error: "invalid_software_statement" }),
        tag: "RegistrationRejected",
        code: "invalid_software_statement",
        status: 400
      },
      {
        name: "unapproved_software_statement",
        reply: json(400, { error: "unapproved_software_statement" }),
        tag: "RegistrationRejected",
        code: "unapproved_software_statement",
        status: 400
      },
      {
        name: "another code (403 access_denied)",
        reply: json(403, { error: "access_denied", error_description: "DCR disabled" }),
        tag: "RegistrationRejected",
        code: "access_denied",
        status: 403
      },
      {
        name: "a 503 with an OAuth error",
        reply: json(503, { error: "temporarily_unavailable" }),
        tag: "RegistrationRejected",
        code: "temporarily_unavailable",
        status: 503
      },
      {
        name: "a non-JSON 500",
        reply: { status: 500, contentType: "text/html", body: "<h1>oops</h1>" },
        tag: "UnexpectedResponse",
        code: undefined,
        status: 500
      },
      {
        name: "a JSON 400 without error",
        reply: json(400, { message: "nope" }),
        tag: "UnexpectedResponse",
        code: undefined,
        status: 400
      },
      {
        name: "a 201 without client_id",
        reply: json(201, { client_name: "x" }),
        tag: "InvalidRegistrationResponse",
        code: undefined,
        status: undefined
      },
      {
        name: "a 201 with foreign redirect URIs",
        reply: json(201, { client_id: "x", redirect_uris: ["https://evil.example/cb"] }),
        tag: "RedirectUrisChanged",
        code: undefined,
        status: undefined
      },
      {
        name: "a 201 that is not JSON",
        reply: { status: 201, contentType: "text/plain", body: "ok" },
        tag: "UnexpectedResponse",
        code: undefined,
        status: 201
      }
    ] as const
  )("RFC 7591 §3.2.2: $name is $tag and nothing is stored", ({ reply, tag, code, status }) =>
    Effect.gen(function*() {
      const { server, metadata } = yield* registrar(() => reply)
      yield* withService({}, (service, cache) =>
        Effect.gen(function*() {
          const reason = yield* reasonOf(service.obtain(metadata, { redirectUris: [REDIRECT] }))
          assert.strictEqual(reason._tag, tag)
          if (reason._tag === "RegistrationRejected") {
            assert.strictEqual(reason.error, code)
            assert.strictEqual(reason.status, status)
            assert.strictEqual(reason.endpoint, metadata.registration_endpoint)
          }
          if (reason._tag === "UnexpectedResponse") assert.strictEqual(reason.status, status)
          assert.isUndefined(yield* stored(cache, metadata.issuer))
          assert.strictEqual(server.requests.length, 1)
        }))
    }))

  it.effect("a redirect from the registration endpoint is not followed: UnexpectedResponse, nothing stored", () =>
    Effect.gen(function*() {
      const { server, metadata } = yield* registrar((body, index) =>
        index === 0
          ? { status: 307, contentType: "text/plain", body: "moved", location: "/elsewhere" }
          : json(201, { ...body, client_id: "should-not-happen" })
      )
      yield* withService({}, (service, cache) =>
        Effect.gen(function*() {
          const reason = yield* reasonOf(service.obtain(metadata, { redirectUris: [REDIRECT] }))
          assert.strictEqual(reason._tag, "UnexpectedResponse")
          assert.strictEqual(reason._tag === "UnexpectedResponse" ? reason.status : 0, 307)
          assert.strictEqual(server.requests.length, 1)
          assert.isUndefined(yield* stored(cache, metadata.issuer))
        }))
    }))

  it.effect("a server that is down is RequestFailed (transient) and nothing is stored", () =>
    Effect.gen(function*() {
      const metadata = { issuer: "http://127.0.0.1:9", registration_endpoint: "http://127.0.0.1:9/register" }
      const error = yield* Effect.flip(
        withService({}, (service) => service.obtain(metadata, { redirectUris: [REDIRECT] }))
      )
      assert.strictEqual(error.reason._tag, "RequestFailed")
    }))

  it.effect("a registration endpoint that never answers is RequestFailed after the timeout", () =>
    Effect.gen(function*() {
      const { server, metadata } = yield* registrar(() => "silent")
      yield* withService({ timeoutMillis: 5_000 }, (service, cache) =>
        Effect.gen(function*() {
          const fiber = yield* Effect.forkChild(Effect.flip(service.obtain(metadata, { redirectUris: [REDIRECT] })))
          // wait until the request reached the server, then let the virtual clock pass the timeout
          while (server.requests.length === 0) yield* Effect.promise(() => new Promise((r) => setTimeout(r, 10)))
          yield* TestClock.adjust("5 seconds")
          const error = yield* Fiber.join(fiber)
          assert.strictEqual(error.reason._tag, "RequestFailed")
          assert.include(error.message, "5000 ms")
          assert.isUndefined(yield* stored(cache, metadata.issuer))
        }))
    }))

  it.effect("dynamic registration without a redirect URI is NoRedirectUris", () =>
    Effect.gen(function*() {
      const { server, metadata } = yield* registrar(echo())
      const reason = yield* reasonOf(withService({}, (service) => service.obtain(metadata)))
      assert.strictEqual(reason._tag, "NoRedirectUris")
      assert.strictEqual(server.requests.length, 0)
    }))
})

describe("re-registration after an unknown client", () => {
  const invalidClient = { _tag: "TokenEndpoint", status: 401, error: "invalid_client" } as const

  it.effect("RFC 6749 §5.2: invalid_client triggers one re-registration, not a loop", () =>
    Effect.gen(function*() {
      const { server, metadata } = yield* registrar(echo())
      yield* withService({}, (service, cache) =>
        Effect.gen(function*() {
          const first = yield* service.obtain(metadata, { redirectUris: [REDIRECT] })
          const second = yield* service.reregister(metadata, { clientId: first.client_id, signal: invalidClient }, {
            redirectUris: [REDIRECT]
          })
          assert.strictEqual(second.client_id, "client-2")
          assert.strictEqual((yield* stored(cache, metadata.issuer))?.client_id, "client-2")
          // the replacement is rejected too: the guard refuses a second round
          const reason = yield* reasonOf(
            service.reregister(metadata, { clientId: second.client_id, signal: invalidClient }, {
              redirectUris: [REDIRECT]
            })
          )
          assert.strictEqual(reason._tag, "ReRegistrationRefused")
          // a stale rejection of the first client does not register again either
          const stale = yield* service.reregister(metadata, { clientId: first.client_id, signal: invalidClient }, {
            redirectUris: [REDIRECT]
          })
          assert.strictEqual(stale.client_id, "client-2")
          assert.strictEqual(server.requests.length, 2)
        }))
    }))

  it.effect("Datadog: a server returning the same client_id every time is re-registered once, then refused", () =>
    Effect.gen(function*() {
      const uuid = "6f1c2d8e-0b7a-4e43-9d8a-2a4f1b0c9e11"
      const { server, metadata } = yield* registrar((body) => json(201, { ...body, client_id: uuid }))
      yield* withService({}, (service) =>
        Effect.gen(function*() {
          const first = yield* service.obtain(metadata, { redirectUris: [REDIRECT] })
          const again = yield* service.reregister(metadata, { clientId: uuid, signal: invalidClient }, {
            redirectUris: [REDIRECT]
          })
          assert.strictEqual(again.client_id, first.client_id)
          const reason = yield* reasonOf(
            service.reregister(metadata, { clientId: uuid, signal: invalidClient }, { redirectUris: [REDIRECT] })
          )
          assert.strictEqual(reason._tag, "ReRegistrationRefused")
          assert.strictEqual(server.requests.length, 2)
        }))
    }))

  it.effect("a 5xx from the token endpoint never discards a working registration", () =>
    Effect.gen(function*() {
      const { server, metadata } = yield* registrar(echo())
      yield* withService({}, (service, cache) =>
        Effect.gen(function*() {
          const first = yield* service.obtain(metadata, { redirectUris: [REDIRECT] })
          const reason = yield* reasonOf(service.reregister(metadata, {
            clientId: first.client_id,
            signal: { _tag: "TokenEndpoint", status: 503, error: "invalid_client" }
          }, { redirectUris: [REDIRECT] }))
          assert.strictEqual(reason._tag, "NotUnknownClient")
          assert.strictEqual((yield* stored(cache, metadata.issuer))?.client_id, first.client_id)
          assert.strictEqual(server.requests.length, 1)
        }))
    }))

  it.effect("a transient failure of the re-registration keeps the stored registration", () =>
    Effect.gen(function*() {
      const { server, metadata } = yield* registrar((body, index) =>
        index === 0 ? json(201, { ...body, client_id: "client-1" }) : json(503, { error: "temporarily_unavailable" })
      )
      yield* withService({}, (service, cache) =>
        Effect.gen(function*() {
          yield* service.obtain(metadata, { redirectUris: [REDIRECT] })
          const error = yield* Effect.flip(
            service.reregister(metadata, { clientId: "client-1", signal: invalidClient }, { redirectUris: [REDIRECT] })
          )
          assert.strictEqual(error.reason._tag, "RegistrationRejected")
          assert.strictEqual((yield* stored(cache, metadata.issuer))?.client_id, "client-1")
          assert.strictEqual(server.requests.length, 2)
        }))
    }))

  it.effect("an unknown client whose re-registration is refused for good is dropped, not offered again", () =>
    Effect.gen(function*() {
      const { server, metadata } = yield* registrar((body, index) =>
        index === 0
          ? json(201, { ...body, client_id: "client-1" })
          : json(400, { error: "invalid_client_metadata", error_description: "registration closed" })
      )
      yield* withService({}, (service, cache) =>
        Effect.gen(function*() {
          yield* service.obtain(metadata, { redirectUris: [REDIRECT] })
          const reason = yield* reasonOf(
            service.reregister(metadata, { clientId: "client-1", signal: invalidClient }, { redirectUris: [REDIRECT] })
          )
          assert.strictEqual(reason._tag, "RegistrationRejected")
          assert.isUndefined(yield* stored(cache, metadata.issuer))
          // the next obtain registers afresh (and gets the same typed refusal) instead of handing out client-1
          const next = yield* reasonOf(service.obtain(metadata, { redirectUris: [REDIRECT] }))
          assert.strictEqual(next._tag, "RegistrationRejected")
          assert.strictEqual(server.requests.length, 3)
        }))
    }))

  it.effect("a pre-registered client rejected as unknown is not re-registered; the error names the variables", () =>
    Effect.gen(function*() {
      const { server, metadata } = yield* registrar(echo())
      const reason = yield* reasonOf(withService(
        { preregistered: { client_id: "pre-1", redirect_uri: REDIRECT } },
        (service) => service.reregister(metadata, { clientId: "pre-1", signal: invalidClient })
      ))
      assert.strictEqual(reason._tag, "ReRegistrationRefused")
      assert.include(reason.message, "OAUTH_CLIENT_ID")
      assert.strictEqual(server.requests.length, 0)
    }))

  it.effect("the guard's window admits a new re-registration later", () =>
    Effect.gen(function*() {
      const { metadata } = yield* registrar(echo())
      yield* withService({ reRegistration: { windowMillis: 60_000 } }, (service) =>
        Effect.gen(function*() {
          yield* service.obtain(metadata, { redirectUris: [REDIRECT] })
          const two = yield* service.reregister(metadata, { clientId: "client-1", signal: invalidClient }, {
            redirectUris: [REDIRECT]
          })
          const refused = yield* Effect.exit(
            service.reregister(metadata, { clientId: two.client_id, signal: invalidClient }, {
              redirectUris: [REDIRECT]
            })
          )
          assert.isTrue(Exit.isFailure(refused))
          yield* TestClock.adjust("61 seconds")
          const three = yield* service.reregister(metadata, { clientId: two.client_id, signal: invalidClient }, {
            redirectUris: [REDIRECT]
          })
          assert.strictEqual(three.client_id, "client-3")
        }))
    }))
})
