import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { join } from "node:path"

const root = new URL("..", import.meta.url).pathname

/** The ```ts blocks of a file: in JSDoc comments (" * " stripped) or in Markdown. */
const examplesOf = (text: string): ReadonlyArray<string> =>
  [...text.matchAll(/^[ \t]*(?:\* ?)?```ts\n([\s\S]*?)^[ \t]*(?:\* ?)?```/gm)].map((m) =>
    (m[1] ?? "").split("\n").map((line) => line.replace(/^[ \t]*\* ?/, "")).join("\n")
  )

describe("the documentation examples", () => {
  it("every ```ts example in the JSDoc and the README type-checks against the package", async () => {
    const sources = [
      ...(await readdir(join(root, "src"))).filter((f) => f.endsWith(".ts")).map((f) => join("src", f)),
      "README.md"
    ]
    const dir = join(root, ".test-results", `examples-${process.pid}`)
    await rm(dir, { recursive: true, force: true })
    await mkdir(dir, { recursive: true })
    try {
      let count = 0
      for (const source of sources) {
        const examples = examplesOf(await readFile(join(root, source), "utf8"))
        for (const [i, example] of examples.entries()) {
          count++
          await writeFile(join(dir, `${source.replaceAll(/[/.]/g, "_")}_${i}.ts`), `${example}\nexport {}\n`)
        }
      }
      assert.isAtLeast(count, 4, "the examples were found")
      await writeFile(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          extends: "../../../../tsconfig.base.json",
          // an example may name a value only to show it
          compilerOptions: { noEmit: true, rootDir: "../..", noUnusedLocals: false },
          include: ["*.ts"]
        })
      )
      // the workspace's TypeScript (a root devDependency), under the Node running the tests
      const tsc = spawnSync(process.execPath, [join(root, "../../node_modules/typescript/bin/tsc"), "-p", dir], {
        encoding: "utf8"
      })
      assert.strictEqual(tsc.status, 0, `${tsc.stdout}${tsc.stderr}`)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
