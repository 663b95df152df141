// End to end against a real oidc-provider 9.x on 127.0.0.1 (dynamic registration enabled, public clients):
// what we register is what the server stores, the credentials complete an authorization code flow, the server's
// own refusals become typed errors, and an unknown client id is re-registered once.
import { assert, describe, it } from "@effect/vitest"
import { ClientRegistration, DynamicRegistration, RegistrationCache } from "@mcpauth/rfc7591-registration"
import type { ClientInformation, RegistrationError, ServerMetadata } from "@mcpauth/rfc7591-registration"
import { OidcProvider } from "@mcpauth/testing"
import { Effect, Option, Redacted } from "effect"
import { FetchHttpClient } from "effect/http"
import { createHash, randomBytes } from "node:crypto"
import * as oauth from "oauth4webapi"

const REDIRECT = "http://127.0.0.1:8765/callback"
const RESOURCE = "http://127.0.0.1:9/mcp"
const CLIENT = { clientName: "mcpauth registration test", softwareId: "mcpauth-tests", softwareVersion: "0.1.0" }

type Handle = OidcProvider.OidcProviderHandle
type Service = ClientRegistration.ClientRegistration["Service"]
type Cache = RegistrationCache.RegistrationCache["Service"]

interface StoredClient {
  readonly clientId: string
  readonly clientName?: string
  readonly applicationType?: string
  readonly tokenEndpointAuthMethod?: string
  readonly redirectUris?: ReadonlyArray<string>
  readonly grantTypes?: ReadonlyArray<string>
  readonly responseTypes?: ReadonlyArray<string>
  readonly clientSecret?: string
  readonly softwareId?: string
  readonly softwareVersion?: string
}
interface ClientModel {
  readonly find: (id: string) => Promise<StoredClient | undefined>
  readonly adapter: { readonly destroy: (id: string) => Promise<void> }
}
const clients = (op: Handle) => op.provider.Client as unknown as ClientModel

const discover = (op: Handle) =>
  Effect.promise(() =>
    fetch(op.url("/.well-known/oauth-authorization-server")).then((r) =>
      r.json() as Promise<ServerMetadata.RegistrationServerMetadata & Record<string, unknown>>
    )
  )

const withService = <A, E>(
  config: Partial<ClientRegistration.ClientRegistrationConfig>,
  f: (service: Service, cache: Cache) => Effect.Effect<A, E>
) =>
  Effect.gen(function*() {
    const cache = yield* RegistrationCache.makeMemory
    const service = yield* ClientRegistration.make({ client: CLIENT, allowLoopbackHttp: true, ...config }).pipe(
      Effect.provideService(RegistrationCache.RegistrationCache, cache),
      Effect.provide(FetchHttpClient.layer)
    )
    return yield* f(service, cache)
  })

const reasonOf = <A>(effect: Effect.Effect<A, RegistrationError.RegistrationError>) =>
  Effect.map(Effect.flip(effect), (error) => error.reason)

// The authorization code flow with PKCE, driven by the fixture's scripted browser; the token request authenticates
// as the registration says (none, or client_secret_basic).
const authorizeAndExchange = (op: Handle, info: ClientInformation.ClientInformation) =>
  Effect.promise(async () => {
    const verifier = randomBytes(32).toString("base64url")
    const url = new URL(op.url("/auth"))
    const redirectUri = info.redirect_uris[0] ?? ""
    for (
      const [k, v] of Object.entries({
        response_type: "code",
        client_id: info.client_id,
        redirect_uri: redirectUri,
        scope: "mcp:read",
        state: randomBytes(16).toString("base64url"),
        code_challenge: createHash("sha256").update(verifier).digest("base64url"),
        code_challenge_method: "S256",
        resource: RESOURCE
      })
    ) url.searchParams.set(k, v)
    const redirect = new URL(await op.authorize(url))
    const code = redirect.searchParams.get("code")
    if (code === null) return { status: 0, body: { error: redirect.searchParams.get("error") } }
    const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" }
    const params: Record<string, string> = {
      grant_type: "authorization_code",
      code,
      code_verifier: verifier,
      redirect_uri: redirectUri,
      resource: RESOURCE
    }
    if (info.token_endpoint_auth_method === "client_secret_basic" && info.client_secret !== undefined) {
      headers["authorization"] = `Basic ${
        Buffer.from(
          `${encodeURIComponent(info.client_id)}:${encodeURIComponent(Redacted.value(info.client_secret))}`
        ).toString("base64")
      }`
    } else {
      params["client_id"] = info.client_id
    }
    const response = await fetch(op.url("/token"), { method: "POST", headers, body: new URLSearchParams(params) })
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  })

// A token request for a client id; an unknown client answers invalid_client (RFC 6749 §5.2).
const tokenSignal = (op: Handle, clientId: string) =>
  Effect.promise(async () => {
    const response = await fetch(op.url("/token"), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: "not-a-code",
        code_verifier: randomBytes(32).toString("base64url"),
        redirect_uri: REDIRECT,
        client_id: clientId
      })
    })
    const body = (await response.json()) as { error?: string; error_description?: string }
    return {
      _tag: "TokenEndpoint" as const,
      status: response.status,
      error: body.error,
      error_description: body.error_description
    }
  })

describe("against oidc-provider", () => {
  it.effect("RFC 7591 §3.1: a native public client is registered as asked and completes the code flow", () =>
    Effect.scoped(Effect.gen(function*() {
      const op = yield* OidcProvider.acquire()
      const metadata = yield* discover(op)
      assert.strictEqual(metadata.registration_endpoint, op.url("/reg"))
      const info = yield* withService({}, (service) => service.obtain(metadata, { redirectUris: [REDIRECT] }))
      assert.strictEqual(info.issuer, op.issuer)
      assert.strictEqual(info.source, "dynamic")
      assert.strictEqual(info.token_endpoint_auth_method, "none")
      assert.isUndefined(info.client_secret)
      assert.deepStrictEqual(info.redirect_uris, [REDIRECT])
      assert.isNumber(info.client_id_issued_at)
      // RFC 7592: oidc-provider returns the management members; the access token stays Redacted
      assert.isDefined(info.registration_access_token)
      assert.strictEqual(info.response?.["client_name"], CLIENT.clientName)
      const stored = yield* Effect.promise(() => clients(op).find(info.client_id))
      assert.strictEqual(stored?.applicationType, "native")
      assert.strictEqual(stored?.tokenEndpointAuthMethod, "none")
      assert.deepStrictEqual(stored?.redirectUris, [REDIRECT])
      assert.deepStrictEqual(stored?.grantTypes, ["authorization_code", "refresh_token"])
      assert.deepStrictEqual(stored?.responseTypes, ["code"])
      assert.strictEqual(stored?.clientName, CLIENT.clientName)
      const token = yield* authorizeAndExchange(op, info)
      assert.strictEqual(token.status, 200)
      assert.isString(token.body["access_token"])
      assert.isString(token.body["refresh_token"])
    })))

  it.effect("RFC 7591 §3.2.1: a confidential client's secret is Redacted and authenticates with client_secret_basic", () =>
    Effect.scoped(Effect.gen(function*() {
      const op = yield* OidcProvider.acquire()
      const metadata = yield* discover(op)
      const info = yield* withService(
        { client: { ...CLIENT, tokenEndpointAuthMethod: "client_secret_basic" } },
        (service) => service.obtain(metadata, { redirectUris: [REDIRECT] })
      )
      assert.strictEqual(info.token_endpoint_auth_method, "client_secret_basic")
      assert.strictEqual(info.client_secret_expires_at, 0)
      const stored = yield* Effect.promise(() => clients(op).find(info.client_id))
      assert.strictEqual(info.client_secret && Redacted.value(info.client_secret), stored?.clientSecret)
      assert.notInclude(JSON.stringify(info), stored?.clientSecret ?? "\u0000")
      assert.strictEqual((yield* authorizeAndExchange(op, info)).status, 200)
    })))

  it.effect("registers several loopback redirect URIs; each one works", () =>
    Effect.scoped(Effect.gen(function*() {
      const op = yield* OidcProvider.acquire()
      const metadata = yield* discover(op)
      const uris = [REDIRECT, "http://localhost:8765/callback"]
      const info = yield* withService({}, (service) => service.obtain(metadata, { redirectUris: uris }))
      assert.deepStrictEqual(info.redirect_uris, uris)
      const second = { ...info, redirect_uris: [uris[1] ?? ""] }
      assert.strictEqual((yield* authorizeAndExchange(op, second)).status, 200)
    })))

  it.effect("RFC 7591 §3.2.2: the server's own refusal of a redirect URI is RegistrationRejected, nothing stored", () =>
    Effect.scoped(Effect.gen(function*() {
      const op = yield* OidcProvider.acquire()
      const metadata = yield* discover(op)
      // RFC 8252 §7.2 as oidc-provider enforces it: a claimed https redirect URI of a native client is not loopback
      const reason = yield* withService(
        {},
        (service, cache) =>
          Effect.gen(function*() {
            const reason = yield* reasonOf(service.obtain(metadata, { redirectUris: ["https://127.0.0.1:8765/cb"] }))
            assert.isTrue(Option.isNone(yield* cache.get(op.issuer)))
            return reason
          })
      )
      assert.strictEqual(reason._tag, "RegistrationRejected")
      if (reason._tag === "RegistrationRejected") {
        assert.strictEqual(reason.status, 400)
        assert.strictEqual(reason.error, "invalid_redirect_uri")
        assert.isString(reason.error_description)
      }
    })))

  it.effect("RFC 7591 §3.2.2: invalid_client_metadata from the server is carried with its description", () =>
    Effect.scoped(Effect.gen(function*() {
      const op = yield* OidcProvider.acquire()
      const metadata = yield* discover(op)
      const reason = yield* reasonOf(withService(
        { client: { ...CLIENT, clientUri: "not a uri" } },
        (service) => service.obtain(metadata, { redirectUris: [REDIRECT] })
      ))
      assert.strictEqual(reason._tag, "RegistrationRejected")
      if (reason._tag === "RegistrationRejected") {
        assert.strictEqual(reason.error, "invalid_client_metadata")
        assert.include(reason.error_description ?? "", "client_uri")
      }
    })))

  it.effect("MCP §Authorization Server Binding: two servers, two registrations, never crossed", () =>
    Effect.scoped(Effect.gen(function*() {
      const a = yield* OidcProvider.acquire()
      const b = yield* OidcProvider.acquire()
      const [metaA, metaB] = [yield* discover(a), yield* discover(b)]
      yield* withService({}, (service) =>
        Effect.gen(function*() {
          const infoA = yield* service.obtain(metaA, { redirectUris: [REDIRECT] })
          const infoB = yield* service.obtain(metaB, { redirectUris: [REDIRECT] })
          assert.strictEqual(infoA.issuer, a.issuer)
          assert.strictEqual(infoB.issuer, b.issuer)
          assert.notStrictEqual(infoA.client_id, infoB.client_id)
          // A's client is unknown at B
          assert.strictEqual((yield* tokenSignal(b, infoA.client_id)).error, "invalid_client")
          assert.strictEqual((yield* service.obtain(metaA, { redirectUris: [REDIRECT] })).client_id, infoA.client_id)
        }))
    })))

  it.effect("RFC 6749 §5.2: a client the server forgot is re-registered once, and not in a loop", () =>
    Effect.scoped(Effect.gen(function*() {
      const op = yield* OidcProvider.acquire()
      const metadata = yield* discover(op)
      yield* withService({}, (service) =>
        Effect.gen(function*() {
          const first = yield* service.obtain(metadata, { redirectUris: [REDIRECT] })
          yield* Effect.promise(() => clients(op).adapter.destroy(first.client_id))
          const signal = yield* tokenSignal(op, first.client_id)
          assert.strictEqual(signal.error, "invalid_client")
          const second = yield* service.reregister(metadata, { clientId: first.client_id, signal }, {
            redirectUris: [REDIRECT]
          })
          assert.notStrictEqual(second.client_id, first.client_id)
          assert.strictEqual((yield* authorizeAndExchange(op, second)).status, 200)
          assert.strictEqual(
            (yield* service.obtain(metadata, { redirectUris: [REDIRECT] })).client_id,
            second.client_id
          )
          // forgotten again: the guard stops here
          yield* Effect.promise(() => clients(op).adapter.destroy(second.client_id))
          const again = yield* tokenSignal(op, second.client_id)
          const reason = yield* reasonOf(
            service.reregister(metadata, { clientId: second.client_id, signal: again }, { redirectUris: [REDIRECT] })
          )
          assert.strictEqual(reason._tag, "ReRegistrationRefused")
        }))
    })))

  it.effect("RFC 6749 §4.1.2.1: the authorization endpoint's refusal of a forgotten client triggers re-registration", () =>
    Effect.scoped(Effect.gen(function*() {
      const op = yield* OidcProvider.acquire()
      const metadata = yield* discover(op)
      yield* withService({}, (service) =>
        Effect.gen(function*() {
          const first = yield* service.obtain(metadata, { redirectUris: [REDIRECT] })
          yield* Effect.promise(() => clients(op).adapter.destroy(first.client_id))
          // the server shows the user an error page instead of redirecting (RFC 6749 §4.1.2.1)
          const url = new URL(op.url("/auth"))
          url.searchParams.set("client_id", first.client_id)
          url.searchParams.set("response_type", "code")
          url.searchParams.set("redirect_uri", REDIRECT)
          const response = yield* Effect.promise(() => fetch(url, { redirect: "manual" }))
          assert.strictEqual(response.status, 400)
          assert.isNull(response.headers.get("location"))
          const page = yield* Effect.promise(() => response.text())
          const error = /<strong>error<\/strong>: ([^<]+)</.exec(page)?.[1]
          const description = /<strong>error_description<\/strong>: ([^<]+)</.exec(page)?.[1]
          assert.strictEqual(error, "invalid_client")
          const signal = { _tag: "AuthorizationEndpoint" as const, error, error_description: description }
          assert.isTrue(ClientRegistration.isUnknownClient(signal))
          assert.isTrue(ClientRegistration.isUnknownClient({ ...signal, error: "invalid_request" }))
          const second = yield* service.reregister(metadata, { clientId: first.client_id, signal }, {
            redirectUris: [REDIRECT]
          })
          assert.strictEqual((yield* authorizeAndExchange(op, second)).status, 200)
        }))
    })))

  it.effect("a token endpoint error that is not invalid_client keeps the working registration", () =>
    Effect.scoped(Effect.gen(function*() {
      const op = yield* OidcProvider.acquire()
      const metadata = yield* discover(op)
      yield* withService({}, (service) =>
        Effect.gen(function*() {
          const info = yield* service.obtain(metadata, { redirectUris: [REDIRECT] })
          // a known client with a bogus code: invalid_grant, not invalid_client
          const signal = yield* tokenSignal(op, info.client_id)
          assert.strictEqual(signal.error, "invalid_grant")
          const reason = yield* reasonOf(
            service.reregister(metadata, { clientId: info.client_id, signal }, { redirectUris: [REDIRECT] })
          )
          assert.strictEqual(reason._tag, "NotUnknownClient")
          assert.strictEqual((yield* service.obtain(metadata, { redirectUris: [REDIRECT] })).client_id, info.client_id)
        }))
    })))
})

describe("differential: oauth4webapi", () => {
  it.effect("the same registration through oauth4webapi and through us yields the same client information", () =>
    Effect.scoped(Effect.gen(function*() {
      const op = yield* OidcProvider.acquire()
      const metadata = yield* discover(op)
      const request = yield* DynamicRegistration.buildRegistrationRequest(metadata, {
        ...CLIENT,
        redirectUris: [REDIRECT],
        tokenEndpointAuthMethod: "client_secret_post",
        allowLoopbackHttp: true
      })
      const as = { issuer: op.issuer, registration_endpoint: request.endpoint }
      const response = yield* Effect.promise(() =>
        oauth.dynamicClientRegistrationRequest(as, JSON.parse(JSON.stringify(request.metadata)), {
          [oauth.allowInsecureRequests]: true
        })
      )
      const text = yield* Effect.promise(() => response.clone().text())
      const theirs = yield* Effect.promise(() => oauth.processDynamicClientRegistrationResponse(response))
      const ours = yield* DynamicRegistration.parseRegistrationResponse(
        { request, nowSeconds: Math.floor(Date.now() / 1000) },
        { status: response.status, contentType: response.headers.get("content-type") ?? undefined, body: text }
      )
      assert.strictEqual(ours.client_id, theirs.client_id)
      assert.strictEqual(ours.client_secret && Redacted.value(ours.client_secret), theirs.client_secret)
      assert.strictEqual(ours.client_secret_expires_at, theirs.client_secret_expires_at)
      assert.strictEqual(ours.token_endpoint_auth_method, theirs.token_endpoint_auth_method)
      assert.deepStrictEqual(ours.redirect_uris, theirs["redirect_uris"] as ReadonlyArray<string>)
    })))

  it.effect.each([
    { status: 400, body: { error: "invalid_redirect_uri", error_description: "no" } },
    { status: 400, body: { error: "invalid_client_metadata", error_description: "bad" } },
    { status: 400, body: { error: "invalid_software_statement" } },
    { status: 400, body: { error: "unapproved_software_statement" } },
    { status: 403, body: { error: "access_denied" } }
  ])(
    "RFC 7591 §3.2.2: $body.error agrees with oauth4webapi's ResponseBodyError",
    ({ status, body }) =>
      Effect.gen(function*() {
        const request = yield* DynamicRegistration.buildRegistrationRequest(
          { issuer: "https://as.example", registration_endpoint: "https://as.example/reg" },
          { ...CLIENT, redirectUris: [REDIRECT] }
        )
        const text = JSON.stringify(body)
        const response = new Response(text, { status, headers: { "content-type": "application/json" } })
        const theirs = yield* Effect.promise(() =>
          oauth.processDynamicClientRegistrationResponse(response).then(() => undefined, (e: unknown) => e)
        )
        const ours = yield* reasonOf(
          DynamicRegistration.parseRegistrationResponse({ request, nowSeconds: 0 }, {
            status,
            contentType: "application/json",
            body: text
          })
        )
        assert.instanceOf(theirs, oauth.ResponseBodyError)
        assert.strictEqual(ours._tag, "RegistrationRejected")
        if (theirs instanceof oauth.ResponseBodyError && ours._tag === "RegistrationRejected") {
          assert.strictEqual(ours.error, theirs.error)
          assert.strictEqual(ours.status, theirs.status)
          assert.strictEqual(ours.error_description, theirs.error_description)
        }
      })
  )

  it.effect("a non-JSON error body is not an OAuth error for either", () =>
    Effect.gen(function*() {
      const request = yield* DynamicRegistration.buildRegistrationRequest(
        { issuer: "https://as.example", registration_endpoint: "https://as.example/reg" },
        { ...CLIENT, redirectUris: [REDIRECT] }
      )
      const response = new Response("<h1>Bad Gateway</h1>", { status: 502, headers: { "content-type": "text/html" } })
      const theirs = yield* Effect.promise(() =>
        oauth.processDynamicClientRegistrationResponse(response).then(() => undefined, (e: unknown) => e)
      )
      const ours = yield* reasonOf(
        DynamicRegistration.parseRegistrationResponse({ request, nowSeconds: 0 }, {
          status: 502,
          contentType: "text/html",
          body: "<h1>Bad Gateway</h1>"
        })
      )
      assert.isDefined(theirs)
      assert.notInstanceOf(theirs, oauth.ResponseBodyError)
      assert.strictEqual(ours._tag, "UnexpectedResponse")
    }))
})
