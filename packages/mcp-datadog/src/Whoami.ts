/**
 * The `datadog://mcp/whoami` resource: who the credentials belong to (user, organisation, site), decoded leniently —
 * every member is optional, `null` means absent, unknown members are kept in `raw`.
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import * as DatadogMcpError from "./DatadogMcpError.ts"

/**
 * The URI of the whoami resource.
 *
 * @category constants
 * @since 0.1.0
 */
export const WHOAMI_URI = "datadog://mcp/whoami"

/**
 * The URI of the toolsets catalog resource.
 *
 * @category constants
 * @since 0.1.0
 */
export const TOOLSETS_URI = "datadog://mcp/toolsets"

const Member = Schema.optional(Schema.NullOr(Schema.String))

/**
 * The members this client knows; all optional, `null` allowed.
 *
 * @category schemas
 * @since 0.1.0
 */
export const WhoamiFields = Schema.Struct({
  user_uuid: Member,
  org_uuid: Member,
  user_email: Member,
  user_name: Member,
  org_name: Member,
  dd_site: Member
})

/**
 * The decoded whoami document: the known members (absent or `null` become `undefined`) and the whole document in
 * `raw`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Whoami {
  readonly user_uuid: string | undefined
  readonly org_uuid: string | undefined
  readonly user_email: string | undefined
  readonly user_name: string | undefined
  readonly org_name: string | undefined
  readonly dd_site: string | undefined
  readonly raw: { readonly [key: string]: unknown }
}

const invalid = (expected: string, detail: string) =>
  DatadogMcpError.make(new DatadogMcpError.InvalidResponse({ document: WHOAMI_URI, expected, detail }))

const isRecord = (u: unknown): u is { readonly [key: string]: unknown } =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * Decodes the whoami document from the `resources/read` result (`contents[0].text`, a JSON object).
 *
 * @category constructors
 * @since 0.1.0
 */
export const decode = (
  result: { readonly contents: ReadonlyArray<unknown> }
): Effect.Effect<Whoami, DatadogMcpError.DatadogMcpError> =>
  Effect.gen(function*() {
    const first = result.contents[0]
    if (!isRecord(first)) return yield* invalid("contents[0]", "the result has no contents")
    const text = first["text"]
    if (typeof text !== "string") {
      return yield* invalid("contents[0].text to be a string", `got ${text === undefined ? "no text" : typeof text}`)
    }
    const json = yield* Effect.try({
      try: (): unknown => JSON.parse(text),
      catch: (e) => invalid("contents[0].text to be JSON", e instanceof Error ? e.message : String(e))
    })
    if (!isRecord(json)) return yield* invalid("a JSON object", `got ${Array.isArray(json) ? "an array" : typeof json}`)
    const fields = yield* Schema.decodeUnknownEffect(WhoamiFields)(json).pipe(
      Effect.mapError((e) => invalid("string members (user_uuid, org_uuid, user_email, …)", e.message))
    )
    const norm = (v: string | null | undefined) => v ?? undefined
    return {
      user_uuid: norm(fields.user_uuid),
      org_uuid: norm(fields.org_uuid),
      user_email: norm(fields.user_email),
      user_name: norm(fields.user_name),
      org_name: norm(fields.org_name),
      dd_site: norm(fields.dd_site),
      raw: json
    }
  })
