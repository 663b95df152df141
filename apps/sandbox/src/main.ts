/**
 * CLI: `pnpm --filter @mcpauth/sandbox start [-- flags]` (or `node src/main.ts`). Prints the URLs; Ctrl-C stops it.
 */
import { parseArgs } from "node:util"
import { accounts } from "./Accounts.ts"
import { startSandbox } from "./Sandbox.ts"
import type { SandboxOptions } from "./Sandbox.ts"

const usage = `Usage: node src/main.ts [options]
  --profile datadog|strict     server shape (default datadog)
  --port N                     MCP/resource origin port (default 0 = ephemeral)
  --auth-port N                authorization-server origin port (default 0)
  --consent auto|page          automatic login+consent, or HTML pages (default auto)
  --access-token-ttl S         access token lifetime in seconds (default 3600)
  --refresh-token-ttl S        refresh token lifetime in seconds (default 1209600)
  --api-key K --app-key K      accept DD_API_KEY/DD_APPLICATION_KEY (env SANDBOX_DD_API_KEY, SANDBOX_DD_APP_KEY)
  --pat T                      accept this personal access token as Bearer (env SANDBOX_PAT)
  --rate-limit MAX/WINDOW_MS   tool-call rate limit (default 50/10000), or "off"
  --quiet                      no request log
  --help`

const fail = (message: string): never => {
  console.error(`${message}\n\n${usage}`)
  process.exit(2)
}

const parsed = (() => {
  try {
    return parseArgs({
      options: {
        profile: { type: "string", default: "datadog" },
        port: { type: "string", default: "0" },
        "auth-port": { type: "string", default: "0" },
        consent: { type: "string", default: "auto" },
        "access-token-ttl": { type: "string" },
        "refresh-token-ttl": { type: "string" },
        "api-key": { type: "string" },
        "app-key": { type: "string" },
        pat: { type: "string" },
        "rate-limit": { type: "string" },
        quiet: { type: "boolean", default: false },
        help: { type: "boolean", default: false }
      },
      allowPositionals: false
    })
  } catch (error) {
    // unknown option, missing value, positional argument: one line and the usage, not a stack trace
    return fail((error instanceof Error ? error.message : String(error)).replaceAll(/\s*\n\s*/g, " "))
  }
})()
const { values } = parsed

const int = (name: string, value: string | undefined, min: number, max: number): number | undefined => {
  if (value === undefined) return undefined
  const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN
  return Number.isSafeInteger(n) && n >= min && n <= max
    ? n
    : fail(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`)
}

if (values.help) {
  console.log(usage)
  process.exit(0)
}
const profile = values.profile === "datadog" || values.profile === "strict"
  ? values.profile
  : fail(`unknown --profile ${values.profile}`)
const consent = values.consent === "auto" || values.consent === "page"
  ? values.consent
  : fail(`unknown --consent ${values.consent}`)
const rateLimitFlag = values["rate-limit"]
const rateLimit: SandboxOptions["rateLimit"] = rateLimitFlag === undefined
  ? undefined
  : rateLimitFlag === "off"
  ? false
  : (() => {
    const [max, windowMs] = rateLimitFlag.split("/").map(Number)
    return max !== undefined && windowMs !== undefined && Number.isInteger(max) && Number.isInteger(windowMs) &&
        max > 0 && windowMs > 0
      ? { max, windowMs }
      : fail(`--rate-limit must be MAX/WINDOW_MS or off, got ${rateLimitFlag}`)
  })()

const apiKey = values["api-key"] ?? process.env["SANDBOX_DD_API_KEY"]
const appKey = values["app-key"] ?? process.env["SANDBOX_DD_APP_KEY"]
// API-key mode needs both keys: one alone would silently leave it off
if (apiKey !== undefined && appKey === undefined) {
  fail("--api-key (or SANDBOX_DD_API_KEY) needs --app-key (or SANDBOX_DD_APP_KEY): API-key mode takes both")
}
if (appKey !== undefined && apiKey === undefined) {
  fail("--app-key (or SANDBOX_DD_APP_KEY) needs --api-key (or SANDBOX_DD_API_KEY): API-key mode takes both")
}
const pat = values.pat ?? process.env["SANDBOX_PAT"]
const DAY = 86_400
const accessTokenTtlSeconds = int("access-token-ttl", values["access-token-ttl"], 1, 365 * DAY)
const refreshTokenTtlSeconds = int("refresh-token-ttl", values["refresh-token-ttl"], 1, 365 * DAY)
const port = int("port", values.port, 0, 65_535) ?? 0
const authPort = int("auth-port", values["auth-port"], 0, 65_535) ?? 0

const sandbox = await startSandbox({
  profile,
  consent,
  port,
  authPort,
  ...(accessTokenTtlSeconds === undefined ? {} : { accessTokenTtlSeconds }),
  ...(refreshTokenTtlSeconds === undefined ? {} : { refreshTokenTtlSeconds }),
  ...(apiKey === undefined ? {} : { apiKey }),
  ...(appKey === undefined ? {} : { appKey }),
  ...(pat === undefined ? {} : { personalAccessToken: pat }),
  ...(rateLimit === undefined ? {} : { rateLimit }),
  ...(values.quiet ? {} : { log: (line: string) => console.log(`[sandbox] ${line}`) })
}).catch((error: unknown): never => {
  const code = typeof error === "object" && error !== null && "code" in error ? error.code : undefined
  if (code === "EADDRINUSE") {
    const taken = "port" in (error as object) ? Number((error as { port: unknown }).port) : undefined
    const flag = taken !== undefined && taken === authPort && taken !== port ? "--auth-port" : "--port"
    return fail(
      `port ${taken ?? "?"} on 127.0.0.1 is already in use (${flag} ${
        taken ?? ""
      }); stop what holds it, or use ${flag} 0 for a free port`
    )
  }
  console.error(`the sandbox did not start: ${error instanceof Error ? error.message : String(error)}`)
  return process.exit(1)
})

console.log(`Datadog MCP sandbox (${sandbox.profile} profile, consent ${consent})
  MCP URL                  ${sandbox.mcpUrl}
  legacy MCP URL           ${sandbox.legacyMcpUrl}
  resource (aud)           ${sandbox.resource}
  protected resource meta  ${sandbox.resourceMetadataUrl}
  issuer                   ${sandbox.issuer}
  AS metadata              ${sandbox.authorizationServerMetadataUrl}
  AS origin                ${sandbox.authorizationServerOrigin}
  API-key mode             ${
  apiKey !== undefined && appKey !== undefined ? "on (DD_API_KEY + DD_APPLICATION_KEY)" : "off"
}
  personal access token    ${pat !== undefined ? "on" : "off"}
  test login               ${accounts[0]?.login} / ${accounts[0]?.password}
Press Ctrl-C to stop.`)

const stop = () => {
  sandbox.close().then(() => process.exit(0), () => process.exit(1))
}
process.once("SIGINT", stop)
process.once("SIGTERM", stop)
