import type { OidcProvider } from "@mcpauth/testing"
import { Effect, Redacted } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import type { TokenStore } from "../src/index.ts"

export const RESOURCE = "http://127.0.0.1:9/mcp"

/** A fresh temporary store directory, removed with the scope. */
export const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "mcpauth-store-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

export const client = (issuer: string, client_id = "client-1"): TokenStore.StoredClient => ({
  issuer,
  client_id,
  token_endpoint_auth_method: "none",
  redirect_uris: ["http://127.0.0.1:7777/cb"],
  source: "dynamic"
})

export const entry = (
  options: {
    readonly issuer?: string
    readonly resource?: string
    readonly access?: string
    readonly refresh?: string
    readonly expiresAt?: number
    readonly updatedAt?: number
  } = {}
): TokenStore.StoredEntry => {
  const issuer = options.issuer ?? "https://as.example"
  return {
    issuer,
    resource: options.resource ?? "https://mcp.example/mcp",
    client_id: "client-1",
    tokens: {
      access_token: Redacted.make(options.access ?? "access-1"),
      token_type: "Bearer",
      expires_at: options.expiresAt ?? 3_600_000,
      refresh_token: Redacted.make(options.refresh ?? "refresh-1"),
      scope: "mcp:read"
    },
    client: client(issuer),
    metadata: { issuer, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token`, extra: [1] },
    updated_at: options.updatedAt ?? 0
  }
}

export const metadataOf = (op: OidcProvider.OidcProviderHandle) =>
  Effect.promise(() =>
    fetch(op.url("/.well-known/oauth-authorization-server")).then((r) =>
      r.json() as Promise<TokenStore.StoredEntry["metadata"]>
    )
  )

export const registerPublic = (op: OidcProvider.OidcProviderHandle, redirectUri: string) =>
  Effect.promise(async (): Promise<TokenStore.StoredClient> => {
    const response = await fetch(op.url("/reg"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        redirect_uris: [redirectUri],
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token"],
        application_type: "native"
      })
    })
    const body = await response.json() as Record<string, unknown>
    if (response.status !== 201) throw new Error(`registration failed: ${JSON.stringify(body)}`)
    return {
      issuer: op.issuer,
      client_id: String(body["client_id"]),
      token_endpoint_auth_method: "none",
      redirect_uris: [redirectUri],
      source: "dynamic",
      response: body
    }
  })

export const mode = (path: string) => (Fs.statSync(path).mode & 0o777).toString(8)
