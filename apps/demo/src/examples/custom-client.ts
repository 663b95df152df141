// Advanced example: a client composed directly from the RFC packages, without the orchestrator — each step is one
// service call: RFC 9728 discovery → RFC 8414 metadata → RFC 7591 registration → the authorization code grant with
// PKCE, state, iss and resource → a Bearer token on the official MCP client's requests.
import { OAuth2Client, UserAgent } from "@mcpauth/oauth2-authorization"
import { LoopbackCallback } from "@mcpauth/oauth2-authorization"
import { ClientRegistration } from "@mcpauth/rfc7591-registration"
import { AuthorizationServerMetadata } from "@mcpauth/rfc8414-metadata"
import { ProtectedResourceDiscovery } from "@mcpauth/rfc9728-discovery"
import { startSandbox } from "@mcpauth/sandbox"
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client"
import { Effect, Layer, Redacted } from "effect"
import { FetchHttpClient } from "effect/http"
import * as R from "../Render.ts"

R.heading("A custom client from the RFC packages")
const sandbox = await startSandbox({ profile: "strict" })
const Live = Layer.mergeAll(
  // Security-weakening, logged: the sandbox is plain http on loopback
  ProtectedResourceDiscovery.layer({ allowLoopbackHttp: true }),
  AuthorizationServerMetadata.layer({ allowLoopbackHttp: true }),
  ClientRegistration.layerMemory({ client: { clientName: "custom-client example" }, allowLoopbackHttp: true }),
  OAuth2Client.layer
).pipe(Layer.provide(FetchHttpClient.layer))

try {
  const token = await Effect.runPromise(Effect.scoped(
    Effect.gen(function*() {
      const first = yield* Effect.promise(() => fetch(sandbox.mcpUrl, { method: "POST" }))
      R.ok(`1. the MCP server answers ${first.status}: ${first.headers.get("www-authenticate")}`)

      const prm = yield* (yield* ProtectedResourceDiscovery.ProtectedResourceDiscovery).discover({
        serverUrl: sandbox.mcpUrl,
        wwwAuthenticate: first.headers.get("www-authenticate")
      })
      R.ok(`2. RFC 9728: resource ${prm.resource}, authorization server ${prm.metadata.authorization_servers[0]}`)

      const as = yield* (yield* AuthorizationServerMetadata.AuthorizationServerMetadata).discover(
        prm.metadata.authorization_servers[0] ?? ""
      )
      R.ok(`3. RFC 8414: metadata from ${as.url}`)

      const listener = yield* LoopbackCallback.listen({ port: 0 })
      const client = yield* (yield* ClientRegistration.ClientRegistration).obtain(as.metadata, {
        redirectUris: [listener.redirectUri]
      })
      R.ok(`4. RFC 7591: client ${client.client_id} (${client.token_endpoint_auth_method})`)

      const { tokens } = yield* (yield* OAuth2Client.OAuth2Client).authorize({
        metadata: as.metadata,
        client,
        resource: prm.resource,
        scope: (prm.metadata.scopes_supported ?? []).join(" ") || undefined,
        listener,
        // the sandbox's automatic consent redirects at once; a person would use UserAgent.browser()
        userAgent: UserAgent.programmatic(async (url) =>
          new URL((await fetch(url, { redirect: "manual" })).headers.get("location") ?? "", url)
        )
      })
      R.ok(`5. code flow with PKCE S256, state, iss and resource: access token [redacted], scope ${tokens.scope}`)
      return tokens.access_token
    }).pipe(Effect.provide(Live))
  ))

  const mcp = new Client({ name: "custom-client-example", version: "0.0.0" })
  await mcp.connect(
    new StreamableHTTPClientTransport(new URL(sandbox.mcpUrl), {
      fetch: (input, init) => {
        const headers = new Headers(init?.headers)
        headers.set("authorization", `Bearer ${Redacted.value(token)}`)
        return fetch(input, { ...init, headers })
      }
    })
  )
  R.ok(`6. the official MCP client with the Bearer token: ${(await mcp.listTools()).tools.length} tools`)
  await mcp.close()
} finally {
  await sandbox.close()
}
