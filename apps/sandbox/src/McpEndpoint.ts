/**
 * The MCP endpoint (`/v1/mcp` and the legacy path): official SDK server over stateful Streamable HTTP, behind
 * bearer / API-key authentication, per-tool scopes and Datadog's rate limit.
 */
import { NodeStreamableHTTPServerTransport } from "@modelcontextprotocol/node"
import type { AuthInfo } from "@modelcontextprotocol/server"
import { McpServer } from "@modelcontextprotocol/server"
import { randomUUID } from "node:crypto"
import type { IncomingMessage, ServerResponse } from "node:http"
import { findAccountById } from "./Accounts.ts"
import { coreTools, otherToolsets, select } from "./Catalog.ts"
import type { RateLimit } from "./RateLimiter.ts"
import { makeRateLimiter } from "./RateLimiter.ts"
import type { AuthFailure, Principal } from "./ResourceAuth.ts"
import { canRead, canWrite, readScopes, writeScope } from "./ResourceAuth.ts"
import { register } from "./Tools.ts"

export interface McpEndpointConfig {
  readonly profile: "datadog" | "strict"
  readonly authenticate: (
    headers: IncomingMessage["headers"],
    audience: string
  ) => Promise<
    { readonly ok: true; readonly principal: Principal } | { readonly ok: false; readonly failure: AuthFailure }
  >
  /** The resource identifier (`aud`) and the PRM URL for each MCP path. */
  readonly resources: Readonly<Record<string, { readonly audience: string; readonly metadataUrl: string }>>
  readonly rateLimit: RateLimit | false
  readonly log: (line: string) => void
}

interface Session {
  readonly transport: NodeStreamableHTTPServerTransport
  readonly server: McpServer
  readonly subject: string
}

const writeTools = new Set(
  [...coreTools, ...Object.values(otherToolsets).flat()].filter((t) => t.write).map((t) => t.name)
)

const maxBody = 4 * 1024 * 1024

const readBody = (req: IncomingMessage): Promise<string | undefined> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBody) {
        resolve(undefined)
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers })
  res.end(JSON.stringify(body))
}

const quote = (value: string): string => `"${value.replace(/["\\]/g, "\\$&")}"`

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null

export const makeMcpEndpoint = (config: McpEndpointConfig) => {
  const sessions = new Map<string, Session>()
  const limiter = config.rateLimit === false ? undefined : makeRateLimiter(config.rateLimit)
  const readScope = config.profile === "datadog" ? "mcp_all" : "mcp_read"

  const unauthorized = (res: ServerResponse, path: string, failure: AuthFailure): void => {
    const resource = config.resources[path]
    if (config.profile === "datadog") {
      // Datadog quirk: 401 without a WWW-Authenticate challenge (clients must probe the well-known URLs).
      return json(res, 401, { errors: ["Unauthorized"] })
    }
    // RFC 6750 §3 + RFC 9728 §5.1: the challenge names the PRM; `error` only when credentials were presented.
    const params = [
      `realm="mcp"`,
      ...(resource === undefined ? [] : [`resource_metadata=${quote(resource.metadataUrl)}`]),
      `scope=${quote(readScope)}`,
      ...(failure.presented ? [`error="invalid_token"`, `error_description=${quote(failure.description)}`] : [])
    ]
    json(res, 401, {
      error: failure.presented ? "invalid_token" : "unauthorized",
      error_description: failure.description
    }, {
      "www-authenticate": `Bearer ${params.join(", ")}`
    })
  }

  const forbidden = (res: ServerResponse, path: string, scope: string, description: string): void => {
    const resource = config.resources[path]
    // RFC 6750 §3.1: insufficient_scope with the scope needed; MCP step-up reads `scope` from this challenge.
    const params = [
      `error="insufficient_scope"`,
      `scope=${quote(scope)}`,
      ...(config.profile === "strict" && resource !== undefined
        ? [`resource_metadata=${quote(resource.metadataUrl)}`]
        : []),
      `error_description=${quote(description)}`
    ]
    json(res, 403, { error: "insufficient_scope", scope, error_description: description }, {
      "www-authenticate": `Bearer ${params.join(", ")}`
    })
  }

  const newSession = async (principal: Principal, url: URL, req: IncomingMessage, res: ServerResponse) => {
    const headerToolsets = req.headers["x-datadog-mcp-toolsets"]
    const toolsetsParam = url.searchParams.get("toolsets") ??
      (typeof headerToolsets === "string" ? headerToolsets : undefined)
    const selection = select(toolsetsParam, url.searchParams.get("omit_tools") ?? undefined)
    if (selection._tag === "UnknownToolset") {
      json(res, 400, { errors: [`unknown toolset(s): ${selection.names.join(", ")}`] })
      return undefined
    }
    if (selection.unknownOmitted.length > 0) {
      config.log(`warning: omit_tools names unknown tools: ${selection.unknownOmitted.join(", ")}`)
    }
    const server = new McpServer({ name: "datadog-mcp-sandbox", version: "0.1.0" })
    const account = findAccountById(principal.subject) ??
      { sub: principal.subject, email: `${principal.kind}@sandbox.localhost`, name: principal.kind }
    register(server, selection.tools, { toolsets: selection.toolsets, account, now: () => Date.now() })
    const transport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, server, subject: principal.subject })
      },
      onsessionclosed: (id) => {
        sessions.delete(id)
      }
    })
    // The SDK's Transport exposes `onclose` as its only close hook (McpServer.connect chains it, not replaces it).
    // oxlint-disable-next-line unicorn/prefer-add-event-listener
    transport.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId)
    }
    await server.connect(transport)
    return transport
  }

  const handle = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const path = url.pathname
    const resource = config.resources[path]
    if (resource === undefined) return json(res, 404, { errors: ["Not found"] })

    const auth = await config.authenticate(req.headers, resource.audience)
    if (!auth.ok) {
      if (auth.failure.presented) config.log(`mcp auth refused: ${auth.failure.description}`)
      return unauthorized(res, path, auth.failure)
    }
    const principal = auth.principal

    // Scope model: every MCP request needs a read scope (mcp_read or mcp_all).
    if (!canRead(principal)) {
      return forbidden(res, path, readScope, `this endpoint needs one of the scopes ${readScopes.join(", ")}`)
    }

    let body: unknown = undefined
    if (req.method === "POST") {
      const text = await readBody(req)
      if (text === undefined) return json(res, 413, { errors: ["Request body too large"] })
      try {
        body = JSON.parse(text)
      } catch {
        return json(res, 400, {
          jsonrpc: "2.0",
          id: null,
          error: { code: -32700, message: "Parse error: body is not JSON" }
        })
      }
    }
    const messages: ReadonlyArray<unknown> = Array.isArray(body) ? body : body === undefined ? [] : [body]
    const toolCalls = messages.filter((m) => isObject(m) && m["method"] === "tools/call")

    // Write tools need mcp_write on top of the read scope (step-up).
    for (const call of toolCalls) {
      const params = isObject(call) ? call["params"] : undefined
      const name = isObject(params) ? params["name"] : undefined
      if (typeof name === "string" && writeTools.has(name) && !canWrite(principal)) {
        return forbidden(res, path, writeScope, `tool ${name} needs the scope ${writeScope}`)
      }
    }

    // Datadog rate limit: N tool calls per window per caller.
    if (limiter !== undefined && config.rateLimit !== false && toolCalls.length > 0) {
      const decision = limiter.take(
        `${principal.kind}:${principal.subject}:${principal.clientId}`,
        toolCalls.length,
        Date.now()
      )
      if (!decision.ok) {
        const retryAfter = Math.ceil(decision.retryAfterMs / 1000)
        return json(res, 429, { errors: ["Rate limit exceeded"] }, {
          "retry-after": String(retryAfter),
          "x-ratelimit-limit": String(config.rateLimit.max),
          "x-ratelimit-period": String(Math.ceil(config.rateLimit.windowMs / 1000)),
          "x-ratelimit-remaining": "0",
          "x-ratelimit-reset": String(retryAfter)
        })
      }
    }

    const authInfo: AuthInfo = {
      token: "[redacted]",
      clientId: principal.clientId,
      scopes: [...principal.scopes],
      ...(principal.expiresAt === undefined ? {} : { expiresAt: principal.expiresAt }),
      resource: new URL(resource.audience)
    }
    const authed = Object.assign(req, { auth: authInfo })

    const sessionId = req.headers["mcp-session-id"]
    if (typeof sessionId === "string") {
      const session = sessions.get(sessionId)
      // A session belongs to the subject that created it; anything else is "not found".
      if (session === undefined || session.subject !== principal.subject) {
        return json(res, 404, { jsonrpc: "2.0", id: null, error: { code: -32001, message: "Session not found" } })
      }
      return session.transport.handleRequest(authed, res, body)
    }
    const initialize = messages.some((m) => isObject(m) && m["method"] === "initialize")
    if (req.method === "POST" && initialize) {
      const transport = await newSession(principal, url, req, res)
      if (transport === undefined) return
      return transport.handleRequest(authed, res, body)
    }
    json(res, 400, {
      jsonrpc: "2.0",
      id: null,
      error: { code: -32000, message: "Bad Request: no Mcp-Session-Id; send initialize first" }
    })
  }

  const close = async (): Promise<void> => {
    const all = [...sessions.values()]
    sessions.clear()
    await Promise.allSettled(all.map((s) => s.server.close()))
  }

  return { handle, close, sessionCount: () => sessions.size }
}
