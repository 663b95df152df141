/**
 * A `WWW-Authenticate` parser that follows RFC 9110 §11.6.1 and reads the Bearer challenge of RFC 6750 / RFC 9728.
 *
 * It returns every challenge of every header line (several challenges per line, auth-params and token68,
 * quoted-strings with backslash escapes, optional whitespace, case-insensitive scheme and parameter names). It never
 * throws and never fails: input it cannot make sense of is skipped up to the next comma.
 *
 * @see [RFC 9110 §11.6.1 - WWW-Authenticate](https://www.rfc-editor.org/rfc/rfc9110#section-11.6.1)
 * @see [RFC 9110 §11.2 - Authentication Parameters](https://www.rfc-editor.org/rfc/rfc9110#section-11.2)
 * @see [RFC 6750 §3 - The WWW-Authenticate Response Header Field](https://www.rfc-editor.org/rfc/rfc6750#section-3)
 * @see [RFC 9728 §5.1 - WWW-Authenticate Response](https://www.rfc-editor.org/rfc/rfc9728#section-5.1)
 * @since 0.1.0
 */
import { Option } from "effect"

/**
 * One authentication challenge: its scheme (as received), its token68 if it carries one, and its auth-params in
 * order, with names lower-cased (RFC 9110 §11.2: parameter names are case-insensitive).
 *
 * @category models
 * @since 0.1.0
 */
export interface Challenge {
  readonly scheme: string
  readonly token68?: string | undefined
  readonly params: ReadonlyArray<readonly [name: string, value: string]>
}

/**
 * The Bearer challenge's members that an MCP client acts on, plus every auth-param received.
 *
 * @see [RFC 6750 §3](https://www.rfc-editor.org/rfc/rfc6750#section-3)
 * @see [RFC 9728 §5.1](https://www.rfc-editor.org/rfc/rfc9728#section-5.1)
 * @category models
 * @since 0.1.0
 */
export interface BearerChallenge {
  readonly realm?: string | undefined
  /** RFC 9728 §5.1: the URL of the protected resource metadata document. */
  readonly resource_metadata?: string | undefined
  /** RFC 6750 §3: space-delimited scopes the request needs. */
  readonly scope?: string | undefined
  /** RFC 6750 §3.1: `invalid_request`, `invalid_token`, `insufficient_scope` or another code. */
  readonly error?: string | undefined
  readonly error_description?: string | undefined
  readonly error_uri?: string | undefined
  /** Every auth-param of the challenge, names lower-cased, in order. */
  readonly params: ReadonlyArray<readonly [name: string, value: string]>
}

// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
// / DIGIT / ALPHA
const isTchar = (c: string): boolean => /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/.test(c)
// RFC 9110 §11.2: token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const isToken68Char = (c: string): boolean => /^[A-Za-z0-9\-._~+/]$/.test(c)
// RFC 9110 §5.6.3: OWS = *( SP / HTAB )
const isWs = (c: string | undefined): boolean => c === " " || c === "\t"

class Scanner {
  i = 0
  readonly s: string
  constructor(s: string) {
    this.s = s
  }
  get eof() {
    return this.i >= this.s.length
  }
  peek(offset = 0): string | undefined {
    return this.s[this.i + offset]
  }
  skipWs() {
    while (isWs(this.peek())) this.i++
  }
  /** RFC 9110 §5.6.1: a list may hold empty elements; skip OWS and commas. */
  skipListSeparators() {
    while (isWs(this.peek()) || this.peek() === ",") this.i++
  }
  readWhile(pred: (c: string) => boolean): string {
    const start = this.i
    while (!this.eof && pred(this.s[this.i] as string)) this.i++
    return this.s.slice(start, this.i)
  }
  /** Recovery: drop everything up to the next comma that is not inside a quoted-string. */
  skipToComma() {
    while (!this.eof && this.peek() !== ",") {
      if (this.peek() === "\"") this.readQuoted()
      else this.i++
    }
  }
  /**
   * RFC 9110 §5.6.4: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE; quoted-pair = "\" ( HTAB / SP / VCHAR
   * / obs-text ). An unterminated string runs to the end of the value.
   */
  readQuoted(): string {
    this.i++ // opening DQUOTE
    let out = ""
    while (!this.eof) {
      const c = this.s[this.i] as string
      if (c === "\"") {
        this.i++
        return out
      }
      if (c === "\\" && this.i + 1 < this.s.length) {
        out += this.s[this.i + 1]
        this.i += 2
        continue
      }
      out += c
      this.i++
    }
    return out
  }
  /**
   * An auth-param value: token / quoted-string (RFC 9110 §11.2). Lenient: an unquoted value runs up to the next
   * comma or whitespace, so that an unquoted URL (whose ":" and "/" are not tchar) is still read whole.
   */
  readValue(): string {
    if (this.peek() === "\"") return this.readQuoted()
    return this.readWhile((c) => c !== "," && !isWs(c))
  }
}

/**
 * Tries to read `token68` at the scanner position (RFC 9110 §11.2): a run of token68 characters, then any number of
 * "=", then the end of the element. Leaves the scanner untouched and returns `undefined` otherwise.
 */
const tryToken68 = (sc: Scanner): string | undefined => {
  const start = sc.i
  const body = sc.readWhile(isToken68Char)
  const pad = sc.readWhile((c) => c === "=")
  const afterPad = sc.i
  sc.skipWs()
  if (body.length > 0 && (sc.eof || sc.peek() === ",")) {
    // `name=value` goes on past the "=" and so is not token68; `abc=` ending the element is token68 with padding
    sc.i = afterPad
    return body + pad
  }
  sc.i = start
  return undefined
}

/**
 * Reads `token BWS "=" BWS ( token / quoted-string )` at the scanner position. Returns `undefined` (scanner
 * untouched) when the element is not an auth-param.
 */
const tryAuthParam = (sc: Scanner): readonly [string, string] | undefined => {
  const start = sc.i
  const name = sc.readWhile(isTchar)
  sc.skipWs()
  // RFC 9110 §11.2: auth-param = token BWS "=" BWS ( token / quoted-string )
  if (name.length === 0 || sc.peek() !== "=") {
    sc.i = start
    return undefined
  }
  sc.i++
  sc.skipWs()
  const value = sc.readValue()
  return [name.toLowerCase(), value] as const
}

/**
 * After an auth-param: further auth-params separated by white space only (no comma) are read too (lenient: some
 * servers omit the commas); anything else up to the next comma is dropped.
 */
const restOfElement = (sc: Scanner, params: Array<readonly [string, string]> | undefined): void => {
  while (true) {
    sc.skipWs()
    if (sc.eof || sc.peek() === ",") return
    const next = tryAuthParam(sc)
    if (next === undefined) {
      sc.skipToComma()
      return
    }
    params?.push(next)
  }
}

const parseOne = (input: string, out: Array<Challenge>): void => {
  const sc = new Scanner(input)
  let current: { scheme: string; token68?: string | undefined; params: Array<readonly [string, string]> } | undefined
  const flush = () => {
    if (current !== undefined) {
      out.push(
        current.token68 === undefined
          ? { scheme: current.scheme, params: current.params }
          : { scheme: current.scheme, token68: current.token68, params: current.params }
      )
    }
    current = undefined
  }
  while (true) {
    sc.skipListSeparators()
    if (sc.eof) break
    // After a comma, `name = value` continues the current challenge's auth-param list (RFC 9110 §11.6.1: the list
    // of challenges and the list of auth-params share the comma separator).
    const param = tryAuthParam(sc)
    if (param !== undefined) {
      // an auth-param with no challenge to belong to (or after a token68) is dropped
      const owner = current !== undefined && current.token68 === undefined ? current.params : undefined
      owner?.push(param)
      restOfElement(sc, owner)
      continue
    }
    // RFC 9110 §11.1: auth-scheme = token
    const scheme = sc.readWhile(isTchar)
    if (scheme.length === 0) {
      // not a token: garbage up to the next comma is dropped (skipToComma always advances here: the character is
      // neither a separator nor a tchar)
      sc.skipToComma()
      continue
    }
    flush()
    current = { scheme, params: [] }
    // RFC 9110 §11.6.1: challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
    if (!isWs(sc.peek())) {
      if (!sc.eof && sc.peek() !== ",") sc.skipToComma()
      continue
    }
    sc.skipWs()
    if (sc.eof || sc.peek() === ",") continue
    // token68 first: `abc==` would otherwise read as the auth-param `abc` with the value "="
    const t68 = tryToken68(sc)
    if (t68 !== undefined) {
      current.token68 = t68
      sc.skipWs()
      continue
    }
    const first = tryAuthParam(sc)
    if (first === undefined) {
      sc.skipToComma()
      continue
    }
    current.params.push(first)
    restOfElement(sc, current.params)
  }
  flush()
}

/**
 * Parses `WWW-Authenticate` header values into every challenge they hold, in order.
 *
 * Pass one string per header line (or the single value a `fetch` `Headers` object joins with ", "). Never throws;
 * unparseable parts are skipped.
 *
 * **Example** (two challenges on one line)
 *
 * ```ts
 * import { WwwAuthenticate } from "@mcpauth/rfc9728-discovery"
 *
 * WwwAuthenticate.parse(`Basic realm="x", Bearer resource_metadata="https://a.example/.well-known/oauth-protected-resource"`)
 * // [{ scheme: "Basic", params: [["realm", "x"]] }, { scheme: "Bearer", params: [["resource_metadata", "https://…"]] }]
 * ```
 *
 * @see [RFC 9110 §11.6.1](https://www.rfc-editor.org/rfc/rfc9110#section-11.6.1)
 * @category constructors
 * @since 0.1.0
 */
export const parse = (values: string | ReadonlyArray<string> | null | undefined): ReadonlyArray<Challenge> => {
  const out: Array<Challenge> = []
  const lines = values == null ? [] : typeof values === "string" ? [values] : values
  for (const line of lines) {
    if (typeof line === "string") parseOne(line, out)
  }
  return out
}

/**
 * The first value of a (lower-cased) auth-param of a challenge.
 *
 * @category constructors
 * @since 0.1.0
 */
export const param = (challenge: Challenge, name: string): string | undefined => {
  const key = name.toLowerCase()
  return challenge.params.find(([n]) => n === key)?.[1]
}

/**
 * Whether a challenge uses the given scheme (RFC 9110 §11.1: schemes are case-insensitive).
 *
 * @category guards
 * @since 0.1.0
 */
export const isScheme = (challenge: Challenge, scheme: string): boolean =>
  challenge.scheme.toLowerCase() === scheme.toLowerCase()

/**
 * Reads the first Bearer challenge: `resource_metadata` (RFC 9728 §5.1), `scope`, `error`, `error_description`,
 * `error_uri` and `realm` (RFC 6750 §3). When a parameter occurs more than once, the first occurrence counts.
 *
 * @category constructors
 * @since 0.1.0
 */
export const bearer = (challenges: ReadonlyArray<Challenge>): Option.Option<BearerChallenge> => {
  // RFC 6750 §3: the "Bearer" auth-scheme (RFC 9110 §11.1: case-insensitive)
  const c = challenges.find((ch) => isScheme(ch, "Bearer"))
  if (c === undefined) return Option.none()
  return Option.some({
    realm: param(c, "realm"),
    resource_metadata: param(c, "resource_metadata"),
    scope: param(c, "scope"),
    error: param(c, "error"),
    error_description: param(c, "error_description"),
    error_uri: param(c, "error_uri"),
    params: c.params
  })
}

/**
 * Parses header values and reads the Bearer challenge in one step.
 *
 * @category constructors
 * @since 0.1.0
 */
export const parseBearer = (
  values: string | ReadonlyArray<string> | null | undefined
): Option.Option<BearerChallenge> => bearer(parse(values))

/**
 * Serialises a challenge (RFC 9110 §11.6.1), quoting every auth-param value. Meant for tests and servers; the
 * parser reads back what this writes.
 *
 * @category constructors
 * @since 0.1.0
 */
export const format = (challenge: Challenge): string => {
  if (challenge.token68 !== undefined) return `${challenge.scheme} ${challenge.token68}`
  if (challenge.params.length === 0) return challenge.scheme
  // RFC 9110 §5.6.4: in a quoted-string, "\" and DQUOTE are sent as quoted-pairs
  const quote = (v: string) => `"${v.replace(/[\\"]/g, (m) => `\\${m}`)}"`
  return `${challenge.scheme} ${challenge.params.map(([n, v]) => `${n}=${quote(v)}`).join(", ")}`
}
