import { assert, describe, it } from "@effect/vitest"
import { DatadogMCPClient, DatadogMcpError, McpFetch } from "@mcpauth/mcp-datadog"
import { UserAgent } from "@mcpauth/oauth2-authorization"
import { TokenStore } from "@mcpauth/token-store"
import { Effect } from "effect"
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises"
import { connect, createServer } from "node:net"
import { tmpdir } from "node:os"
import { basename, join } from "node:path"
import { API_KEY, APP_KEY, PAT, sandbox } from "./support/Sandbox.ts"

/** Awaits a promise that must reject, and returns the DatadogMcpError it rejected with. */
const rejection = (promise: () => Promise<unknown>) =>
  Effect.tryPromise({ try: promise, catch: (e) => e }).pipe(
    Effect.flip,
    Effect.map((error) => {
      assert.instanceOf(error, Error, "rejects with an Error")
      assert.instanceOf(error, DatadogMcpError.DatadogMcpError, "rejects with the typed error")
      return (error as DatadogMcpError.DatadogMcpError).reason
    })
  )

/** A client that is closed with the scope. */
const client = (options: DatadogMCPClient.DatadogMCPClientOptions) =>
  Effect.acquireRelease(
    Effect.sync(() => new DatadogMCPClient.DatadogMCPClient({ env: {}, dotEnvPath: false, ...options })),
    (c) => Effect.promise(() => c.close())
  )

/** Whether something accepts TCP connections on 127.0.0.1:port. */
const listening = (port: number) =>
  Effect.promise(() =>
    new Promise<boolean>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port })
      socket.once("connect", () => {
        socket.destroy()
        resolve(true)
      })
      socket.once("error", () => resolve(false))
    })
  )

/** A temporary directory removed with the scope. */
const tempDir = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "mcp-datadog-facade-"))),
  (d) => Effect.promise(() => rm(d, { recursive: true, force: true }))
)

/** Every file under a directory, relative paths. */
const filesUnder = (dir: string) =>
  Effect.promise(() => readdir(dir, { recursive: true, withFileTypes: true })).pipe(
    Effect.map((entries) => entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)))
  )

describe("DatadogMCPClient (the Promise facade) against the sandbox", () => {
  it.live("close() during an OAuth sign-in interrupts it: initialize rejects with Closed, the listener closes", () =>
    Effect.gen(function*() {
      const s = yield* sandbox({ rateLimit: false })
      const store = yield* tempDir
      let redirect: URL | undefined
      let browserOpened: () => void = () => {}
      const opened = new Promise<void>((resolve) => (browserOpened = resolve))
      const c = new DatadogMCPClient.DatadogMCPClient({
        env: {},
        dotEnvPath: false,
        mcpUrl: s.mcpUrl,
        redirectUri: "http://127.0.0.1:0/callback",
        signIn: {
          // a person who never comes back from the browser
          userAgent: UserAgent.programmatic((url) => {
            redirect = new URL(url.searchParams.get("redirect_uri") ?? "")
            browserOpened()
            return new Promise<never>(() => {})
          }),
          store: TokenStore.layerFile({ directory: store })
        }
      })
      const initialized = c.initialize().then(() => undefined, (e: unknown) => e)
      yield* Effect.promise(() => opened)
      const port = Number(redirect?.port)
      assert.isTrue(yield* listening(port), "the loopback listener waits for the browser")
      const started = Date.now()
      yield* Effect.promise(() => c.close())
      const error = yield* Effect.promise(() => initialized)
      assert.isBelow(Date.now() - started, 5_000, "close() and initialize() settle promptly")
      assert.instanceOf(error, DatadogMcpError.DatadogMcpError)
      assert.strictEqual((error as DatadogMcpError.DatadogMcpError).reason._tag, "Closed")
      assert.isFalse(yield* listening(port), "the loopback listener is closed")
      const files = yield* filesUnder(store)
      // the dynamic registration (client-…) happened before the browser step; no session entry (entry-…) exists
      assert.isFalse(files.some((f) => basename(f).startsWith("entry-")), `no tokens stored: ${files.join(", ")}`)
      assert.isTrue(files.some((f) => basename(f).startsWith("client-")), "the store directory was used")
    }).pipe(Effect.scoped))

  it.effect("initialize, listTools, callTool, readResource, whoami, close", () =>
    Effect.gen(function*() {
      const s = yield* sandbox({ apiKey: API_KEY, appKey: APP_KEY, rateLimit: false })
      const c = yield* client({ mcpUrl: s.mcpUrl, apiKey: API_KEY, appKey: APP_KEY, toolsets: ["core", "alerting"] })
      yield* Effect.promise(() => c.initialize())
      yield* Effect.promise(() => c.initialize())
      assert.strictEqual(c.config?.auth._tag, "ApiKey")
      const tools = yield* Effect.promise(() => c.listTools())
      assert.include(tools.map((t) => t.name), "search_datadog_slos")
      const result = yield* Effect.promise(() => c.callTool("search_datadog_logs", { query: "status:error" }))
      assert.isAbove(result.content.length, 0)
      const resource = yield* Effect.promise(() => c.readResource("datadog://mcp/toolsets"))
      assert.strictEqual(resource.contents[0]?.uri, "datadog://mcp/toolsets")
      const me = yield* Effect.promise(() => c.whoami())
      assert.strictEqual(me.org_name, "Sandbox Org")
      const toolError = yield* rejection(() => c.callTool("get_datadog_trace", {}))
      assert.strictEqual(toolError._tag, "ToolError")
      yield* Effect.promise(() => c.close())
      const closed = yield* rejection(() => c.listTools())
      assert.strictEqual(closed._tag, "Closed")
      assert.strictEqual((yield* rejection(() => c.initialize()))._tag, "Closed")
    }).pipe(Effect.scoped))

  it.effect("MCP Tools §Calling Tools: arguments that are not a plain object are refused before any request", () =>
    Effect.gen(function*() {
      const s = yield* sandbox({ apiKey: API_KEY, appKey: APP_KEY, rateLimit: false })
      const c = yield* client({ mcpUrl: s.mcpUrl, apiKey: API_KEY, appKey: APP_KEY })
      yield* Effect.promise(() => c.initialize())
      const before = s.stats().requests.length
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        ["hello", "a string"],
        [["a"], "an array"],
        [null, "null"],
        [42, "a number"],
        [new Map([["query", "x"]]), "an instance of Map"]
      ]
      for (const [args, got] of cases) {
        const reason = yield* rejection(() =>
          c.callTool("search_datadog_logs", args as { readonly [k: string]: unknown })
        )
        assert.strictEqual(reason._tag, "InvalidArguments")
        assert.include(reason.message, `the arguments of the tool "search_datadog_logs" must be a plain object`)
        assert.include(reason.message, `got ${got}`)
      }
      assert.strictEqual(s.stats().requests.length, before, "nothing was sent")
      // a plain object, one without a prototype, and no arguments at all are fine
      assert.isAbove((yield* Effect.promise(() => c.callTool("search_datadog_logs", { query: "*" }))).content.length, 0)
      const bare = Object.assign(Object.create(null) as Record<string, unknown>, { query: "*" })
      assert.isAbove((yield* Effect.promise(() => c.callTool("search_datadog_logs", bare))).content.length, 0)
      assert.isAbove((yield* Effect.promise(() => c.callTool("search_datadog_logs"))).content.length, 0)
    }).pipe(Effect.scoped))

  it.effect("methods initialize on first use; the configuration comes from a .env file", () =>
    Effect.gen(function*() {
      const s = yield* sandbox({ personalAccessToken: PAT, rateLimit: false })
      const dir = yield* Effect.acquireRelease(
        Effect.promise(() => mkdtemp(join(tmpdir(), "mcp-datadog-facade-"))),
        (d) => Effect.promise(() => rm(d, { recursive: true, force: true }))
      )
      const path = join(dir, ".env")
      yield* Effect.promise(() =>
        writeFile(path, `# sandbox\nDATADOG_MCP_URL=${s.mcpUrl}\nexport DATADOG_ACCESS_TOKEN="${PAT}"\n`)
      )
      const c = yield* client({ dotEnvPath: path })
      const me = yield* Effect.promise(() => c.whoami())
      assert.strictEqual(me.org_name, "Sandbox Org")
      assert.strictEqual(c.config?.auth._tag, "AccessToken")
    }).pipe(Effect.scoped))

  it.effect("failures reject with the typed error; a failed initialize can be retried", () =>
    Effect.gen(function*() {
      const s = yield* sandbox({ apiKey: API_KEY, appKey: APP_KEY, rateLimit: false })
      const wrong = yield* client({ mcpUrl: s.mcpUrl, apiKey: API_KEY, appKey: "wrong-s3cret" })
      const reason = yield* rejection(() => wrong.initialize())
      assert.strictEqual(reason._tag, "AuthFailed")
      assert.notInclude(reason.message, "s3cret")
      const again = yield* rejection(() => wrong.listTools())
      assert.strictEqual(again._tag, "AuthFailed")
      const before = s.stats().requests.length
      yield* rejection(() => wrong.initialize())
      assert.isAbove(s.stats().requests.length, before, "a retry talks to the server again")
    }).pipe(Effect.scoped))

  it.effect("OAuth mode, nothing listening: ConnectionFailed naming the URL and ECONNREFUSED, not the credentials", () =>
    Effect.gen(function*() {
      // a port that was free a moment ago, so nothing answers on it
      const port = yield* Effect.promise(() =>
        new Promise<number>((resolve) => {
          const server = createServer()
          server.listen(0, "127.0.0.1", () => {
            const address = server.address()
            server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
          })
        })
      )
      const c = yield* client({
        mcpUrl: `http://127.0.0.1:${port}/v1/mcp`,
        signIn: { userAgent: UserAgent.programmatic(() => new Promise<never>(() => {})), store: TokenStore.layerMemory }
      })
      const reason = yield* rejection(() => c.initialize())
      assert.strictEqual(reason._tag, "ConnectionFailed")
      assert.include(reason.message, `cannot talk to the MCP server at http://127.0.0.1:${port}/v1/mcp`)
      assert.include(reason.message, `ECONNREFUSED 127.0.0.1:${port}`)
      assert.notInclude(reason.message, "credentials")
    }).pipe(Effect.scoped))

  it.effect("configuration errors reject naming the variable", () =>
    Effect.gen(function*() {
      const gov = yield* client({ site: "ddog-gov.com" })
      const reason = yield* rejection(() => gov.initialize())
      assert.strictEqual(reason._tag, "UnsupportedSite")
      const half = yield* client({ apiKey: "only-the-api-key" })
      const missing = yield* rejection(() => half.listTools())
      assert.strictEqual(missing._tag, "InvalidConfig")
      assert.include(missing.message, "DD_APPLICATION_KEY")
    }).pipe(Effect.scoped))

  it.effect("OAuth mode by default runs the MCP authorization flow (discovery, DCR, PKCE) against the sandbox", () =>
    Effect.gen(function*() {
      const s = yield* sandbox({ rateLimit: false })
      const steps: Array<string> = []
      const c = yield* client({
        mcpUrl: s.mcpUrl,
        // an ephemeral loopback port: with the default 8080 taken by another process, a dynamic client correctly
        // moves to a free port and registers that redirect URI too, which would change the count asserted below
        redirectUri: "http://127.0.0.1:0/callback",
        signIn: {
          // the sandbox's automatic consent answers /authorize with one redirect to our loopback callback
          userAgent: UserAgent.programmatic(async (url) => {
            const res = await fetch(url, { redirect: "manual" })
            return new URL(res.headers.get("location") ?? "", url)
          }),
          store: TokenStore.layerMemory,
          events: (e) => steps.push(`${e.step}:${e.phase}`)
        }
      })
      assert.isAbove((yield* Effect.promise(() => c.listTools())).length, 5)
      assert.strictEqual(c.config?.auth._tag, "OAuth")
      assert.strictEqual((yield* Effect.promise(() => c.whoami())).org_name, "Sandbox Org")
      assert.includeMembers(steps, ["discovery:done", "registration:done", "authorization:done"])
      assert.strictEqual(s.stats().requests.filter((r) => r.method === "POST" && r.path.endsWith("register")).length, 1)
    }).pipe(Effect.scoped))

  it.effect("OAuth mode keeps tokens in MCPAUTH_HOME from the env option, and nowhere else", () =>
    Effect.gen(function*() {
      const s = yield* sandbox({ rateLimit: false })
      const home = yield* tempDir
      const elsewhere = yield* tempDir
      // where the file store would go by default: the real environment points it at `elsewhere` for this test
      yield* Effect.acquireRelease(
        Effect.sync(() => {
          const saved = { MCPAUTH_HOME: process.env["MCPAUTH_HOME"], XDG_CONFIG_HOME: process.env["XDG_CONFIG_HOME"] }
          delete process.env["MCPAUTH_HOME"]
          process.env["XDG_CONFIG_HOME"] = elsewhere
          return saved
        }),
        (saved) =>
          Effect.sync(() => {
            for (const [name, value] of Object.entries(saved)) {
              if (value === undefined) delete process.env[name]
              else process.env[name] = value
            }
          })
      )
      const c = yield* client({
        env: { MCPAUTH_HOME: home },
        mcpUrl: s.mcpUrl,
        redirectUri: "http://127.0.0.1:0/callback",
        signIn: {
          userAgent: UserAgent.programmatic(async (url) => {
            const res = await fetch(url, { redirect: "manual" })
            return new URL(res.headers.get("location") ?? "", url)
          })
        }
      })
      assert.strictEqual((yield* Effect.promise(() => c.whoami())).org_name, "Sandbox Org")
      const stored = (yield* filesUnder(home)).map((f) => basename(f))
      assert.isTrue(stored.some((f) => f.startsWith("client-")), `the registration is in MCPAUTH_HOME: ${stored}`)
      assert.isTrue(stored.some((f) => f.startsWith("entry-")), `the tokens are in MCPAUTH_HOME: ${stored}`)
      assert.deepStrictEqual(yield* filesUnder(elsewhere), [], "nothing in the default directory")
      assert.strictEqual(c.config?.storeDirectory, home)
    }).pipe(Effect.scoped))

  it.effect("OAuth mode: an authorised fetch or an oauth layer given by the caller is used instead", () =>
    Effect.gen(function*() {
      const s = yield* sandbox({ personalAccessToken: PAT, rateLimit: false })
      let calls = 0
      const authorizedFetch: McpFetch.FetchLike = (input, init) => {
        calls++
        const headers = new Headers(init?.headers)
        headers.set("authorization", `Bearer ${PAT}`)
        return fetch(input, { ...init, headers })
      }
      const oauth = yield* client({ mcpUrl: s.mcpUrl, authorizedFetch })
      assert.isAbove((yield* Effect.promise(() => oauth.listTools())).length, 0)
      assert.isAbove(calls, 0)
      assert.strictEqual(oauth.config?.auth._tag, "OAuth")
      const viaLayer = yield* client({
        mcpUrl: s.mcpUrl,
        oauth: (config) => McpFetch.layerFromFetch(authorizedFetch, config.auth._tag === "OAuth" ? "oauth" : "api-key")
      })
      assert.strictEqual((yield* Effect.promise(() => viaLayer.whoami())).org_name, "Sandbox Org")
    }).pipe(Effect.scoped))
})
