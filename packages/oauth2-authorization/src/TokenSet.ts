/**
 * Tokens from a token endpoint: decoding (RFC 6749 §5.1), absolute expiry, merging a refresh response, and the
 * audience check of JWT access tokens.
 *
 * @see [RFC 6749 §5.1 - Successful Response](https://www.rfc-editor.org/rfc/rfc6749#section-5.1)
 * @see [RFC 9068 - JWT Profile for OAuth 2.0 Access Tokens](https://www.rfc-editor.org/rfc/rfc9068)
 * @see [MCP 2026-07-28 Authorization §Token Requirements](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization)
 * @since 0.1.0
 */
import { Effect, Option, Predicate, Redacted, Schema } from "effect"
import { fail, InvalidResponse } from "./OAuth2AuthorizationError.ts"
import type { OAuth2AuthorizationError } from "./OAuth2AuthorizationError.ts"

/**
 * A set of tokens. Secrets are `Redacted`; `expires_at` is absolute (epoch ms, computed when the response arrived).
 *
 * @category models
 * @since 0.1.0
 */
export interface TokenSet {
  readonly access_token: Redacted.Redacted<string>
  /** `"Bearer"` (RFC 6749 §5.1: matched case-insensitively, stored in canonical case). */
  readonly token_type: string
  readonly expires_at?: number | undefined
  readonly refresh_token?: Redacted.Redacted<string> | undefined
  readonly scope?: string | undefined
  readonly id_token?: Redacted.Redacted<string> | undefined
  /** Every other member of the response, as received (the secrets above are not repeated here). */
  readonly raw: Readonly<Record<string, unknown>>
}

const OptionalString = Schema.optional(Schema.NullOr(Schema.String))

/**
 * RFC 6749 §5.1: the wire shape of a successful token response (`null` in an optional member means absent;
 * `expires_in` may come as a numeric string).
 *
 * @category schemas
 * @since 0.1.0
 */
export const TokenResponse = Schema.Struct({
  access_token: Schema.String,
  token_type: Schema.String,
  expires_in: Schema.optional(Schema.NullOr(Schema.Union([Schema.Finite, Schema.NumberFromString]))),
  refresh_token: OptionalString,
  scope: OptionalString,
  id_token: OptionalString
})

const invalid = (detail: string, status?: number) =>
  fail(new InvalidResponse({ document: "token response (RFC 6749 §5.1)", detail, status }))

/**
 * Decodes a token endpoint's JSON body into a {@link TokenSet}; `receivedAt` (epoch ms) turns `expires_in` into
 * `expires_at`.
 *
 * @see [RFC 6749 §5.1](https://www.rfc-editor.org/rfc/rfc6749#section-5.1)
 * @category constructors
 * @since 0.1.0
 */
export const parseTokenResponse = (
  body: unknown,
  receivedAt: number,
  status?: number
): Effect.Effect<TokenSet, OAuth2AuthorizationError> =>
  Effect.gen(function*() {
    if (!Predicate.isObject(body) || Array.isArray(body)) {
      return yield* invalid("expected a JSON object", status)
    }
    const decoded = yield* Schema.decodeUnknownEffect(TokenResponse)(body).pipe(
      Effect.mapError((e) => invalid(e.message, status))
    )
    // RFC 6749 §5.1: access_token REQUIRED
    if (decoded.access_token === "") return yield* invalid("access_token is empty", status)
    // RFC 6749 §5.1 / §7.1: token_type is case-insensitive; MCP 2026-07-28 §Token Requirements: Bearer tokens
    if (decoded.token_type.toLowerCase() !== "bearer") {
      return yield* invalid(`token_type ${JSON.stringify(decoded.token_type)}: expected "Bearer"`, status)
    }
    const expiresIn = decoded.expires_in ?? undefined
    // RFC 6749 §5.1: expires_in is the lifetime in seconds
    if (expiresIn !== undefined && expiresIn < 0) {
      return yield* invalid(`expires_in ${expiresIn}: expected a non-negative number of seconds`, status)
    }
    const raw: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(body)) {
      if (k !== "access_token" && k !== "refresh_token" && k !== "id_token") raw[k] = v
    }
    return {
      access_token: Redacted.make(decoded.access_token, { label: "access_token" }),
      token_type: "Bearer",
      expires_at: expiresIn === undefined ? undefined : receivedAt + expiresIn * 1000,
      refresh_token: decoded.refresh_token
        ? Redacted.make(decoded.refresh_token, { label: "refresh_token" })
        : undefined,
      scope: decoded.scope ?? undefined,
      id_token: decoded.id_token ? Redacted.make(decoded.id_token, { label: "id_token" }) : undefined,
      raw
    }
  })

/**
 * Combines the tokens held before a refresh with the refresh response.
 *
 * @see [RFC 6749 §6](https://www.rfc-editor.org/rfc/rfc6749#section-6)
 * @category combinators
 * @since 0.1.0
 */
export const mergeRefreshed = (
  previous: Pick<TokenSet, "refresh_token" | "scope">,
  next: TokenSet
): TokenSet => ({
  ...next,
  // RFC 6749 §6 / OAuth 2.1 §4.3.3: without a new refresh token the old one stays valid; a new one replaces it
  refresh_token: next.refresh_token ?? previous.refresh_token,
  // RFC 6749 §5.1: scope is omitted when identical to the one requested
  scope: next.scope ?? previous.scope
})

/**
 * Whether the access token is expired (or expires within `skewMillis`) at `now` (epoch ms). Tokens without an
 * expiry never expire by time.
 *
 * @category guards
 * @since 0.1.0
 */
export const isExpired = (tokens: Pick<TokenSet, "expires_at">, now: number, skewMillis = 0): boolean =>
  tokens.expires_at !== undefined && tokens.expires_at - skewMillis <= now

const decodeSegment = (segment: string): unknown => {
  try {
    return JSON.parse(Buffer.from(segment, "base64url").toString("utf8"))
  } catch {
    return undefined
  }
}

/**
 * The `aud` claim of a JWT access token, decoded WITHOUT verifying the signature (for the client's own audience
 * check only). `None` when the token is not a JWT (opaque tokens are fine) or has no `aud`.
 *
 * @see [RFC 9068 §2.2](https://www.rfc-editor.org/rfc/rfc9068#section-2.2)
 * @category getters
 * @since 0.1.0
 */
export const accessTokenAudience = (
  accessToken: Redacted.Redacted<string>
): Option.Option<ReadonlyArray<string>> => {
  const parts = Redacted.value(accessToken).split(".")
  if (parts.length !== 3) return Option.none()
  const header = decodeSegment(parts[0] ?? "")
  const payload = decodeSegment(parts[1] ?? "")
  if (!Predicate.isObject(header) || !Predicate.isObject(payload)) return Option.none()
  const aud: unknown = (payload as Record<string, unknown>)["aud"]
  if (typeof aud === "string") return Option.some([aud])
  if (Array.isArray(aud)) return Option.some(aud.filter((a): a is string => typeof a === "string"))
  return Option.none()
}

/**
 * MCP 2026-07-28 §Token Requirements (audience binding): when the access token is a JWT whose `aud` does not include
 * the resource that was requested, logs a warning and returns `false`. The token is not rejected (only the resource
 * server can judge its tokens), but a mismatch points at a server that ignored RFC 8707's `resource`.
 *
 * @category guards
 * @since 0.1.0
 */
export const checkAudience = (tokens: TokenSet, resource: string | undefined): Effect.Effect<boolean> => {
  if (resource === undefined) return Effect.succeed(true)
  const audience = accessTokenAudience(tokens.access_token)
  if (Option.isNone(audience)) return Effect.succeed(true)
  // RFC 8707 §2 / MCP §Token Requirements: the token should be bound to the requested resource
  if (audience.value.includes(resource)) return Effect.succeed(true)
  return Effect.logWarning(
    `the access token's aud ${
      JSON.stringify(audience.value)
    } does not include the requested resource ${resource} (RFC 8707 audience binding)`
  ).pipe(Effect.as(false))
}
