/**
 * Client credentials for one authorization server: what registration produces and the authorization code flow uses.
 *
 * @see [RFC 7591 §3.2.1 - Client Information Response](https://www.rfc-editor.org/rfc/rfc7591#section-3.2.1)
 * @see [MCP 2026-07-28 Authorization §Authorization Server Binding](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization/client-registration)
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * How the credentials were obtained.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Source = Schema.Literals(["preregistered", "metadata-document", "dynamic"])

/**
 * @category models
 * @since 0.1.0
 */
export type Source = typeof Source.Type

/**
 * Client credentials bound to one authorization server (`issuer`). Secrets are `Redacted`; `response` keeps every
 * member of the registration response except the secrets (`client_secret`, `registration_access_token`), which
 * live only in their `Redacted` fields.
 *
 * Encode with `Schema.toCodecJson(ClientInformation)` to persist (the secrets are then written in clear: store
 * them somewhere safe).
 *
 * @category schemas
 * @since 0.1.0
 */
export const ClientInformation = Schema.Struct({
  /** The authorization server these credentials belong to (MCP §Authorization Server Binding). */
  issuer: Schema.String,
  client_id: Schema.String,
  client_secret: Schema.optional(Schema.Redacted(Schema.String)),
  /** RFC 7591 §3.2.1: epoch seconds; 0 means the secret never expires. */
  client_secret_expires_at: Schema.optional(Schema.Number),
  /** RFC 7591 §3.2.1: epoch seconds. */
  client_id_issued_at: Schema.optional(Schema.Number),
  /** `none` | `client_secret_basic` | `client_secret_post` | another method the server assigned. */
  token_endpoint_auth_method: Schema.String,
  /** The redirect URIs this client may use with this server (never empty). */
  redirect_uris: Schema.Array(Schema.String),
  scope: Schema.optional(Schema.String),
  source: Source,
  /** RFC 7592 §3: the access token for the client configuration endpoint. */
  registration_access_token: Schema.optional(Schema.Redacted(Schema.String)),
  /** RFC 7592 §3: the client configuration endpoint. */
  registration_client_uri: Schema.optional(Schema.String),
  /** The registration response as received, minus the two secrets. */
  response: Schema.optional(Schema.Record(Schema.String, Schema.Json))
})

/**
 * @category models
 * @since 0.1.0
 */
export type ClientInformation = typeof ClientInformation.Type

/**
 * RFC 7591 §3.2.1: whether the client secret has expired at `nowSeconds` (`client_secret_expires_at` 0 or absent
 * means never).
 *
 * @category guards
 * @since 0.1.0
 */
export const isSecretExpired = (info: ClientInformation, nowSeconds: number): boolean =>
  info.client_secret !== undefined &&
  info.client_secret_expires_at !== undefined &&
  info.client_secret_expires_at > 0 &&
  info.client_secret_expires_at <= nowSeconds
