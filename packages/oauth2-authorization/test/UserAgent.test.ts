import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Option } from "effect"
import { spawn } from "node:child_process"
import * as Path from "node:path"
import { PassThrough } from "node:stream"
import { OAuth2Client, UserAgent } from "../src/index.ts"
import type { HandOff } from "../src/UserAgent.ts"
import { metadataOf, register, RESOURCE, startProvider, TestLayer } from "./helpers.ts"

const REDIRECT = "http://127.0.0.1:7777/cb"
const handOff: HandOff = {
  authorizationUrl: new URL("http://127.0.0.1:9/authorize?state=s"),
  redirectUri: REDIRECT,
  callback: Option.none()
}

describe("UserAgent.headless (RFC 8252 §7.3: the redirect URL pasted by the user)", () => {
  it.live("a pasted line on the input stream completes the hand-off with that URL, trimmed", () =>
    Effect.gen(function*() {
      const input = new PassThrough()
      const fiber = yield* Effect.forkChild(UserAgent.headless({ input })(handOff))
      // the user presses Enter first, then pastes the URL with stray whitespace, in two chunks
      input.write("\n   \n  http://127.0.0.1:7777/cb?code=c")
      yield* Effect.sleep("20 millis")
      input.write("&state=s  \nsomething typed later\n")
      const pasted = yield* Fiber.join(fiber)
      assert.strictEqual(String(pasted), "http://127.0.0.1:7777/cb?code=c&state=s")
      // reading stopped: the stream is released, not kept flowing
      assert.isTrue(input.isPaused())
    }))

  it.live("blank lines alone keep waiting; the input closing fails with UserAgentFailed", () =>
    Effect.gen(function*() {
      const input = new PassThrough()
      const fiber = yield* Effect.forkChild(Effect.flip(UserAgent.headless({ input })(handOff)))
      input.write("\n\n")
      yield* Effect.sleep("50 millis")
      assert.isUndefined(fiber.pollUnsafe())
      input.end()
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error.reason._tag, "UserAgentFailed")
      assert.include(error.message, "closed before a redirect URL was pasted")
    }))

  it.live(
    "real standard input (a pipe kept open): the pasted URL is returned and the process exits by itself",
    () =>
      Effect.promise(() =>
        new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
          const child = spawn(process.execPath, [Path.join(import.meta.dirname, "fixtures", "headless-paste.ts")], {
            stdio: ["pipe", "pipe", "ignore"]
          })
          let stdout = ""
          child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
          const timer = setTimeout(() => {
            child.kill()
            reject(new Error(`the process did not exit with its stdin open; stdout: ${stdout}`))
          }, 15_000)
          child.on("exit", (code) => {
            clearTimeout(timer)
            child.stdin.destroy()
            resolve({ code, stdout })
          })
          // the pipe stays open after the line: only the process itself can end the wait
          child.stdin.write(`\n${REDIRECT}?code=c&state=s\n`)
        })
      ).pipe(Effect.map(({ code, stdout }) => {
        assert.strictEqual(code, 0)
        assert.deepStrictEqual(JSON.parse(stdout), { pasted: `${REDIRECT}?code=c&state=s` })
      })),
    30_000
  )

  it.live("end to end against oidc-provider: the redirect URL pasted on the input stream yields tokens", () =>
    Effect.gen(function*() {
      const op = yield* startProvider()
      const metadata = yield* metadataOf(op)
      const client = yield* register(op, REDIRECT)
      const oauth = yield* OAuth2Client.OAuth2Client
      const input = new PassThrough()
      const { tokens } = yield* oauth.authorize({
        metadata,
        client,
        resource: RESOURCE,
        redirectUri: REDIRECT,
        userAgent: (given) => {
          // the user signs in elsewhere (the fixture's scripted browser) and pastes the final address bar contents
          void op.authorize(given.authorizationUrl).then((url) => input.write(`\n${url}\n`))
          return UserAgent.headless({ input })(given)
        }
      })
      assert.strictEqual(tokens.token_type, "Bearer")
      assert.isDefined(tokens.refresh_token)
    }).pipe(Effect.provide(TestLayer)))
})

describe("UserAgent.browser without a display (e.g. over SSH)", () => {
  it.effect.each<[Record<string, string>, string, boolean]>([
    [{}, "linux", false],
    [{ DISPLAY: ":0" }, "linux", true],
    [{ WAYLAND_DISPLAY: "wayland-0" }, "linux", true],
    [{}, "darwin", true],
    [{}, "win32", true],
    [{ DISPLAY: "" }, "freebsd", false]
  ])(
    "hasDisplay(%j, %s) is %s",
    ([env, platform, expected]) => Effect.sync(() => assert.strictEqual(UserAgent.hasDisplay(env, platform), expected))
  )

  it.live("opens nothing, says so, and accepts the pasted redirect URL (raced with the listener)", () =>
    Effect.gen(function*() {
      const input = new PassThrough()
      let opened = 0
      const agent = UserAgent.browser({ display: false, input, open: () => Promise.resolve(void opened++) })
      const withListener: HandOff = { ...handOff, callback: Option.some(Effect.never) }
      const fiber = yield* Effect.forkChild(agent(withListener))
      input.write("http://127.0.0.1:7777/cb?code=c&state=s\n")
      const pasted = yield* Fiber.join(fiber)
      assert.strictEqual(String(pasted), "http://127.0.0.1:7777/cb?code=c&state=s")
      assert.strictEqual(opened, 0)
    }))

  it.live("with a display, the browser is launched and the listener's redirect is used", () =>
    Effect.gen(function*() {
      // the launch runs in the background: the test waits for it, not for a fixed time
      const launched = yield* Deferred.make<string>()
      const agent = UserAgent.browser({
        display: true,
        open: (url) => Promise.resolve(Deferred.doneUnsafe(launched, Exit.succeed(url)))
      })
      const redirect = new URL("http://127.0.0.1:7777/cb?code=c&state=s")
      const result = yield* agent({ ...handOff, callback: Option.some(Effect.succeed(redirect)) })
      assert.strictEqual(String(result), String(redirect))
      assert.strictEqual(
        yield* Deferred.await(launched).pipe(Effect.timeout("20 seconds")),
        handOff.authorizationUrl.href
      )
    }))
})
