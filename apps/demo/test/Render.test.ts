import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { safe } from "../src/Render.ts"

describe("safe: server text shown in a terminal", () => {
  it.effect.each<[string, string]>([
    ["plain text", "plain text"],
    ["evil\u001b]0;pwned\u0007", "evil\\u001b]0;pwned\\u0007"],
    ["\u001b[2Jcleared", "\\u001b[2Jcleared"],
    ["nul\u0000byte", "nul\\u0000byte"],
    ["c1\u009bcsi", "c1\\u009bcsi"],
    ["bidi\u202etxt", "bidi\\u202etxt"],
    ["keeps\nnewlines and\ttabs", "keeps\nnewlines and\ttabs"]
  ])("%j is shown as %j", ([input, expected]) => Effect.sync(() => assert.strictEqual(safe(input), expected)))

  it.effect("bounds the length", () =>
    Effect.sync(() => {
      const shown = safe("a".repeat(100_000))
      assert.isBelow(shown.length, 2100)
      assert.include(shown, "(100000 chars)")
    }))
})
