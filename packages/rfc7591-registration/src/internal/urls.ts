/** URL checks shared by the registration modules (redirect URIs, endpoints, loopback hosts). */

const parse = (input: string): URL | undefined => {
  try {
    return new URL(input)
  } catch {
    return undefined
  }
}

/** RFC 8252 §7.3 / §8.3: the loopback hosts (IPv4 127/8, IPv6 ::1, and the name localhost). */
export const isLoopbackHost = (hostname: string): boolean =>
  hostname === "localhost" || hostname === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(hostname)

/** Why a redirect URI cannot be registered, or undefined when it can. */
export const redirectUriProblem = (uri: string): string | undefined => {
  const url = parse(uri)
  // RFC 6749 §3.1.2: the redirection endpoint URI MUST be an absolute URI
  if (url === undefined) return "not an absolute URI"
  // RFC 6749 §3.1.2: the endpoint URI MUST NOT include a fragment component
  if (uri.includes("#")) return "a redirect URI must not hold a fragment (RFC 6749 §3.1.2)"
  if (url.protocol === "https:") return undefined
  // RFC 8252 §7.3 / §8.3: plain http only on a loopback interface
  if (url.protocol === "http:") {
    return isLoopbackHost(url.hostname)
      ? undefined
      : "http is only allowed on a loopback host (127.0.0.1, [::1], localhost) (RFC 8252 §8.3)"
  }
  // RFC 8252 §7.1: a private-use scheme is a reverse domain name, so it holds a period
  if (url.protocol.slice(0, -1).includes(".")) return undefined
  return `scheme "${url.protocol}" is neither https, loopback http nor a private-use reverse-domain scheme (RFC 8252 §7.1)`
}

/** Why an endpoint URL from metadata cannot be called, or undefined when it can. */
export const endpointProblem = (endpoint: string, allowLoopbackHttp: boolean): string | undefined => {
  const url = parse(endpoint)
  if (url === undefined) return "not an absolute URL"
  if (url.protocol === "https:") return undefined
  if (url.protocol === "http:" && isLoopbackHost(url.hostname)) {
    return allowLoopbackHttp ? undefined : "plain http (allowed on loopback only with allowLoopbackHttp)"
  }
  return "not an https URL"
}

/** Whether `uri` is a loopback http URL served on the same endpoint as `other` apart from the port. */
export const sameLoopbackEndpointAnyPort = (uri: string, other: string): boolean => {
  const a = parse(uri)
  const b = parse(other)
  if (a === undefined || b === undefined) return false
  return a.protocol === "http:" && b.protocol === "http:" && isLoopbackHost(a.hostname) &&
    a.hostname === b.hostname && a.pathname === b.pathname && a.search === b.search
}
