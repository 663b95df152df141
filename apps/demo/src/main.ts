// The basic demo: the whole MCP-compliant OAuth flow, step by step.
//   ./run demo                      against the local sandbox (no account, no network)
//   ./run demo --site datadoghq.eu  against Datadog (opens your browser; --headless to paste the redirect instead)
import { NodeRuntime } from "@effect/platform-node"
import { McpAuthorization } from "@mcpauth/mcp-auth"
import { DatadogConfig, DatadogMcp, DatadogOAuth, DotEnv, McpFetch } from "@mcpauth/mcp-datadog"
import { UserAgent } from "@mcpauth/oauth2-authorization"
import { startSandbox } from "@mcpauth/sandbox"
import type { Sandbox } from "@mcpauth/sandbox"
import { TokenStore } from "@mcpauth/token-store"
import { Cause, Effect, Exit, Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { existsSync } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { automaticConsent } from "./Consent.ts"
import * as R from "./Render.ts"

const HELP = `Usage: ./run demo [options]

With no site or URL configured, the demo starts the local sandbox (a Datadog look-alike with a real
authorization server) and runs the whole flow against it, non-interactively.

Options:
  --site <site>   talk to Datadog at this site (datadoghq.com, datadoghq.eu, us3.datadoghq.com, …);
                  also DATADOG_SITE in the environment or .env
  --url <url>     an MCP server URL (also DATADOG_MCP_URL)
  --headless      do not open a browser: print the URL, then paste the final redirect URL back
  --store <dir>   where tokens are kept (default: ~/.config/mcpauth, or $MCPAUTH_HOME; the sandbox run uses a
                  fresh temporary directory so that every run shows the whole flow)
  --help          this text
`

const parse = () => {
  try {
    return parseArgs({
      options: {
        site: { type: "string" },
        url: { type: "string" },
        headless: { type: "boolean", default: false },
        store: { type: "string" },
        help: { type: "boolean", default: false }
      },
      strict: true,
      allowPositionals: false
    })
  } catch (error) {
    // a bad flag is a one-line message and the usage, never a stack trace
    process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n\n${HELP}`)
    process.exit(2)
  }
}
const args = parse()
// An empty --url or --site is a mistake, never "use the default site" (that would be production Datadog)
for (const name of ["url", "site", "store"] as const) {
  if (args.values[name] !== undefined && args.values[name].trim() === "") {
    process.stderr.write(`demo: --${name} needs a value\n\n${HELP}`)
    process.exit(2)
  }
}

const configuredTarget = Effect.gen(function*() {
  if (args.values.site !== undefined || args.values.url !== undefined) return true
  if (process.env["DATADOG_SITE"] || process.env["DATADOG_MCP_URL"]) return true
  if (!existsSync(".env")) return false
  const file = yield* DotEnv.load(".env")
  return Boolean(file["DATADOG_SITE"] || file["DATADOG_MCP_URL"])
})

const requestsByEndpoint = (sandbox: Sandbox, from = 0) => {
  const counts = new Map<string, number>()
  for (const r of sandbox.stats().requests.slice(from)) {
    const key = `${r.method} ${r.path} → ${r.status}`
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  return [...counts].map(([k, n]) => [String(n), k])
}

const authRequests = (sandbox: Sandbox, from: number) =>
  sandbox.stats().requests.slice(from).filter((r) =>
    r.path.startsWith("/.well-known/") || r.path.includes("register") || r.path.endsWith("token") ||
    r.path.includes("authorize")
  ).length

const textOf = (result: { readonly content?: ReadonlyArray<{ readonly type: string; readonly text?: string }> }) =>
  (result.content ?? []).filter((c) => c.type === "text").map((c) => c.text ?? "").join("\n")

// One connection: the Datadog MCP service over whichever auth the configuration asks for.
const connection = (config: DatadogConfig.DatadogConfig, oauth: DatadogOAuth.OAuthOptions) => {
  const auth = config.auth._tag === "OAuth"
    ? DatadogOAuth.layer(config, oauth)
    : Layer.merge(McpFetch.layerHeadless(config), Layer.empty)
  return DatadogMcp.layer({ url: config.mcpUrl }).pipe(
    Layer.provideMerge(auth),
    Layer.provide(FetchHttpClient.layer)
  )
}

const oauthConnection = (config: DatadogConfig.DatadogConfig, oauth: DatadogOAuth.OAuthOptions) =>
  DatadogMcp.layer({ url: config.mcpUrl }).pipe(
    Layer.provideMerge(DatadogOAuth.layer(config, oauth)),
    Layer.provide(FetchHttpClient.layer)
  )

const showSession = Effect.gen(function*() {
  const auth = yield* Effect.serviceOption(McpAuthorization.McpAuthorization)
  if (auth._tag === "None") return
  const session = yield* auth.value.session
  const tokens = session?.tokens
  if (session === undefined || tokens === undefined) return
  R.info(`issuer ${R.dim(session.discovered.issuer)}  resource ${R.dim(session.discovered.resource)}`)
  R.info(
    `client ${R.dim(session.client.client_id)} (${session.client.source})  scope ${
      R.dim(tokens.scope ?? "(not stated)")
    }`
  )
  R.info(
    `access token ${R.dim("[redacted]")}  expires ${
      R.dim(tokens.expires_at === undefined ? "unknown" : new Date(tokens.expires_at).toISOString())
    }  refresh token ${R.dim(tokens.refresh_token === undefined ? "none" : "[redacted]")}`
  )
})

const useTools = (sandboxMode: boolean) =>
  Effect.gen(function*() {
    const dd = yield* DatadogMcp.DatadogMcp
    R.ok(`connected to ${R.safe(dd.serverInfo?.name ?? "the MCP server")} over ${dd.transport} (${dd.mode})`)
    const tools = yield* dd.listTools
    R.heading(`Tools (${tools.length})`)
    R.table(
      ["tool", "description"],
      tools.map((t) => [R.safe(t.name), R.safe((t.description ?? "").split("\n")[0] ?? "")])
    )

    const call = sandboxMode
      ? { name: "search_datadog_logs", args: { query: "status:error", from: "now-4h", to: "now", limit: 3 } }
      : { name: "search_datadog_docs", args: { query: "How do I create a monitor?" } }
    R.heading(`Calling ${call.name} ${JSON.stringify(call.args)}`)
    const result = yield* dd.callTool(call.name, call.args)
    const text = textOf(result)
    const pretty = (() => {
      try {
        return JSON.stringify(JSON.parse(text), null, 2)
      } catch {
        return text
      }
    })()
    const lines = pretty.split("\n")
    for (const line of lines.slice(0, 12)) R.info(R.dim(R.safe(line.length > 110 ? `${line.slice(0, 109)}…` : line)))
    if (lines.length > 12) R.info(R.dim(`… ${lines.length - 12} more line${lines.length - 12 === 1 ? "" : "s"}`))

    R.heading("whoami (datadog://mcp/whoami)")
    const me = yield* dd.whoami
    R.info(R.safe(`${me.user_name ?? "?"} <${me.user_email ?? "?"}> in ${me.org_name ?? "?"} on ${me.dd_site ?? "?"}`))
    return tools.length
  })

const main = Effect.gen(function*() {
  if (args.values.help) return yield* Effect.sync(() => process.stdout.write(HELP))
  const sandboxMode = !(yield* configuredTarget)
  let sandbox: Sandbox | undefined
  let config: DatadogConfig.DatadogConfig
  let store: Layer.Layer<TokenStore.TokenStore>
  let userAgent: UserAgent.UserAgent

  if (sandboxMode) {
    R.heading("mcpauth demo — against the local sandbox (no account, no network)")
    const started = yield* Effect.acquireRelease(
      Effect.promise(() =>
        R.waiting(
          "starting the sandbox (oidc-provider + the official MCP server SDK)",
          () => startSandbox({ profile: "datadog" })
        )
      ),
      (s) => Effect.promise(() => s.close())
    )
    sandbox = started
    R.info(`MCP server            ${R.dim(started.mcpUrl)}`)
    R.info(
      `authorization server  ${R.dim(started.issuer)} ${R.dim(`(endpoints on ${started.authorizationServerOrigin})`)}`
    )
    R.info(
      R.dim(
        "Datadog's reported shape: a 401 without a challenge, PRM resource = the bare origin, an issuer with a path."
      )
    )
    const dir = args.values.store ?? (yield* Effect.acquireRelease(
      Effect.promise(() => mkdtemp(join(tmpdir(), "mcpauth-demo-"))),
      (d) => Effect.promise(() => rm(d, { recursive: true, force: true }))
    ))
    store = TokenStore.layerFile({ directory: dir })
    R.info(`token store           ${R.dim(dir)}`)
    // the user's own Datadog environment must not leak into the sandbox run
    config = yield* DatadogConfig.load({ overrides: { mcpUrl: started.mcpUrl }, env: {}, dotEnvPath: false })
    userAgent = automaticConsent
  } else {
    config = yield* DatadogConfig.load({
      overrides: {
        ...(args.values.site === undefined ? {} : { site: args.values.site }),
        ...(args.values.url === undefined ? {} : { mcpUrl: args.values.url })
      }
    })
    R.heading(`mcpauth demo — ${config.mcpUrl.href}`)
    // --store, else MCPAUTH_HOME (environment or .env, read by the configuration), else the default directory
    const directory = args.values.store ?? config.storeDirectory
    store = TokenStore.layerFile(directory === undefined ? {} : { directory })
    userAgent = args.values.headless ? UserAgent.headless() : UserAgent.browser()
    R.info(`auth mode ${R.dim(config.auth._tag)}`)
  }

  const oauth: DatadogOAuth.OAuthOptions = { userAgent, store, events: R.eventPrinter() }
  // No wait is silent: when nothing was printed for 5 s, say what is being waited for
  yield* Effect.acquireRelease(Effect.sync(() => R.heartbeat()), (stop) => Effect.sync(stop))

  // 1. First connection
  R.heading("1. First connection" + (sandboxMode ? ": no stored state" : ""))
  yield* Effect.gen(function*() {
    yield* useTools(sandboxMode)
    R.heading("Session")
    yield* showSession
  }).pipe(Effect.provide(connection(config, oauth)))
  if (sandbox !== undefined) {
    R.heading("HTTP requests so far, by endpoint")
    R.table(["count", "request"], requestsByEndpoint(sandbox))
  }

  // 2. Second connection from the stored credentials
  R.heading("2. Second connection: a new client from the stored credentials (as after a restart)")
  const before = sandbox?.stats().requests.length ?? 0
  yield* Effect.gen(function*() {
    const dd = yield* DatadogMcp.DatadogMcp
    const tools = yield* dd.listTools
    R.ok(`${tools.length} tools listed`)
  }).pipe(Effect.provide(connection(config, { ...oauth, events: R.eventPrinter() })))
  if (sandbox !== undefined) {
    const n = authRequests(sandbox, before)
    ;(n === 0 ? R.ok : R.warn)(
      `${n} discovery, registration, authorization or token requests (no browser, no discovery)`
    )
    R.table(["count", "request"], requestsByEndpoint(sandbox, before))
  }

  // 3. Forced refresh
  if (config.auth._tag === "OAuth") {
    R.heading("3. Forced refresh (the refresh token rotates; the resource is sent again)")
    const from = sandbox?.stats().requests.length ?? 0
    yield* Effect.gen(function*() {
      const auth = yield* McpAuthorization.McpAuthorization
      const old = (yield* auth.session)?.tokens?.expires_at
      const session = yield* auth.forceRefresh
      R.ok(
        `new access token ${R.dim("[redacted]")}, expiry ${old === undefined ? "?" : new Date(old).toISOString()} → ${
          session?.tokens?.expires_at === undefined ? "?" : new Date(session.tokens.expires_at).toISOString()
        }`
      )
      const dd = yield* DatadogMcp.DatadogMcp
      R.ok(`still connected: ${(yield* dd.listTools).length} tools`)
    }).pipe(Effect.provide(oauthConnection(config, { ...oauth, events: R.eventPrinter() })))
    if (sandbox !== undefined) R.table(["count", "request"], requestsByEndpoint(sandbox, from))
  }

  R.heading("Done")
  R.info("Try the advanced examples: ./run example --list")
})

main.pipe(
  Effect.scoped,
  Effect.onExit((exit) =>
    Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause)
      ? Effect.sync(() => {
        const failure = exit.cause.reasons[0]
        R.fail(failure?._tag === "Fail" ? String((failure.error as Error).message) : Cause.pretty(exit.cause))
        process.exitCode = 1
      })
      : Effect.void
  ),
  Effect.ignore,
  NodeRuntime.runMain
)
