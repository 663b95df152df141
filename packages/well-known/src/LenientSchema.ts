/**
 * Lenient JSON-object schemas for metadata documents: declared members are checked, unknown members are kept as
 * received, and `null` in an optional member means the member is absent.
 *
 * @see [RFC 8414 §3.2](https://www.rfc-editor.org/rfc/rfc8414#section-3.2)
 * @see [RFC 9728 §3.2](https://www.rfc-editor.org/rfc/rfc9728#section-3.2)
 * @since 0.1.0
 */
import { Schema, SchemaIssue, SchemaTransformation } from "effect"

type Fields = { readonly [key: string]: Schema.Top }
type Optionals<O extends Fields> = { readonly [K in keyof O]: Schema.optionalKey<O[K]> }

const optionals = <O extends Fields>(optional: O): Optionals<O> => {
  const out: Record<string, Schema.Top> = {}
  for (const [k, v] of Object.entries(optional)) out[k] = Schema.optionalKey(v)
  return out as Optionals<O>
}

/**
 * A schema for a JSON object: `required` members must be present and valid, `optional` members may be absent or
 * `null` (then dropped), every other member is kept untouched.
 */
export const lenientObject = <const R extends Fields, const O extends Fields>(required: R, optional: O) => {
  const known = Schema.Struct({ ...required, ...optionals(optional) })
  const target = Schema.StructWithRest(known, [Schema.Record(Schema.String, Schema.Unknown)])
  const optionalKeys = new Set(Object.keys(optional))
  return Schema.Record(Schema.String, Schema.Unknown).pipe(
    Schema.decodeTo(
      target,
      SchemaTransformation.transform<typeof target.Encoded, { readonly [x: string]: unknown }>({
        decode: (raw) => {
          const out: Record<string, unknown> = {}
          for (const [k, v] of Object.entries(raw)) {
            if (!(v === null && optionalKeys.has(k))) out[k] = v
          }
          // the struct checks the declared members right after this step
          return out as typeof target.Encoded
        },
        encode: (value) => value
      })
    )
  )
}

/** One problem found in a document: the member (a JSON path) and what was expected there. */
export interface Problem {
  readonly member: string
  readonly expected: string
}

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** Every problem of a decoding failure, with the member as a dotted path (`scopes_supported[0]`). */
export const problems = (issue: SchemaIssue.Issue): ReadonlyArray<Problem> =>
  formatter(issue).issues.map((i) => ({
    member: i.path === undefined || i.path.length === 0
      ? "(document)"
      : i.path.map((p, n) => (typeof p === "number" ? `[${p}]` : n === 0 ? String(p) : `.${String(p)}`)).join(""),
    expected: i.message
  }))
