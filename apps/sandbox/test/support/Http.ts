/**
 * Curl-level OAuth helpers for the tests: plain `fetch`, manual redirects with a cookie jar, no client library.
 */
import { createHash, randomBytes } from "node:crypto"
import type { Sandbox } from "../../src/index.ts"

export type Json = Record<string, unknown>

export const pkce = () => {
  const verifier = randomBytes(32).toString("base64url")
  const challenge = createHash("sha256").update(verifier).digest("base64url")
  return { verifier, challenge }
}

export const getJson = async (url: string): Promise<{ status: number; body: Json }> => {
  const res = await fetch(url)
  return { status: res.status, body: (await res.json()) as Json }
}

export const metadata = async (sandbox: Sandbox): Promise<Json> =>
  (await getJson(sandbox.authorizationServerMetadataUrl)).body

export const redirectUri = "http://127.0.0.1:19876/callback"

export const register = async (as: Json, body: Json): Promise<{ status: number; body: Json }> => {
  const res = await fetch(String(as["registration_endpoint"]), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body)
  })
  return { status: res.status, body: (await res.json()) as Json }
}

export const registerPublic = async (as: Json, extra: Json = {}): Promise<Json> => {
  const r = await register(as, {
    client_name: "sandbox-test",
    redirect_uris: [redirectUri],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
    ...extra
  })
  if (r.status !== 201) throw new Error(`registration failed: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body
}

/** A cookie jar for one browser-like session. */
export class Jar {
  readonly cookies = new Map<string, string>()
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ")
  }
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";")
      const eq = (pair ?? "").indexOf("=")
      if (eq > 0) this.cookies.set((pair as string).slice(0, eq).trim(), (pair as string).slice(eq + 1).trim())
    }
  }
}

/**
 * Follows the authorization redirects (like a browser, cookies kept) until one leaves for the client's redirect URI;
 * returns that URL. Stops with the last response when something else is answered (an HTML page or an error).
 */
export const followToRedirect = async (
  start: string,
  jar = new Jar(),
  init?: RequestInit
): Promise<{ redirect?: URL; last: Response; hops: number }> => {
  let url = start
  let request: RequestInit | undefined = init
  for (let hops = 0; hops < 12; hops++) {
    const res = await fetch(url, {
      ...request,
      redirect: "manual",
      headers: { ...(request?.headers as Record<string, string> | undefined), cookie: jar.header() }
    })
    jar.take(res)
    const location = res.headers.get("location")
    if (res.status < 300 || res.status >= 400 || location === null) return { last: res, hops }
    const next = new URL(location, url)
    if (next.href.startsWith(redirectUri)) return { redirect: next, last: res, hops }
    url = next.href
    request = undefined
  }
  throw new Error("too many redirects")
}

export const authorizeUrl = (as: Json, params: Record<string, string>): string => {
  const url = new URL(String(as["authorization_endpoint"]))
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v)
  return url.href
}

export const tokenRequest = async (
  as: Json,
  params: Record<string, string>,
  headers: Record<string, string> = {}
): Promise<{ status: number; body: Json }> => {
  const res = await fetch(String(as["token_endpoint"]), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(params)
  })
  return { status: res.status, body: (await res.json()) as Json }
}

export const postForm = async (url: string, params: Record<string, string>, headers: Record<string, string> = {}) => {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(params)
  })
  const text = await res.text()
  return { status: res.status, text, body: text === "" ? {} : (JSON.parse(text) as Json) }
}

export const decodeJwt = (token: string): { header: Json; payload: Json } => {
  const [h, p] = token.split(".")
  return {
    header: JSON.parse(Buffer.from(h ?? "", "base64url").toString("utf8")) as Json,
    payload: JSON.parse(Buffer.from(p ?? "", "base64url").toString("utf8")) as Json
  }
}

/** The whole code flow for a fresh public client: returns the client, the token response and the callback URL. */
export const codeFlow = async (
  sandbox: Sandbox,
  options: { scope?: string; resource?: string | null; client?: Json } = {}
) => {
  const as = await metadata(sandbox)
  const client = options.client ?? (await registerPublic(as))
  const { verifier, challenge } = pkce()
  const state = randomBytes(16).toString("base64url")
  const resource = options.resource === undefined ? sandbox.resource : options.resource
  const params: Record<string, string> = {
    response_type: "code",
    client_id: String(client["client_id"]),
    redirect_uri: redirectUri,
    code_challenge: challenge,
    code_challenge_method: "S256",
    state,
    ...(options.scope === undefined ? {} : { scope: options.scope }),
    ...(resource === null ? {} : { resource })
  }
  const { redirect } = await followToRedirect(authorizeUrl(as, params))
  if (redirect === undefined) throw new Error("authorization did not redirect back")
  const code = redirect.searchParams.get("code")
  if (code === null) throw new Error(`no code: ${redirect.search}`)
  const token = await tokenRequest(as, {
    grant_type: "authorization_code",
    code,
    redirect_uri: redirectUri,
    client_id: String(client["client_id"]),
    code_verifier: verifier,
    ...(resource === null ? {} : { resource })
  })
  return { as, client, redirect, state, token }
}

/** A JSON-RPC POST to an MCP URL with the given headers. */
export const mcpPost = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...headers
    },
    body: JSON.stringify(body)
  })

export const initializeBody = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "curl-level-test", version: "0" } }
}

/** Reads a JSON-RPC response that may come as JSON or as one SSE event. */
export const rpcResult = async (res: Response): Promise<Json> => {
  const text = await res.text()
  if ((res.headers.get("content-type") ?? "").includes("text/event-stream")) {
    const data = text.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).filter((l) =>
      l !== ""
    )
    return JSON.parse(data[data.length - 1] ?? "{}") as Json
  }
  return JSON.parse(text) as Json
}

/** Opens an MCP session with raw HTTP; returns the session id. */
export const openSession = async (url: string, headers: Record<string, string>): Promise<string> => {
  const res = await mcpPost(url, initializeBody, headers)
  if (res.status !== 200) throw new Error(`initialize answered ${res.status}: ${await res.text()}`)
  const sessionId = res.headers.get("mcp-session-id")
  await res.text()
  if (sessionId === null) throw new Error("no Mcp-Session-Id")
  const ack = await mcpPost(url, { jsonrpc: "2.0", method: "notifications/initialized" }, {
    ...headers,
    "mcp-session-id": sessionId,
    "mcp-protocol-version": "2025-06-18"
  })
  await ack.text()
  return sessionId
}
