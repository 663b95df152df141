/**
 * The loopback redirect listener of a native app: binds 127.0.0.1, accepts exactly one callback on the configured
 * path, answers a small page, then closes.
 *
 * @see [RFC 8252 §7.3 - Loopback Interface Redirection](https://www.rfc-editor.org/rfc/rfc8252#section-7.3)
 * @see [RFC 8252 §8.3 - Loopback Redirect Considerations](https://www.rfc-editor.org/rfc/rfc8252#section-8.3)
 * @since 0.1.0
 */
import { Console, Deferred, Duration, Effect, Option } from "effect"
import type { Scope } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { CallbackPortInUse, CallbackTimeout, fail, UserAgentFailed } from "./OAuth2AuthorizationError.ts"
import type { OAuth2AuthorizationError } from "./OAuth2AuthorizationError.ts"

/**
 * Options of {@link listen}.
 *
 * @category models
 * @since 0.1.0
 */
export interface LoopbackOptions {
  /**
   * Host name written into the redirect URI (RFC 8252 §8.3 recommends the IP literal, the default). The listener
   * binds `127.0.0.1`; with `"localhost"` it also binds `::1` on the same port where IPv6 loopback exists.
   */
  readonly host?: "127.0.0.1" | "localhost" | undefined
  /** Port to bind; `0` (default) picks a free one. */
  readonly port?: number | undefined
  /** Callback path; default `/callback`. */
  readonly path?: string | undefined
  /**
   * The redirect URI (with this port) is pre-registered: a taken port is an error instead of a move to a free port.
   */
  readonly fixedPort?: boolean | undefined
  /** How long {@link LoopbackListener.awaitCallback} waits; default 5 minutes. */
  readonly timeout?: Duration.Input | undefined
}

/**
 * What the page shown to the user says.
 *
 * @category models
 * @since 0.1.0
 */
export type CallbackOutcome = { readonly ok: true } | { readonly ok: false; readonly message: string }

/**
 * A running listener.
 *
 * @category models
 * @since 0.1.0
 */
export interface LoopbackListener {
  /** The redirect URI to register and send: `http://127.0.0.1:<port><path>`. */
  readonly redirectUri: string
  readonly port: number
  /** Waits (with the configured timeout) for the one callback; the URL is the full redirect URL received. */
  readonly awaitCallback: Effect.Effect<URL, OAuth2AuthorizationError>
  /** Answers the waiting browser with a success or error page (HTML-escaped). */
  readonly respond: (outcome: CallbackOutcome) => Effect.Effect<void>
}

/**
 * Escapes text for HTML.
 *
 * @category encoding
 * @since 0.1.0
 */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/**
 * The page answered to the browser.
 *
 * @category constructors
 * @since 0.1.0
 */
export const page = (outcome: CallbackOutcome): string => {
  const title = outcome.ok ? "Signed in" : "Sign-in failed"
  const body = outcome.ok
    ? "The authorization is complete. You can close this window and return to the application."
    : escapeHtml(outcome.message)
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${body}</p></body></html>`
}

const bind = (handler: Http.RequestListener, port: number, address = "127.0.0.1") =>
  Effect.callback<Http.Server, NodeJS.ErrnoException>((resume) => {
    const server = Http.createServer(handler)
    server.once("error", (error: NodeJS.ErrnoException) => resume(Effect.fail(error)))
    // RFC 8252 §8.3: listen on the loopback interface only
    server.listen(port, address, () => resume(Effect.succeed(server)))
  })

const close = (server: Http.Server) =>
  Effect.callback<void>((resume) => {
    server.close(() => resume(Effect.void))
    server.closeAllConnections()
  })

/**
 * Starts the listener in the current scope (closed with it).
 *
 * **Example** (wait for the redirect)
 *
 * ```ts
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const listener = yield* LoopbackCallback.listen({ port: 0 })
 *   // register / send listener.redirectUri, send the user to the authorization URL, then:
 *   const redirect = yield* listener.awaitCallback
 *   yield* listener.respond({ ok: true })
 * }))
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const listen = (
  options: LoopbackOptions = {}
): Effect.Effect<LoopbackListener, OAuth2AuthorizationError, Scope.Scope> =>
  Effect.gen(function*() {
    const path = options.path ?? "/callback"
    const uriHost = options.host ?? "127.0.0.1"
    const requested = options.port ?? 0
    const timeoutMillis = Duration.toMillis(Duration.fromInputUnsafe(options.timeout ?? Duration.minutes(5)))
    const received = Deferred.makeUnsafe<URL>()
    let waiting: Http.ServerResponse | undefined
    let accepted = false
    let port = requested

    const handler: Http.RequestListener = (req, res) => {
      const url = new URL(req.url ?? "/", `http://${uriHost}:${port}`)
      if (req.method !== "GET" || url.pathname !== path) {
        res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found")
        return
      }
      // RFC 8252 §7.3: exactly one callback is accepted
      if (accepted) {
        res.writeHead(409, { "content-type": "text/html; charset=utf-8" }).end(
          page({ ok: false, message: "This sign-in was already completed or abandoned." })
        )
        return
      }
      accepted = true
      waiting = res
      Deferred.doneUnsafe(received, Effect.succeed(url))
    }

    const server = yield* bind(handler, requested).pipe(
      Effect.catch((error) => {
        if (error.code === "EADDRINUSE" && options.fixedPort) {
          return Effect.fail(
            fail(
              new CallbackPortInUse({
                host: "127.0.0.1",
                port: requested,
                redirectUri: `http://${uriHost}:${requested}${path}`
              })
            )
          )
        }
        if (error.code === "EADDRINUSE") {
          // RFC 8252 §7.3: any port may be used when the redirect URI is registered afterwards (dynamically)
          return Effect.logWarning(`port ${requested} is in use; listening on a free port instead`).pipe(
            Effect.andThen(bind(handler, 0)),
            Effect.mapError((e) => fail(new UserAgentFailed({ detail: `cannot listen on 127.0.0.1: ${e.message}` })))
          )
        }
        return Effect.fail(fail(new UserAgentFailed({ detail: `cannot listen on 127.0.0.1: ${error.message}` })))
      })
    )
    port = (server.address() as AddressInfo).port
    const redirectUri = `http://${uriHost}:${port}${path}`
    // a "localhost" redirect may reach ::1 first: listen there too on the same port, where IPv6 loopback exists
    const v6 = uriHost === "localhost"
      ? yield* bind(handler, port, "::1").pipe(Effect.option)
      : Option.none<Http.Server>()

    const respond = (outcome: CallbackOutcome) =>
      Effect.sync(() => {
        const res = waiting
        waiting = undefined
        if (res !== undefined && !res.writableEnded) {
          res.writeHead(outcome.ok ? 200 : 400, {
            "content-type": "text/html; charset=utf-8",
            "cache-control": "no-store"
          }).end(page(outcome))
        }
      })

    yield* Effect.addFinalizer(() =>
      respond({ ok: false, message: "The application stopped waiting for this sign-in." }).pipe(
        Effect.andThen(close(server)),
        Effect.andThen(Option.isSome(v6) ? close(v6.value) : Effect.void)
      )
    )

    const awaitCallback = Effect.gen(function*() {
      yield* Console.error(
        `Waiting up to ${Math.round(timeoutMillis / 1000)}s for the authorization server to redirect to ${redirectUri}`
      )
      return yield* Deferred.await(received).pipe(
        Effect.timeoutOrElse({
          duration: Duration.millis(timeoutMillis),
          orElse: () => Effect.fail(fail(new CallbackTimeout({ redirectUri, timeoutMillis })))
        })
      )
    })

    return { redirectUri, port, awaitCallback, respond }
  })
