/**
 * URL checks for URLs found in metadata: https always; plain http only for loopback hosts and only when allowed.
 *
 * @see [MCP 2026-07-28 Authorization, Security Considerations §Communication Security](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization/security-considerations)
 * @see [RFC 8252 §8.3](https://www.rfc-editor.org/rfc/rfc8252#section-8.3)
 * @since 0.1.0
 */
/** RFC 8252 §8.3 / RFC 6761 §6.3: loopback hosts, where plain http can be allowed for local development and tests. */
export const isLoopbackHost = (hostname: string): boolean => {
  const h = hostname.toLowerCase()
  return h === "localhost" || h.endsWith(".localhost") || h === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(h)
}

/**
 * Why `url` may not be used for a network request, or `undefined` when it may: https always; http only for a
 * loopback host and only when `allowLoopbackHttp` is set.
 */
export const insecureReason = (url: string, allowLoopbackHttp: boolean): string | undefined => {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return "not an absolute URL"
  }
  if (u.protocol === "https:") return undefined
  if (u.protocol === "http:") {
    if (!isLoopbackHost(u.hostname)) return "http is not allowed (https is required)"
    if (!allowLoopbackHttp) return "http to a loopback host needs the allowLoopbackHttp option"
    return undefined
  }
  return `the scheme ${u.protocol} is not allowed (https is required)`
}
