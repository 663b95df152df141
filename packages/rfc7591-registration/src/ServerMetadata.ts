/**
 * The part of RFC 8414 authorization server metadata that client registration reads.
 *
 * Declared here as a structural interface, so `@mcpauth/rfc8414-metadata`'s `AuthorizationServerMetadata` (or any
 * object with these wire-named members) can be passed as is.
 *
 * @see [RFC 8414 §2 - Authorization Server Metadata](https://www.rfc-editor.org/rfc/rfc8414#section-2)
 * @since 0.1.0
 */

/**
 * The authorization server metadata members client registration needs, wire names as in RFC 8414 §2.
 *
 * @category models
 * @since 0.1.0
 */
export interface RegistrationServerMetadata {
  /** RFC 8414 §2: the issuer identifier; registration state is keyed by it. */
  readonly issuer: string
  /** RFC 8414 §2: the RFC 7591 registration endpoint, when dynamic registration is offered. */
  readonly registration_endpoint?: string | undefined
  /** RFC 8414 §2: client authentication methods at the token endpoint (default `client_secret_basic`). */
  readonly token_endpoint_auth_methods_supported?: ReadonlyArray<string> | undefined
  /** RFC 8414 §2: grant types the server supports. */
  readonly grant_types_supported?: ReadonlyArray<string> | undefined
  /** RFC 8414 §2: response types the server supports. */
  readonly response_types_supported?: ReadonlyArray<string> | undefined
  /** CIMD draft-02 §6: whether URL client ids (client ID metadata documents) are accepted. */
  readonly client_id_metadata_document_supported?: boolean | undefined
}

/**
 * Whether the server accepts a token endpoint authentication method. RFC 8414 §2: when the list is omitted the
 * default is `client_secret_basic` only — but a public client (`none`) is still worth asking for, so an omitted list
 * accepts `none` too (the server decides in its registration response).
 *
 * @category guards
 * @since 0.1.0
 */
export const supportsAuthMethod = (metadata: RegistrationServerMetadata, method: string): boolean => {
  const supported = metadata.token_endpoint_auth_methods_supported
  if (supported === undefined) return method === "client_secret_basic" || method === "none"
  return supported.includes(method)
}
