/**
 * How the user gets to the authorization URL and how the redirect comes back: the system browser with the loopback
 * listener, headless (print the URL, paste the final redirect URL back), or a programmatic hand-off function.
 *
 * The URL is always printed, so a user on a remote machine can open it elsewhere.
 *
 * @see [RFC 8252 §4.1 / §7.3 - native apps, loopback redirection](https://www.rfc-editor.org/rfc/rfc8252#section-7.3)
 * @since 0.1.0
 */
import { Console, Effect, Option, Predicate } from "effect"
import * as Readline from "node:readline"
import open from "open"
import { fail, UserAgentFailed } from "./OAuth2AuthorizationError.ts"
import type { OAuth2AuthorizationError } from "./OAuth2AuthorizationError.ts"

/**
 * What a user agent is given.
 *
 * @category models
 * @since 0.1.0
 */
export interface HandOff {
  readonly authorizationUrl: URL
  readonly redirectUri: string
  /** The loopback listener's wait for the redirect, when a listener runs. */
  readonly callback: Option.Option<Effect.Effect<URL, OAuth2AuthorizationError>>
}

/**
 * A user agent: takes the user to the authorization URL and yields the full redirect URL it ends on.
 *
 * @category models
 * @since 0.1.0
 */
export type UserAgent = (handOff: HandOff) => Effect.Effect<URL | string, OAuth2AuthorizationError>

const failed = (detail: string) => fail(new UserAgentFailed({ detail }))

/**
 * Only `http:` and `https:` URLs are ever handed to the system browser launcher.
 *
 * @category guards
 * @since 0.1.0
 */
export const isOpenable = (url: URL): boolean => url.protocol === "https:" || url.protocol === "http:"

const printUrl = (url: URL, extra: string) =>
  Console.error(`\nTo sign in, open this URL in a browser:\n\n  ${url.href}\n\n${extra}`)

/**
 * Reads one line from standard input.
 *
 * @category constructors
 * @since 0.1.0
 */
export const readLineFromStdin: Effect.Effect<string, OAuth2AuthorizationError> = Effect.callback<
  string,
  OAuth2AuthorizationError
>((resume) => {
  const rl = Readline.createInterface({ input: process.stdin, terminal: false })
  rl.once("line", (line) => {
    rl.close()
    resume(Effect.succeed(line))
  })
  rl.once("close", () => resume(Effect.fail(failed("standard input closed before a redirect URL was pasted"))))
  return Effect.sync(() => rl.close())
})

/**
 * The system browser: prints the URL, opens it with the `open` package (no shell; http/https only) and waits for the
 * loopback listener. Failing to launch a browser is not an error: the URL was printed.
 *
 * @category constructors
 * @since 0.1.0
 */
export const browser = (options: {
  /** Replaces the browser launch (tests: a scripted browser). */
  readonly open?: ((url: string) => Promise<unknown>) | undefined
  /**
   * Also accept the final redirect URL pasted on standard input (or from `readLine`), raced with the listener:
   * for a user whose browser runs on another machine.
   */
  readonly acceptPaste?: boolean | undefined
  readonly readLine?: Effect.Effect<string, OAuth2AuthorizationError> | undefined
} = {}): UserAgent =>
(handOff) =>
  Effect.gen(function*() {
    if (!isOpenable(handOff.authorizationUrl)) {
      return yield* failed(
        `refusing to open a ${handOff.authorizationUrl.protocol} URL; only http and https are opened`
      )
    }
    if (Option.isNone(handOff.callback)) {
      return yield* failed("the browser user agent needs a loopback listener for the redirect")
    }
    yield* printUrl(
      handOff.authorizationUrl,
      options.acceptPaste
        ? "A browser window is being opened for you. If your browser runs on another machine, paste the full URL it ends on here:"
        : "A browser window is being opened for you."
    )
    const launch = options.open ?? ((url: string) => open(url, { wait: false }))
    yield* Effect.tryPromise(() => launch(handOff.authorizationUrl.href)).pipe(
      Effect.catch((error) =>
        Effect.logWarning(`could not open a browser (${String(error)}); open the URL printed above yourself`)
      ),
      Effect.forkDetach
    )
    return yield* options.acceptPaste
      ? Effect.raceFirst(handOff.callback.value, options.readLine ?? readLineFromStdin)
      : handOff.callback.value
  })

/**
 * Headless: prints the URL and asks the user to paste the full URL their browser ended on (works when the browser
 * runs on another machine). A local loopback listener, when present, is raced with the paste.
 *
 * @category constructors
 * @since 0.1.0
 */
export const headless = (options: {
  /** Where the pasted line comes from; default standard input. */
  readonly readLine?: Effect.Effect<string, OAuth2AuthorizationError> | undefined
} = {}): UserAgent =>
(handOff) =>
  Effect.gen(function*() {
    yield* printUrl(
      handOff.authorizationUrl,
      `After signing in, your browser is sent to ${handOff.redirectUri}?… (the page may fail to load on another machine).\nCopy the full URL from the address bar and paste it here:`
    )
    const paste = options.readLine ?? readLineFromStdin
    return yield* Option.match(handOff.callback, {
      onNone: () => paste,
      onSome: (callback) => Effect.raceFirst(callback, paste)
    })
  })

/**
 * A programmatic hand-off: a function receives the authorization URL and returns the redirect URL (tests, the
 * conformance client).
 *
 * @category constructors
 * @since 0.1.0
 */
export const programmatic = (
  handOff: (authorizationUrl: URL) => Promise<string | URL> | Effect.Effect<string | URL, OAuth2AuthorizationError>
): UserAgent =>
(input) =>
  Effect.suspend(() => {
    const result = handOff(input.authorizationUrl)
    return Predicate.isPromiseLike(result)
      ? Effect.tryPromise({
        try: () => result,
        catch: (error) => failed(`the hand-off function failed: ${String(error)}`)
      })
      : result
  })
