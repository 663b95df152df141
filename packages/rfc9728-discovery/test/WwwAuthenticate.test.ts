import { assert, describe, it } from "@effect/vitest"
import { WwwAuthenticate } from "@mcpauth/rfc9728-discovery"
import { Effect, Option, Schema } from "effect"

type Row = {
  readonly name: string
  readonly input: string | ReadonlyArray<string>
  readonly expected: ReadonlyArray<WwwAuthenticate.Challenge>
}

const c = (
  scheme: string,
  params: ReadonlyArray<readonly [string, string]> = [],
  token68?: string
): WwwAuthenticate.Challenge => (token68 === undefined ? { scheme, params } : { scheme, token68, params })

const rows: ReadonlyArray<Row> = [
  {
    name: "the RFC 9110 §11.6.1 example: two challenges, escaped quotes, a token value",
    input: `Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"`,
    expected: [
      c("Newauth", [["realm", "apps"], ["type", "1"], ["title", "Login to \"apps\""]]),
      c("Basic", [["realm", "simple"]])
    ]
  },
  {
    name: "the MCP 401 example (resource_metadata and scope)",
    input:
      `Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource",\n                         scope="files:read"`
        .replace("\n", " "),
    expected: [
      c("Bearer", [
        ["resource_metadata", "https://mcp.example.com/.well-known/oauth-protected-resource"],
        ["scope", "files:read"]
      ])
    ]
  },
  {
    name: "token68 with padding, then an auth-param challenge",
    input: `Basic dXNlcjpwYXNz==, Bearer realm="r"`,
    expected: [c("Basic", [], "dXNlcjpwYXNz=="), c("Bearer", [["realm", "r"]])]
  },
  {
    name: "token68 without padding and with / and +",
    input: `Negotiate a+b/c_d~e.f-g`,
    expected: [c("Negotiate", [], "a+b/c_d~e.f-g")]
  },
  {
    name: "a bare scheme between others",
    input: `Basic, Bearer, Digest realm="d"`,
    expected: [c("Basic"), c("Bearer"), c("Digest", [["realm", "d"]])]
  },
  {
    name: "commas and quotes inside quoted values",
    input: `Bearer error_description="a, b \\"c\\", d", scope="x y"`,
    expected: [c("Bearer", [["error_description", "a, b \"c\", d"], ["scope", "x y"]])]
  },
  {
    name: "a backslash escaping an ordinary character and a backslash",
    input: `Bearer realm="a\\b\\\\c"`,
    expected: [c("Bearer", [["realm", "ab\\c"]])]
  },
  {
    name: "BWS around '=' and OWS around commas, tabs included",
    input: `Bearer   realm = "x" ,\tscope=\t"a b"  ,  error =invalid_token`,
    expected: [c("Bearer", [["realm", "x"], ["scope", "a b"], ["error", "invalid_token"]])]
  },
  {
    name: "case-insensitive parameter names are lower-cased; the scheme is kept as sent",
    input: `bEaReR Resource_Metadata="https://a.example/prm", SCOPE="s"`,
    expected: [c("bEaReR", [["resource_metadata", "https://a.example/prm"], ["scope", "s"]])]
  },
  {
    name: "empty list elements",
    input: `, ,Bearer realm="x",, , scope="y",`,
    expected: [c("Bearer", [["realm", "x"], ["scope", "y"]])]
  },
  {
    name: "an unquoted URL value (lenient: read up to the comma)",
    input: `Bearer resource_metadata=https://a.example/.well-known/oauth-protected-resource/mcp, scope=read`,
    expected: [
      c("Bearer", [["resource_metadata", "https://a.example/.well-known/oauth-protected-resource/mcp"], [
        "scope",
        "read"
      ]])
    ]
  },
  {
    name: "several header lines",
    input: [`Basic realm="b"`, `Bearer resource_metadata="https://x.example/m", error="invalid_token"`],
    expected: [
      c("Basic", [["realm", "b"]]),
      c("Bearer", [["resource_metadata", "https://x.example/m"], ["error", "invalid_token"]])
    ]
  },
  {
    name: "an empty quoted value",
    input: `Bearer realm=""`,
    expected: [c("Bearer", [["realm", ""]])]
  },
  {
    name: "an unterminated quoted-string runs to the end",
    input: `Bearer realm="abc, def`,
    expected: [c("Bearer", [["realm", "abc, def"]])]
  },
  {
    name: "garbage before a challenge is skipped up to the next comma",
    input: `"junk", =x, Bearer realm="r"`,
    expected: [c("Bearer", [["realm", "r"]])]
  },
  {
    name: "an auth-param after a token68 is dropped, not taken for a scheme",
    input: `Basic abc==, realm="x", Bearer scope="s"`,
    expected: [c("Basic", [], "abc=="), c("Bearer", [["scope", "s"]])]
  },
  {
    name: "auth-params separated by spaces only (lenient)",
    input: `Bearer realm="x" error="invalid_token"  scope=a, Basic realm="b"`,
    expected: [c("Bearer", [["realm", "x"], ["error", "invalid_token"], ["scope", "a"]]), c("Basic", [["realm", "b"]])]
  },
  {
    name: "junk after a param is dropped up to the next comma",
    input: `Bearer realm="x" !!junk "q,q", scope="s"`,
    expected: [c("Bearer", [["realm", "x"], ["scope", "s"]])]
  },
  { name: "the empty string", input: "", expected: [] },
  { name: "no header lines", input: [], expected: [] }
]

describe("WwwAuthenticate.parse", () => {
  it.effect.each(rows)("RFC 9110 §11.6.1: $name", ({ input, expected }) =>
    Effect.sync(() => {
      assert.deepStrictEqual(WwwAuthenticate.parse(input), expected)
    }))

  it.effect("never throws on null or undefined", () =>
    Effect.sync(() => {
      assert.deepStrictEqual(WwwAuthenticate.parse(null), [])
      assert.deepStrictEqual(WwwAuthenticate.parse(undefined), [])
    }))
})

describe("WwwAuthenticate.bearer", () => {
  it.effect("RFC 6750 §3 / RFC 9728 §5.1: reads the Bearer challenge among others, whatever the case", () =>
    Effect.sync(() => {
      const b = WwwAuthenticate.parseBearer([
        `Basic realm="b"`,
        `BEARER error="insufficient_scope", scope="files:write", ` +
        `resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource", ` +
        `error_description="File write permission required, sorry"`
      ])
      assert.isTrue(Option.isSome(b))
      const v = Option.getOrThrow(b)
      assert.strictEqual(v.error, "insufficient_scope")
      assert.strictEqual(v.scope, "files:write")
      assert.strictEqual(v.resource_metadata, "https://mcp.example.com/.well-known/oauth-protected-resource")
      assert.strictEqual(v.error_description, "File write permission required, sorry")
      assert.strictEqual(v.realm, undefined)
    }))

  it.effect("no Bearer challenge gives none (Datadog's 401 carries no challenge at all)", () =>
    Effect.sync(() => {
      assert.isTrue(Option.isNone(WwwAuthenticate.parseBearer(`Basic realm="x"`)))
      assert.isTrue(Option.isNone(WwwAuthenticate.parseBearer(undefined)))
    }))

  it.effect("RFC 9110 §11.2: a repeated parameter counts once, first occurrence", () =>
    Effect.sync(() => {
      const v = Option.getOrThrow(WwwAuthenticate.parseBearer(`Bearer scope="a", scope="b"`))
      assert.strictEqual(v.scope, "a")
      assert.strictEqual(v.params.length, 2)
    }))
})

// RFC 9110 §5.6.2 token, used for schemes and parameter names
const Token = Schema.String.check(Schema.isPattern(/^[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{0,12}$/))
// RFC 9110 §5.6.4 qdtext / quoted-pair: any visible ASCII, space and tab
const Value = Schema.String.check(Schema.isPattern(/^[\x20-\x7e\t]{0,40}$/))
const Param = Schema.Tuple([Token, Value])
const ChallengeArb = Schema.Struct({ scheme: Token, params: Schema.Array(Param).check(Schema.isMaxLength(5)) })

describe("WwwAuthenticate properties", () => {
  it.effect.prop(
    "never throws on any string, and returns only non-empty schemes",
    [Schema.String],
    ([s]) =>
      Effect.sync(() => {
        const out = WwwAuthenticate.parse(s)
        assert.isTrue(Array.isArray(out))
        for (const ch of out) assert.isTrue(ch.scheme.length > 0)
      })
  )

  it.effect.prop(
    "never throws on strings built from the header's own special characters",
    [Schema.String.check(Schema.isPattern(/^[ ,="\\a-zA-Z0-9\t+/]{0,60}$/))],
    ([s]) =>
      Effect.sync(() => {
        const out = WwwAuthenticate.parse([s, s])
        assert.strictEqual(out.length % 2, 0)
      })
  )

  it.effect.prop(
    "RFC 9110 §11.6.1: format then parse gives back every challenge and every value (names lower-cased)",
    [Schema.Array(ChallengeArb).check(Schema.isMaxLength(4))],
    ([challenges]) =>
      Effect.sync(() => {
        const header = challenges.map((ch) => WwwAuthenticate.format(ch)).join(", ")
        const parsed = WwwAuthenticate.parse(header)
        assert.deepStrictEqual(
          parsed,
          challenges.map((ch) => ({
            scheme: ch.scheme,
            params: ch.params.map(([n, v]) => [n.toLowerCase(), v] as const)
          }))
        )
      })
  )
})
