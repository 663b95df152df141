import { assert, describe, it } from "@effect/vitest"
import { Whoami } from "@mcpauth/mcp-datadog"
import { Effect } from "effect"
import { reasonOf } from "./support/Errors.ts"

const result = (text: unknown) => ({ contents: [{ uri: Whoami.WHOAMI_URI, text }] })

describe("Whoami.decode", () => {
  it.effect("null members are absent; unknown members are kept in raw", () =>
    Effect.gen(function*() {
      const me = yield* Whoami.decode(
        result(JSON.stringify({ user_uuid: "u", org_uuid: null, user_email: "a@b.c", region: "eu" }))
      )
      assert.strictEqual(me.user_uuid, "u")
      assert.isUndefined(me.org_uuid)
      assert.isUndefined(me.org_name)
      assert.strictEqual(me.user_email, "a@b.c")
      assert.strictEqual(me.raw["region"], "eu")
    }))

  it.effect("an empty object decodes (every member is optional)", () =>
    Effect.gen(function*() {
      const me = yield* Whoami.decode(result("{}"))
      assert.deepStrictEqual(me.raw, {})
    }))

  it.effect.each([
    { name: "no contents", input: { contents: [] }, says: "no contents" },
    { name: "a blob instead of text", input: { contents: [{ uri: "x", blob: "AA==" }] }, says: "contents[0].text" },
    { name: "text that is not JSON", input: result("not json"), says: "to be JSON" },
    { name: "a JSON array", input: result("[1]"), says: "an array" },
    { name: "a number where a string is expected", input: result("{\"user_email\": 42}"), says: "user_email" }
  ])("InvalidResponse naming the document and the field: $name", ({ input, says }) =>
    Effect.gen(function*() {
      const reason = reasonOf(yield* Effect.exit(Whoami.decode(input)))
      assert.strictEqual(reason._tag, "InvalidResponse")
      assert.include(reason.message, Whoami.WHOAMI_URI)
      assert.include(reason.message, says)
    }))
})
