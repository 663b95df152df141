/**
 * Our client: `McpAuthorization.layerDefault` (every RFC package wired) handing its authorised `fetch` to the
 * official MCP SDK transport, with the programmatic consent hand-off and a file or in-memory token store.
 */
import { McpAuthorization } from "@mcpauth/mcp-auth"
import type { AuthEvent } from "@mcpauth/mcp-auth/AuthEvent"
import { UserAgent } from "@mcpauth/oauth2-authorization"
import { TokenStore } from "@mcpauth/token-store"
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client"
import { Effect, Layer } from "effect"
import { FetchHttpClient } from "effect/http"

export interface OursOptions {
  readonly url: string
  /** The file store's directory; in-memory when absent. */
  readonly storeDir?: string | undefined
}

export interface Ours {
  readonly fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>
  /** How many times the user would have been sent to the browser. */
  readonly interactions: () => number
  readonly events: ReadonlyArray<AuthEvent>
}

/** Runs `body` with our authorised fetch; the layer (store, locks, listeners) is released afterwards. */
export const withOurs = <A>(options: OursOptions, body: (ours: Ours) => Promise<A>): Promise<A> => {
  let interactions = 0
  const events: Array<AuthEvent> = []
  const handOff = UserAgent.programmatic(async (url) => {
    interactions++
    const res = await fetch(url, { redirect: "manual" })
    const location = res.headers.get("location")
    if (location === null) throw new Error(`authorize answered ${res.status} without a Location`)
    return new URL(location, url)
  })
  const layer = McpAuthorization.layerDefault({
    serverUrl: options.url,
    userAgent: handOff,
    client: { name: "mcpauth bench" },
    allowLoopbackHttp: true,
    store: options.storeDir === undefined
      ? TokenStore.layerMemory
      : TokenStore.layerFile({ directory: options.storeDir }),
    events: (e) => events.push(e)
  }).pipe(Layer.provide(FetchHttpClient.layer))
  return Effect.runPromise(
    Effect.gen(function*() {
      const auth = yield* McpAuthorization.McpAuthorization
      return yield* Effect.tryPromise(() => body({ fetch: auth.fetch, interactions: () => interactions, events }))
    }).pipe(Effect.provide(layer))
  )
}

export const connectOurs = async (ours: Ours, url: string): Promise<Client> => {
  const client = new Client({ name: "mcpauth-bench", version: "0.0.0" })
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: ours.fetch }))
  return client
}
