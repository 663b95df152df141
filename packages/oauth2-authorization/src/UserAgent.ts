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
 * Reads the pasted redirect URL: the first non-blank line of `input`, trimmed (a user pressing Enter before pasting
 * does not abort the sign-in). Fails with `UserAgentFailed` when `input` ends first. Settles exactly once, and stops
 * reading afterwards (the stream is paused, never destroyed), so a process whose stdin stays open can still exit.
 *
 * @category constructors
 * @since 0.1.0
 */
export const readLineFrom = (input: NodeJS.ReadableStream): Effect.Effect<string, OAuth2AuthorizationError> =>
  Effect.callback<string, OAuth2AuthorizationError>((resume) => {
    // a socket (stdin as a pipe or TTY) keeps reading, and the process alive, while it is referenced: referenced
    // while we wait, released afterwards (and referenced again by the next read, e.g. a later sign-in)
    const handle = input as { ref?: () => void; unref?: () => void }
    handle.ref?.()
    const rl = Readline.createInterface({ input, terminal: false })
    let settled = false
    const release = () => {
      rl.close()
      handle.unref?.()
    }
    // `rl.close()` emits "close" synchronously: the first outcome wins, later ones are ignored
    const settle = (outcome: Effect.Effect<string, OAuth2AuthorizationError>) => {
      if (settled) return
      settled = true
      resume(outcome)
    }
    rl.on("line", (line) => {
      const pasted = line.trim()
      if (pasted === "") return
      settle(Effect.succeed(pasted))
      release()
    })
    rl.once("close", () => settle(failed("standard input closed before a redirect URL was pasted")))
    return Effect.sync(() => {
      settled = true
      release()
    })
  })

/**
 * Reads the pasted redirect URL from standard input (see {@link readLineFrom}).
 *
 * @category constructors
 * @since 0.1.0
 */
export const readLineFromStdin: Effect.Effect<string, OAuth2AuthorizationError> = Effect.suspend(() =>
  readLineFrom(process.stdin)
)

const pasteReader = (options: {
  readonly readLine?: Effect.Effect<string, OAuth2AuthorizationError> | undefined
  readonly input?: NodeJS.ReadableStream | undefined
}) => options.readLine ?? (options.input === undefined ? readLineFromStdin : readLineFrom(options.input))

/**
 * Whether a browser window can be shown on this machine: on Linux (and other Unix desktops) only with `DISPLAY` or
 * `WAYLAND_DISPLAY` set; macOS and Windows always can.
 *
 * @category guards
 * @since 0.1.0
 */
export const hasDisplay = (
  env: Readonly<Record<string, string | undefined>> = process.env,
  platform: string = process.platform
): boolean => platform === "darwin" || platform === "win32" || Boolean(env["DISPLAY"] || env["WAYLAND_DISPLAY"])

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
  /** The stream the pasted URL is read from when `readLine` is not given; default standard input. */
  readonly input?: NodeJS.ReadableStream | undefined
  /**
   * Whether a browser can be shown here (default: {@link hasDisplay}). Without one (e.g. over SSH) no browser is
   * launched: the URL is printed and the final redirect URL may be pasted, raced with the loopback listener.
   */
  readonly display?: boolean | undefined
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
    if (!(options.display ?? (options.open !== undefined || hasDisplay()))) {
      yield* printUrl(
        handOff.authorizationUrl,
        "No display was found here, so no browser is opened: open the URL above in a browser on any machine.\n" +
          `If that browser cannot reach ${handOff.redirectUri}, paste the full URL it ends on here:`
      )
      return yield* Effect.raceFirst(handOff.callback.value, pasteReader(options))
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
      ? Effect.raceFirst(handOff.callback.value, pasteReader(options))
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
  /** Where the pasted line comes from; default: the first non-blank line of `input`. */
  readonly readLine?: Effect.Effect<string, OAuth2AuthorizationError> | undefined
  /** The stream the pasted URL is read from when `readLine` is not given; default standard input. */
  readonly input?: NodeJS.ReadableStream | undefined
} = {}): UserAgent =>
(handOff) =>
  Effect.gen(function*() {
    yield* printUrl(
      handOff.authorizationUrl,
      `After signing in, your browser is sent to ${handOff.redirectUri}?… (the page may fail to load on another machine).\nCopy the full URL from the address bar and paste it here:`
    )
    const paste = pasteReader(options)
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
