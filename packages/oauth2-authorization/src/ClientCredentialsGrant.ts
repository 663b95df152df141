/**
 * The client credentials grant for headless machine-to-machine clients (no user, no browser): the token request
 * authenticated with a client secret (`client_secret_basic` / `client_secret_post`) or with a private key JWT
 * assertion (`private_key_jwt`, RFC 7523), as pure request builders beside the service method
 * `OAuth2Client.clientCredentials`.
 *
 * @see [OAuth 2.1 §4.2 - Client Credentials Grant](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1#section-4.2)
 * @see [RFC 7523 §2.2 / §3 - JWT for Client Authentication](https://www.rfc-editor.org/rfc/rfc7523#section-2.2)
 * @see [RFC 7521 §4.2 - Using Assertions for Client Authentication](https://www.rfc-editor.org/rfc/rfc7521#section-4.2)
 * @see [MCP extension SEP-1046 - OAuth Client Credentials](https://github.com/modelcontextprotocol/ext-auth/blob/main/specification/draft/oauth-client-credentials.mdx)
 * @since 0.1.0
 */
import { Effect, Redacted } from "effect"
import { HttpClientRequest } from "effect/http"
import type { AuthorizationServerMetadata } from "./Contracts.ts"
import { fail, InvalidClientKey, UnsupportedAuthMethod } from "./OAuth2AuthorizationError.ts"
import type { OAuth2AuthorizationError } from "./OAuth2AuthorizationError.ts"
import { basicAuthorization } from "./TokenRequest.ts"

/**
 * The JWS algorithms a client assertion can be signed with (WebCrypto).
 *
 * @category models
 * @since 0.1.0
 */
export type AssertionAlgorithm = "ES256" | "ES384" | "RS256" | "PS256" | "EdDSA"

/**
 * A private key for `private_key_jwt`: a PKCS #8 PEM (`-----BEGIN PRIVATE KEY-----`), the JWS algorithm, and the key
 * id registered with the authorization server, if any.
 *
 * @category models
 * @since 0.1.0
 */
export interface AssertionKey {
  readonly privateKeyPem: Redacted.Redacted<string>
  readonly algorithm: AssertionAlgorithm
  readonly keyId?: string | undefined
}

/**
 * A machine-to-machine client: its id and either a secret or a private key.
 *
 * @category models
 * @since 0.1.0
 */
export interface MachineClient {
  readonly client_id: string
  readonly client_secret?: Redacted.Redacted<string> | undefined
  readonly private_key?: AssertionKey | undefined
  /** Default: `private_key_jwt` with a key, else `client_secret_basic` or `client_secret_post` as the server lists. */
  readonly token_endpoint_auth_method?: string | undefined
}

/**
 * The client authentication methods of the client credentials grant.
 *
 * @category models
 * @since 0.1.0
 */
export type MachineAuthMethod = "client_secret_basic" | "client_secret_post" | "private_key_jwt"

/**
 * RFC 7523 §2.2: the `client_assertion_type` of a JWT client assertion.
 *
 * @category constants
 * @since 0.1.0
 */
export const JWT_BEARER_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

/**
 * Picks the client authentication method of a machine client: the configured one, else `private_key_jwt` when it
 * holds a key, else the first of `client_secret_basic`, `client_secret_post` the server lists (RFC 8414 §2: the
 * default list is `client_secret_basic`). A public client cannot use this grant.
 *
 * @see [OAuth 2.1 §4.2](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1#section-4.2)
 * @category constructors
 * @since 0.1.0
 */
export const selectMachineAuthMethod = (
  client: MachineClient,
  metadata: Pick<AuthorizationServerMetadata, "token_endpoint_auth_methods_supported">
): Effect.Effect<MachineAuthMethod, OAuth2AuthorizationError> => {
  const configured = client.token_endpoint_auth_method
  const unusable = (method: string, detail: string) => Effect.fail(fail(new UnsupportedAuthMethod({ method, detail })))
  if (configured !== undefined) {
    if (configured === "private_key_jwt") {
      return client.private_key === undefined
        ? unusable(configured, "the client has no private key")
        : Effect.succeed(configured)
    }
    if (configured === "client_secret_basic" || configured === "client_secret_post") {
      return client.client_secret === undefined
        ? unusable(configured, "the client has no secret")
        : Effect.succeed(configured)
    }
    // OAuth 2.1 §4.2: only confidential clients use the client credentials grant
    return unusable(
      configured,
      "the client credentials grant needs client_secret_basic, client_secret_post or private_key_jwt"
    )
  }
  // RFC 8414 §2: token_endpoint_auth_methods_supported defaults to client_secret_basic
  const offered = metadata.token_endpoint_auth_methods_supported ?? ["client_secret_basic"]
  const candidates: Array<MachineAuthMethod> = []
  if (client.private_key !== undefined) candidates.push("private_key_jwt")
  if (client.client_secret !== undefined) candidates.push("client_secret_basic", "client_secret_post")
  if (candidates.length === 0) {
    // OAuth 2.1 §4.2: the client credentials grant is for confidential clients only
    return unusable("none", "a machine-to-machine client needs a client secret or a private key")
  }
  const chosen = candidates.find((m) => offered.includes(m))
  return chosen === undefined
    ? unusable(candidates.join("|"), `the server offers ${offered.join(", ") || "none"}`)
    : Effect.succeed(chosen)
}

const base64url = (bytes: Uint8Array | string): string =>
  Buffer.from(typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes).toString("base64url")

const ALGORITHMS: Record<
  AssertionAlgorithm,
  { readonly importParams: EcKeyImportParams | RsaHashedImportParams | Algorithm; readonly signParams: Algorithm }
> = {
  ES256: {
    importParams: { name: "ECDSA", namedCurve: "P-256" } as EcKeyImportParams,
    signParams: { name: "ECDSA", hash: "SHA-256" } as EcdsaParams
  },
  ES384: {
    importParams: { name: "ECDSA", namedCurve: "P-384" } as EcKeyImportParams,
    signParams: { name: "ECDSA", hash: "SHA-384" } as EcdsaParams
  },
  RS256: {
    importParams: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as RsaHashedImportParams,
    signParams: { name: "RSASSA-PKCS1-v1_5" }
  },
  PS256: {
    importParams: { name: "RSA-PSS", hash: "SHA-256" } as RsaHashedImportParams,
    signParams: { name: "RSA-PSS", saltLength: 32 } as RsaPssParams
  },
  EdDSA: { importParams: { name: "Ed25519" }, signParams: { name: "Ed25519" } }
}

const pkcs8Der = (pem: string): Uint8Array<ArrayBuffer> | undefined => {
  const match = /-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END PRIVATE KEY-----/.exec(pem)
  if (match === null) return undefined
  return new Uint8Array(Buffer.from((match[1] ?? "").replace(/\s+/g, ""), "base64"))
}

/**
 * Signs an RFC 7523 client assertion: `iss` = `sub` = the client id, `aud` = the authorization server's issuer
 * identifier, a short `exp`, `iat`, and a unique `jti`. The key never appears in an error.
 *
 * @see [RFC 7523 §3 - JWT Format and Processing Requirements](https://www.rfc-editor.org/rfc/rfc7523#section-3)
 * @see [draft-ietf-oauth-rfc7523bis §4 - the issuer identifier as the audience](https://datatracker.ietf.org/doc/draft-ietf-oauth-rfc7523bis/)
 * @category constructors
 * @since 0.1.0
 */
export const signClientAssertion = (input: {
  readonly clientId: string
  /** The authorization server's issuer identifier. */
  readonly audience: string
  readonly key: AssertionKey
  /** Seconds since the epoch. */
  readonly now: number
  readonly jti: string
  /** Lifetime in seconds (default 60). */
  readonly lifetime?: number | undefined
}): Effect.Effect<Redacted.Redacted<string>, OAuth2AuthorizationError> =>
  Effect.gen(function*() {
    const algorithm = ALGORITHMS[input.key.algorithm]
    const invalidKey = (detail: string) => fail(new InvalidClientKey({ algorithm: input.key.algorithm, detail }))
    if (algorithm === undefined) return yield* Effect.fail(invalidKey("unsupported algorithm"))
    const der = pkcs8Der(Redacted.value(input.key.privateKeyPem))
    if (der === undefined) {
      return yield* Effect.fail(invalidKey("expected a PKCS #8 PEM (-----BEGIN PRIVATE KEY-----)"))
    }
    const key = yield* Effect.tryPromise({
      try: () => crypto.subtle.importKey("pkcs8", der, algorithm.importParams, false, ["sign"]),
      catch: () => invalidKey(`the PEM is not a ${input.key.algorithm} private key`)
    })
    const header = {
      alg: input.key.algorithm,
      typ: "JWT",
      ...(input.key.keyId === undefined ? {} : { kid: input.key.keyId })
    }
    const claims = {
      // RFC 7523 §3: iss and sub are the client_id of the OAuth client
      iss: input.clientId,
      sub: input.clientId,
      // RFC 7523 §3: aud identifies the authorization server (rfc7523bis: its issuer identifier)
      aud: input.audience,
      // RFC 7523 §3: exp (short-lived), iat, and jti against replay
      exp: input.now + (input.lifetime ?? 60),
      iat: input.now,
      jti: input.jti
    }
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`
    const signature = yield* Effect.tryPromise({
      try: () => crypto.subtle.sign(algorithm.signParams, key, new TextEncoder().encode(signingInput)),
      catch: () => invalidKey("signing failed")
    })
    return Redacted.make(`${signingInput}.${base64url(new Uint8Array(signature))}`)
  })

/**
 * The token request of the client credentials grant, authenticated by `method` (`assertion` required for
 * `private_key_jwt`). `scope` only when given; `resource` exactly as given.
 *
 * @see [OAuth 2.1 §4.2.1](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1#section-4.2.1)
 * @category constructors
 * @since 0.1.0
 */
export const buildClientCredentialsRequest = (input: {
  readonly tokenEndpoint: string
  readonly client: MachineClient
  readonly method: MachineAuthMethod
  readonly resource?: string | undefined
  readonly scope?: string | undefined
  readonly assertion?: Redacted.Redacted<string> | undefined
}): HttpClientRequest.HttpClientRequest => {
  // OAuth 2.1 §4.2.1: grant_type=client_credentials
  const body: Array<[string, string]> = [["grant_type", "client_credentials"]]
  // OAuth 2.1 §4.2.1: scope is optional
  if (input.scope !== undefined && input.scope.trim() !== "") body.push(["scope", input.scope])
  // RFC 8707 §2.2 / MCP §Resource Parameter Implementation: the resource in every token request
  if (input.resource !== undefined) body.push(["resource", input.resource])
  let request = HttpClientRequest.post(input.tokenEndpoint).pipe(HttpClientRequest.acceptJson)
  switch (input.method) {
    case "client_secret_basic": {
      // RFC 6749 §2.3.1: HTTP Basic with the form-encoded id and secret
      if (input.client.client_secret !== undefined) {
        request = HttpClientRequest.setHeader(
          request,
          "authorization",
          Redacted.value(basicAuthorization(input.client.client_id, input.client.client_secret))
        )
      }
      break
    }
    case "client_secret_post": {
      // RFC 6749 §2.3.1: credentials in the request body
      body.push(["client_id", input.client.client_id])
      if (input.client.client_secret !== undefined) {
        body.push(["client_secret", Redacted.value(input.client.client_secret)])
      }
      break
    }
    case "private_key_jwt": {
      // RFC 7523 §2.2: client_assertion_type and client_assertion (client_id optional, sent for clarity)
      body.push(["client_id", input.client.client_id])
      body.push(["client_assertion_type", JWT_BEARER_ASSERTION_TYPE])
      if (input.assertion !== undefined) body.push(["client_assertion", Redacted.value(input.assertion)])
      break
    }
  }
  return HttpClientRequest.bodyUrlParams(request, body)
}
