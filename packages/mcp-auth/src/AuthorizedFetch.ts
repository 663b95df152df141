/**
 * The heart of the orchestrator: a `fetch` for the MCP SDK transport that carries the Bearer token on every request
 * to the MCP server and handles authorization itself.
 *
 * - On 401: refresh when a refresh token is held, else discover → register → authorize → store; then retry once.
 *   A second 401 after fresh credentials is a typed error, never a loop.
 * - Ahead of expiry: refresh first (single-flight within the process; the steps take a cross-process lock).
 * - `invalid_grant` on refresh: the tokens are cleared and the user authorizes again; the registration is kept.
 *   A transient refresh failure never discards a token that is still valid.
 * - On 403 `insufficient_scope`: step-up authorization with the union of the previously requested scopes and the
 *   challenge's, at most `maxStepUps` times per request and at most `maxAuthorizationsPerRequest` authorizations in
 *   all for one request (the one after a 401 included), then a typed error.
 * - The token goes only to the MCP server's origin, only in the `Authorization` header, never in a URL.
 *
 * The flow's steps (discovery, registration, the authorization code grant, storage) are a `Steps` value, so this
 * module holds only the decisions; `McpAuthorization` wires the RFC packages into it.
 *
 * We use a `fetch` wrapper rather than the SDK's `AuthProvider` seam because that seam retries a 401 only once
 * through `onUnauthorized` and handles 403 step-up only for the SDK's own OAuth provider; a wrapper keeps 401,
 * refresh, step-up and their retry limits in our code.
 *
 * @see [MCP 2026-07-28 Authorization §Access Token Usage](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization#access-token-usage)
 * @see [MCP 2026-07-28 Authorization §Scope Challenge Handling](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization#scope-challenge-handling)
 * @see [RFC 6750 §2.1 - Authorization Request Header Field](https://www.rfc-editor.org/rfc/rfc6750#section-2.1)
 * @since 0.1.0
 */
import { Clock, Context, Effect, Exit, FiberSet, Redacted, Ref, Semaphore } from "effect"
import type { Scope } from "effect"
import type { AuthEventSink, AuthStep } from "./AuthEvent.ts"
import { ignore } from "./AuthEvent.ts"
import { InsufficientScope, McpAuthError, RefreshRejected, stepFailed, StillUnauthorized } from "./McpAuthError.ts"
import { selectInitialScope, stepUpScope } from "./ScopeSelection.ts"

/**
 * Tokens as the orchestrator needs them (structural: `@mcpauth/oauth2-authorization`'s `TokenSet` fits).
 *
 * @category models
 * @since 0.1.0
 */
export interface Tokens {
  readonly access_token: Redacted.Redacted<string>
  readonly token_type: string
  /** Absolute expiry, epoch milliseconds. */
  readonly expires_at?: number | undefined
  readonly refresh_token?: Redacted.Redacted<string> | undefined
  readonly scope?: string | undefined
  /** The other members of the token response (`expires_in` gives the lifetime that caps the refresh skew). */
  readonly raw?: Readonly<Record<string, unknown>> | undefined
}

/**
 * How long before expiry to refresh: the configured skew, but never more than a third of the token's lifetime, so a
 * short-lived token (seconds) is not refreshed on every request.
 *
 * @category constructors
 * @since 0.1.0
 */
export const effectiveSkew = (tokens: Tokens, skewMs: number): number => {
  const expiresIn = Number(tokens.raw?.["expires_in"])
  return Number.isFinite(expiresIn) && expiresIn > 0 ? Math.min(skewMs, (expiresIn * 1000) / 3) : skewMs
}

/**
 * The Bearer challenge members the orchestrator reads (RFC 6750 §3, RFC 9728 §5.1).
 *
 * @category models
 * @since 0.1.0
 */
export interface BearerChallenge {
  readonly resource_metadata?: string | undefined
  readonly scope?: string | undefined
  readonly error?: string | undefined
  readonly error_description?: string | undefined
}

/**
 * What discovery established: which authorization server, which `resource` string, which scopes are advertised.
 *
 * @category models
 * @since 0.1.0
 */
export interface Discovered {
  readonly issuer: string
  /** The exact `resource` string to send (RFC 8707). */
  readonly resource: string
  readonly resourceScopesSupported?: ReadonlyArray<string> | undefined
  readonly authorizationServerScopesSupported?: ReadonlyArray<string> | undefined
}

/**
 * What the orchestrator knows about the request that needed discovery.
 *
 * @category models
 * @since 0.1.0
 */
export interface DiscoveryContext {
  /** The `MCP-Protocol-Version` the request carried (the version negotiated with the server), if any. */
  readonly protocolVersion?: string | undefined
}

/**
 * The authorization state for one MCP server.
 *
 * @category models
 * @since 0.1.0
 */
export interface Session<D extends Discovered, C> {
  readonly discovered: D
  readonly client: C
  readonly tokens: Tokens | undefined
  /** The scope last requested (the base of a step-up union). */
  readonly requestedScope: string | undefined
}

/**
 * The flow's steps. Each fails with an `McpAuthError` (the step's own error wrapped in `StepFailed`, or
 * `RefreshRejected` / `ClientRejected`, which the orchestrator acts on).
 *
 * @category models
 * @since 0.1.0
 */
export interface Steps<D extends Discovered, C> {
  /** A stored session for this server, if any (warm start: no discovery, no registration). */
  readonly restore: Effect.Effect<Session<D, C> | undefined, McpAuthError>
  /** The Bearer challenge of a 401/403 response, if any. */
  readonly parseChallenge: (headers: Headers) => BearerChallenge | undefined
  /** RFC 9728 + RFC 8414: the protected resource and its authorization server. */
  readonly discover: (
    challenge: BearerChallenge | undefined,
    context?: DiscoveryContext | undefined
  ) => Effect.Effect<D, McpAuthError>
  /** Client credentials for the authorization server (pre-registered, metadata document, or dynamic). */
  readonly register: (discovered: D) => Effect.Effect<C, McpAuthError>
  /** Drops a registration the server no longer recognises. */
  readonly forgetClient: (discovered: D, client: C) => Effect.Effect<void, McpAuthError>
  /**
   * The authorization code grant with PKCE, `state`, `iss` and `resource`; `ClientRejected` when the client is
   * unknown. Returns the client actually used (a dynamic client may be registered anew for a moved loopback port).
   */
  readonly authorize: (
    discovered: D,
    client: C,
    scope: string | undefined
  ) => Effect.Effect<{ readonly tokens: Tokens; readonly client: C }, McpAuthError>
  /** A refresh (under a cross-process lock, re-reading the store first); `RefreshRejected` on `invalid_grant`. */
  readonly refresh: (session: Session<D, C>, tokens: Tokens) => Effect.Effect<Tokens, McpAuthError>
  /** Persists the session (`tokens: undefined` clears the tokens but keeps the registration). */
  readonly save: (session: Session<D, C>) => Effect.Effect<void, McpAuthError>
}

/**
 * Options of the authorised fetch.
 *
 * @category models
 * @since 0.1.0
 */
export interface Options<D extends Discovered, C> {
  /** The MCP server URL; the token is only ever sent to this origin. */
  readonly serverUrl: string
  readonly steps: Steps<D, C>
  /** Progress events (never secrets). */
  readonly events?: AuthEventSink | undefined
  /** Refresh this long before expiry (default 60 s). */
  readonly refreshSkewMs?: number | undefined
  /** Step-up authorizations allowed per request (default 3). */
  readonly maxStepUps?: number | undefined
  /**
   * Authorizations allowed while serving one request, counting the one after a 401 and every step-up (default 3):
   * an operation that still gets 403 `insufficient_scope` after that many fails with `InsufficientScope`.
   */
  readonly maxAuthorizationsPerRequest?: number | undefined
  /** Scopes to request instead of the MCP scope selection strategy. */
  readonly scope?: ReadonlyArray<string> | undefined
  /** The fetch that reaches the network (default `globalThis.fetch`). */
  readonly fetch?: typeof globalThis.fetch | undefined
}

/**
 * An authorised fetch and its state.
 *
 * @category models
 * @since 0.1.0
 */
export interface AuthorizedFetch<D extends Discovered, C> {
  /** Drop-in `fetch` for `StreamableHTTPClientTransport({ fetch })`; rejects with `McpAuthError`. */
  readonly fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>
  /** The same, as an Effect. */
  readonly request: (input: string | URL | Request, init?: RequestInit) => Effect.Effect<Response, McpAuthError>
  /** The current session, restoring it from storage on first use. */
  readonly session: Effect.Effect<Session<D, C> | undefined, McpAuthError>
  /** Refreshes now (if a refresh token is held), whatever the expiry. */
  readonly forceRefresh: Effect.Effect<Session<D, C> | undefined, McpAuthError>
  /** Forgets the tokens in memory and storage (the registration is kept). */
  readonly clearTokens: Effect.Effect<void, McpAuthError>
}

type Loaded<D extends Discovered, C> = { readonly _tag: "Unloaded" } | {
  readonly _tag: "Loaded"
  readonly session: Session<D, C> | undefined
}

/** A request body that can be sent again as it is (a request is retried after a 401 or a 403). */
type ReplayableBody = Exclude<BodyInit, ReadableStream | FormData>

const isReplayable = (body: BodyInit): body is ReplayableBody =>
  typeof body === "string" || body instanceof ArrayBuffer || ArrayBuffer.isView(body) ||
  body instanceof URLSearchParams || body instanceof Blob

// Fetch §method normalization: these six are upper-cased, any other method is kept as given
const NORMALIZED_METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"])
const normalizeMethod = (method: string): string => {
  const upper = method.toUpperCase()
  return NORMALIZED_METHODS.has(upper) ? upper : method
}

interface Normalized {
  readonly url: string
  readonly method: string
  readonly headers: Headers
  readonly body: ReplayableBody | undefined
}

// The request as sent, and re-sent after a 401/403. A URL with a string (or other in-memory) body, which is what the
// SDK transport sends, is used as it is: copying it through a `Request` stream cost about a tenth of a sandbox
// round trip per call. A `Request` input or a streamed body is read into memory once, so that it can be re-sent.
const normalize = (input: string | URL | Request, init: RequestInit | undefined): Effect.Effect<Normalized> =>
  Effect.suspend(() => {
    const body = init?.body ?? undefined
    if (!(input instanceof Request) && (body === undefined || isReplayable(body))) {
      return Effect.succeed({
        url: new URL(input).href,
        method: normalizeMethod(init?.method ?? "GET"),
        headers: new Headers(init?.headers),
        body
      })
    }
    const req = new Request(input, init)
    const read = req.method === "GET" || req.method === "HEAD"
      ? Effect.undefined
      : Effect.promise(() => req.arrayBuffer())
    return Effect.map(read, (buffered) => ({ url: req.url, method: req.method, headers: req.headers, body: buffered }))
  })

const failureMessage = (exit: Exit.Exit<unknown, McpAuthError>): string => {
  if (Exit.isSuccess(exit)) return ""
  const failure = exit.cause.reasons[0]
  if (failure?._tag === "Fail") return failure.error.message
  if (failure?._tag === "Die") return String(failure.defect)
  return "interrupted"
}

/**
 * Builds the authorised fetch for one MCP server from its flow steps.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = <D extends Discovered, C>(
  options: Options<D, C>
): Effect.Effect<AuthorizedFetch<D, C>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { steps } = options
    const emit = options.events ?? ignore
    const skew = options.refreshSkewMs ?? 60_000
    const maxStepUps = options.maxStepUps ?? 3
    const maxAuthorizations = options.maxAuthorizationsPerRequest ?? 3
    const baseFetch = options.fetch ?? globalThis.fetch
    const serverOrigin = new URL(options.serverUrl).origin
    const state = yield* Ref.make<Loaded<D, C>>({ _tag: "Unloaded" })
    // Single-flight: one authorization, refresh or step-up at a time in this process
    const lock = yield* Semaphore.make(1)
    const context = yield* Effect.context<never>()

    const timed = <A>(step: AuthStep, message: string, effect: Effect.Effect<A, McpAuthError>) =>
      Effect.gen(function*() {
        const start = yield* Clock.currentTimeMillis
        emit({ step, phase: "start", message })
        const exit = yield* Effect.exit(effect)
        const durationMs = (yield* Clock.currentTimeMillis) - start
        if (Exit.isSuccess(exit)) emit({ step, phase: "done", message, durationMs })
        else {emit({
            step,
            phase: "failed",
            message,
            durationMs,
            // a readable message, never a Cause dump
            data: { error: failureMessage(exit) }
          })}
        return yield* exit
      })

    const current = Effect.gen(function*() {
      const loaded = yield* Ref.get(state)
      if (loaded._tag === "Loaded") return loaded.session
      return yield* lock.withPermits(1)(Effect.gen(function*() {
        const again = yield* Ref.get(state)
        if (again._tag === "Loaded") return again.session
        const restored = yield* steps.restore
        if (restored !== undefined) {
          emit({
            step: "restore",
            phase: "info",
            message: "using stored credentials",
            data: {
              issuer: restored.discovered.issuer,
              resource: restored.discovered.resource,
              hasTokens: restored.tokens !== undefined
            }
          })
        }
        yield* Ref.set(state, { _tag: "Loaded", session: restored })
        return restored
      }))
    })

    const commit = (session: Session<D, C>) =>
      Effect.gen(function*() {
        yield* steps.save(session).pipe(Effect.mapError((e) => stepFailed("store", e)))
        yield* Ref.set(state, { _tag: "Loaded", session })
        return session
      })

    const latest = Effect.map(Ref.get(state), (l) => (l._tag === "Loaded" ? l.session : undefined))

    // Refresh `session` unless another fiber already replaced it. RefreshRejected clears the tokens (registration kept).
    const refreshLocked = (session: Session<D, C>, tokens: Tokens) =>
      Effect.gen(function*() {
        const refreshed = yield* timed("refresh", "refreshing the access token", steps.refresh(session, tokens)).pipe(
          Effect.catchReason("McpAuthError", "RefreshRejected", (reason) =>
            Effect.gen(function*() {
              emit({
                step: "refresh",
                phase: "info",
                message: `refresh token rejected: ${reason.detail}; clearing tokens`
              })
              yield* commit({ ...session, tokens: undefined })
              return yield* new McpAuthError({ reason })
            }))
        )
        return yield* commit({ ...session, tokens: refreshed })
      })

    const authorizeLocked = (
      discovered: D,
      knownClient: C | undefined,
      scope: string | undefined
    ): Effect.Effect<Session<D, C>, McpAuthError> =>
      Effect.gen(function*() {
        const client = knownClient ??
          (yield* timed("registration", "obtaining client credentials", steps.register(discovered)))
        const attempt = (c: C) => timed("authorization", "authorizing", steps.authorize(discovered, c, scope))
        const result = yield* attempt(client).pipe(
          Effect.catchReason("McpAuthError", "ClientRejected", (reason) =>
            Effect.gen(function*() {
              // Registration is per issuer; an unknown client registers again once, never in a loop
              emit({ step: "registration", phase: "info", message: `${reason.message}; registering again once` })
              yield* steps.forgetClient(discovered, client)
              const again = yield* timed("registration", "registering again", steps.register(discovered))
              return yield* attempt(again)
            }))
        )
        return yield* commit({ discovered, client: result.client, tokens: result.tokens, requestedScope: scope })
      })

    // Called after a 401 for a request sent with `used` (undefined: sent without a token).
    const recover401 = (
      used: Tokens | undefined,
      challenge: BearerChallenge | undefined,
      allowRefresh: boolean,
      context: DiscoveryContext
    ) =>
      lock.withPermits(1)(Effect.gen(function*() {
        const session = yield* latest
        // Another fiber already obtained new tokens while we waited
        if (session?.tokens !== undefined && session.tokens !== used) return { session, kind: "concurrent" as const }
        if (allowRefresh && session?.tokens?.refresh_token !== undefined) {
          const exit = yield* Effect.exit(refreshLocked(session, session.tokens))
          if (Exit.isSuccess(exit)) return { session: exit.value, kind: "refreshed" as const }
          const failure = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
          const rejected = failure?._tag === "Fail" && failure.error.reason._tag === "RefreshRejected"
          // A transient refresh failure is reported, never turned into a new sign-in that would discard state
          if (!rejected && Exit.isFailure(exit)) return yield* Effect.failCause(exit.cause)
        }
        const discovered = session?.discovered ??
          (yield* timed("discovery", "discovering the authorization server", steps.discover(challenge, context)))
        // MCP §Scope Selection Strategy: challenge scope > PRM scopes_supported > none; a re-authorization keeps
        // the previously requested scopes alongside the challenge's
        const scope = session?.requestedScope !== undefined
          ? stepUpScope(session.requestedScope, challenge?.scope)
          : selectInitialScope({
            challengeScope: challenge?.scope,
            resourceScopesSupported: discovered.resourceScopesSupported,
            authorizationServerScopesSupported: discovered.authorizationServerScopesSupported,
            override: options.scope
          })
        return { session: yield* authorizeLocked(discovered, session?.client, scope), kind: "authorized" as const }
      }))

    const stepUp = (used: Tokens | undefined, challenge: BearerChallenge) =>
      lock.withPermits(1)(Effect.gen(function*() {
        const session = yield* latest
        if (session === undefined) return undefined
        if (session.tokens !== undefined && session.tokens !== used) return session
        // MCP §Step-Up Authorization Flow: the union of the previously requested scopes and the challenge's
        const scope = stepUpScope(session.requestedScope, challenge.scope)
        emit({ step: "step-up", phase: "info", message: `insufficient_scope: re-authorizing with "${scope ?? ""}"` })
        return yield* authorizeLocked(session.discovered, session.client, scope)
      }))

    const now = Clock.currentTimeMillis

    // Before sending: refresh a token that is about to expire. A transient failure keeps a token that is still valid.
    const fresh = (session: Session<D, C> | undefined) =>
      Effect.gen(function*() {
        const tokens = session?.tokens
        const expiresAt = tokens?.expires_at
        if (session === undefined || tokens === undefined || expiresAt === undefined) return session
        const t = yield* now
        if (t < expiresAt - effectiveSkew(tokens, skew)) return session
        if (tokens.refresh_token === undefined) return t < expiresAt ? session : { ...session, tokens: undefined }
        return yield* lock.withPermits(1)(Effect.gen(function*() {
          const again = yield* latest
          if (again?.tokens !== tokens) return again
          const exit = yield* Effect.exit(refreshLocked(session, tokens))
          if (Exit.isSuccess(exit)) return exit.value
          const failure = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
          if (failure?._tag === "Fail" && failure.error.reason._tag === "RefreshRejected") return yield* latest
          if ((yield* now) < expiresAt) {
            emit({
              step: "refresh",
              phase: "info",
              message: "refresh failed; the current token is still valid, using it"
            })
            return session
          }
          return yield* Effect.failCause(exit.cause)
        }))
      })

    const send = (url: string, base: RequestInit, body: ReplayableBody | undefined, tokens: Tokens | undefined) =>
      Effect.tryPromise({
        try: (signal) => {
          const headers = new Headers(base.headers)
          // RFC 6750 §2.1 / MCP §Token Requirements: the Authorization header on every request, never the URL
          if (tokens !== undefined) headers.set("authorization", `Bearer ${Redacted.value(tokens.access_token)}`)
          else headers.delete("authorization")
          return baseFetch(url, {
            ...base,
            headers,
            body: body ?? null,
            signal: base.signal ?? signal
          })
        },
        catch: (error) => stepFailed("request", error)
      })

    const drain = (response: Response) =>
      Effect.promise(() => response.body?.cancel().catch(() => {}) ?? Promise.resolve())

    const request = (
      input: string | URL | Request,
      init?: RequestInit,
      // A response already received for this request (from `fetch`'s direct path), with what it was sent with
      first?: { readonly response: Response; readonly session: Session<D, C>; readonly tokens: Tokens }
    ): Effect.Effect<Response, McpAuthError> =>
      Effect.gen(function*() {
        const req = yield* normalize(input, init)
        // MCP §Token Handling: never send our token to anyone but the MCP server (same origin only)
        if (new URL(req.url).origin !== serverOrigin) {
          return yield* Effect.tryPromise({ try: () => baseFetch(input, init), catch: (e) => stepFailed("request", e) })
        }
        const body = req.body
        const base: RequestInit = {
          method: req.method,
          headers: req.headers,
          redirect: init?.redirect ?? "manual",
          ...(init?.signal ? { signal: init.signal } : {})
        }
        let session = first !== undefined ? first.session : yield* fresh(yield* current)
        let tokens = first !== undefined ? first.tokens : session?.tokens
        let response = first !== undefined ? first.response : yield* send(req.url, base, body, tokens)
        // Per request: at most one refresh and one full authorization after a 401, then a typed error (no loops)
        let refreshed = false
        let authorized = false
        let rounds = 0
        let stepUps = 0
        // every authorization made for this request (after a 401 or a 403), whatever its trigger
        let authorizations = 0
        while (true) {
          // Terminating a session (the transport's DELETE, e.g. after sign-out) never starts a sign-in: the 401 is
          // returned as it is
          if (response.status === 401 && req.method === "DELETE") return response
          if (response.status === 401) {
            const challenge = steps.parseChallenge(response.headers)
            emit({
              step: "request",
              phase: "info",
              status: 401,
              url: req.url,
              message: tokens === undefined ? "401: authorization needed" : "401: token refused",
              data: challenge === undefined ? { challenge: "none" } : { challenge }
            })
            yield* drain(response)
            if (authorized || rounds >= 3) {
              return yield* new McpAuthError({
                reason: new StillUnauthorized({
                  url: req.url,
                  detail: challenge?.error_description ?? challenge?.error ?? "no detail"
                })
              })
            }
            rounds++
            const recovered = yield* recover401(tokens, challenge, !refreshed, {
              protocolVersion: req.headers.get("mcp-protocol-version") ?? undefined
            })
            if (recovered.kind === "refreshed") refreshed = true
            if (recovered.kind === "authorized") {
              authorized = true
              authorizations++
            }
            session = recovered.session
            tokens = session.tokens
            response = yield* send(req.url, base, body, tokens)
            continue
          }
          if (response.status === 403) {
            const challenge = steps.parseChallenge(response.headers)
            if (challenge?.error === "insufficient_scope" && session !== undefined) {
              yield* drain(response)
              // MCP §Scope Challenge Handling: retry limits and tracked scope upgrade attempts for the same
              // operation: every authorization made for this request counts, the one after the first 401 included
              if (stepUps >= maxStepUps || authorizations >= maxAuthorizations) {
                return yield* new McpAuthError({
                  reason: new InsufficientScope({
                    url: req.url,
                    requiredScope: challenge.scope,
                    grantedScope: tokens?.scope ?? session.requestedScope,
                    attempts: stepUps
                  })
                })
              }
              stepUps++
              authorizations++
              const stepped = yield* timed("step-up", "step-up authorization", stepUp(tokens, challenge))
              if (stepped === undefined) return response
              session = stepped
              tokens = stepped.tokens
              response = yield* send(req.url, base, body, tokens)
              continue
            }
          }
          return response
        }
      })

    // Sign-in, refresh and step-up run in fibers owned by the caller's scope and tied to the request's AbortSignal:
    // closing the scope (e.g. a client's close()) or aborting the request interrupts a sign-in in progress
    const runner = yield* FiberSet.makeRuntimePromise<never, Response, McpAuthError>()
    const runIn = (init: RequestInit | undefined) => (effect: Effect.Effect<Response, McpAuthError>) =>
      runner(effect, init?.signal ? { signal: init.signal } : undefined)
    const clock = Context.get(context, Clock.Clock)

    // The common case without the Effect runtime, which cost about 4% of a sandbox round trip per call (pnpm bench,
    // #5): a loaded session whose token is not due for refresh (the same test as `fresh`), a URL on the server's
    // origin and an in-memory body. Everything else, and any 401 or 403 received here, goes to `request`, which
    // decides as for any other request (the response is handed over as received: nothing is sent twice).
    const directFetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const run = runIn(init)
      const loaded = Ref.getUnsafe(state)
      const session = loaded._tag === "Loaded" ? loaded.session : undefined
      const tokens = session?.tokens
      const body = init?.body ?? undefined
      if (
        session === undefined || tokens === undefined || input instanceof Request ||
        (body !== undefined && !isReplayable(body)) ||
        (tokens.expires_at !== undefined &&
          clock.currentTimeMillisUnsafe() >= tokens.expires_at - effectiveSkew(tokens, skew))
      ) return run(request(input, init))
      const url = URL.parse(input)
      // MCP §Token Handling: never send our token to anyone but the MCP server (same origin only)
      if (url === null || url.origin !== serverOrigin) return run(request(input, init))
      const headers = new Headers(init?.headers)
      // RFC 6750 §2.1 / MCP §Token Requirements: the Authorization header on every request, never the URL
      headers.set("authorization", `Bearer ${Redacted.value(tokens.access_token)}`)
      const sent: RequestInit = {
        method: normalizeMethod(init?.method ?? "GET"),
        headers,
        redirect: init?.redirect ?? "manual",
        body: body ?? null,
        ...(init?.signal ? { signal: init.signal } : {})
      }
      return baseFetch(url.href, sent).then(
        (response) =>
          response.status === 401 || response.status === 403
            ? run(request(input, init, { response, session, tokens }))
            : response,
        (error: unknown) => Promise.reject(stepFailed("request", error))
      )
    }

    const forceRefresh = lock.withPermits(1)(Effect.gen(function*() {
      const session = yield* latest
      if (session?.tokens?.refresh_token === undefined) return session
      return yield* refreshLocked(session, session.tokens)
    }))

    const clearTokens = Effect.gen(function*() {
      const session = yield* current
      if (session !== undefined) yield* lock.withPermits(1)(commit({ ...session, tokens: undefined }))
    })

    return {
      request,
      fetch: directFetch,
      session: current,
      forceRefresh: Effect.flatMap(current, () => forceRefresh),
      clearTokens
    } satisfies AuthorizedFetch<D, C>
  })

/**
 * Recovers from a `RefreshRejected` by reporting it as-is (re-exported for callers that build their own loop).
 *
 * @category constructors
 * @since 0.1.0
 */
export const refreshRejected = (detail: string) => new McpAuthError({ reason: new RefreshRejected({ detail }) })
