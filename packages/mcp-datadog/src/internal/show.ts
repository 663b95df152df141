/**
 * How a user-supplied value is echoed in an error message: JSON-quoted, with every control character escaped
 * (`\u001b`, `\u0000`, `\n`, …; also DEL, the C1 controls and the invisible / bidirectional format characters, which
 * could recolour a terminal or disguise the text), and cut to `max` characters with the full length named.
 *
 * @internal
 */
// JSON.stringify escapes U+0000..U+001F, quotes, backslashes and lone surrogates; these it leaves as they are
const UNSAFE = /[\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g

/** @internal */
export const MAX_SHOWN = 120

/** @internal */
export const showValue = (value: string, max: number = MAX_SHOWN): string => {
  let head = value.length > max ? value.slice(0, max) : value
  // never cut a surrogate pair in half
  if (head.length < value.length && /[\ud800-\udbff]$/.test(head)) head = head.slice(0, -1)
  const quoted = JSON.stringify(head).replace(
    UNSAFE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`
  )
  return head.length < value.length ? `${quoted}… (${value.length} chars)` : quoted
}
