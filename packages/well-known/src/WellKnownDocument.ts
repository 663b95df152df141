/**
 * Fetches one well-known metadata candidate: GET with `Accept: application/json`, no cross-origin redirect, a bounded
 * body read and a timeout. Never fails: every outcome is a value the caller turns into an attempt record. Shared by
 * `@mcpauth/rfc9728-discovery` and `@mcpauth/rfc8414-metadata`.
 *
 * @see [RFC 8615 - Well-Known URIs](https://www.rfc-editor.org/rfc/rfc8615)
 * @since 0.1.0
 */
import { Duration, Effect, Option, Predicate, Stream } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http"

/** What one GET of a candidate URL gave. */
export type FetchOutcome =
  | {
    readonly _tag: "Json"
    readonly url: string
    readonly status: number
    readonly json: unknown
    readonly headers: Readonly<Record<string, string | undefined>>
  }
  | { readonly _tag: "NotJson"; readonly url: string; readonly status: number; readonly detail: string }
  | { readonly _tag: "TooLarge"; readonly url: string; readonly status: number; readonly limit: number }
  | { readonly _tag: "ClientError"; readonly url: string; readonly status: number }
  | { readonly _tag: "ServerError"; readonly url: string; readonly status: number }
  | {
    readonly _tag: "RedirectRefused"
    readonly url: string
    readonly status: number
    readonly location: string
    readonly detail: string
  }
  | { readonly _tag: "NetworkError"; readonly url: string; readonly detail: string }

export interface FetchSettings {
  readonly maxBodyBytes: number
  readonly timeout: Duration.Duration
  readonly maxRedirects: number
  /** Whether a redirect target (already resolved) may be followed; returns a reason when not. */
  readonly redirectAllowed: (from: URL, to: URL) => string | undefined
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])

const readBounded = (
  body: Stream.Stream<Uint8Array, unknown>,
  limit: number
): Effect.Effect<{ readonly bytes: Uint8Array; readonly truncated: boolean }, unknown> =>
  Effect.gen(function*() {
    const chunks: Array<Uint8Array> = []
    let total = 0
    let truncated = false
    yield* Stream.runForEachWhile(body, (chunk) =>
      Effect.sync(() => {
        total += chunk.byteLength
        if (total > limit) {
          truncated = true
          return false
        }
        chunks.push(chunk)
        return true
      }))
    const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0))
    let offset = 0
    for (const c of chunks) {
      bytes.set(c, offset)
      offset += c.byteLength
    }
    return { bytes, truncated }
  })

const describe = (error: unknown): string => {
  const reason = Predicate.hasProperty(error, "reason") ? error.reason : undefined
  const parts = [
    Predicate.hasProperty(error, "_tag") && Predicate.isString(error._tag) ? error._tag : undefined,
    Predicate.hasProperty(reason, "_tag") && Predicate.isString(reason._tag) ? reason._tag : undefined,
    Predicate.hasProperty(reason, "description") && Predicate.isString(reason.description)
      ? reason.description
      : undefined,
    Predicate.hasProperty(error, "message") && Predicate.isString(error.message) && error.message !== ""
      ? error.message
      : undefined
  ].filter(Predicate.isNotUndefined)
  return parts.length > 0 ? [...new Set(parts)].join(": ") : String(error)
}

// Reads nothing more of a body that is not used: the stream is cancelled, so the connection is not left hanging.
const discard = (body: Stream.Stream<Uint8Array, unknown>) => Effect.ignore(readBounded(body, 0))

/**
 * GETs `url`, following at most `settings.maxRedirects` redirects that `settings.redirectAllowed` accepts.
 * `fetch`'s own redirect following is switched off (`redirect: "manual"`) for these requests, so that every hop is
 * seen and checked here.
 */
export const fetchDocument = (
  url: string,
  settings: FetchSettings
): Effect.Effect<FetchOutcome, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const init = Option.getOrUndefined(yield* Effect.serviceOption(FetchHttpClient.RequestInit))
    let current = new URL(url)
    const hops: Array<string> = []
    for (let hop = 0;; hop++) {
      const response = yield* client.execute(HttpClientRequest.get(current).pipe(HttpClientRequest.acceptJson)).pipe(
        Effect.provideService(FetchHttpClient.RequestInit, { ...init, redirect: "manual" })
      )
      const status = response.status
      if (status < 200 || status >= 300) yield* discard(response.stream)
      if (REDIRECTS.has(status)) {
        const location = response.headers["location"]
        if (location === undefined) return { _tag: "ClientError", url, status } as const
        let target: URL
        try {
          target = new URL(location, current)
        } catch {
          return { _tag: "RedirectRefused", url, status, location, detail: "the Location header is not a URL" } as const
        }
        const refused = hop >= settings.maxRedirects
          ? `more than ${settings.maxRedirects} redirects`
          : settings.redirectAllowed(current, target)
        if (refused !== undefined) {
          return { _tag: "RedirectRefused", url, status, location: target.href, detail: refused } as const
        }
        hops.push(target.href)
        current = target
        continue
      }
      if (status >= 500) return { _tag: "ServerError", url, status } as const
      if (status < 200 || status >= 300) return { _tag: "ClientError", url, status } as const
      const declared = Number(response.headers["content-length"])
      if (Number.isFinite(declared) && declared > settings.maxBodyBytes) {
        yield* discard(response.stream)
        return { _tag: "TooLarge", url, status, limit: settings.maxBodyBytes } as const
      }
      const { bytes, truncated } = yield* readBounded(response.stream, settings.maxBodyBytes)
      if (truncated) return { _tag: "TooLarge", url, status, limit: settings.maxBodyBytes } as const
      const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes)
      try {
        const json: unknown = JSON.parse(text)
        const finalUrl = hops.length > 0 ? current.href : url
        return { _tag: "Json", url: finalUrl, status, json, headers: response.headers } as const
      } catch (e) {
        const contentType = response.headers["content-type"] ?? "no Content-Type"
        return {
          _tag: "NotJson",
          url,
          status,
          detail: `the body (${bytes.byteLength} bytes, ${contentType}) is not JSON: ${
            e instanceof Error ? e.message : String(e)
          }`
        } as const
      }
    }
  }).pipe(
    Effect.timeoutOrElse({
      duration: settings.timeout,
      orElse: () =>
        Effect.succeed(
          { _tag: "NetworkError", url, detail: `no answer within ${Duration.format(settings.timeout)}` } as const
        )
    }),
    Effect.catch((error) => Effect.succeed({ _tag: "NetworkError", url, detail: describe(error) } as const))
  )

/**
 * How one candidate URL went, as discovery results record it (`kind` names the candidate's place in the order).
 *
 * @category models
 * @since 0.1.0
 */
export interface FetchAttempt<K extends string = string> {
  readonly url: string
  readonly kind: K
  readonly outcome:
    | "ok"
    | "client-error"
    | "server-error"
    | "not-json"
    | "too-large"
    | "redirect-refused"
    | "network-error"
  readonly status?: number
  readonly detail?: string
}

/**
 * The attempt record of one fetched candidate.
 *
 * @category constructors
 * @since 0.1.0
 */
export const attemptOf = <K extends string>(
  candidate: { readonly url: string; readonly kind: K },
  outcome: FetchOutcome
): FetchAttempt<K> => {
  const base = { url: candidate.url, kind: candidate.kind }
  switch (outcome._tag) {
    case "Json":
      return {
        ...base,
        outcome: "ok",
        status: outcome.status,
        ...(outcome.url !== candidate.url ? { detail: `served by ${outcome.url} after a same-origin redirect` } : {})
      }
    case "ClientError":
      return { ...base, outcome: "client-error", status: outcome.status }
    case "ServerError":
      return { ...base, outcome: "server-error", status: outcome.status }
    case "NotJson":
      return { ...base, outcome: "not-json", status: outcome.status, detail: outcome.detail }
    case "TooLarge":
      return { ...base, outcome: "too-large", status: outcome.status, detail: `more than ${outcome.limit} bytes` }
    case "RedirectRefused":
      return {
        ...base,
        outcome: "redirect-refused",
        status: outcome.status,
        detail: `redirect to ${outcome.location} not followed: ${outcome.detail}`
      }
    case "NetworkError":
      return { ...base, outcome: "network-error", detail: outcome.detail }
  }
}
