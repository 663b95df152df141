import { assert, describe, it } from "@effect/vitest"
import { RateLimit } from "@mcpauth/mcp-datadog"
import type { McpFetch } from "@mcpauth/mcp-datadog"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-12-03T12:00:00Z")
  it.effect.each(
    [
      ["0", 0],
      ["5", 5],
      [" 120 ", 120],
      ["Thu, 03 Dec 2026 12:00:10 GMT", 10],
      ["Thu, 03 Dec 2026 11:59:00 GMT", 0],
      ["-1", undefined],
      ["1.5", undefined],
      ["soon", undefined],
      ["", undefined]
    ] as const
  )("RFC 9110 §10.2.3: Retry-After %j -> %s", ([value, expected]) =>
    Effect.sync(() => {
      assert.strictEqual(RateLimit.parseRetryAfter(value, now), expected)
    }))

  it.effect("an absent header gives undefined", () =>
    Effect.sync(() => {
      assert.isUndefined(RateLimit.parseRetryAfter(null, now))
    }))
})

/** A base fetch answering from a script of statuses (429 with the given Retry-After, else 200). */
const scripted = (script: ReadonlyArray<{ status: number; retryAfter?: string }>) => {
  let calls = 0
  const fetch: McpFetch.FetchLike = () => {
    const step = script[Math.min(calls, script.length - 1)]
    calls++
    return Promise.resolve(
      new Response(step?.status === 200 ? "ok" : "slow down", {
        status: step?.status ?? 200,
        headers: step?.retryAfter === undefined ? {} : { "retry-after": step.retryAfter }
      })
    )
  }
  return { fetch, calls: () => calls }
}

describe("wrapFetch (on the TestClock)", () => {
  it.effect("RFC 6585 §4: waits Retry-After seconds, then retries and succeeds", () =>
    Effect.gen(function*() {
      const base = scripted([{ status: 429, retryAfter: "7" }, { status: 200 }])
      const fetch = yield* RateLimit.wrapFetch(base.fetch, RateLimit.defaultPolicy)
      const fiber = yield* Effect.forkChild(Effect.promise(() => fetch("http://127.0.0.1/v1/mcp", { method: "POST" })))
      yield* TestClock.adjust("6 seconds")
      assert.strictEqual(base.calls(), 1)
      yield* TestClock.adjust("1 second")
      const response = yield* Fiber.join(fiber)
      assert.strictEqual(response.status, 200)
      assert.strictEqual(base.calls(), 2)
    }))

  it.effect("gives up after maxWaits waits with the rate-limit marker", () =>
    Effect.gen(function*() {
      const base = scripted([{ status: 429, retryAfter: "1" }])
      const fetch = yield* RateLimit.wrapFetch(base.fetch, { ...RateLimit.defaultPolicy, maxWaits: 2 })
      const fiber = yield* Effect.forkChild(
        Effect.tryPromise({ try: () => fetch("http://127.0.0.1/v1/mcp"), catch: (e) => e }).pipe(Effect.flip)
      )
      yield* TestClock.adjust("1 second")
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(base.calls(), 3)
      assert.instanceOf(error, Error)
      assert.include(String(error), "still 429 after 2 wait(s)")
    }))

  it.effect("a Retry-After above maxWaitSeconds fails at once, without waiting", () =>
    Effect.gen(function*() {
      const base = scripted([{ status: 429, retryAfter: "31" }])
      const fetch = yield* RateLimit.wrapFetch(base.fetch, RateLimit.defaultPolicy)
      const error = yield* Effect.tryPromise({ try: () => fetch("http://127.0.0.1/v1/mcp"), catch: (e) => e }).pipe(
        Effect.flip
      )
      assert.strictEqual(base.calls(), 1)
      assert.include(String(error), "exceeds the limit of 30 s")
    }))

  it.effect("without Retry-After, waits defaultWaitSeconds", () =>
    Effect.gen(function*() {
      const base = scripted([{ status: 429 }, { status: 200 }])
      const fetch = yield* RateLimit.wrapFetch(base.fetch, { ...RateLimit.defaultPolicy, defaultWaitSeconds: 3 })
      const fiber = yield* Effect.forkChild(Effect.promise(() => fetch("http://127.0.0.1/")))
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual(base.calls(), 1)
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* Fiber.join(fiber)).status, 200)
    }))
})
