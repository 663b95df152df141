import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { acquire } from "../src/OidcProvider.ts"
import type { OidcProviderHandle, OidcProviderOptions } from "../src/OidcProvider.ts"

const RESOURCE = "http://127.0.0.1:9/mcp"
const REDIRECT = "http://127.0.0.1:8765/callback"

const json = (response: Response) => response.json() as Promise<Record<string, unknown>>

const register = (op: OidcProviderHandle, body: Record<string, unknown> = {}) =>
  Effect.promise(() =>
    fetch(op.url("/reg"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token"],
        ...body
      })
    }).then(json)
  )

const authorizationUrl = (op: OidcProviderHandle, clientId: string, extra: Record<string, string> = {}) => {
  const verifier = randomBytes(32).toString("base64url")
  const challenge = createHash("sha256").update(verifier).digest("base64url")
  const state = randomBytes(16).toString("base64url")
  const url = new URL(op.url("/auth"))
  for (
    const [k, v] of Object.entries({
      response_type: "code",
      client_id: clientId,
      redirect_uri: REDIRECT,
      scope: "mcp:read",
      state,
      code_challenge: challenge,
      code_challenge_method: "S256",
      resource: RESOURCE,
      ...extra
    })
  ) url.searchParams.set(k, v)
  return { url, verifier, state }
}

const token = (op: OidcProviderHandle, params: Record<string, string>) =>
  Effect.promise(() =>
    fetch(op.url("/token"), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(params)
    }).then(async (r) => ({ status: r.status, body: await json(r) }))
  )

const payload = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>

const withProvider = <A>(options: OidcProviderOptions, f: (op: OidcProviderHandle) => Effect.Effect<A>) =>
  Effect.scoped(Effect.flatMap(acquire(options), f))

describe("startOidcProvider", () => {
  it.effect("full flow: registration, authorize, JWT bound to the resource, rotating refresh, revocation", () =>
    withProvider({}, (op) =>
      Effect.gen(function*() {
        const meta = yield* Effect.promise(() => fetch(op.url("/.well-known/oauth-authorization-server")).then(json))
        assert.strictEqual(meta["issuer"], op.issuer)
        assert.strictEqual(meta["authorization_response_iss_parameter_supported"], true)
        const client = yield* register(op)
        const clientId = String(client["client_id"])
        const { state, url, verifier } = authorizationUrl(op, clientId)
        const redirect = new URL(yield* Effect.promise(() => op.authorize(url)))
        assert.strictEqual(`${redirect.origin}${redirect.pathname}`, REDIRECT)
        assert.strictEqual(redirect.searchParams.get("state"), state)
        // RFC 9207 §2: iss in the authorization response
        assert.strictEqual(redirect.searchParams.get("iss"), op.issuer)
        const code = redirect.searchParams.get("code") ?? ""
        const first = yield* token(op, {
          grant_type: "authorization_code",
          code,
          code_verifier: verifier,
          redirect_uri: REDIRECT,
          client_id: clientId,
          resource: RESOURCE
        })
        assert.strictEqual(first.status, 200)
        const access = String(first.body["access_token"])
        const header = JSON.parse(Buffer.from(access.split(".")[0] ?? "", "base64url").toString("utf8"))
        assert.strictEqual(header.typ, "at+jwt")
        assert.strictEqual(payload(access)["aud"], RESOURCE)
        assert.strictEqual(first.body["scope"], "mcp:read")
        const refreshToken = String(first.body["refresh_token"])
        const second = yield* token(op, {
          grant_type: "refresh_token",
          refresh_token: refreshToken,
          client_id: clientId,
          resource: RESOURCE
        })
        assert.strictEqual(second.status, 200)
        assert.notStrictEqual(second.body["refresh_token"], refreshToken)
        const reused = yield* token(op, {
          grant_type: "refresh_token",
          refresh_token: refreshToken,
          client_id: clientId,
          resource: RESOURCE
        })
        assert.strictEqual(reused.body["error"], "invalid_grant")
        assert.deepStrictEqual(op.tokenCalls().map((c) => `${c.grantType}:${c.outcome}`), [
          "authorization_code:success",
          "refresh_token:success",
          "refresh_token:error"
        ])
        const revoked = yield* Effect.promise(() =>
          fetch(op.url("/token/revocation"), {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({ token: String(second.body["refresh_token"]), client_id: clientId })
          })
        )
        assert.strictEqual(revoked.status, 200)
      })))

  it.effect("PKCE is required: a request without code_challenge is rejected", () =>
    withProvider({}, (op) =>
      Effect.gen(function*() {
        const client = yield* register(op)
        const { url } = authorizationUrl(op, String(client["client_id"]))
        url.searchParams.delete("code_challenge")
        url.searchParams.delete("code_challenge_method")
        const redirect = new URL(yield* Effect.promise(() => op.authorize(url)))
        assert.strictEqual(redirect.searchParams.get("error"), "invalid_request")
      })))

  it.effect("failure options: issParameter, stateOverride, deny, advertiseIssParameter", () =>
    withProvider(
      { issParameter: "http://evil.example", stateOverride: "forged", deny: true, advertiseIssParameter: false },
      (op) =>
        Effect.gen(function*() {
          const meta = yield* Effect.promise(() => fetch(op.url("/.well-known/openid-configuration")).then(json))
          assert.isUndefined(meta["authorization_response_iss_parameter_supported"])
          const client = yield* register(op)
          const { url } = authorizationUrl(op, String(client["client_id"]))
          const redirect = new URL(yield* Effect.promise(() => op.authorize(url)))
          assert.strictEqual(redirect.searchParams.get("error"), "access_denied")
          assert.strictEqual(redirect.searchParams.get("iss"), "http://evil.example")
          assert.strictEqual(redirect.searchParams.get("state"), "forged")
        })
    ))

  it.effect("RFC 6749 §3.3: a request without scope gets the default scope", () =>
    withProvider({}, (op) =>
      Effect.gen(function*() {
        const client = yield* register(op)
        const clientId = String(client["client_id"])
        const { url, verifier } = authorizationUrl(op, clientId)
        url.searchParams.delete("scope")
        const redirect = new URL(yield* Effect.promise(() => op.authorize(url)))
        const response = yield* token(op, {
          grant_type: "authorization_code",
          code: redirect.searchParams.get("code") ?? "",
          code_verifier: verifier,
          redirect_uri: REDIRECT,
          client_id: clientId,
          resource: RESOURCE
        })
        assert.strictEqual(response.body["scope"], "mcp:read mcp:write")
      })))

  it.effect("RFC 8707: a resource outside the allow-list gets invalid_target", () =>
    withProvider({ resources: ["http://127.0.0.1:1/only"] }, (op) =>
      Effect.gen(function*() {
        const client = yield* register(op)
        const { url } = authorizationUrl(op, String(client["client_id"]))
        const redirect = new URL(yield* Effect.promise(() => op.authorize(url)))
        assert.strictEqual(redirect.searchParams.get("error"), "invalid_target")
      })))

  it.effect("issParameter: false drops iss; a confidential client authenticates with client_secret_basic", () =>
    withProvider({ issParameter: false }, (op) =>
      Effect.gen(function*() {
        const client = yield* register(op, { token_endpoint_auth_method: "client_secret_basic" })
        const clientId = String(client["client_id"])
        const { url, verifier } = authorizationUrl(op, clientId)
        const redirect = new URL(yield* Effect.promise(() => op.authorize(url)))
        assert.isNull(redirect.searchParams.get("iss"))
        const basic = Buffer.from(
          `${encodeURIComponent(clientId)}:${encodeURIComponent(String(client["client_secret"]))}`
        ).toString("base64")
        const response = yield* Effect.promise(() =>
          fetch(op.url("/token"), {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${basic}` },
            body: new URLSearchParams({
              grant_type: "authorization_code",
              code: redirect.searchParams.get("code") ?? "",
              code_verifier: verifier,
              redirect_uri: REDIRECT,
              resource: RESOURCE
            })
          })
        )
        assert.strictEqual(response.status, 200)
      })))
})
