import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { TokenStore } from "../src/index.ts"
import { createDirectory } from "../src/internal/backends.ts"
import { mode, tempDir } from "./helpers.ts"

describe("TokenStore (file): creating the store directory", () => {
  it.live("a read-only file system is reported as EROFS at the level that failed, not as ENOENT", () =>
    Effect.gen(function*() {
      // Mounting a read-only file system needs privileges, so mkdir(2) is injected: it answers EROFS below `mount`
      // as the kernel does. Node's recursive mkdir turns that EROFS into ENOENT; createDirectory never asks for it.
      const mount = yield* tempDir
      const calls: Array<string> = []
      const readOnly = (path: string, options: { readonly mode: number; readonly recursive?: boolean }) => {
        calls.push(path)
        if (options.recursive === true) {
          return Promise.reject(
            Object.assign(new Error(`ENOENT: no such file or directory, mkdir '${path}'`), { code: "ENOENT" })
          )
        }
        return Promise.reject(
          Object.assign(new Error(`EROFS: read-only file system, mkdir '${path}'`), { code: "EROFS" })
        )
      }
      const store = Path.join(mount, "mcpauth", "tokens")
      const error = yield* Effect.flip(createDirectory(store, readOnly))
      assert.strictEqual(error.reason._tag, "StorageFailure")
      assert.include(
        error.message,
        `cannot create directory ${store}: EROFS: read-only file system, mkdir '${Path.join(mount, "mcpauth")}'`
      )
      assert.include(error.message, "the file system is read-only; choose a writable store directory")
      // the first missing level only: nothing below it was tried
      assert.deepStrictEqual(calls, [Path.join(mount, "mcpauth")])
    }))

  it.live("a parent that is a regular file is reported with its real cause (ENOTDIR)", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      Fs.writeFileSync(Path.join(dir, "file"), "")
      const error = yield* Effect.flip(
        Effect.gen(function*() {
          return yield* (yield* TokenStore.TokenStore).list
        }).pipe(Effect.provide(TokenStore.layerFile({ directory: Path.join(dir, "file", "store") })))
      )
      assert.include(error.message, "ENOTDIR")
      assert.include(error.message, "a parent is not a directory")
    }))

  it.live("MCP §Security Considerations: every missing level is created 0700", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const store = Path.join(dir, "a", "b")
      yield* Effect.gen(function*() {
        return yield* (yield* TokenStore.TokenStore).list
      }).pipe(Effect.provide(TokenStore.layerFile({ directory: store })))
      for (const level of [Path.join(dir, "a"), store, Path.join(store, "tokens"), Path.join(store, "locks")]) {
        assert.strictEqual(mode(level), "700")
      }
    }))
})
