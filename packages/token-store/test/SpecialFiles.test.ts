import { assert, describe, it } from "@effect/vitest"
import { Effect, Logger, Option } from "effect"
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { TokenStore } from "../src/index.ts"
import { entry, tempDir } from "./helpers.ts"

const key = { issuer: "https://as.example", resource: "https://mcp.example/mcp", client_id: "client-1" }

/** Runs `effect` against a file store in `dir`, collecting the warnings it logs. */
const withStore = <A, E>(dir: string, effect: Effect.Effect<A, E, TokenStore.TokenStore>) =>
  Effect.gen(function*() {
    const warnings: Array<string> = []
    const logger = Logger.make<unknown, void>(({ logLevel, message }) => {
      if (logLevel === "Warn") warnings.push((Array.isArray(message) ? message : [message]).map(String).join(" "))
    })
    const result = yield* effect.pipe(
      Effect.provide(TokenStore.layerFile({ directory: dir, lockWaitMillis: 300 })),
      Effect.provide(Logger.layer([logger])),
      // a store that opened a named pipe would block here instead of answering
      Effect.timeout("5 seconds")
    )
    return { result, warnings }
  })

const using = <A, E>(f: (store: TokenStore.TokenStore["Service"]) => Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    return yield* f(yield* TokenStore.TokenStore)
  })

const entryPath = (dir: string) => Path.join(dir, "tokens", `${TokenStore.entryId(key)}.json`)
const clientPath = (dir: string) => Path.join(dir, "tokens", `${TokenStore.clientId(key.issuer)}.json`)
const asideOf = (dir: string, file: string) =>
  Fs.readdirSync(Path.join(dir, "tokens")).filter((f) => f.startsWith(`${Path.basename(file)}.corrupt-`))

/** Prepares the store directory (by writing and removing an entry) so files can be planted in it. */
const prepared = Effect.gen(function*() {
  const dir = yield* tempDir
  yield* withStore(dir, using((store) => store.set(entry())))
  Fs.rmSync(entryPath(dir))
  Fs.rmSync(clientPath(dir))
  return dir
})

describe("TokenStore (file): MCP §Security Considerations - only regular files are ever opened", () => {
  it.live("an entry file that is a symbolic link to a device is set aside (the link itself), never followed", () =>
    Effect.gen(function*() {
      const dir = yield* prepared
      const file = entryPath(dir)
      Fs.symlinkSync("/dev/zero", file)
      const { result, warnings } = yield* withStore(dir, using((s) => s.get(key)))
      assert.isTrue(Option.isNone(result))
      assert.strictEqual(warnings.length, 1)
      assert.include(warnings[0], `${file} is a symbolic link, not a regular file`)
      assert.notInclude(warnings[0], "chmod")
      // the link was moved, not its target
      const aside = asideOf(dir, file)
      assert.strictEqual(aside.length, 1)
      const moved = Path.join(dir, "tokens", aside[0] ?? "")
      assert.isTrue(Fs.lstatSync(moved).isSymbolicLink())
      assert.strictEqual(Fs.readlinkSync(moved), "/dev/zero")
      assert.isFalse(Fs.existsSync(file))
    }))

  it.live("a named pipe at the entry path is set aside at once, without blocking on it", () =>
    Effect.gen(function*() {
      const dir = yield* prepared
      const file = entryPath(dir)
      execFileSync("mkfifo", ["-m", "600", file])
      const { result, warnings } = yield* withStore(dir, using((s) => s.get(key)))
      assert.isTrue(Option.isNone(result))
      assert.include(warnings[0], `${file} is a named pipe (FIFO), not a regular file`)
      const aside = asideOf(dir, file)
      assert.strictEqual(aside.length, 1)
      assert.isTrue(Fs.lstatSync(Path.join(dir, "tokens", aside[0] ?? "")).isFIFO())
    }))

  it.live("a symbolic link loop and a directory at the entry path are reported and set aside, not silently replaced", () =>
    Effect.gen(function*() {
      const dir = yield* prepared
      const file = entryPath(dir)
      Fs.symlinkSync(Path.basename(file), file)
      const loop = yield* withStore(dir, using((s) => s.get(key)))
      assert.isTrue(Option.isNone(loop.result))
      assert.include(loop.warnings[0], "is a symbolic link")
      Fs.mkdirSync(file)
      const directory = yield* withStore(dir, using((s) => s.list))
      assert.deepStrictEqual(directory.result, [])
      assert.include(directory.warnings[0], "is a directory")
      assert.strictEqual(asideOf(dir, file).length, 2)
    }))

  it.live("a symbolic link to a valid 0600 entry elsewhere is not read through; its target is left untouched", () =>
    Effect.gen(function*() {
      const dir = yield* prepared
      const other = yield* tempDir
      // a valid store elsewhere: its entry file is the link target
      yield* withStore(other, using((s) => s.set(entry())))
      const target = entryPath(other)
      const before = Fs.readFileSync(target, "utf8")
      const file = entryPath(dir)
      Fs.symlinkSync(target, file)
      const { result, warnings } = yield* withStore(
        dir,
        Effect.gen(function*() {
          const store = yield* TokenStore.TokenStore
          const found = yield* store.get(key)
          yield* store.set(entry({ access: "access-new" }))
          return found
        })
      )
      assert.isTrue(Option.isNone(result))
      assert.include(warnings[0], "is a symbolic link")
      // the write made a regular file in the store; the link target was neither read into the store nor changed
      assert.isTrue(Fs.lstatSync(file).isFile())
      assert.strictEqual(Fs.readFileSync(target, "utf8"), before)
      assert.strictEqual(asideOf(dir, file).length, 1)
    }))

  it.live("a write replaces a symbolic link at the entry path with a regular file, never writing through it", () =>
    Effect.gen(function*() {
      const dir = yield* prepared
      const outside = Path.join(yield* tempDir, "victim")
      Fs.writeFileSync(outside, "do not touch", { mode: 0o644 })
      const file = entryPath(dir)
      Fs.symlinkSync(outside, file)
      yield* withStore(dir, using((s) => s.set(entry())))
      assert.strictEqual(Fs.readFileSync(outside, "utf8"), "do not touch")
      assert.strictEqual(Fs.statSync(outside).mode & 0o777, 0o644)
      assert.isTrue(Fs.lstatSync(file).isFile())
    }))

  it.live("a client file that is a symbolic link is set aside, never followed", () =>
    Effect.gen(function*() {
      const dir = yield* prepared
      const file = clientPath(dir)
      Fs.symlinkSync("/dev/zero", file)
      const { result, warnings } = yield* withStore(
        dir,
        using((s) => s.getClient(key.issuer))
      )
      assert.isTrue(Option.isNone(result))
      assert.include(warnings[0], `${file} is a symbolic link`)
      assert.strictEqual(asideOf(dir, file).length, 1)
    }))

  it.live("a lock path that is a named pipe or a link to a held lock is set aside; the lock is taken, never blocked", () =>
    Effect.gen(function*() {
      const dir = yield* prepared
      const lock = Path.join(dir, "locks", `${TokenStore.entryId(key)}.lock`)
      execFileSync("mkfifo", ["-m", "600", lock])
      const pipe = yield* withStore(
        dir,
        using((s) => s.withLock(key, Effect.succeed("ran")))
      )
      assert.strictEqual(pipe.result, "ran")
      assert.include(pipe.warnings[0], `${lock} is a named pipe (FIFO)`)
      // a link to a lock file held by a live process (this one) is not followed: it is no lock of the store
      const held = Path.join(yield* tempDir, "held.lock")
      const content = JSON.stringify({ pid: process.pid, expires_at: Date.now() + 60_000, owner: "other" })
      Fs.writeFileSync(held, content)
      Fs.symlinkSync(held, lock)
      const link = yield* withStore(
        dir,
        using((s) => s.withLock(key, Effect.succeed("ran")))
      )
      assert.strictEqual(link.result, "ran")
      assert.include(link.warnings[0], `${lock} is a symbolic link`)
      assert.strictEqual(Fs.readFileSync(held, "utf8"), content)
      assert.isFalse(Fs.existsSync(lock))
    }))
})

describe("TokenStore (file): client files", () => {
  it.live("a corrupt client file beside a valid entry is set aside and reported before it is replaced", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      yield* withStore(dir, using((s) => s.set(entry())))
      const file = clientPath(dir)
      Fs.writeFileSync(file, "garbage {", { mode: 0o600 })
      const { warnings } = yield* withStore(
        dir,
        using((s) => Effect.andThen(s.get(key), s.set(entry({ access: "access-2" }))))
      )
      assert.strictEqual(warnings.length, 1)
      assert.include(warnings[0], `${TokenStore.clientId(key.issuer)} is not a valid token store document`)
      const aside = asideOf(dir, file)
      assert.strictEqual(aside.length, 1)
      assert.strictEqual(Fs.readFileSync(Path.join(dir, "tokens", aside[0] ?? ""), "utf8"), "garbage {")
      const { result } = yield* withStore(dir, using((s) => s.getClient(key.issuer)))
      assert.strictEqual(Option.getOrUndefined(result)?.client_id, "client-1")
    }))

  it.live("MCP §Security Considerations: a client file readable by others is reported and replaced by a 0600 file", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      yield* withStore(dir, using((s) => s.set(entry())))
      const file = clientPath(dir)
      Fs.chmodSync(file, 0o644)
      const { warnings } = yield* withStore(dir, using((s) => s.set(entry())))
      assert.include(warnings[0], `${file} had mode 644`)
      assert.strictEqual(Fs.statSync(file).mode & 0o777, 0o600)
    }))
})
