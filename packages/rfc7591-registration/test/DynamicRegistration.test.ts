import { assert, describe, it } from "@effect/vitest"
import { DynamicRegistration, RegistrationError } from "@mcpauth/rfc7591-registration"
import { Effect, Logger, Redacted } from "effect"
import { readFileSync } from "node:fs"

const ISSUER = "https://as.example"
const ENDPOINT = "https://as.example/register"
const REDIRECT = "http://127.0.0.1:8765/callback"
const AS = { issuer: ISSUER, registration_endpoint: ENDPOINT }
const CLIENT = { clientName: "mcpauth test client", redirectUris: [REDIRECT] }

const datadog = JSON.parse(
  readFileSync(new URL("./fixtures/datadog/dcr_register_request_response.example.json", import.meta.url), "utf8")
) as {
  request: Record<string, unknown>
  response_example: Record<string, unknown>
}
const datadogMetadata = JSON.parse(
  readFileSync(
    new URL("./fixtures/datadog/oauth_authorization_server_metadata.us1.2026-08.json", import.meta.url),
    "utf8"
  )
) as Record<string, unknown> & { issuer: string; registration_endpoint: string }

const reasonOf = <A>(effect: Effect.Effect<A, RegistrationError.RegistrationError>) =>
  Effect.map(Effect.flip(effect), (error) => error.reason)

const build = (metadata: Parameters<typeof DynamicRegistration.buildRegistrationRequest>[0], options = {}) =>
  DynamicRegistration.buildRegistrationRequest(metadata, { ...CLIENT, ...options })

const baseRequest = (): DynamicRegistration.RegistrationRequest => ({
  issuer: ISSUER,
  endpoint: ENDPOINT,
  metadata: {
    redirect_uris: [REDIRECT],
    token_endpoint_auth_method: "none",
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    application_type: "native",
    client_name: "mcpauth test client"
  }
})

const parse = (
  status: number,
  body: unknown,
  options: { request?: DynamicRegistration.RegistrationRequest; nowSeconds?: number; contentType?: string } = {}
) =>
  DynamicRegistration.parseRegistrationResponse(
    { request: options.request ?? baseRequest(), nowSeconds: options.nowSeconds ?? 1_700_000_000 },
    {
      status,
      contentType: options.contentType ?? "application/json",
      body: typeof body === "string" ? body : JSON.stringify(body)
    }
  )

describe("buildRegistrationRequest", () => {
  it.effect("RFC 7591 §3.1: a native public client with loopback redirect, code + refresh, none", () =>
    Effect.gen(function*() {
      const request = yield* build(AS)
      assert.strictEqual(request.endpoint, ENDPOINT)
      assert.strictEqual(request.issuer, ISSUER)
      assert.deepStrictEqual(request.metadata, baseRequest().metadata)
    }))

  it.effect("RFC 7591 §2: optional metadata is sent only when given, scope only when asked", () =>
    Effect.gen(function*() {
      const plain = yield* build(AS)
      assert.isFalse("scope" in plain.metadata)
      assert.isFalse("client_uri" in plain.metadata)
      const full = yield* build(AS, {
        scope: "mcp:read mcp:write",
        clientUri: "https://client.example",
        logoUri: "https://client.example/logo.png",
        softwareId: "4NRB1-0XZABZI9E6-5SM3R",
        softwareVersion: "0.1.0"
      })
      assert.strictEqual(full.metadata.scope, "mcp:read mcp:write")
      assert.strictEqual(full.metadata.client_uri, "https://client.example")
      assert.strictEqual(full.metadata.logo_uri, "https://client.example/logo.png")
      assert.strictEqual(full.metadata.software_id, "4NRB1-0XZABZI9E6-5SM3R")
      assert.strictEqual(full.metadata.software_version, "0.1.0")
    }))

  it.effect("registers several loopback redirect URIs at once", () =>
    Effect.gen(function*() {
      const uris = ["http://127.0.0.1:8765/callback", "http://[::1]:8765/callback", "http://localhost:8765/callback"]
      const request = yield* build(AS, { redirectUris: uris })
      assert.deepStrictEqual(request.metadata.redirect_uris, uris)
    }))

  it.effect.each([
    { supported: ["none", "client_secret_basic"], chosen: "none" },
    { supported: ["client_secret_post", "client_secret_basic"], chosen: "client_secret_basic" },
    { supported: ["client_secret_post", "private_key_jwt"], chosen: "client_secret_post" }
  ])(
    "RFC 7591 §2: token_endpoint_auth_method from $supported is $chosen (public client preferred)",
    ({ supported, chosen }) =>
      Effect.gen(function*() {
        const request = yield* build({ ...AS, token_endpoint_auth_methods_supported: supported })
        assert.strictEqual(request.metadata.token_endpoint_auth_method, chosen)
      })
  )

  it.effect("RFC 8414 §2: a server that only supports private_key_jwt is UnsupportedByServer", () =>
    Effect.gen(function*() {
      const reason = yield* reasonOf(build({ ...AS, token_endpoint_auth_methods_supported: ["private_key_jwt"] }))
      assert.strictEqual(reason._tag, "UnsupportedByServer")
      if (reason._tag === "UnsupportedByServer") {
        assert.strictEqual(reason.field, "token_endpoint_auth_methods_supported")
        assert.deepStrictEqual(reason.supported, ["private_key_jwt"])
      }
    }))

  it.effect("RFC 8414 §2: a forced method the server does not list is refused", () =>
    Effect.gen(function*() {
      const reason = yield* reasonOf(
        build({ ...AS, token_endpoint_auth_methods_supported: ["none"] }, {
          tokenEndpointAuthMethod: "client_secret_post"
        })
      )
      assert.strictEqual(reason._tag, "UnsupportedByServer")
    }))

  it.effect("RFC 8414 §2: refresh_token is asked for only when the server lists it (or lists nothing)", () =>
    Effect.gen(function*() {
      const without = yield* build({ ...AS, grant_types_supported: ["authorization_code"] })
      assert.deepStrictEqual(without.metadata.grant_types, ["authorization_code"])
      const withIt = yield* build({ ...AS, grant_types_supported: ["authorization_code", "refresh_token"] })
      assert.deepStrictEqual(withIt.metadata.grant_types, ["authorization_code", "refresh_token"])
    }))

  it.effect("RFC 8414 §2: a server without the authorization code grant or code response type is refused", () =>
    Effect.gen(function*() {
      const grants = yield* reasonOf(build({ ...AS, grant_types_supported: ["client_credentials"] }))
      assert.strictEqual(grants._tag === "UnsupportedByServer" ? grants.field : grants._tag, "grant_types_supported")
      const types = yield* reasonOf(build({ ...AS, response_types_supported: ["token"] }))
      assert.strictEqual(types._tag === "UnsupportedByServer" ? types.field : types._tag, "response_types_supported")
    }))

  it.effect("RFC 8414 §2: no registration_endpoint, no dynamic registration", () =>
    Effect.gen(function*() {
      const reason = yield* reasonOf(build({ issuer: ISSUER }))
      assert.strictEqual(reason._tag === "UnsupportedByServer" ? reason.field : reason._tag, "registration_endpoint")
    }))

  it.effect.each([
    { endpoint: "http://as.example/register", allow: true },
    { endpoint: "http://127.0.0.1:9/register", allow: false },
    { endpoint: "ftp://as.example/register", allow: true },
    { endpoint: "/register", allow: true }
  ])(
    "MCP §Security: registration endpoint $endpoint (allowLoopbackHttp $allow) is InsecureEndpoint",
    ({ endpoint, allow }) =>
      Effect.gen(function*() {
        const reason = yield* reasonOf(
          build({ issuer: ISSUER, registration_endpoint: endpoint }, { allowLoopbackHttp: allow })
        )
        assert.strictEqual(reason._tag, "InsecureEndpoint")
      })
  )

  it.effect("allowLoopbackHttp admits an http loopback registration endpoint, and its use is logged", () =>
    Effect.gen(function*() {
      const messages: Array<string> = []
      const collector = Logger.make((options) => void messages.push(`${options.logLevel}: ${String(options.message)}`))
      const request = yield* build({ issuer: ISSUER, registration_endpoint: "http://127.0.0.1:9/reg" }, {
        allowLoopbackHttp: true
      }).pipe(Effect.provide(Logger.layer([collector])))
      assert.strictEqual(request.endpoint, "http://127.0.0.1:9/reg")
      assert.strictEqual(messages.length, 1)
      assert.match(messages[0] ?? "", /^Warn: Security-weakening: allowLoopbackHttp/)
      // an https endpoint logs nothing
      yield* build(AS, { allowLoopbackHttp: true }).pipe(Effect.provide(Logger.layer([collector])))
      assert.strictEqual(messages.length, 1)
    }))

  it.effect.each([
    { uri: "http://example.com/callback", why: "http off loopback" },
    { uri: "http://127.0.0.1:8765/callback#frag", why: "a fragment" },
    { uri: "callback", why: "a relative URI" },
    { uri: "myapp:/callback", why: "a private-use scheme that is not a reverse domain" }
  ])(
    "RFC 6749 §3.1.2 / RFC 8252 §8.3: a redirect URI with $why is InvalidRedirectUri",
    ({ uri }) =>
      Effect.gen(function*() {
        const reason = yield* reasonOf(build(AS, { redirectUris: [REDIRECT, uri] }))
        assert.strictEqual(reason._tag, "InvalidRedirectUri")
        assert.strictEqual(reason._tag === "InvalidRedirectUri" ? reason.uri : "", uri)
      })
  )

  it.effect("RFC 7591 §2: no redirect URI is NoRedirectUris", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* reasonOf(build(AS, { redirectUris: [] })))._tag, "NoRedirectUris")
    }))

  it.effect("Datadog: the request for Datadog's advertised metadata matches its documented DCR request", () =>
    Effect.gen(function*() {
      const request = yield* build(datadogMetadata, {
        clientName: datadog.request["client_name"],
        redirectUris: datadog.request["redirect_uris"]
      })
      const { application_type, ...rest } = request.metadata
      assert.strictEqual(application_type, "native")
      assert.deepStrictEqual(rest, datadog.request)
      assert.strictEqual(request.endpoint, datadogMetadata.registration_endpoint)
    }))

  it.effect("toHttpRequest POSTs the metadata as JSON and accepts JSON", () =>
    Effect.gen(function*() {
      const request = yield* build(AS)
      const http = DynamicRegistration.toHttpRequest(request)
      assert.strictEqual(http.method, "POST")
      assert.strictEqual(http.url, ENDPOINT)
      assert.strictEqual(http.headers["accept"], "application/json")
      assert.strictEqual(http.body._tag, "Uint8Array")
      if (http.body._tag === "Uint8Array") {
        assert.strictEqual(http.body.contentType, "application/json")
        assert.deepStrictEqual(JSON.parse(new TextDecoder().decode(http.body.body)), request.metadata)
      }
    }))
})

describe("parseRegistrationResponse", () => {
  it.effect("RFC 7591 §3.2.1: a 201 becomes ClientInformation bound to the issuer, secrets Redacted", () =>
    Effect.gen(function*() {
      const info = yield* parse(201, {
        client_id: "s6BhdRkqt3",
        client_secret: "cf136dc3c1fc93f31185e5885805d",
        client_id_issued_at: 2893256800,
        client_secret_expires_at: 0,
        redirect_uris: [REDIRECT],
        grant_types: ["authorization_code", "refresh_token"],
        token_endpoint_auth_method: "client_secret_basic",
        registration_access_token: "this.is.an.access.token.value.ffx83",
        registration_client_uri: "https://as.example/register/s6BhdRkqt3",
        example_extension_parameter: "example_value"
      })
      assert.strictEqual(info.issuer, ISSUER)
      assert.strictEqual(info.client_id, "s6BhdRkqt3")
      assert.strictEqual(info.source, "dynamic")
      assert.strictEqual(info.token_endpoint_auth_method, "client_secret_basic")
      assert.strictEqual(info.client_secret_expires_at, 0)
      assert.strictEqual(info.client_id_issued_at, 2893256800)
      assert.deepStrictEqual(info.redirect_uris, [REDIRECT])
      assert.strictEqual(info.client_secret && Redacted.value(info.client_secret), "cf136dc3c1fc93f31185e5885805d")
      assert.strictEqual(
        info.registration_access_token && Redacted.value(info.registration_access_token),
        "this.is.an.access.token.value.ffx83"
      )
      assert.strictEqual(info.registration_client_uri, "https://as.example/register/s6BhdRkqt3")
      // unknown members kept, secrets only in their Redacted fields
      assert.strictEqual(info.response?.["example_extension_parameter"], "example_value")
      assert.isFalse("client_secret" in (info.response ?? {}))
      assert.isFalse("registration_access_token" in (info.response ?? {}))
      assert.notInclude(JSON.stringify(info), "cf136dc3c1fc93f31185e5885805d")
      assert.notInclude(String(info.client_secret), "cf136dc3c1fc93f31185e5885805d")
    }))

  it.effect("RFC 7591 §3.2.1: a 200 is accepted too, and missing members mean what was asked", () =>
    Effect.gen(function*() {
      const info = yield* parse(200, { client_id: "abc" })
      assert.strictEqual(info.token_endpoint_auth_method, "none")
      assert.deepStrictEqual(info.redirect_uris, [REDIRECT])
      assert.isUndefined(info.client_secret)
    }))

  it.effect("lenient decoding: null members are absent", () =>
    Effect.gen(function*() {
      const info = yield* parse(201, {
        client_id: "abc",
        client_secret: null,
        client_secret_expires_at: null,
        redirect_uris: null,
        scope: null,
        token_endpoint_auth_method: null
      })
      assert.isUndefined(info.client_secret)
      assert.isUndefined(info.client_secret_expires_at)
      assert.isUndefined(info.scope)
      assert.deepStrictEqual(info.redirect_uris, [REDIRECT])
      assert.strictEqual(info.token_endpoint_auth_method, "none")
    }))

  it.effect("Datadog: the documented DCR response (UUID client id, none) is accepted", () =>
    Effect.gen(function*() {
      const request: DynamicRegistration.RegistrationRequest = {
        ...baseRequest(),
        metadata: { ...baseRequest().metadata, redirect_uris: ["http://127.0.0.1:19876/callback"] }
      }
      const info = yield* parse(201, datadog.response_example, { request })
      assert.strictEqual(info.client_id, "00000000-0000-0000-0000-000000000000")
      assert.strictEqual(info.token_endpoint_auth_method, "none")
      assert.strictEqual(info.response?.["client_name"], "my-python-mcp-client")
    }))

  it.effect.each([
    { name: "missing", body: { client_secret: "x" }, field: "client_id" },
    { name: "a number", body: { client_id: 42 }, field: "client_id" },
    { name: "empty", body: { client_id: "" }, field: "client_id" },
    {
      name: "a string expiry",
      body: { client_id: "a", client_secret_expires_at: "soon" },
      field: "client_secret_expires_at"
    },
    { name: "redirect_uris not a list", body: { client_id: "a", redirect_uris: REDIRECT }, field: "redirect_uris" }
  ])(
    "RFC 7591 §3.2.1: client information with $name is InvalidRegistrationResponse naming $field",
    ({ body, field }) =>
      Effect.gen(function*() {
        const reason = yield* reasonOf(parse(201, body))
        assert.strictEqual(reason._tag, "InvalidRegistrationResponse")
        if (reason._tag === "InvalidRegistrationResponse") {
          assert.strictEqual(reason.field, field)
          assert.strictEqual(reason.endpoint, ENDPOINT)
        }
      })
  )

  it.effect("RFC 7591 §3.2.1: a body that is not an object is InvalidRegistrationResponse", () =>
    Effect.gen(function*() {
      const reason = yield* reasonOf(parse(201, [{ client_id: "a" }]))
      assert.strictEqual(reason._tag, "InvalidRegistrationResponse")
    }))

  it.effect("RFC 7591 §3.2.1: a non-JSON success body is UnexpectedResponse without an excerpt", () =>
    Effect.gen(function*() {
      const reason = yield* reasonOf(parse(201, "client_id=abc&client_secret=s3cr3t", { contentType: "text/plain" }))
      assert.strictEqual(reason._tag, "UnexpectedResponse")
      if (reason._tag === "UnexpectedResponse") {
        assert.isUndefined(reason.excerpt)
        assert.notInclude(reason.message, "s3cr3t")
      }
    }))

  it.effect("RFC 7591 §3.2.1: an already expired client secret is SecretExpired", () =>
    Effect.gen(function*() {
      const reason = yield* reasonOf(
        parse(201, { client_id: "a", client_secret: "s", client_secret_expires_at: 1_699_999_999 }, {
          nowSeconds: 1_700_000_000
        })
      )
      assert.strictEqual(reason._tag, "SecretExpired")
      const fresh = yield* parse(201, { client_id: "a", client_secret: "s", client_secret_expires_at: 1_700_000_100 }, {
        nowSeconds: 1_700_000_000
      })
      assert.strictEqual(fresh.client_secret_expires_at, 1_700_000_100)
    }))

  it.effect("RFC 7591 §3.2.1: redirect URIs replaced so that none is ours is RedirectUrisChanged naming both lists", () =>
    Effect.gen(function*() {
      const reason = yield* reasonOf(parse(201, { client_id: "a", redirect_uris: ["https://evil.example/cb"] }))
      assert.strictEqual(reason._tag, "RedirectUrisChanged")
      if (reason._tag === "RedirectUrisChanged") {
        assert.deepStrictEqual(reason.requested, [REDIRECT])
        assert.deepStrictEqual(reason.registered, ["https://evil.example/cb"])
        assert.include(reason.message, "https://evil.example/cb")
        assert.include(reason.message, REDIRECT)
      }
    }))

  it.effect("RFC 7591 §3.2.1: when some requested redirect URIs survive, only those are kept", () =>
    Effect.gen(function*() {
      const second = "http://localhost:8765/callback"
      const request = { ...baseRequest(), metadata: { ...baseRequest().metadata, redirect_uris: [REDIRECT, second] } }
      const info = yield* parse(201, { client_id: "a", redirect_uris: [second, "https://other.example/cb"] }, {
        request
      })
      assert.deepStrictEqual(info.redirect_uris, [second])
    }))

  it.effect("RFC 7591 §2: a shared-secret method without a secret is InvalidRegistrationResponse", () =>
    Effect.gen(function*() {
      const reason = yield* reasonOf(parse(201, { client_id: "a", token_endpoint_auth_method: "client_secret_post" }))
      assert.strictEqual(reason._tag === "InvalidRegistrationResponse" ? reason.field : reason._tag, "client_secret")
    }))

  it.effect("RFC 7591 §3.2.1: grant_types replaced without authorization_code is InvalidRegistrationResponse", () =>
    Effect.gen(function*() {
      const reason = yield* reasonOf(parse(201, { client_id: "a", grant_types: ["client_credentials"] }))
      assert.strictEqual(reason._tag === "InvalidRegistrationResponse" ? reason.field : reason._tag, "grant_types")
    }))

  it.effect.each([
    { error: "invalid_redirect_uri", description: "The redirection URI http://sketchy.example.com is not allowed" },
    { error: "invalid_client_metadata", description: "The grant type 'authorization_code' must be registered" },
    { error: "invalid_software_statement", description: "signature invalid" },
    { error: "unapproved_software_statement", description: "not approved" },
    { error: "some_vendor_code", description: undefined }
  ])(
    "RFC 7591 §3.2.2: error $error becomes RegistrationRejected with code, description and status",
    ({ error, description }) =>
      Effect.gen(function*() {
        const reason = yield* reasonOf(parse(400, { error, error_description: description ?? null }))
        assert.strictEqual(reason._tag, "RegistrationRejected")
        if (reason._tag === "RegistrationRejected") {
          assert.strictEqual(reason.error, error)
          assert.strictEqual(reason.error_description, description)
          assert.strictEqual(reason.status, 400)
          assert.strictEqual(reason.endpoint, ENDPOINT)
        }
      })
  )

  it.effect("RFC 7591 §3.2.2: a non-JSON error body is UnexpectedResponse with status and excerpt", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(parse(502, "<html>Bad Gateway</html>", { contentType: "text/html" }))
      const reason = error.reason
      assert.strictEqual(reason._tag, "UnexpectedResponse")
      if (reason._tag === "UnexpectedResponse") {
        assert.strictEqual(reason.status, 502)
        assert.strictEqual(reason.contentType, "text/html")
        assert.strictEqual(reason.excerpt, "<html>Bad Gateway</html>")
      }
      assert.isTrue(RegistrationError.isTransient(error))
    }))

  it.effect("RFC 7591 §3.2.2: a JSON error body without an error member is UnexpectedResponse", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(parse(400, { message: "bad" }))
      assert.strictEqual(error.reason._tag, "UnexpectedResponse")
      assert.isFalse(RegistrationError.isTransient(error))
    }))
})
