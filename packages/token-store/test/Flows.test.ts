import { assert, describe, it } from "@effect/vitest"
import { OAuth2AuthorizationError, OAuth2Client, UserAgent } from "@mcpauth/oauth2-authorization"
import { OidcProvider } from "@mcpauth/testing"
import { Clock, Effect, Layer, Option, Redacted } from "effect"
import { FetchHttpClient } from "effect/http"
import { spawn } from "node:child_process"
import { createHash } from "node:crypto"
import { TokenStore } from "../src/index.ts"
import { metadataOf, registerPublic, RESOURCE, tempDir } from "./helpers.ts"

const REDIRECT = "http://127.0.0.1:7777/cb"
const OAuthLayer = OAuth2Client.layer.pipe(Layer.provide(FetchHttpClient.layer))

/** Signs in against the provider and returns the entry to store. */
const signIn = (op: OidcProvider.OidcProviderHandle) =>
  Effect.gen(function*() {
    const metadata = yield* metadataOf(op)
    const client = yield* registerPublic(op, REDIRECT)
    const oauth = yield* OAuth2Client.OAuth2Client
    const { tokens } = yield* oauth.authorize({
      metadata,
      client,
      resource: RESOURCE,
      scope: "mcp:read",
      redirectUri: REDIRECT,
      userAgent: UserAgent.programmatic((url) => op.authorize(url))
    })
    const entry: TokenStore.StoredEntry = {
      issuer: op.issuer,
      resource: RESOURCE,
      client_id: client.client_id,
      tokens,
      client,
      metadata,
      requested_scope: "mcp:read",
      updated_at: yield* Clock.currentTimeMillis
    }
    return entry
  })

const isInvalidGrant = OAuth2AuthorizationError.isInvalidGrant

const refreshWith = (key: TokenStore.StoreKey) =>
  Effect.gen(function*() {
    const oauth = yield* OAuth2Client.OAuth2Client
    return yield* TokenStore.refreshSingleFlight(key, {
      refresh: (entry) =>
        oauth.refresh({
          metadata: entry.metadata,
          client: entry.client,
          tokens: entry.tokens,
          resource: entry.resource
        }),
      isRejected: isInvalidGrant
    })
  })

const must = <A>(value: A | undefined): A => {
  if (value === undefined) throw new Error("expected a value")
  return value
}

const sha = (r: Redacted.Redacted<string> | undefined) =>
  r === undefined ? "" : createHash("sha256").update(Redacted.value(r)).digest("hex")

// Two child processes released together: each says READY once loaded; when both have, both get GO.
const runChildrenTogether = (env: Record<string, string>, count: number) =>
  Effect.callback<ReadonlyArray<{ code: number | null; stdout: string; stderr: string }>>((resume) => {
    const results: Array<{ code: number | null; stdout: string; stderr: string }> = []
    let ready = 0
    const children = Array.from({ length: count }, () => {
      const child = spawn(process.execPath, [new URL("./fixtures/refresh-child.ts", import.meta.url).pathname], {
        env: { ...process.env, ...env },
        stdio: ["pipe", "pipe", "pipe"]
      })
      const result = { code: null as number | null, stdout: "", stderr: "" }
      child.stdout.on("data", (d: Buffer) => {
        const before = result.stdout.includes("READY")
        result.stdout += d.toString()
        if (!before && result.stdout.includes("READY") && ++ready === count) {
          for (const c of children) c.stdin.end("GO\n")
        }
      })
      child.stderr.on("data", (d: Buffer) => (result.stderr += d.toString()))
      child.on("close", (code) => {
        result.code = code
        results.push(result)
        if (results.length === count) resume(Effect.succeed(results))
      })
      return child
    })
    return Effect.sync(() => children.forEach((c) => c.kill()))
  })

describe("TokenStore with oauth2-authorization against oidc-provider", () => {
  it.live("MCP §Refresh Tokens: after a restart an expired token is refreshed silently from the stored entry", () =>
    Effect.gen(function*() {
      const op = yield* OidcProvider.acquire()
      const dir = yield* tempDir
      const signedIn = yield* signIn(op)
      // first process: stores the credentials, with an access token that has expired meanwhile
      yield* Effect.gen(function*() {
        const store = yield* TokenStore.TokenStore
        yield* store.set({ ...signedIn, tokens: { ...must(signedIn.tokens), expires_at: Date.now() - 1 } })
      }).pipe(Effect.provide(TokenStore.layerFile({ directory: dir })))
      // "restart": a new store instance, nothing in memory; no browser is involved
      const refreshed = yield* Effect.gen(function*() {
        const store = yield* TokenStore.TokenStore
        const latest = Option.getOrUndefined(yield* store.latestForResource(RESOURCE))
        assert.isDefined(latest)
        return yield* refreshWith({ issuer: op.issuer, resource: RESOURCE, client_id: latest?.client_id ?? "" })
      }).pipe(Effect.provide(TokenStore.layerFile({ directory: dir })))
      assert.notStrictEqual(sha(refreshed.tokens?.access_token), sha(signedIn.tokens?.access_token))
      // OAuth 2.1 §4.3.3: the rotated refresh token replaced the old one in the store
      assert.notStrictEqual(sha(refreshed.tokens?.refresh_token), sha(signedIn.tokens?.refresh_token))
      assert.deepStrictEqual(op.tokenCalls().map((c) => `${c.grantType}:${c.outcome}`), [
        "authorization_code:success",
        "refresh_token:success"
      ])
    }).pipe(Effect.provide(OAuthLayer)))

  it.live("RFC 6749 §5.2 invalid_grant on refresh: tokens cleared, re-authorization needed, registration kept", () =>
    Effect.gen(function*() {
      const op = yield* OidcProvider.acquire()
      const signedIn = yield* signIn(op)
      const oauth = yield* OAuth2Client.OAuth2Client
      yield* oauth.revoke({
        metadata: signedIn.metadata,
        client: signedIn.client,
        token: must(must(signedIn.tokens).refresh_token),
        tokenTypeHint: "refresh_token"
      })
      const store = yield* TokenStore.TokenStore
      yield* store.set({ ...signedIn, tokens: { ...must(signedIn.tokens), expires_at: 0 } })
      const key = { issuer: op.issuer, resource: RESOURCE, client_id: signedIn.client_id }
      const error = yield* Effect.flip(refreshWith(key))
      assert.isTrue(isInvalidGrant(error))
      const after = Option.getOrUndefined(yield* store.get(key))
      assert.isUndefined(after?.tokens)
      assert.strictEqual(after?.client.client_id, signedIn.client_id)
      assert.strictEqual(Option.getOrUndefined(yield* store.getClient(op.issuer))?.client_id, signedIn.client_id)
    }).pipe(Effect.provide(Layer.mergeAll(OAuthLayer, TokenStore.layerMemory))))

  it.live(
    "OAuth 2.1 §4.3.3: two Node processes refreshing at once: exactly one refresh reaches the server, both end with the new token",
    () =>
      Effect.gen(function*() {
        const op = yield* OidcProvider.acquire()
        const dir = yield* tempDir
        const signedIn = yield* signIn(op)
        yield* Effect.gen(function*() {
          yield* (yield* TokenStore.TokenStore).set({
            ...signedIn,
            tokens: { ...must(signedIn.tokens), expires_at: 0 }
          })
        }).pipe(Effect.provide(TokenStore.layerFile({ directory: dir })))
        const env = {
          STORE_DIR: dir,
          STORE_KEY: JSON.stringify({ issuer: op.issuer, resource: RESOURCE, client_id: signedIn.client_id }),
          REFRESH_DELAY_MS: "400"
        }
        const results = yield* runChildrenTogether(env, 2)
        for (const r of results) assert.strictEqual(r.code, 0, r.stderr)
        const outputs = results.map((r) => {
          const line = r.stdout.split("\n").find((l) => l.startsWith("RESULT ")) ?? "RESULT {}"
          return JSON.parse(line.slice("RESULT ".length)) as {
            began: number
            ended: number
            refreshed: boolean
            access: string
            refresh: string
          }
        })
        // the two processes really ran at the same time (each began before the other ended)
        assert.isBelow(Math.max(...outputs.map((o) => o.began)), Math.min(...outputs.map((o) => o.ended)))
        const refreshes = op.tokenCalls().filter((c) => c.grantType === "refresh_token")
        assert.deepStrictEqual(refreshes.map((c) => c.outcome), ["success"])
        assert.strictEqual(outputs.filter((o) => o.refreshed).length, 1)
        const stored = yield* Effect.gen(function*() {
          return yield* (yield* TokenStore.TokenStore).get({
            issuer: op.issuer,
            resource: RESOURCE,
            client_id: signedIn.client_id
          })
        }).pipe(Effect.provide(TokenStore.layerFile({ directory: dir })))
        const tokens = Option.getOrUndefined(stored)?.tokens
        assert.notStrictEqual(sha(tokens?.access_token), sha(signedIn.tokens?.access_token))
        for (const o of outputs) {
          assert.strictEqual(o.access, sha(tokens?.access_token))
          assert.strictEqual(o.refresh, sha(tokens?.refresh_token))
        }
      }).pipe(Effect.provide(OAuthLayer)),
    60_000
  )
})
