import { assert } from "@effect/vitest"
import type { DatadogMcpError } from "@mcpauth/mcp-datadog"
import { Exit } from "effect"

/** The reason of a failed exit (asserting that it failed with a DatadogMcpError). */
export const reasonOf = <A>(exit: Exit.Exit<A, DatadogMcpError.DatadogMcpError>): DatadogMcpError.Reason => {
  assert.isTrue(Exit.isFailure(exit), "expected a failure")
  if (!Exit.isFailure(exit)) throw new Error("unreachable")
  const first = exit.cause.reasons[0]
  assert.strictEqual(first?._tag, "Fail", `expected a typed failure, got ${String(exit.cause)}`)
  if (first?._tag !== "Fail") throw new Error("unreachable")
  assert.strictEqual(first.error._tag, "DatadogMcpError")
  return first.error.reason
}
