import { assert, describe, it } from "@effect/vitest"
import { DotEnv } from "@mcpauth/mcp-datadog"
import { Effect } from "effect"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { reasonOf } from "./support/Errors.ts"

const parse = (text: string) => DotEnv.parse(text, "test.env")

describe("DotEnv.parse", () => {
  it.effect("plain assignments, comments, blank lines and the export prefix", () =>
    Effect.gen(function*() {
      const env = yield* parse(
        [
          "# a comment",
          "",
          "   # an indented comment",
          "A=1",
          "export B=two",
          "export\tC = three  ",
          "  D=  spaced value  ",
          "EMPTY=",
          "E=x # inline comment",
          "F=a#b",
          "G=url?x=1&y=2"
        ].join("\n")
      )
      assert.deepStrictEqual(env, {
        A: "1",
        B: "two",
        C: "three",
        D: "spaced value",
        EMPTY: "",
        E: "x",
        F: "a#b",
        G: "url?x=1&y=2"
      })
    }))

  it.effect("quotes: double with escapes, single and backtick literal, comments after the quote", () =>
    Effect.gen(function*() {
      const env = yield* parse(
        [
          `A="hello # not a comment"`,
          `B='single $HOME \\n'`,
          `C="line1\\nline2\\t\\"q\\" \\\\"`,
          "D=`back 'tick'`",
          `E="x" # trailing comment`,
          `F=""`,
          `G="\\$KEEP"`
        ].join("\n")
      )
      assert.strictEqual(env["A"], "hello # not a comment")
      assert.strictEqual(env["B"], "single $HOME \\n")
      assert.strictEqual(env["C"], "line1\nline2\t\"q\" \\")
      assert.strictEqual(env["D"], "back 'tick'")
      assert.strictEqual(env["E"], "x")
      assert.strictEqual(env["F"], "")
      assert.strictEqual(env["G"], "\\$KEEP")
    }))

  it.effect("multi-line quoted values, CRLF line ends and a BOM", () =>
    Effect.gen(function*() {
      const env = yield* parse("\uFEFFKEY=\"first\r\nsecond\"\r\nNEXT=1\r\n")
      assert.deepStrictEqual(env, { KEY: "first\nsecond", NEXT: "1" })
    }))

  it.effect("no variable expansion", () =>
    Effect.gen(function*() {
      const env = yield* parse("A=1\nB=$A\nC=${A}\nD=\"$A\"")
      assert.deepStrictEqual(env, { A: "1", B: "$A", C: "${A}", D: "$A" })
    }))

  it.effect("the last assignment of a key wins", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* parse("A=1\nA=2"), { A: "2" })
    }))

  it.effect.each([
    { name: "a line without =", text: "A=1\nJUST_A_WORD\n", line: 2, says: "no \"=\"" },
    { name: "an empty key", text: "=value", line: 1, says: "key is empty" },
    { name: "a key with a space", text: "MY KEY=1", line: 1, says: "letters, digits" },
    { name: "a key starting with a digit", text: "\n\n1A=1", line: 3, says: "letters, digits" },
    { name: "an unterminated double quote", text: "A=1\nB=\"open\nC=2", line: 2, says: "never closed" },
    { name: "an unterminated single quote", text: "B='open", line: 1, says: "never closed" },
    { name: "junk after a closing quote", text: "A=\"x\" y", line: 1, says: "after the closing" }
  ])("a malformed line: $name -> error naming the file and line", ({ line, says, text }) =>
    Effect.gen(function*() {
      const reason = reasonOf(yield* Effect.exit(parse(text)))
      assert.strictEqual(reason._tag, "DotEnvSyntax")
      if (reason._tag !== "DotEnvSyntax") return
      assert.strictEqual(reason.file, "test.env")
      assert.strictEqual(reason.line, line)
      assert.include(reason.message, `test.env:${line}:`)
      assert.include(reason.message, says)
    }))

  it.effect("an error never echoes the line (it may hold a secret)", () =>
    Effect.gen(function*() {
      const reason = reasonOf(yield* Effect.exit(parse("DD_API_KEY \"sup3rs3cret\"")))
      assert.notInclude(reason.message, "sup3rs3cret")
      const quoted = reasonOf(yield* Effect.exit(parse("DD_API_KEY=\"sup3rs3cret")))
      assert.notInclude(quoted.message, "sup3rs3cret")
    }))
})

describe("DotEnv.load", () => {
  it.effect("reads a file; a missing file is an empty record; a directory is an unreadable-file error", () =>
    Effect.gen(function*() {
      const dir = yield* Effect.acquireRelease(
        Effect.promise(() => mkdtemp(join(tmpdir(), "mcp-datadog-"))),
        (d) => Effect.promise(() => rm(d, { recursive: true, force: true }))
      )
      const file = join(dir, ".env")
      yield* Effect.promise(() => writeFile(file, "A=1\nexport B='2'\n"))
      assert.deepStrictEqual(yield* DotEnv.load(file), { A: "1", B: "2" })
      assert.deepStrictEqual(yield* DotEnv.load(join(dir, "missing.env")), {})
      const reason = reasonOf(yield* Effect.exit(DotEnv.load(dir)))
      assert.strictEqual(reason._tag, "DotEnvUnreadable")
      assert.include(reason.message, dir)
      yield* Effect.promise(() => writeFile(file, "A=1\nB\n"))
      const bad = reasonOf(yield* Effect.exit(DotEnv.load(file)))
      assert.include(bad.message, `${file}:2:`)
    }).pipe(Effect.scoped))
})
