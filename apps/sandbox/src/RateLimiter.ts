/**
 * Datadog's documented MCP rate limit shape: at most `max` tool calls per sliding window of `windowMs`, per caller;
 * past it, 429 with `Retry-After`.
 */
export interface RateLimit {
  readonly max: number
  readonly windowMs: number
}

export type Decision =
  | { readonly ok: true; readonly remaining: number }
  | { readonly ok: false; readonly retryAfterMs: number }

export const makeRateLimiter = (limit: RateLimit) => {
  const calls = new Map<string, Array<number>>()
  /** Records `count` calls by `key` at `now`, unless that would pass the limit. */
  const take = (key: string, count: number, now: number): Decision => {
    const recent = (calls.get(key) ?? []).filter((t) => t > now - limit.windowMs)
    if (recent.length + count > limit.max) {
      calls.set(key, recent)
      const oldest = recent[Math.max(0, recent.length + count - limit.max - 1)] ?? now
      return { ok: false, retryAfterMs: Math.max(1, oldest + limit.windowMs - now) }
    }
    for (let i = 0; i < count; i++) recent.push(now)
    calls.set(key, recent)
    return { ok: true, remaining: limit.max - recent.length }
  }
  return { take }
}
