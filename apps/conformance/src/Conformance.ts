/**
 * One conformance run: configure the client as a user would for the scenario, connect the official MCP client SDK
 * through our authorised `fetch`, list the tools, call them, close.
 */
import { McpAuthorization } from "@mcpauth/mcp-auth"
import type { AuthEvent } from "@mcpauth/mcp-auth/AuthEvent"
import { UserAgent } from "@mcpauth/oauth2-authorization"
import type { MachineClient } from "@mcpauth/oauth2-authorization/ClientCredentialsGrant"
import { TokenStore } from "@mcpauth/token-store"
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client"
import { Effect, Layer, Redacted } from "effect"
import { FetchHttpClient } from "effect/http"
import { argumentsFor } from "./Arguments.ts"
import { profileFor } from "./Profile.ts"
import type { Profile } from "./Profile.ts"

/** The client ID metadata document URL the suite's CIMD scenario expects. */
export const CLIENT_ID_METADATA_DOCUMENT_URL = "https://conformance-test.local/client-metadata.json"

/**
 * The programmatic hand-off: the suite's `/authorize` answers at once with a 302 to the redirect URI, so the client
 * requests the authorization URL without following redirects and hands the `Location` back for validation (state,
 * iss, redirect URI) by `@mcpauth/oauth2-authorization`.
 */
export const handOff = UserAgent.programmatic(async (url) => {
  const response = await fetch(url, { redirect: "manual" })
  await response.body?.cancel()
  const location = response.headers.get("location")
  if (location === null || response.status < 300 || response.status > 399) {
    throw new Error(`the authorization endpoint answered ${response.status} without a redirect`)
  }
  return new URL(location, url)
})

const log = (line: string) => process.stderr.write(`${line}\n`)

const printEvent = (e: AuthEvent) =>
  log(
    `[auth] ${e.step} ${e.phase}: ${e.message}${e.status === undefined ? "" : ` (${e.status})`}${
      e.data === undefined ? "" : ` ${JSON.stringify(e.data)}`
    }`
  )

interface Context {
  readonly client_id?: string
  readonly client_secret?: string
  readonly private_key_pem?: string
  readonly signing_algorithm?: string
}

const parseContext = (raw: string | undefined): Context => {
  if (raw === undefined || raw === "") return {}
  const parsed: unknown = JSON.parse(raw)
  return typeof parsed === "object" && parsed !== null ? parsed as Context : {}
}

const ALGORITHMS = ["ES256", "ES384", "RS256", "PS256", "EdDSA"] as const

/** The machine-to-machine credentials of `MCP_CONFORMANCE_CONTEXT`: a secret, or a private key and its algorithm. */
const machineClientOf = (context: Context): MachineClient => {
  const algorithm = ALGORITHMS.find((a) => a === context.signing_algorithm) ?? "ES256"
  return {
    client_id: context.client_id ?? "",
    ...(context.client_secret === undefined ? {} : { client_secret: Redacted.make(context.client_secret) }),
    ...(context.private_key_pem === undefined
      ? {}
      : { private_key: { privateKeyPem: Redacted.make(context.private_key_pem), algorithm } })
  }
}

const authLayer = (serverUrl: string, profile: Profile, context: Context) =>
  McpAuthorization.layerDefault({
    serverUrl,
    userAgent: handOff,
    client: { name: "mcpauth conformance client" },
    // **Security-weakening**, and logged by each package: the suite's mock servers are plain-http loopback
    // (http://localhost:PORT), which the MCP rules would otherwise refuse
    allowLoopbackHttp: true,
    store: TokenStore.layerMemory,
    ...(profile.clientIdMetadataDocument ? { clientIdMetadataDocument: { url: CLIENT_ID_METADATA_DOCUMENT_URL } } : {}),
    ...(profile.machineToMachine ? { machineClient: machineClientOf(context) } : {}),
    ...(profile.legacy20250326 ? { legacy20250326: true } : {}),
    ...(profile.preregistered && context.client_id !== undefined
      ? {
        preregistered: {
          client_id: context.client_id,
          ...(context.client_secret === undefined ? {} : { client_secret: Redacted.make(context.client_secret) }),
          redirect_uri: "http://127.0.0.1:0/callback"
        }
      }
      : {}),
    events: printEvent
  }).pipe(Layer.provide(FetchHttpClient.layer))

/**
 * Runs one scenario; resolves to the process exit code.
 */
export const run = (
  input: { readonly serverUrl: string; readonly scenario: string; readonly context?: string | undefined }
) =>
  Effect.gen(function*() {
    const profile = profileFor(input.scenario)
    const context = parseContext(input.context)
    log(`[conformance] scenario ${input.scenario || "(none)"} against ${input.serverUrl}`)
    const session = Effect.gen(function*() {
      const auth = yield* McpAuthorization.McpAuthorization
      return yield* Effect.tryPromise({
        try: async () => {
          const client = new Client({ name: "mcpauth-conformance", version: "0.0.0" })
          await client.connect(new StreamableHTTPClientTransport(new URL(auth.serverUrl), { fetch: auth.fetch }))
          try {
            const { tools } = await client.listTools()
            log(`[mcp] tools: ${tools.map((t) => t.name).join(", ") || "(none)"}`)
            for (const tool of tools) {
              const result = await client.callTool({ name: tool.name, arguments: argumentsFor(tool.inputSchema) })
              log(`[mcp] ${tool.name}: ${JSON.stringify(result.content)}`)
              if (result.isError === true) throw new Error(`tool ${tool.name} returned an error`)
            }
          } finally {
            await client.close()
          }
        },
        catch: (error) => error
      })
    }).pipe(Effect.provide(authLayer(input.serverUrl, profile, context)))
    return yield* session.pipe(
      Effect.as(0),
      Effect.catch((error) =>
        Effect.sync(() => {
          log(`[conformance] failed: ${error instanceof Error ? error.message : String(error)}`)
          return 1
        })
      )
    )
  })
