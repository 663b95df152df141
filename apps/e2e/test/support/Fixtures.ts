// Shared scoped fixtures of the end-to-end suite: the sandbox, temp directories, the official MCP client over our
// authorised fetch, and request counters over the sandbox's own request log. Everything is closed with its scope.
import { McpAuthorization } from "@mcpauth/mcp-auth"
import { startSandbox } from "@mcpauth/sandbox"
import type { Sandbox } from "@mcpauth/sandbox"
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client"
import { Effect } from "effect"
import { mkdir, mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

/** The repository root (apps/e2e/test/support → ../../../..). */
export const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url))

/** Where screenshots and other test artifacts go (git-ignored through `artifacts/`). */
export const artifactsDir = join(repoRoot, "artifacts", "e2e")

export const ensureArtifactsDir = Effect.promise(() => mkdir(artifactsDir, { recursive: true }))

export const sandboxResource = (options: Parameters<typeof startSandbox>[0]) =>
  Effect.acquireRelease(Effect.promise(() => startSandbox(options)), (s) => Effect.promise(() => s.close()))

export const tempDir = (prefix: string) =>
  Effect.acquireRelease(
    Effect.promise(() => mkdtemp(join(tmpdir(), `mcpauth-e2e-${prefix}-`))),
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
  )

/** Connects the official MCP client SDK through a fetch, runs `body`, always closes the client. */
export const withClient = async <A>(
  url: string,
  fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>,
  body: (client: Client) => Promise<A>
): Promise<A> => {
  const client = new Client({ name: "mcpauth-e2e", version: "0.0.0" })
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch }))
  try {
    return await body(client)
  } finally {
    await client.close()
  }
}

/** `withClient` over the authorised fetch of the `McpAuthorization` in context. */
export const withMcp = <A>(body: (client: Client) => Promise<A>) =>
  Effect.gen(function*() {
    const auth = yield* McpAuthorization.McpAuthorization
    return yield* Effect.promise(() => withClient(auth.serverUrl, auth.fetch, body))
  })

export const count = (sandbox: Sandbox, pred: (path: string, method: string) => boolean): number =>
  sandbox.stats().requests.filter((r) => pred(r.path, r.method)).length

export const isDiscovery = (path: string): boolean => path.startsWith("/.well-known/")
export const isRegister = (path: string, method: string): boolean => method === "POST" && /register/.test(path)
export const isToken = (path: string, method: string): boolean => method === "POST" && path.endsWith("/token")
export const isAuthorize = (path: string): boolean => /authorize/.test(path)
