import { assert, describe, it, layer } from "@effect/vitest"
import { Pkce } from "@mcpauth/pkce"
import { Effect, Exit, Layer, Redacted, Schema } from "effect"
import { Digest, SecureRandom } from "effect/crypto"
import * as oauth from "oauth4webapi"

// RFC 7636 Appendix B: the worked example (the 32 octets, the verifier they encode to, and its S256 challenge)
const RFC_OCTETS = [
  116,
  24,
  223,
  180,
  151,
  153,
  224,
  37,
  79,
  250,
  96,
  125,
  216,
  173,
  187,
  186,
  22,
  212,
  37,
  77,
  105,
  214,
  191,
  240,
  91,
  88,
  5,
  88,
  83,
  132,
  141,
  121
]
const RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
const RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

const UNRESERVED = /^[A-Za-z0-9\-._~]+$/

const failureReason = <A>(exit: Exit.Exit<A, Pkce.PkceError>) => {
  assert.isTrue(Exit.isFailure(exit), "expected a failure")
  const error = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
  assert.strictEqual(error?._tag, "Fail")
  return error?._tag === "Fail" ? error.error.reason : undefined
}

layer(Pkce.layer)("Pkce service", (it) => {
  it.effect("RFC 7636 Appendix B: the S256 challenge of the RFC's verifier", () =>
    Effect.gen(function*() {
      const pkce = yield* Pkce.Pkce
      assert.strictEqual(yield* pkce.challenge(RFC_VERIFIER), RFC_CHALLENGE)
      assert.isTrue(yield* pkce.verify(Redacted.make(RFC_VERIFIER), RFC_CHALLENGE))
      assert.isFalse(yield* pkce.verify(RFC_VERIFIER, RFC_CHALLENGE.replace("E9", "E8")))
      assert.isFalse(yield* pkce.verify(RFC_VERIFIER, RFC_CHALLENGE.slice(1)))
    }))

  it.effect("RFC 7636 §4.1: default verifier is 43 base64url chars; method is always S256", () =>
    Effect.gen(function*() {
      const pkce = yield* Pkce.Pkce
      const pair = yield* pkce.generate()
      const verifier = Redacted.value(pair.verifier)
      assert.strictEqual(verifier.length, 43)
      assert.match(verifier, /^[A-Za-z0-9_-]+$/)
      assert.strictEqual(pair.method, "S256")
      assert.strictEqual(pair.challenge.length, 43)
      assert.isTrue(yield* pkce.verify(pair.verifier, pair.challenge))
    }))

  it.effect("never shows the verifier when printed or logged", () =>
    Effect.gen(function*() {
      const pair = yield* (yield* Pkce.Pkce).generate()
      const verifier = Redacted.value(pair.verifier)
      assert.notInclude(String(pair.verifier), verifier)
      assert.notInclude(JSON.stringify(pair), verifier)
    }))

  it.effect.prop(
    "RFC 7636 §4.1: any requested length 43..128 gives that many unreserved chars",
    [Schema.Int.check(Schema.isBetween({ minimum: 43, maximum: 128 }))],
    ([length]) =>
      Effect.gen(function*() {
        const pkce = yield* Pkce.Pkce
        const pair = yield* pkce.generate({ length })
        const verifier = Redacted.value(pair.verifier)
        assert.strictEqual(verifier.length, length)
        assert.match(verifier, UNRESERVED)
        assert.isTrue(yield* pkce.verify(verifier, pair.challenge))
      })
  )

  it.effect("RFC 7636 §7.1: 2,000 draws are all distinct and use the whole base64url alphabet", () =>
    Effect.gen(function*() {
      const pkce = yield* Pkce.Pkce
      const seen = new Set<string>()
      const chars = new Set<string>()
      for (let i = 0; i < 2000; i++) {
        const v = Redacted.value((yield* pkce.generate()).verifier)
        seen.add(v)
        for (const c of v) chars.add(c)
      }
      assert.strictEqual(seen.size, 2000)
      assert.strictEqual(chars.size, 64)
    }))

  it.effect.each([0, 42, 129, 1000, 43.5, Number.NaN, -1])(
    "RFC 7636 §4.1: refuses to generate a verifier of length %s",
    (length) =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit((yield* Pkce.Pkce).generate({ length }))
        const reason = failureReason(exit)
        assert.strictEqual(reason?._tag, "InvalidVerifierLength")
      })
  )
})

describe("validateVerifier", () => {
  it.effect.each([
    { name: "too short (42)", verifier: "a".repeat(42), tag: "InvalidVerifierLength" },
    { name: "too long (129)", verifier: "a".repeat(129), tag: "InvalidVerifierLength" },
    { name: "empty", verifier: "", tag: "InvalidVerifierLength" },
    { name: "a space", verifier: "a".repeat(42) + " ", tag: "InvalidVerifierCharacter" },
    { name: "a plus sign", verifier: "+" + "a".repeat(42), tag: "InvalidVerifierCharacter" },
    { name: "a slash", verifier: "a".repeat(20) + "/" + "a".repeat(22), tag: "InvalidVerifierCharacter" },
    { name: "a non-ASCII letter", verifier: "é".repeat(43), tag: "InvalidVerifierCharacter" },
    { name: "a padding '='", verifier: "a".repeat(42) + "=", tag: "InvalidVerifierCharacter" }
  ])("RFC 7636 §4.1: rejects a verifier with $name", ({ verifier, tag }) =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Pkce.validateVerifier(verifier))
      const reason = failureReason(exit)
      assert.strictEqual(reason?._tag, tag)
      // the error never echoes the secret
      assert.notInclude(reason?.message ?? "", verifier.length > 0 ? verifier : "\u0000")
    }))

  it.effect("reports where the first bad character is", () =>
    Effect.gen(function*() {
      const reason = failureReason(yield* Effect.exit(Pkce.validateVerifier("a".repeat(10) + "/" + "a".repeat(40))))
      assert.deepStrictEqual(
        reason?._tag === "InvalidVerifierCharacter" ? [reason.index, reason.codePoint] : [],
        [10, 0x2f]
      )
      assert.include(reason?.message ?? "", "U+002F")
    }))

  it.effect.each(["~", ".", "-", "_"])(
    "RFC 7636 §4.1: accepts the unreserved mark %s",
    (mark) =>
      Effect.gen(function*() {
        const v = mark.repeat(43)
        assert.strictEqual(yield* Pkce.validateVerifier(v), v)
      })
  )

  it.effect("the challenge of a bad verifier is a typed error, not a hash", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Pkce.challengeS256("short").pipe(Effect.provide(Digest.layerWebCrypto)))
      assert.strictEqual(failureReason(exit)?._tag, "InvalidVerifierLength")
    }))
})

describe("differential: oauth4webapi", () => {
  it.effect.prop(
    "S256 challenges agree with oauth4webapi.calculatePKCECodeChallenge on random verifiers",
    [
      Schema.String.check(Schema.isPattern(/^[A-Za-z0-9\-._~]{43,128}$/))
    ],
    ([verifier]) =>
      Effect.gen(function*() {
        const ours = yield* Pkce.challengeS256(verifier)
        const theirs = yield* Effect.promise(() => oauth.calculatePKCECodeChallenge(verifier))
        assert.strictEqual(ours, theirs)
      }).pipe(Effect.provide(Digest.layerWebCrypto))
  )

  it.effect("oauth4webapi's own verifiers pass our validation and agree", () =>
    Effect.gen(function*() {
      for (let i = 0; i < 50; i++) {
        const verifier = oauth.generateRandomCodeVerifier()
        yield* Pkce.validateVerifier(verifier)
        const ours = yield* Pkce.challengeS256(verifier)
        assert.strictEqual(ours, yield* Effect.promise(() => oauth.calculatePKCECodeChallenge(verifier)))
      }
    }).pipe(Effect.provide(Digest.layerWebCrypto)))
})

describe("make", () => {
  it.effect("RFC 7636 Appendix B: the RFC's 32 octets from the CSPRNG give the RFC's verifier and challenge", () =>
    Effect.gen(function*() {
      const rfc = Layer.succeed(SecureRandom.SecureRandom, SecureRandom.make(() => Uint8Array.from(RFC_OCTETS)))
      const pkce = yield* Pkce.make.pipe(Effect.provide([rfc, Digest.layerWebCrypto]))
      const pair = yield* pkce.generate()
      assert.strictEqual(Redacted.value(pair.verifier), RFC_VERIFIER)
      assert.strictEqual(pair.challenge, RFC_CHALLENGE)
    }))

  it.effect("draws the verifier from the SecureRandom in context", () =>
    Effect.gen(function*() {
      const fixed = Layer.succeed(SecureRandom.SecureRandom, SecureRandom.make((n) => new Uint8Array(n).fill(0xfb)))
      const pkce = yield* Pkce.make.pipe(Effect.provide([fixed, Digest.layerWebCrypto]))
      const pair = yield* pkce.generate()
      // 0xfb repeated is "-_v7" repeated in base64url
      assert.strictEqual(Redacted.value(pair.verifier), "-_v7".repeat(11).slice(0, 43))
      assert.strictEqual(pair.challenge, yield* pkce.challenge(pair.verifier))
    }))
})
