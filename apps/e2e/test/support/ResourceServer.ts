// A small MCP server of our own for the oidc-provider tests: the official MCP server SDK (stateless Streamable HTTP,
// a new server per request) behind bearer verification with jose against the authorization server's JWKS. It is the
// protected resource: it serves its RFC 9728 metadata and checks that every token's `aud` is its resource.
import { NodeStreamableHTTPServerTransport } from "@modelcontextprotocol/node"
import { McpServer } from "@modelcontextprotocol/server"
import { Effect } from "effect"
import { createRemoteJWKSet, jwtVerify } from "jose"
import type { JWTPayload } from "jose"
import { createServer } from "node:http"
import type { IncomingMessage, ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import * as z from "zod"

export interface ResourceServerOptions {
  readonly issuer: string
  readonly jwksUri: string
  /** Scope needed for every request (default `mcp:read`). */
  readonly readScope?: string | undefined
  /** Scope needed, in addition, by the `write_note` tool (default `mcp:write`). */
  readonly writeScope?: string | undefined
}

export interface SeenRequest {
  readonly method: string
  readonly path: string
  readonly status: number
  readonly rpc?: string | undefined
  readonly aud?: string | undefined
}

export interface ResourceServer {
  readonly origin: string
  /** The MCP endpoint, which is also the RFC 8707 resource identifier (tokens must carry it in `aud`). */
  readonly mcpUrl: string
  readonly resourceMetadataUrl: string
  readonly seen: ReadonlyArray<SeenRequest>
  readonly close: () => Promise<void>
}

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    let body = ""
    req.setEncoding("utf8")
    req.on("data", (c: string) => (body += c))
    req.on("end", () => resolve(body))
    req.on("error", reject)
  })

const scopesOf = (payload: JWTPayload): ReadonlySet<string> =>
  new Set(typeof payload["scope"] === "string" ? payload["scope"].split(" ").filter((s) => s !== "") : [])

const rpcMethods = (body: unknown): ReadonlyArray<{ method: string; tool?: string | undefined }> =>
  (Array.isArray(body) ? body : [body]).flatMap((m: unknown) => {
    if (typeof m !== "object" || m === null) return []
    const method = (m as { method?: unknown }).method
    const params = (m as { params?: unknown }).params
    const tool = typeof params === "object" && params !== null ? (params as { name?: unknown }).name : undefined
    return typeof method === "string" ? [{ method, tool: typeof tool === "string" ? tool : undefined }] : []
  })

/** Starts the resource server on 127.0.0.1 (ephemeral port). */
export const startResourceServer = async (options: ResourceServerOptions): Promise<ResourceServer> => {
  const readScope = options.readScope ?? "mcp:read"
  const writeScope = options.writeScope ?? "mcp:write"
  const jwks = createRemoteJWKSet(new URL(options.jwksUri))
  const seen: Array<SeenRequest> = []
  let origin = ""
  const mcpPath = "/mcp"
  const prmPath = `/.well-known/oauth-protected-resource${mcpPath}`

  const challenge = (extra: string) => `Bearer resource_metadata="${origin}${prmPath}", scope="${readScope}"${extra}`

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<SeenRequest> => {
    const url = new URL(req.url ?? "/", origin)
    const path = url.pathname
    const method = req.method ?? "GET"
    if (path === prmPath && method === "GET") {
      // RFC 9728 §3.2: the protected resource metadata
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({
        resource: `${origin}${mcpPath}`,
        authorization_servers: [options.issuer],
        scopes_supported: [readScope, writeScope],
        bearer_methods_supported: ["header"]
      }))
      return { method, path, status: 200 }
    }
    if (path !== mcpPath) {
      res.writeHead(404).end()
      return { method, path, status: 404 }
    }
    const authorization = req.headers.authorization
    if (authorization === undefined || !authorization.startsWith("Bearer ")) {
      res.writeHead(401, { "www-authenticate": challenge("") }).end()
      return { method, path, status: 401 }
    }
    let payload: JWTPayload
    try {
      // RFC 9068 §4: signature, typ at+jwt, iss, and aud = this resource (RFC 8707)
      payload = (await jwtVerify(authorization.slice("Bearer ".length), jwks, {
        issuer: options.issuer,
        audience: `${origin}${mcpPath}`,
        typ: "at+jwt",
        algorithms: ["RS256"]
      })).payload
    } catch (error) {
      const description = String(error instanceof Error ? error.message : error).replace(/"/g, "'")
      res.writeHead(401, {
        "www-authenticate": challenge(`, error="invalid_token", error_description="${description}"`)
      }).end()
      return { method, path, status: 401 }
    }
    const aud = Array.isArray(payload.aud) ? payload.aud.join(" ") : payload.aud
    const scopes = scopesOf(payload)
    const text = method === "POST" ? await readBody(req) : ""
    let body: unknown = undefined
    if (text !== "") {
      try {
        body = JSON.parse(text)
      } catch {
        res.writeHead(400).end()
        return { method, path, status: 400, aud }
      }
    }
    const rpc = rpcMethods(body)
    const rpcName = rpc.map((r) => r.method).join(",")
    if (!scopes.has(readScope)) {
      res.writeHead(403, {
        "www-authenticate":
          `Bearer error="insufficient_scope", scope="${readScope}", resource_metadata="${origin}${prmPath}"`
      }).end()
      return { method, path, status: 403, rpc: rpcName, aud }
    }
    // MCP §Step-Up Authorization Flow: the write tool needs the write scope too; the challenge names what it needs
    if (rpc.some((r) => r.method === "tools/call" && r.tool === "write_note") && !scopes.has(writeScope)) {
      res.writeHead(403, {
        "www-authenticate":
          `Bearer error="insufficient_scope", scope="${readScope} ${writeScope}", resource_metadata="${origin}${prmPath}", error_description="write_note needs ${writeScope}"`
      }).end()
      return { method, path, status: 403, rpc: rpcName, aud }
    }
    const server = new McpServer({ name: "mcpauth-e2e-resource", version: "0.0.0" })
    server.registerTool("whoami", { description: "The verified token's claims" }, () => ({
      content: [{
        type: "text" as const,
        text: JSON.stringify({ sub: payload.sub, aud, scope: payload["scope"], client_id: payload["client_id"] })
      }]
    }))
    server.registerTool(
      "write_note",
      { description: "A write (needs the write scope)", inputSchema: z.object({ text: z.string() }) },
      (args: { text: string }) => ({ content: [{ type: "text" as const, text: `noted: ${args.text}` }] })
    )
    const transport = new NodeStreamableHTTPServerTransport({ sessionIdGenerator: undefined })
    await server.connect(transport)
    res.on("close", () => {
      void transport.close()
      void server.close()
    })
    await transport.handleRequest(req, res, body)
    return { method, path, status: res.statusCode, rpc: rpcName, aud }
  }

  const http = createServer((req, res) => {
    handle(req, res).then(
      (r) => seen.push(r),
      (error: unknown) => {
        seen.push({ method: req.method ?? "", path: req.url ?? "", status: 500 })
        if (!res.headersSent) res.writeHead(500)
        res.end(String(error))
      }
    )
  })
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", () => resolve()))
  origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  return {
    origin,
    mcpUrl: `${origin}${mcpPath}`,
    resourceMetadataUrl: `${origin}${prmPath}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve())
        http.closeAllConnections()
      })
  }
}

/** The resource server as a scoped resource. */
export const acquireResourceServer = (options: ResourceServerOptions) =>
  Effect.acquireRelease(Effect.promise(() => startResourceServer(options)), (s) => Effect.promise(() => s.close()))
