import { OidcProvider } from "@mcpauth/testing"
import { Effect, Layer, Redacted } from "effect"
import { FetchHttpClient } from "effect/http"
import type { ClientCredentials } from "../src/Contracts.ts"
import type { AuthorizationServerMetadata } from "../src/Contracts.ts"
import { OAuth2Client } from "../src/index.ts"

export const RESOURCE = "http://127.0.0.1:9/mcp"

export const TestLayer = OAuth2Client.layer.pipe(Layer.provide(FetchHttpClient.layer))

export const startProvider = (options?: OidcProvider.OidcProviderOptions) => OidcProvider.acquire(options)

export const metadataOf = (op: OidcProvider.OidcProviderHandle) =>
  Effect.promise(() =>
    fetch(op.url("/.well-known/oauth-authorization-server")).then((r) =>
      r.json() as Promise<AuthorizationServerMetadata>
    )
  )

/** Dynamic registration with a plain fetch (the registration package is written separately). */
export const register = (
  op: OidcProvider.OidcProviderHandle,
  redirectUri: string,
  method: "none" | "client_secret_basic" | "client_secret_post" = "none"
) =>
  Effect.promise(async (): Promise<ClientCredentials> => {
    const response = await fetch(op.url("/reg"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        redirect_uris: [redirectUri],
        token_endpoint_auth_method: method,
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        application_type: "native"
      })
    })
    const body = await response.json() as Record<string, string>
    if (response.status !== 201) throw new Error(`registration failed: ${JSON.stringify(body)}`)
    return {
      issuer: op.issuer,
      client_id: body["client_id"] ?? "",
      client_secret: body["client_secret"] === undefined ? undefined : Redacted.make(body["client_secret"]),
      token_endpoint_auth_method: method,
      redirect_uris: [redirectUri]
    }
  })

export const jwtPayload = (token: Redacted.Redacted<string>) =>
  JSON.parse(Buffer.from(Redacted.value(token).split(".")[1] ?? "", "base64url").toString("utf8")) as Record<
    string,
    unknown
  >

/** The value, or a test failure naming what was missing. */
export const must = <A>(value: A | undefined, what: string): A => {
  if (value === undefined) throw new Error(`expected ${what}`)
  return value
}
