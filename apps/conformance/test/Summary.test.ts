import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { argumentsFor } from "../src/Arguments.ts"
import { profileFor } from "../src/Profile.ts"
import { summarize, toTable } from "../src/Summary.ts"

describe("conformance runner", () => {
  it.effect("counts SUCCESS, FAILURE and WARNING per scenario; INFO is neither; a check without status fails", () =>
    Effect.sync(() => {
      const summary = summarize([
        { name: "a", checks: [{ status: "SUCCESS" }, { status: "INFO" }, { status: "WARNING" }] },
        { name: "b", checks: [{ status: "FAILURE" }, { nothing: true }, { status: "SUCCESS" }] }
      ])
      assert.deepStrictEqual(summary, {
        scenarios: [
          { name: "a", passed: 1, failed: 0, warnings: 1 },
          { name: "b", passed: 1, failed: 2, warnings: 0 }
        ],
        passed: 2,
        failed: 2,
        warnings: 1
      })
      const table = toTable(summary).split("\n")
      assert.strictEqual(table.length, 4)
      assert.match(table[1] ?? "", /^✗ a\s+1\s+0\s+1$/)
      assert.match(table[3] ?? "", /total\s+2\s+2\s+1$/)
    }))

  it.effect("the scenario name only selects the user's configuration", () =>
    Effect.sync(() => {
      assert.isTrue(profileFor("auth/client-credentials-jwt").machineToMachine)
      assert.isTrue(profileFor("auth/pre-registration").preregistered)
      assert.isTrue(profileFor("auth/2025-03-26-oauth-endpoint-fallback").legacy20250326)
      // a client ID metadata document only where the scenario is about it (no lookup of a non-loopback name)
      assert.isTrue(profileFor("auth/basic-cimd").clientIdMetadataDocument)
      assert.isFalse(profileFor("auth/offline-access-scope").clientIdMetadataDocument)
      assert.deepStrictEqual(profileFor("auth/resource-mismatch"), profileFor("auth/metadata-default"))
    }))

  it.effect("tool arguments are filled from the input schema", () =>
    Effect.sync(() => {
      assert.deepStrictEqual(
        argumentsFor({ properties: { a: { type: "number" }, b: { type: "integer" }, s: { type: "string" } } }),
        { a: 2, b: 3, s: "conformance" }
      )
      assert.deepStrictEqual(argumentsFor({ type: "object" }), {})
    }))
})
