/**
 * The Datadog MCP client as an Effect service: connect (Streamable HTTP, falling back to the legacy HTTP+SSE
 * transport only when the initial POST is answered 404 or 405), list tools (all pages), call tools, read resources,
 * `whoami`, close. Built on the official MCP client SDK; authentication comes from the `McpFetch` service (API keys,
 * an access token, or the OAuth-authorised fetch of `@mcpauth/mcp-auth`) — the SDK's own OAuth is never used.
 *
 * @see [MCP 2025-06-18 Transports §Streamable HTTP](https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#streamable-http)
 * @see [MCP 2025-06-18 Transports §Backwards Compatibility](https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#backwards-compatibility)
 * @since 0.1.0
 */
import * as McpAuthError from "@mcpauth/mcp-auth/McpAuthError"
import {
  type CallToolResult,
  Client,
  ProtocolError,
  type ReadResourceResult,
  SdkError,
  SdkErrorCode,
  SdkHttpError,
  SSEClientTransport,
  StreamableHTTPClientTransport,
  type Tool,
  UnauthorizedError
} from "@modelcontextprotocol/client"
import { Context, Effect, Layer, type Scope } from "effect"
import type * as DatadogConfig from "./DatadogConfig.ts"
import * as DatadogMcpError from "./DatadogMcpError.ts"
import { RateLimitExhausted } from "./internal/markers.ts"
import * as McpFetch from "./McpFetch.ts"
import * as RateLimit from "./RateLimit.ts"
import * as Whoami from "./Whoami.ts"

/**
 * This package's version, sent as `X-Datadog-MCP-Referrer-Version` by default.
 *
 * @category constants
 * @since 0.1.0
 */
export const VERSION = "0.1.0"

/**
 * The default client name, sent as `X-Datadog-MCP-Referrer-Name` and as the MCP `clientInfo.name`.
 *
 * @category constants
 * @since 0.1.0
 */
export const CLIENT_NAME = "mcpauth-mcp-datadog"

/**
 * Options of the service.
 *
 * @category models
 * @since 0.1.0
 */
export interface Options {
  /** The MCP server URL, with any `toolsets` / `omit_tools` query parameters (see `Toolsets.withQuery`). */
  readonly url: URL | string
  /** The client identification headers (`X-Datadog-MCP-Referrer-Name` / `-Version`); default this package. */
  readonly referrer?: { readonly name: string; readonly version: string } | undefined
  /** Bounded 429 handling (default `RateLimit.defaultPolicy`); `false` fails on the first 429. */
  readonly rateLimit?: Partial<RateLimit.Policy> | false | undefined
  /** Per-request timeout before rate-limit waits are added (default 60 s). */
  readonly requestTimeoutMs?: number | undefined
  /** The most `tools/list` pages to follow (default 64). */
  readonly maxPages?: number | undefined
}

/**
 * Which transport the connection uses.
 *
 * @category models
 * @since 0.1.0
 */
export type TransportKind = "streamable-http" | "sse"

/**
 * The connected Datadog MCP client.
 *
 * @category services
 * @since 0.1.0
 */
export class DatadogMcp extends Context.Service<DatadogMcp, {
  /** The MCP server URL (no credentials are ever in it). */
  readonly url: string
  readonly transport: TransportKind
  readonly mode: McpFetch.Mode
  /** The server's `serverInfo` from `initialize`. */
  readonly serverInfo: { readonly name: string; readonly version: string } | undefined
  /** Every tool, following `nextCursor` through all pages. */
  readonly listTools: Effect.Effect<ReadonlyArray<Tool>, DatadogMcpError.DatadogMcpError>
  /** Calls a tool; an `isError` result fails with the `ToolError` reason. */
  readonly callTool: (
    name: string,
    args?: { readonly [key: string]: unknown }
  ) => Effect.Effect<CallToolResult, DatadogMcpError.DatadogMcpError>
  readonly readResource: (uri: string) => Effect.Effect<ReadResourceResult, DatadogMcpError.DatadogMcpError>
  /** Reads and decodes `datadog://mcp/whoami`. */
  readonly whoami: Effect.Effect<Whoami.Whoami, DatadogMcpError.DatadogMcpError>
  /** Ends the session (also done by the scope's finalizer); later calls fail with the `Closed` reason. */
  readonly close: Effect.Effect<void>
}>()("@mcpauth/mcp-datadog/DatadogMcp") {}

/**
 * The client identification headers.
 *
 * @category constructors
 * @since 0.1.0
 */
export const referrerHeaders = (
  referrer: { readonly name: string; readonly version: string } = { name: CLIENT_NAME, version: VERSION }
): Record<string, string> => ({
  "X-Datadog-MCP-Referrer-Name": referrer.name,
  "X-Datadog-MCP-Referrer-Version": referrer.version
})

const causeChain = (error: unknown): ReadonlyArray<unknown> => {
  const out: Array<unknown> = []
  let e: unknown = error
  while (e !== undefined && e !== null && out.length < 6) {
    out.push(e)
    e = typeof e === "object" && "cause" in e ? e.cause : undefined
  }
  return out
}

const messageOf = (e: unknown): string => {
  const text = e instanceof Error ? e.message : String(e)
  return text.length > 300 ? `${text.slice(0, 300)}…` : text
}

const isTagged = (e: unknown): boolean =>
  typeof e === "object" && e !== null && "_tag" in e && typeof e._tag === "string"

/**
 * What an error and its causes say, outermost first: each distinct message (the errors of an `AggregateError`, e.g.
 * one per address of `localhost`, included) and a Node error code (`ECONNREFUSED`, `ENOTFOUND`, …) the messages do
 * not already name.
 *
 * @category constructors
 * @since 0.1.0
 */
export const describeCause = (error: unknown): string => {
  const parts: Array<string> = []
  const add = (text: string) => {
    if (text !== "" && !parts.includes(text)) parts.push(text)
  }
  const visit = (e: unknown, depth: number) => {
    if (e === undefined || e === null || depth > 6) return
    add(messageOf(e))
    if (typeof e === "object") {
      const code = "code" in e && typeof e.code === "string" ? e.code : undefined
      if (code !== undefined && !parts.some((p) => p.includes(code))) add(code)
      if (e instanceof AggregateError) { for (const inner of e.errors.slice(0, 4)) visit(inner, depth + 1) }
      if ("cause" in e) visit(e.cause, depth + 1)
    }
  }
  visit(error, 0)
  return parts.join(": ")
}

const NETWORK_CODE = /^E[A-Z0-9_]+$/

/** The first error with a Node system error code (`ECONNREFUSED`, `ENOTFOUND`, …) among an error's causes, reasons
 * and wrapped errors. */
const findNetworkError = (error: unknown, depth = 0): object | undefined => {
  if (typeof error !== "object" || error === null || depth > 8) return undefined
  if ("code" in error && typeof error.code === "string" && NETWORK_CODE.test(error.code)) return error
  for (const key of ["cause", "error", "reason"] as const) {
    const found = key in error ? findNetworkError((error as Record<string, unknown>)[key], depth + 1) : undefined
    if (found !== undefined) return found
  }
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const found = findNetworkError(inner, depth + 1)
      if (found !== undefined) return found
    }
  }
  return undefined
}

const fromAuthError = (
  error: McpAuthError.McpAuthError,
  context: { readonly url: string; readonly mode: McpFetch.Mode }
): DatadogMcpError.DatadogMcpError => {
  const { mode, url } = context
  const make = DatadogMcpError.make
  const reason = error.reason
  switch (reason._tag) {
    case "StepFailed": {
      const underlying = describeCause(reason.error)
      // the MCP request itself never got an answer: a network failure (refused, DNS, reset, TLS), not the credentials
      if (reason.step === "request") {
        return make(
          new DatadogMcpError.ConnectionFailed({ url, detail: underlying || reason.detail, cause: error })
        )
      }
      // keep the step's message in full; add a network failure underneath when the message does not name it
      const network = findNetworkError(reason.error)
      const extra = network === undefined ? "" : describeCause(network)
      const detail = extra !== "" && !reason.detail.includes(extra) ? `${reason.detail} (${extra})` : reason.detail
      return make(new DatadogMcpError.SignInFailed({ url, step: reason.step, detail, cause: error }))
    }
    case "StillUnauthorized":
      return make(new DatadogMcpError.AuthFailed({ url, mode, status: 401, detail: reason.message, cause: error }))
    case "InsufficientScope":
      return make(new DatadogMcpError.AuthFailed({ url, mode, status: 403, detail: reason.message, cause: error }))
    case "RefreshRejected":
      return make(new DatadogMcpError.AuthFailed({ url, mode, detail: reason.message, cause: error }))
    case "ClientRejected":
      return make(
        new DatadogMcpError.SignInFailed({ url, step: "client registration", detail: reason.message, cause: error })
      )
    case "InteractionRequired":
      return make(
        new DatadogMcpError.SignInFailed({ url, step: "authorization", detail: reason.message, cause: error })
      )
  }
}

/**
 * Whether a failed connect should be retried with the legacy HTTP+SSE transport: only when the initial POST was
 * answered 404 or 405 — never on 5xx, 401/403 or network errors.
 *
 * @see [MCP 2025-06-18 Transports §Backwards Compatibility](https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#backwards-compatibility)
 * @category guards
 * @since 0.1.0
 */
export const shouldFallBackToSse = (error: unknown): boolean =>
  // MCP Transports §Backwards Compatibility: on a 4xx to the initialize POST, try the old HTTP+SSE transport; we
  // narrow it to 404/405, the answers of a server that has no Streamable HTTP endpoint
  SdkHttpError.isInstance(error) && (error.status === 404 || error.status === 405)

/**
 * Turns whatever the SDK (or the fetch under it) threw into a `DatadogMcpError`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromUnknown = (
  error: unknown,
  context: { readonly url: string; readonly mode: McpFetch.Mode; readonly method: string }
): DatadogMcpError.DatadogMcpError => {
  const { method, mode, url } = context
  const make = DatadogMcpError.make
  if (error instanceof DatadogMcpError.DatadogMcpError) return error
  const chain = causeChain(error)
  const limited = chain.find((e): e is RateLimitExhausted => e instanceof RateLimitExhausted)
  if (limited !== undefined) {
    return make(
      new DatadogMcpError.RateLimited({
        url: limited.url,
        attempts: limited.attempts,
        ...(limited.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: limited.retryAfterSeconds }),
        detail: limited.detail
      })
    )
  }
  if (SdkHttpError.isInstance(error)) {
    const detail = messageOf(error)
    if (error.status === 401 || error.status === 403) {
      return make(new DatadogMcpError.AuthFailed({ url, mode, status: error.status, detail }))
    }
    if (error.status === 429) {
      return make(new DatadogMcpError.RateLimited({ url, attempts: 1, detail }))
    }
    return make(new DatadogMcpError.UnexpectedStatus({ url, status: error.status, detail }))
  }
  if (error instanceof UnauthorizedError) {
    return make(new DatadogMcpError.AuthFailed({ url, mode, status: 401, detail: messageOf(error) }))
  }
  if (ProtocolError.isInstance(error)) {
    return make(new DatadogMcpError.JsonRpcError({ method, code: error.code, detail: messageOf(error) }))
  }
  if (SdkError.isInstance(error)) {
    switch (error.code) {
      case SdkErrorCode.InvalidResult:
      case SdkErrorCode.ListPaginationExceeded:
      case SdkErrorCode.ClientHttpUnexpectedContent:
      case SdkErrorCode.UnsupportedResultType:
        return make(
          new DatadogMcpError.InvalidResponse({
            document: `${method} response`,
            expected: "an MCP result",
            detail: messageOf(error)
          })
        )
      default:
        return make(new DatadogMcpError.ConnectionFailed({ url, detail: messageOf(error), cause: error }))
    }
  }
  // the McpAuthError of @mcpauth/mcp-auth that rejected the fetch: only a refusal by the server blames credentials
  const authError = chain.find((e): e is McpAuthError.McpAuthError => e instanceof McpAuthError.McpAuthError)
  if (authError !== undefined) return fromAuthError(authError, { url, mode })
  // another error of an auth layer given by the caller: a failed sign-in, at a step we cannot name
  const tagged = chain.find(isTagged)
  if (tagged !== undefined && mode === "oauth") {
    return make(
      new DatadogMcpError.SignInFailed({ url, step: "the OAuth layer", detail: describeCause(tagged), cause: tagged })
    )
  }
  return make(new DatadogMcpError.ConnectionFailed({ url, detail: describeCause(error), cause: error }))
}

const describeValue = (value: unknown): string =>
  value === null
    ? "null"
    : Array.isArray(value)
    ? "an array"
    : typeof value === "object"
    ? `an instance of ${
      (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name ?? "a class"
    }`
    : `a ${typeof value}`

/** Why a tool call's arguments are not a plain object, or `undefined` when they are one (or absent). */
const describeNonObject = (args: unknown): string | undefined => {
  if (args === undefined) return undefined
  if (typeof args === "object" && args !== null && !Array.isArray(args)) {
    const proto: unknown = Object.getPrototypeOf(args)
    if (proto === Object.prototype || proto === null) return undefined
  }
  return describeValue(args)
}

const textOf = (result: CallToolResult): string =>
  result.content
    .map((c) => (c.type === "text" ? c.text : ""))
    .filter((t) => t !== "")
    .join("\n")

type Connection = {
  readonly client: Client
  readonly transport: StreamableHTTPClientTransport | SSEClientTransport
  readonly kind: TransportKind
}

type ConnectFailure =
  | { readonly stage: "streamable-http"; readonly error: unknown }
  | { readonly stage: "sse"; readonly error: unknown; readonly first: unknown }

const displayUrl = (url: URL): string => `${url.origin}${url.pathname}${url.search}`

/**
 * Connects to the MCP server through the `McpFetch` in context and returns the service; the connection is closed by
 * the scope's finalizer.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  options: Options
): Effect.Effect<
  DatadogMcp["Service"],
  DatadogMcpError.DatadogMcpError,
  McpFetch.McpFetch | Scope.Scope
> =>
  Effect.gen(function*() {
    const mcpFetch = yield* McpFetch.McpFetch
    const url = new URL(options.url)
    const shown = displayUrl(url)
    const mode = mcpFetch.mode
    const policy: RateLimit.Policy | false = options.rateLimit === false
      ? false
      : { ...RateLimit.defaultPolicy, ...options.rateLimit }
    const identified = McpFetch.restrictToOrigin(
      McpFetch.withHeaders(mcpFetch.fetch, () => referrerHeaders(options.referrer)),
      url.origin
    )
    const fetch = policy === false ? identified : yield* RateLimit.wrapFetch(identified, policy)
    // the SDK's request timeout must leave room for the rate-limit waits
    const timeout = (options.requestTimeoutMs ?? 60_000) +
      (policy === false ? 0 : policy.maxWaits * policy.maxWaitSeconds * 1000)
    const clientInfo = { name: options.referrer?.name ?? CLIENT_NAME, version: options.referrer?.version ?? VERSION }

    const connectWith = (kind: TransportKind) =>
      Effect.tryPromise({
        try: async (signal) => {
          const client = new Client(clientInfo, { listMaxPages: options.maxPages ?? 64 })
          // Errors of the optional GET stream (404/405/406, MCP Transports §Listening for Messages) arrive here and
          // are not fatal; request failures reject their own promises.
          // oxlint-disable-next-line unicorn/prefer-add-event-listener -- the SDK offers only this callback
          client.onerror = () => {}
          const transport = kind === "streamable-http"
            ? new StreamableHTTPClientTransport(url, { fetch })
            : new SSEClientTransport(url, { fetch })
          try {
            await client.connect(transport, { signal, timeout })
          } catch (error) {
            await client.close().catch(() => {})
            throw error
          }
          const connection: Connection = { client, transport, kind }
          return connection
        },
        catch: (error) => error
      })

    const connection = yield* connectWith("streamable-http").pipe(
      Effect.mapError((error): ConnectFailure => ({ error, stage: "streamable-http" })),
      Effect.catch(({ error }): Effect.Effect<Connection, ConnectFailure> =>
        shouldFallBackToSse(error)
          ? Effect.logInfo(`${shown} answered the initialize POST with HTTP 404/405; trying the legacy SSE transport`)
            .pipe(
              Effect.andThen(connectWith("sse")),
              Effect.mapError((sseError): ConnectFailure => ({ error: sseError, stage: "sse", first: error }))
            )
          : Effect.fail({ error, stage: "streamable-http" })
      ),
      Effect.mapError((failure) => {
        const mapped = fromUnknown(failure.error, { url: shown, mode, method: "initialize" })
        if (failure.stage !== "sse" || !SdkHttpError.isInstance(failure.first)) return mapped
        // both transports failed: say so, keeping the status of the first answer (usually a wrong URL)
        return DatadogMcpError.make(
          new DatadogMcpError.UnexpectedStatus({
            url: shown,
            status: failure.first.status,
            detail:
              `the initialize POST was answered ${failure.first.status} and the legacy SSE transport failed too (${mapped.message}); is the MCP URL right?`
          })
        )
      })
    )
    const { client, transport } = connection

    let closed = false
    const close = Effect.suspend(() => {
      if (closed) return Effect.void
      closed = true
      return Effect.tryPromise(async () => {
        // MCP Transports §Session Management: clients SHOULD DELETE the session they no longer need (405 is fine)
        if (transport instanceof StreamableHTTPClientTransport) await transport.terminateSession().catch(() => {})
        await client.close()
      }).pipe(Effect.timeout("5 seconds"), Effect.ignore)
    })
    yield* Effect.addFinalizer(() => close)

    const request = <A>(method: string, f: (signal: AbortSignal) => Promise<A>) =>
      Effect.suspend(() =>
        closed
          ? Effect.fail(DatadogMcpError.make(new DatadogMcpError.Closed()))
          : Effect.tryPromise({
            try: f,
            catch: (error) => fromUnknown(error, { url: shown, mode, method })
          })
      )

    const readResource = Effect.fn("DatadogMcp.readResource")(function*(uri: string) {
      return yield* request("resources/read", (signal) => client.readResource({ uri }, { signal, timeout }))
    })

    const callTool = Effect.fn("DatadogMcp.callTool")(
      function*(name: string, args?: { readonly [key: string]: unknown }) {
        // MCP Tools §Calling Tools: `arguments` is an object; refuse anything else (from untyped callers) unsent
        const badArguments = describeNonObject(args)
        if (badArguments !== undefined) {
          return yield* DatadogMcpError.make(
            new DatadogMcpError.InvalidArguments({
              tool: name,
              expected: "a plain object (or absent)",
              got: badArguments
            })
          )
        }
        const result = yield* request(
          "tools/call",
          (signal) =>
            client.callTool(args === undefined ? { name } : { name, arguments: { ...args } }, { signal, timeout })
        )
        // MCP Tools §Error Handling: tool execution errors are reported in the result with isError: true
        if (result.isError === true) {
          return yield* DatadogMcpError.make(
            new DatadogMcpError.ToolError({ tool: name, text: textOf(result), result })
          )
        }
        return result
      }
    )

    const serverVersion = client.getServerVersion()
    return DatadogMcp.of({
      url: shown,
      transport: connection.kind,
      mode,
      serverInfo: serverVersion === undefined
        ? undefined
        : { name: serverVersion.name, version: serverVersion.version },
      // MCP Pagination: follow nextCursor until absent (the SDK's aggregate walk, capped by maxPages)
      listTools: request("tools/list", (signal) => client.listTools(undefined, { signal, timeout })).pipe(
        Effect.map((r) => r.tools),
        Effect.withSpan("DatadogMcp.listTools")
      ),
      callTool,
      readResource,
      whoami: readResource(Whoami.WHOAMI_URI).pipe(
        Effect.flatMap(Whoami.decode),
        Effect.withSpan("DatadogMcp.whoami")
      ),
      close
    })
  })

/**
 * The service as a layer; needs an `McpFetch`.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: Options): Layer.Layer<DatadogMcp, DatadogMcpError.DatadogMcpError, McpFetch.McpFetch> =>
  Layer.effect(DatadogMcp, make(options))

/**
 * The service for a loaded configuration (its MCP URL with toolsets), plus the headless `McpFetch` it asks for (API
 * keys or access token). For OAuth, use `layer` with `McpFetch.layerFromFetch(authorisedFetch)`.
 *
 * **Example** (API-key mode from the environment and `.env`)
 *
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { DatadogConfig, DatadogMcp } from "@mcpauth/mcp-datadog"
 *
 * const Live = Layer.unwrap(Effect.map(DatadogConfig.load(), (config) => DatadogMcp.layerHeadless(config)))
 * const program = Effect.gen(function*() {
 *   const dd = yield* DatadogMcp.DatadogMcp
 *   const tools = yield* dd.listTools
 *   const me = yield* dd.whoami
 *   return { tools: tools.map((t) => t.name), org: me.org_name }
 * }).pipe(Effect.provide(Live))
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layerHeadless = (
  config: DatadogConfig.DatadogConfig,
  options: Omit<Options, "url"> & { readonly fetch?: McpFetch.FetchLike | undefined } = {}
): Layer.Layer<DatadogMcp, DatadogMcpError.DatadogMcpError> =>
  layer({ ...options, url: config.mcpUrl }).pipe(Layer.provide(McpFetch.layerHeadless(config, options)))
