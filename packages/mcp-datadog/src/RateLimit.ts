/**
 * Bounded handling of `429 Too Many Requests`: wait what `Retry-After` asks (at most `maxWaitSeconds` per wait, at
 * most `maxWaits` times), then give up with a typed `RateLimited` error. Waits run on the Effect `Clock`.
 *
 * Datadog's MCP server limits tool calls (about 50 per 10 s and 5,000 a day at the time of writing).
 *
 * @see [RFC 6585 §4 - 429 Too Many Requests](https://www.rfc-editor.org/rfc/rfc6585#section-4)
 * @see [RFC 9110 §10.2.3 - Retry-After](https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3)
 * @since 0.1.0
 */
import { Cause, Clock, Duration, Effect, Exit } from "effect"
import { RateLimitExhausted } from "./internal/markers.ts"
import type { FetchLike } from "./McpFetch.ts"

/**
 * How 429 answers are handled.
 *
 * @category models
 * @since 0.1.0
 */
export interface Policy {
  /** How many times to wait and retry before failing (default 2). */
  readonly maxWaits: number
  /** The longest single wait; a longer `Retry-After` fails at once (default 30 s). */
  readonly maxWaitSeconds: number
  /** The wait when the server sends no usable `Retry-After` (default 1 s). */
  readonly defaultWaitSeconds: number
}

/**
 * The default policy: at most 2 waits of at most 30 s each; 1 s when `Retry-After` is absent.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultPolicy: Policy = { maxWaits: 2, maxWaitSeconds: 30, defaultWaitSeconds: 1 }

/**
 * Parses a `Retry-After` value into seconds from `nowMs`: delta-seconds, or an HTTP-date (a date in the past gives
 * 0). Anything else gives `undefined`.
 *
 * @see [RFC 9110 §10.2.3](https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3)
 * @category constructors
 * @since 0.1.0
 */
export const parseRetryAfter = (value: string | null | undefined, nowMs: number): number | undefined => {
  if (value === null || value === undefined) return undefined
  const v = value.trim()
  // RFC 9110 §10.2.3: Retry-After = HTTP-date / delay-seconds; delay-seconds = 1*DIGIT
  if (/^\d+$/.test(v)) return Number.parseInt(v, 10)
  // RFC 9110 §5.6.7: HTTP-date (IMF-fixdate, or the obsolete forms Date.parse also reads)
  if (!/^[A-Za-z]{3}/.test(v)) return undefined
  const at = Date.parse(v)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, Math.ceil((at - nowMs) / 1000))
}

const MAX_DETAIL = 300

/**
 * Wraps a fetch so that a `429` is waited out and retried as the policy allows; when it does not, the returned fetch
 * rejects with an internal marker that `DatadogMcp` turns into the `RateLimited` reason. Uses the `Clock` of the
 * context it is built in (so `TestClock` drives it in tests).
 *
 * @category combinators
 * @since 0.1.0
 */
export const wrapFetch = (base: FetchLike, policy: Policy): Effect.Effect<FetchLike> =>
  Effect.gen(function*() {
    const context = yield* Effect.context<never>()
    const run = Effect.runPromiseExitWith(context)
    const attempt = Effect.fnUntraced(function*(input: string | URL | Request, init: RequestInit | undefined) {
      let waits = 0
      for (;;) {
        const request = input instanceof Request ? input.clone() : input
        const response = yield* Effect.promise(() => base(request, init))
        // RFC 6585 §4: 429 means too many requests; the response MAY include Retry-After
        if (response.status !== 429) return response
        const now = yield* Clock.currentTimeMillis
        const retryAfter = parseRetryAfter(response.headers.get("retry-after"), now)
        const body = yield* Effect.promise(() => response.text().catch(() => ""))
        const wait = retryAfter ?? policy.defaultWaitSeconds
        const target = requestUrl(input)
        if (waits >= policy.maxWaits || wait > policy.maxWaitSeconds) {
          return yield* Effect.die(
            new RateLimitExhausted({
              url: target,
              attempts: waits + 1,
              retryAfterSeconds: retryAfter,
              detail: wait > policy.maxWaitSeconds && waits < policy.maxWaits
                ? `Retry-After ${wait} s exceeds the limit of ${policy.maxWaitSeconds} s per wait`
                : `still 429 after ${waits} wait(s)${body === "" ? "" : `: ${body.slice(0, MAX_DETAIL)}`}`
            })
          )
        }
        waits++
        yield* Effect.logWarning(`HTTP 429 from ${target}; waiting ${wait} s (wait ${waits} of ${policy.maxWaits})`)
        yield* Effect.sleep(Duration.seconds(wait))
      }
    })
    const fetch: FetchLike = (input, init) =>
      run(attempt(input, init), { signal: init?.signal ?? undefined }).then((exit) => {
        if (Exit.isSuccess(exit)) return exit.value
        throw Cause.squash(exit.cause)
      })
    return fetch
  })

const requestUrl = (input: string | URL | Request): string => {
  const url = new URL(input instanceof Request ? input.url : input)
  return `${url.origin}${url.pathname}`
}
