import { assert, describe, it, layer } from "@effect/vitest"
import { Effect, Fiber, Logger, Option, Redacted } from "effect"
import { TestClock } from "effect/testing"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { TokenStore } from "../src/index.ts"
import { entry, mode, tempDir } from "./helpers.ts"

const key = { issuer: "https://as.example", resource: "https://mcp.example/mcp", client_id: "client-1" }

layer(TokenStore.layerMemory)("TokenStore (memory)", (it) => {
  it.effect("stores entries by (issuer, resource, client id) and the registration per issuer", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.TokenStore
      yield* store.set(entry())
      yield* store.set(entry({ resource: "https://mcp.example/other", access: "other", updatedAt: 5 }))
      const found = yield* store.get(key)
      assert.isTrue(Option.isSome(found))
      if (Option.isSome(found)) {
        assert.strictEqual(Redacted.value(found.value.tokens?.access_token ?? Redacted.make("")), "access-1")
      }
      assert.isTrue(Option.isNone(yield* store.get({ ...key, client_id: "other" })))
      const registration = yield* store.getClient("https://as.example")
      assert.strictEqual(Option.getOrUndefined(registration)?.client_id, "client-1")
      const latest = yield* store.latestForResource("https://mcp.example/other")
      assert.strictEqual(Option.getOrUndefined(latest)?.updated_at, 5)
    }))

  it.effect("clearTokens drops the tokens and keeps the entry and the registration", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.TokenStore
      yield* store.set(entry())
      yield* store.clearTokens(key)
      const found = Option.getOrUndefined(yield* store.get(key))
      assert.isDefined(found)
      assert.isUndefined(found?.tokens)
      assert.strictEqual(found?.client.client_id, "client-1")
      assert.isTrue(Option.isSome(yield* store.getClient(key.issuer)))
    }))
})

describe("refreshSingleFlight", () => {
  it.effect("MCP §Refresh Tokens: a token still valid is not refreshed; an expired one is refreshed once", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.TokenStore
      yield* store.set(entry({ expiresAt: 120_000 }))
      let calls = 0
      const refresh = () =>
        Effect.sync(() => {
          calls++
          return { access_token: Redacted.make(`access-${calls + 1}`), token_type: "Bearer", expires_at: 999_999_999 }
        }).pipe(Effect.delay("1 second"))
      const valid = yield* TokenStore.refreshSingleFlight(key, { refresh })
      assert.strictEqual(calls, 0)
      assert.strictEqual(Redacted.value(valid.tokens?.access_token ?? Redacted.make("")), "access-1")
      // within the skew (60 s before expiry) the token counts as expired
      yield* TestClock.adjust("61 seconds")
      const fibers = yield* Effect.forEach(
        [1, 2, 3, 4, 5],
        () => Effect.forkChild(TokenStore.refreshSingleFlight(key, { refresh }))
      )
      yield* TestClock.adjust("5 seconds")
      const results = yield* Effect.forEach(fibers, Fiber.join)
      assert.strictEqual(calls, 1)
      for (const r of results) {
        assert.strictEqual(Redacted.value(r.tokens?.access_token ?? Redacted.make("")), "access-2")
      }
      // OAuth 2.1 §4.3.3: a response without a refresh token keeps the old one
      assert.strictEqual(Redacted.value(results[0]?.tokens?.refresh_token ?? Redacted.make("")), "refresh-1")
    }).pipe(Effect.provide(TokenStore.layerMemory)))

  it.effect("a rejected access token is refreshed only while the store still holds it", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.TokenStore
      yield* store.set(entry({ expiresAt: 999_999_999, access: "access-2" }))
      let calls = 0
      const refresh = () => Effect.sync(() => ({ access_token: Redacted.make(`new-${++calls}`), token_type: "Bearer" }))
      const already = yield* TokenStore.refreshSingleFlight(key, {
        refresh,
        staleAccessToken: Redacted.make("access-1")
      })
      assert.strictEqual(calls, 0)
      assert.strictEqual(Redacted.value(already.tokens?.access_token ?? Redacted.make("")), "access-2")
      yield* TokenStore.refreshSingleFlight(key, { refresh, staleAccessToken: Redacted.make("access-2") })
      assert.strictEqual(calls, 1)
    }).pipe(Effect.provide(TokenStore.layerMemory)))

  it.effect("a rejected refresh (invalid_grant) clears the tokens and keeps the registration", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.TokenStore
      yield* store.set(entry({ expiresAt: 0 }))
      const error = yield* Effect.flip(
        TokenStore.refreshSingleFlight(key, {
          refresh: () => Effect.fail("invalid_grant" as const),
          isRejected: (e) => e === "invalid_grant"
        })
      )
      assert.strictEqual(error, "invalid_grant")
      const found = Option.getOrUndefined(yield* store.get(key))
      assert.isUndefined(found?.tokens)
      assert.strictEqual(Option.getOrUndefined(yield* store.getClient(key.issuer))?.client_id, "client-1")
    }).pipe(Effect.provide(TokenStore.layerMemory)))

  it.effect("a transient refresh failure keeps the tokens", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.TokenStore
      yield* store.set(entry({ expiresAt: 0 }))
      yield* Effect.flip(
        TokenStore.refreshSingleFlight(key, {
          refresh: () => Effect.fail<string>("temporarily_unavailable"),
          isRejected: (e) => e === "invalid_grant"
        })
      )
      assert.isDefined(Option.getOrUndefined(yield* store.get(key))?.tokens)
    }).pipe(Effect.provide(TokenStore.layerMemory)))

  it.effect("a missing entry is a typed EntryNotFound", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        TokenStore.refreshSingleFlight(key, { refresh: () => Effect.die("not called") })
      )
      assert.strictEqual(error._tag === "TokenStoreError" ? error.reason._tag : "", "EntryNotFound")
    }).pipe(Effect.provide(TokenStore.layerMemory)))
})

describe("TokenStore (file)", () => {
  it("resolves the directory: option, then MCPAUTH_HOME, then XDG_CONFIG_HOME/mcpauth, then ~/.config/mcpauth", () => {
    assert.strictEqual(TokenStore.resolveDirectory({ directory: "/x" }, { MCPAUTH_HOME: "/y" }), "/x")
    assert.strictEqual(TokenStore.resolveDirectory({}, { MCPAUTH_HOME: "/y", XDG_CONFIG_HOME: "/z" }), "/y")
    assert.strictEqual(TokenStore.resolveDirectory({}, { XDG_CONFIG_HOME: "/z" }), "/z/mcpauth")
    assert.strictEqual(TokenStore.resolveDirectory({}, {}, "/home/u"), "/home/u/.config/mcpauth")
    // "~" is the home directory, also when it reaches us unexpanded (quoted in a shell or written in a .env)
    assert.strictEqual(TokenStore.resolveDirectory({}, { MCPAUTH_HOME: "~/mcpx" }, "/home/u"), "/home/u/mcpx")
    assert.strictEqual(TokenStore.resolveDirectory({ directory: "~" }, {}, "/home/u"), "/home/u")
    // XDG Base Directory: a relative XDG_CONFIG_HOME is invalid and ignored
    assert.strictEqual(
      TokenStore.resolveDirectory({}, { XDG_CONFIG_HOME: "rel/cfg" }, "/home/u"),
      "/home/u/.config/mcpauth"
    )
  })

  it.live("MCP §Security Considerations: files are 0600 in 0700 directories, written atomically, and survive a restart", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const written = yield* Effect.gen(function*() {
        const store = yield* TokenStore.TokenStore
        yield* store.set(entry())
        return store.description
      }).pipe(Effect.provide(TokenStore.layerFile({ directory: dir })))
      assert.strictEqual(written, `file ${dir}`)
      assert.strictEqual(mode(dir), "700")
      assert.strictEqual(mode(Path.join(dir, "tokens")), "700")
      const files = Fs.readdirSync(Path.join(dir, "tokens"))
      assert.strictEqual(files.filter((f) => f.endsWith(".tmp")).length, 0)
      assert.strictEqual(files.length, 2)
      for (const f of files) assert.strictEqual(mode(Path.join(dir, "tokens", f)), "600")
      // a new store instance (a restart) reads what the first wrote, secrets as Redacted
      const restored = yield* Effect.gen(function*() {
        return yield* (yield* TokenStore.TokenStore).get(key)
      }).pipe(Effect.provide(TokenStore.layerFile({ directory: dir })))
      const tokens = Option.getOrUndefined(restored)?.tokens
      assert.isTrue(tokens !== undefined && Redacted.isRedacted(tokens.access_token))
      assert.strictEqual(Redacted.value(tokens?.refresh_token ?? Redacted.make("")), "refresh-1")
      assert.deepStrictEqual(Option.getOrUndefined(restored)?.metadata["extra"], [1])
    }))

  it.live("a corrupt or foreign token file is reported and set aside, never fatal and never deleted", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const layerFile = TokenStore.layerFile({ directory: dir })
      yield* Effect.gen(function*() {
        const store = yield* TokenStore.TokenStore
        yield* store.set(entry())
        const file = Path.join(dir, "tokens", `${TokenStore.entryId(key)}.json`)
        Fs.writeFileSync(file, "{ not json", { mode: 0o600 })
        assert.isTrue(Option.isNone(yield* store.get(key)))
        const aside = Fs.readdirSync(Path.join(dir, "tokens")).filter((f) => f.includes(".corrupt-"))
        assert.strictEqual(aside.length, 1)
        assert.strictEqual(Fs.readFileSync(Path.join(dir, "tokens", aside[0] ?? ""), "utf8"), "{ not json")
        // a foreign (well-formed JSON, other format) file
        Fs.writeFileSync(file, JSON.stringify({ access_token: "x" }), { mode: 0o600 })
        assert.isTrue(Option.isNone(yield* store.get(key)))
        assert.strictEqual(Fs.readdirSync(Path.join(dir, "tokens")).filter((f) => f.includes(".corrupt-")).length, 2)
        // the store keeps working
        yield* store.set(entry())
        assert.isTrue(Option.isSome(yield* store.get(key)))
      }).pipe(Effect.provide(layerFile))
    }))

  it.live("MCP §Security Considerations: a token file readable by others is refused with a typed error naming the fix", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      yield* Effect.gen(function*() {
        const store = yield* TokenStore.TokenStore
        yield* store.set(entry())
        const file = Path.join(dir, "tokens", `${TokenStore.entryId(key)}.json`)
        Fs.chmodSync(file, 0o644)
        const error = yield* Effect.flip(store.get(key))
        assert.strictEqual(error.reason._tag, "InsecurePermissions")
        assert.include(error.message, "644")
        assert.include(error.message, "chmod 600")
        assert.strictEqual(mode(file), "644")
      }).pipe(Effect.provide(TokenStore.layerFile({ directory: dir })))
      // Security-weakening repairPermissions: fixed and used
      yield* Effect.gen(function*() {
        const store = yield* TokenStore.TokenStore
        assert.isTrue(Option.isSome(yield* store.get(key)))
        assert.strictEqual(mode(Path.join(dir, "tokens", `${TokenStore.entryId(key)}.json`)), "600")
      }).pipe(Effect.provide(TokenStore.layerFile({ directory: dir, repairPermissions: true })))
    }))

  it.live("a stale lock (its process is gone) is broken; a live one times out with a typed error", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      yield* Effect.gen(function*() {
        const store = yield* TokenStore.TokenStore
        yield* store.set(entry())
        const lock = Path.join(dir, "locks", `${TokenStore.entryId(key)}.lock`)
        // a pid that does not run (pids are below 2^22 on Linux)
        Fs.writeFileSync(lock, JSON.stringify({ pid: 4_194_304 + 7, expires_at: Date.now() + 60_000, owner: "gone" }))
        assert.strictEqual(yield* store.withLock(key, Effect.succeed("ran")), "ran")
        assert.isFalse(Fs.existsSync(lock))
        // held by a live process (this one) with another owner, not expired
        Fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, expires_at: Date.now() + 60_000, owner: "other" }))
        const error = yield* Effect.flip(store.withLock(key, Effect.succeed("ran")))
        assert.strictEqual(error.reason._tag, "LockTimeout")
        if (error.reason._tag === "LockTimeout") assert.strictEqual(error.reason.holderPid, process.pid)
        // an expired lock is broken even though its process runs
        Fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, expires_at: Date.now() - 1, owner: "other" }))
        assert.strictEqual(yield* store.withLock(key, Effect.succeed("ran")), "ran")
      }).pipe(Effect.provide(TokenStore.layerFile({ directory: dir, lockWaitMillis: 200 })))
    }))
})

describe("TokenStore (file): waiting for a lock held by a live process", () => {
  it.live("says what it waits for when the wait starts, and the timeout says what to do", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const infos: Array<string> = []
      const logger = Logger.make<unknown, void>(({ logLevel, message }) => {
        if (logLevel === "Info") infos.push((Array.isArray(message) ? message : [message]).map(String).join(" "))
      })
      const lock = Path.join(dir, "locks", `${TokenStore.entryId(key)}.lock`)
      const error = yield* Effect.gen(function*() {
        const store = yield* TokenStore.TokenStore
        yield* store.set(entry())
        // held by a live process (this one) under another owner, not expired
        Fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, expires_at: Date.now() + 60_000, owner: "other" }))
        return yield* Effect.flip(store.withLock(key, Effect.succeed("ran")))
      }).pipe(
        Effect.provide(TokenStore.layerFile({ directory: dir, lockWaitMillis: 1_500 })),
        Effect.provide(Logger.layer([logger]))
      )
      assert.deepStrictEqual(infos, [
        `token store: waiting up to 2 s for the lock ${lock}: process ${process.pid} is signing in or refreshing these credentials`
      ])
      assert.strictEqual(error.reason._tag, "LockTimeout")
      assert.include(error.message, `the lock ${lock} is still held by process ${process.pid}`)
      assert.include(error.message, "signing in or refreshing these credentials right now")
      assert.include(error.message, "Wait for it to finish (or stop it)")
      assert.include(error.message, "delete the lock file")
    }))
})

describe("TokenStore (keyring)", () => {
  it.live("falls back to the file store, with a notice, where no keyring service runs", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const description = yield* Effect.gen(function*() {
        const store = yield* TokenStore.TokenStore
        yield* store.set(entry())
        assert.isTrue(Option.isSome(yield* store.get(key)))
        return store.description
      }).pipe(Effect.provide(TokenStore.layerKeyring({ directory: dir, service: "mcpauth-test" })))
      assert.strictEqual(description, `file ${dir}`)
      assert.strictEqual(Fs.readdirSync(Path.join(dir, "tokens")).length, 2)
    }))

  it.live("uses the keyring when one works (an in-memory keyring module stands in)", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const secrets = new Map<string, string>()
      const keyring = {
        Entry: class {
          readonly service: string
          readonly account: string
          constructor(service: string, account: string) {
            this.service = service
            this.account = account
          }
          setPassword(p: string) {
            secrets.set(`${this.service}/${this.account}`, p)
          }
          getPassword() {
            return secrets.get(`${this.service}/${this.account}`) ?? null
          }
          deletePassword() {
            return secrets.delete(`${this.service}/${this.account}`)
          }
        },
        findCredentials: (service: string) =>
          [...secrets.keys()].filter((k) => k.startsWith(`${service}/`)).map((k) => ({
            account: k.slice(service.length + 1)
          }))
      }
      yield* Effect.gen(function*() {
        const store = yield* TokenStore.TokenStore
        assert.strictEqual(store.description, "OS keyring (service svc)")
        yield* store.set(entry())
        assert.strictEqual(Option.getOrUndefined(yield* store.latestForResource(key.resource))?.client_id, "client-1")
        assert.isTrue(secrets.has(`svc/${TokenStore.entryId(key)}`))
        assert.isFalse(Fs.existsSync(Path.join(dir, "tokens", `${TokenStore.entryId(key)}.json`)))
      }).pipe(Effect.provide(TokenStore.layerKeyring({ directory: dir, service: "svc", keyring })))
    }))
})
