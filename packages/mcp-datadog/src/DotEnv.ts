/**
 * A small, strict `.env` parser: `KEY=value` lines, `#` comments, an optional `export ` prefix, single, double and
 * backtick quotes (double quotes understand `\n`, `\r`, `\t`, `\"` and `\\`; quoted values may span lines), and no
 * variable expansion (`$HOME` stays `$HOME`). A line that does not parse is an error naming the file and line; the
 * line itself is never echoed, as it may hold a secret.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { readFile } from "node:fs/promises"
import * as DatadogMcpError from "./DatadogMcpError.ts"

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/

const fail = (file: string, line: number, detail: string) =>
  Effect.fail(DatadogMcpError.make(new DatadogMcpError.DotEnvSyntax({ file, line, detail })))

const DOUBLE_ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", "\"": "\"", "\\": "\\" }

/**
 * Parses the text of a `.env` file into a record. `file` is only used in error messages. When a key appears twice,
 * the last assignment wins.
 *
 * @category constructors
 * @since 0.1.0
 */
export const parse = (
  text: string,
  file: string = ".env"
): Effect.Effect<Record<string, string>, DatadogMcpError.DatadogMcpError> =>
  Effect.suspend(() => {
    const source = text.startsWith("\uFEFF") ? text.slice(1) : text
    const lines = source.split(/\r\n|\n|\r/)
    const out: Record<string, string> = {}
    let i = 0
    while (i < lines.length) {
      const lineNo = i + 1
      const raw = lines[i] as string
      i++
      const trimmed = raw.trim()
      if (trimmed === "" || trimmed.startsWith("#")) continue
      const body = trimmed.replace(/^export[ \t]+/, "")
      const eq = body.indexOf("=")
      if (eq < 0) {
        return fail(file, lineNo, "expected KEY=VALUE (the line has no \"=\")")
      }
      const key = body.slice(0, eq).trim()
      if (!KEY.test(key)) {
        return fail(
          file,
          lineNo,
          key === ""
            ? "expected KEY=VALUE (the key is empty)"
            : "the key must be letters, digits and \"_\", not starting with a digit"
        )
      }
      let rest = body.slice(eq + 1).replace(/^[ \t]+/, "")
      const quote = rest[0]
      if (quote === "\"" || quote === "'" || quote === "`") {
        // a quoted value, possibly over several lines
        let value = ""
        let pos = 1
        let closed = false
        for (;;) {
          while (pos < rest.length) {
            const c = rest[pos] as string
            if (c === quote) {
              closed = true
              break
            }
            if (quote === "\"" && c === "\\" && pos + 1 < rest.length) {
              const next = rest[pos + 1] as string
              const escaped = DOUBLE_ESCAPES[next]
              value += escaped ?? `\\${next}`
              pos += 2
              continue
            }
            value += c
            pos++
          }
          if (closed || i >= lines.length) break
          value += "\n"
          rest = lines[i] as string
          i++
          pos = 0
        }
        if (!closed) {
          return fail(file, lineNo, `the value of ${key} opens a ${quote} quote that is never closed`)
        }
        const after = rest.slice(pos + 1).trim()
        if (after !== "" && !after.startsWith("#")) {
          return fail(file, i, `unexpected characters after the closing ${quote} quote of ${key}`)
        }
        out[key] = value
      } else {
        // an unquoted value ends at " #" (an inline comment); a "#" inside a word is part of the value
        const comment = rest.search(/[ \t]#/)
        out[key] = (comment < 0 ? rest : rest.slice(0, comment)).trim()
      }
    }
    return Effect.succeed(out)
  })

/**
 * Reads and parses a `.env` file. A file that does not exist gives an empty record (the file is optional); one that
 * exists but cannot be read, or does not parse, is an error naming it.
 *
 * @category constructors
 * @since 0.1.0
 */
export const load = (path: string): Effect.Effect<Record<string, string>, DatadogMcpError.DatadogMcpError> =>
  Effect.tryPromise({
    try: () => readFile(path, "utf8").then((text): string | undefined => text),
    catch: (error) => error
  }).pipe(
    Effect.catch((error) =>
      isNotFound(error)
        ? Effect.succeed(undefined)
        : Effect.fail(
          DatadogMcpError.make(
            new DatadogMcpError.DotEnvUnreadable({
              file: path,
              detail: error instanceof Error ? error.message : String(error)
            })
          )
        )
    ),
    Effect.flatMap((text) => text === undefined ? Effect.succeed({}) : parse(text, path))
  )

const isNotFound = (error: unknown): boolean =>
  typeof error === "object" && error !== null && "code" in error && error.code === "ENOENT"
