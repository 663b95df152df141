/**
 * The structural shapes this package reads from other packages: authorization server metadata and client credentials.
 *
 * Declared here (not imported) so that the packages compose without depending on each other; the values produced by
 * `@mcpauth/rfc8414-metadata` and `@mcpauth/rfc7591-registration` satisfy them. Wire names stay snake_case.
 *
 * @see [RFC 8414 §2 - Authorization Server Metadata](https://www.rfc-editor.org/rfc/rfc8414#section-2)
 * @see [RFC 7591 §3.2.1 - Client Information Response](https://www.rfc-editor.org/rfc/rfc7591#section-3.2.1)
 * @since 0.1.0
 */
import type { Redacted } from "effect"

/**
 * The members of RFC 8414 authorization server metadata this package uses.
 *
 * @category models
 * @since 0.1.0
 */
export interface AuthorizationServerMetadata {
  readonly issuer: string
  readonly authorization_endpoint: string
  readonly token_endpoint: string
  readonly revocation_endpoint?: string | undefined
  readonly token_endpoint_auth_methods_supported?: ReadonlyArray<string> | undefined
  readonly authorization_response_iss_parameter_supported?: boolean | undefined
  readonly code_challenge_methods_supported?: ReadonlyArray<string> | undefined
}

/**
 * The client credentials this package uses (a `ClientInformation` of `@mcpauth/rfc7591-registration` fits).
 *
 * @category models
 * @since 0.1.0
 */
export interface ClientCredentials {
  /** The authorization server the client belongs to. */
  readonly issuer?: string | undefined
  readonly client_id: string
  readonly client_secret?: Redacted.Redacted<string> | undefined
  /** RFC 7591 §2: absent means `client_secret_basic`. */
  readonly token_endpoint_auth_method?: string | undefined
  readonly redirect_uris?: ReadonlyArray<string> | undefined
}
