import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { tempDir } from "./helpers.ts"

const runChild = (args: ReadonlyArray<string>) =>
  Effect.callback<{ code: number | null; stderr: string }>((resume) => {
    const child = spawn(process.execPath, [new URL("./fixtures/lock-child.ts", import.meta.url).pathname, ...args], {
      stdio: ["ignore", "ignore", "pipe"]
    })
    let stderr = ""
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
    child.on("close", (code) => resume(Effect.succeed({ code, stderr })))
    return Effect.sync(() => child.kill())
  })

describe("file lock across processes", () => {
  it.live(
    "4 processes taking one lock 40 times each: never two holders, no live lock broken as stale, nothing left",
    () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const lock = Path.join(dir, "shared.lock")
        const log = Path.join(dir, "holders.log")
        const startAt = String(Date.now() + 1500)
        const results = yield* Effect.forEach(
          [1, 2, 3, 4],
          () => runChild([lock, log, "40", startAt]),
          { concurrency: "unbounded" }
        )
        assert.deepStrictEqual(results.map((r) => r.code), [0, 0, 0, 0])
        // a waiter that read the lock file before its owner had written it broke it as "unreadable" (no pid named)
        assert.notInclude(results.map((r) => r.stderr).join(""), "broke a stale lock")
        let holders = 0
        let overlaps = 0
        const lines = Fs.readFileSync(log, "utf8").split("\n").filter((l) => l !== "")
        for (const line of lines) {
          holders += line.startsWith("enter") ? 1 : -1
          if (holders > 1) overlaps++
        }
        assert.strictEqual(lines.length, 4 * 40 * 2)
        assert.strictEqual(overlaps, 0)
        // neither the lock nor a temporary file of an owner is left behind
        assert.deepStrictEqual(Fs.readdirSync(dir).toSorted(), ["holders.log"])
      }),
    { timeout: 60_000 }
  )
})
