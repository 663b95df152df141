/**
 * Proof Key for Code Exchange (PKCE) for OAuth public and confidential clients.
 *
 * The verifier is drawn from a CSPRNG, the challenge is always `S256` (SHA-256 via WebCrypto); `plain` is never
 * produced, as the MCP Authorization specification requires S256 whenever the client can compute it.
 *
 * @see [RFC 7636 - Proof Key for Code Exchange](https://www.rfc-editor.org/rfc/rfc7636)
 * @see [MCP 2026-07-28 Authorization §Authorization Code Protection](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization)
 * @since 0.1.0
 */
import { Context, Effect, Layer, Redacted, Schema } from "effect"
import { Digest, SecureRandom } from "effect/crypto"
import { Base64Url } from "effect/encoding"

/**
 * RFC 7636 §4.1: the shortest allowed code verifier.
 *
 * @category constants
 * @since 0.1.0
 */
export const MIN_VERIFIER_LENGTH = 43

/**
 * RFC 7636 §4.1: the longest allowed code verifier.
 *
 * @category constants
 * @since 0.1.0
 */
export const MAX_VERIFIER_LENGTH = 128

/**
 * The default verifier length: 32 random bytes, base64url-encoded (RFC 7636 §4.1's recommendation).
 *
 * @category constants
 * @since 0.1.0
 */
export const DEFAULT_VERIFIER_LENGTH = 43

// RFC 7636 §4.1: code-verifier = 43*128unreserved; unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
const UNRESERVED = /^[A-Za-z0-9\-._~]*$/

/**
 * A verifier (or a requested verifier length) outside RFC 7636 §4.1's 43..128 characters.
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidVerifierLength extends Schema.TaggedError<InvalidVerifierLength>()("InvalidVerifierLength", {
  length: Schema.Number,
  min: Schema.Number,
  max: Schema.Number
}) {
  override get message() {
    return `RFC 7636 §4.1: a code verifier must be ${this.min}..${this.max} characters long, got ${this.length}`
  }
}

/**
 * A verifier holding a character outside RFC 7636 §4.1's unreserved set (`A-Z a-z 0-9 - . _ ~`).
 *
 * The offending character is reported by position and code point only, so that no part of a secret is echoed.
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidVerifierCharacter extends Schema.TaggedError<InvalidVerifierCharacter>()(
  "InvalidVerifierCharacter",
  { index: Schema.Number, codePoint: Schema.Number }
) {
  override get message() {
    return `RFC 7636 §4.1: a code verifier may only hold unreserved characters; position ${this.index} holds U+${
      this.codePoint.toString(16).toUpperCase().padStart(4, "0")
    }`
  }
}

/**
 * The error of every PKCE operation; recover from one reason with `Effect.catchReason("PkceError", …)`.
 *
 * @category errors
 * @since 0.1.0
 */
export class PkceError extends Schema.TaggedError<PkceError>()("PkceError", {
  reason: Schema.Union([InvalidVerifierLength, InvalidVerifierCharacter])
}) {
  override get message() {
    return this.reason.message
  }
}

/**
 * A verifier/challenge pair. The verifier is a secret and stays `Redacted` until it is sent to the token endpoint.
 *
 * @category models
 * @since 0.1.0
 */
export interface PkcePair {
  readonly verifier: Redacted.Redacted<string>
  readonly challenge: string
  /** RFC 7636 §4.3: always S256. */
  readonly method: "S256"
}

/**
 * Checks a code verifier against RFC 7636 §4.1 (length 43..128, unreserved characters only).
 *
 * @category guards
 * @since 0.1.0
 */
export const validateVerifier = (verifier: string): Effect.Effect<string, PkceError> => {
  // RFC 7636 §4.1: minimum length of 43 characters and a maximum length of 128 characters
  if (verifier.length < MIN_VERIFIER_LENGTH || verifier.length > MAX_VERIFIER_LENGTH) {
    return Effect.fail(
      new PkceError({
        reason: new InvalidVerifierLength({
          length: verifier.length,
          min: MIN_VERIFIER_LENGTH,
          max: MAX_VERIFIER_LENGTH
        })
      })
    )
  }
  // RFC 7636 §4.1: [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"
  if (!UNRESERVED.test(verifier)) {
    const index = [...verifier].findIndex((c) => !UNRESERVED.test(c))
    const codePoint = [...verifier][index]?.codePointAt(0) ?? 0
    return Effect.fail(new PkceError({ reason: new InvalidVerifierCharacter({ index, codePoint }) }))
  }
  return Effect.succeed(verifier)
}

/**
 * Computes the S256 code challenge of a verifier: `BASE64URL(SHA256(ASCII(code_verifier)))`.
 *
 * @see [RFC 7636 §4.2](https://www.rfc-editor.org/rfc/rfc7636#section-4.2)
 * @category constructors
 * @since 0.1.0
 */
export const challengeS256 = Effect.fnUntraced(function*(verifier: string) {
  yield* validateVerifier(verifier)
  const digest = yield* Digest.Digest
  // RFC 7636 §4.2: code_challenge = BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))
  const hash = yield* digest.digest(Digest.sha256, new TextEncoder().encode(verifier))
  return Base64Url.encode(hash)
})

/**
 * Whether `challenge` is the S256 challenge of `verifier`, as an authorization server checks it (RFC 7636 §4.6).
 * The comparison takes the same time wherever the two differ.
 *
 * @see [RFC 7636 §4.6](https://www.rfc-editor.org/rfc/rfc7636#section-4.6)
 * @category guards
 * @since 0.1.0
 */
export const verify = Effect.fnUntraced(function*(verifier: string, challenge: string) {
  const expected = yield* challengeS256(verifier)
  return constantTimeEqual(expected, challenge)
})

const constantTimeEqual = (a: string, b: string): boolean => {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

/**
 * Draws a fresh code verifier from the CSPRNG: base64url characters (a subset of the unreserved set), `length`
 * characters long (default 43, from 32 random bytes).
 *
 * @see [RFC 7636 §4.1](https://www.rfc-editor.org/rfc/rfc7636#section-4.1)
 * @category constructors
 * @since 0.1.0
 */
export const generateVerifier = Effect.fnUntraced(function*(length: number = DEFAULT_VERIFIER_LENGTH) {
  if (!Number.isInteger(length) || length < MIN_VERIFIER_LENGTH || length > MAX_VERIFIER_LENGTH) {
    return yield* new PkceError({
      reason: new InvalidVerifierLength({ length, min: MIN_VERIFIER_LENGTH, max: MAX_VERIFIER_LENGTH })
    })
  }
  const random = yield* SecureRandom.SecureRandom
  // RFC 7636 §7.1: at least 256 bits of entropy for the default; every base64url char carries 6 random bits
  const bytes = yield* random.randomBytes(Math.ceil((length * 3) / 4))
  return Redacted.make(Base64Url.encode(bytes).slice(0, length), { label: "pkce_verifier" })
})

/**
 * The PKCE service: fresh verifier/challenge pairs, and the challenge and check of a given verifier.
 *
 * **Example** (a pair for an authorization request)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Pkce } from "@mcpauth/pkce"
 *
 * const program = Effect.gen(function*() {
 *   const pkce = yield* Pkce.Pkce
 *   const { challenge, method } = yield* pkce.generate()
 *   return { code_challenge: challenge, code_challenge_method: method }
 * }).pipe(Effect.provide(Pkce.layer))
 * ```
 *
 * @category services
 * @since 0.1.0
 */
export class Pkce extends Context.Service<Pkce, {
  /** RFC 7636 §4.1–4.2: a new verifier (43..128 chars, default 43) and its S256 challenge. */
  readonly generate: (options?: { readonly length?: number | undefined }) => Effect.Effect<PkcePair, PkceError>
  /** RFC 7636 §4.2: the S256 challenge of a given verifier. */
  readonly challenge: (verifier: Redacted.Redacted<string> | string) => Effect.Effect<string, PkceError>
  /** RFC 7636 §4.6: whether the challenge belongs to the verifier. */
  readonly verify: (
    verifier: Redacted.Redacted<string> | string,
    challenge: string
  ) => Effect.Effect<boolean, PkceError>
}>()("@mcpauth/pkce/Pkce") {}

const reveal = (v: Redacted.Redacted<string> | string): string => (typeof v === "string" ? v : Redacted.value(v))

/**
 * Builds the service from whatever `SecureRandom` and `Digest` are in context (useful for deterministic tests).
 *
 * @category constructors
 * @since 0.1.0
 */
export const make: Effect.Effect<Pkce["Service"], never, SecureRandom.SecureRandom | Digest.Digest> = Effect.gen(
  function*() {
    const context = yield* Effect.context<SecureRandom.SecureRandom | Digest.Digest>()
    const generate = Effect.fn("Pkce.generate")(function*(options?: { readonly length?: number | undefined }) {
      const verifier = yield* generateVerifier(options?.length)
      const challenge = yield* challengeS256(Redacted.value(verifier))
      return { verifier, challenge, method: "S256" as const }
    })
    return Pkce.of({
      generate: (options) => generate(options).pipe(Effect.provideContext(context)),
      challenge: (verifier) => challengeS256(reveal(verifier)).pipe(Effect.provideContext(context)),
      verify: (verifier, challenge) => verify(reveal(verifier), challenge).pipe(Effect.provideContext(context))
    })
  }
)

/**
 * The service on WebCrypto: `crypto.getRandomValues` for verifiers, `crypto.subtle` SHA-256 for challenges.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer: Layer.Layer<Pkce> = Layer.effect(Pkce, make).pipe(
  Layer.provide([SecureRandom.layerWebCrypto, Digest.layerWebCrypto])
)
