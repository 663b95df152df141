/**
 * A small MCP server on 127.0.0.1 built with the official MCP server SDK (`createMcpHandler` + the low-level
 * `Server`), with Datadog-like tools and resources, `tools/list` pagination, header authentication and hooks to answer
 * a request with a scripted status (429, 404, 500). It records every request it receives (method, path+query,
 * headers) so tests can check what went on the wire.
 */
import { createMcpHandler, type JSONRPCMessage, Server, type Transport } from "@modelcontextprotocol/server"
import { Effect } from "effect"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

export interface Recorded {
  readonly method: string
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  readonly status: number
}

export interface TestServerOptions {
  /** Required API-key headers (DD_API_KEY / DD_APPLICATION_KEY); absent means no API-key check. */
  readonly apiKey?: string
  readonly appKey?: string
  /** A required bearer token. */
  readonly token?: string
  /** Tools per tools/list page (default 3). */
  readonly pageSize?: number
  /** How many tools to serve (default 7). */
  readonly toolCount?: number
  /**
   * Serve only the legacy HTTP+SSE transport (MCP 2024-11-05): POST to the URL is 405, GET opens the event stream
   * whose `endpoint` event names where to POST messages.
   */
  readonly legacySse?: boolean
  /** Answer a request before the MCP handler: return a Response to short-circuit. `n` counts requests from 1. */
  readonly intercept?: (request: Recorded, n: number) => Response | undefined
}

export interface TestServer {
  readonly url: string
  readonly requests: ReadonlyArray<Recorded>
}

export const WHOAMI = {
  user_uuid: "11111111-1111-1111-1111-111111111111",
  org_uuid: "22222222-2222-2222-2222-222222222222",
  user_email: "jane@example.com",
  user_name: "Jane Doe",
  org_name: "Example Org",
  dd_site: "datadoghq.com",
  extra_member: { nested: true }
}

const BASE_TOOLS = [
  "search_datadog_logs",
  "get_datadog_metric",
  "search_datadog_monitors",
  "get_datadog_trace",
  "search_datadog_dashboards",
  "search_datadog_incidents",
  "search_datadog_docs",
  "search_datadog_events",
  "search_datadog_hosts"
]

const makeServer = (options: TestServerOptions, seen: URL) => {
  const names = [...BASE_TOOLS.slice(0, (options.toolCount ?? 7) - 1), "fail_tool"]
  const omitted = new Set((seen.searchParams.get("omit_tools") ?? "").split(",").filter((s) => s !== ""))
  const tools = names.filter((n) => !omitted.has(n)).map((name) => ({
    name,
    description: `the ${name} tool`,
    inputSchema: { type: "object" as const, properties: { query: { type: "string" } } }
  }))
  const pageSize = options.pageSize ?? 3
  const server = new Server({ name: "test-datadog-mcp", version: "9.9.9" }, {
    capabilities: { tools: {}, resources: {} }
  })
  server.setRequestHandler("tools/list", (request) => {
    const start = Number(request.params?.cursor ?? "0")
    const page = tools.slice(start, start + pageSize)
    const next = start + pageSize
    return next < tools.length ? { tools: page, nextCursor: String(next) } : { tools: page }
  })
  server.setRequestHandler("tools/call", (request) => {
    const { arguments: args, name } = request.params
    if (name === "fail_tool") return { content: [{ type: "text", text: "query is required" }], isError: true }
    if (!tools.some((t) => t.name === name)) throw new Error(`unknown tool ${name}`)
    return { content: [{ type: "text", text: JSON.stringify({ tool: name, args: args ?? {} }) }] }
  })
  server.setRequestHandler("resources/list", () => ({
    resources: [{ uri: "datadog://mcp/whoami", name: "whoami" }, { uri: "datadog://mcp/toolsets", name: "toolsets" }]
  }))
  server.setRequestHandler("resources/read", (request) => {
    const uri = request.params.uri
    if (uri === "datadog://mcp/whoami") {
      return { contents: [{ uri, mimeType: "application/json", text: JSON.stringify(WHOAMI) }] }
    }
    if (uri === "datadog://mcp/toolsets") {
      return { contents: [{ uri, mimeType: "application/json", text: JSON.stringify({ toolsets: ["core"] }) }] }
    }
    if (uri === "datadog://test/not-json") return { contents: [{ uri, text: "not json" }] }
    throw new Error(`no resource ${uri}`)
  })
  return server
}

/** The server side of the legacy HTTP+SSE transport, over one open GET response. */
class LegacySseTransport implements Transport {
  onclose?: () => void
  onerror?: (error: Error) => void
  onmessage?: (message: JSONRPCMessage) => void
  readonly sessionId: string
  readonly #res: ServerResponse
  constructor(res: ServerResponse, sessionId: string) {
    this.#res = res
    this.sessionId = sessionId
  }
  start(): Promise<void> {
    this.#res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
    // MCP 2024-11-05 Transports §HTTP with SSE: the first event is `endpoint`, the URI to POST messages to
    this.#res.write(`event: endpoint\ndata: /messages?sessionId=${this.sessionId}\n\n`)
    return Promise.resolve()
  }
  send(message: JSONRPCMessage): Promise<void> {
    this.#res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`)
    return Promise.resolve()
  }
  close(): Promise<void> {
    this.#res.end()
    this.onclose?.()
    return Promise.resolve()
  }
}

const readBody = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => resolve(Buffer.concat(chunks)))
    req.on("error", reject)
  })

const write = async (res: ServerResponse, response: Response) => {
  const headers: Record<string, string> = {}
  response.headers.forEach((v, k) => {
    headers[k] = v
  })
  res.writeHead(response.status, headers)
  if (response.body !== null) {
    for await (const chunk of response.body) res.write(chunk)
  }
  res.end()
}

/** Starts the server in the test's scope; it is closed when the scope closes. */
export const start = (options: TestServerOptions = {}) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const requests: Array<Recorded> = []
      const sessions = new Map<string, LegacySseTransport>()
      let seen = new URL("http://127.0.0.1/")
      const handler = createMcpHandler(() => makeServer(options, seen))
      const http = createServer((req, res) => {
        void (async () => {
          const body = await readBody(req)
          const headers: Record<string, string> = {}
          for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v
          const path = req.url ?? "/"
          const record = { method: req.method ?? "GET", path, headers, body: body.toString("utf8") }
          const respond = async (response: Response) => {
            requests.push({ ...record, status: response.status })
            await write(res, response)
          }
          const early = options.intercept?.({ ...record, status: 0 }, requests.length + 1)
          if (early !== undefined) return respond(early)
          if (options.apiKey !== undefined || options.appKey !== undefined) {
            if (headers["dd_api_key"] !== options.apiKey || headers["dd_application_key"] !== options.appKey) {
              return respond(Response.json({ errors: ["Unauthorized"] }, { status: 401 }))
            }
          }
          if (options.token !== undefined && headers["authorization"] !== `Bearer ${options.token}`) {
            return respond(Response.json({ errors: ["Unauthorized"] }, { status: 401 }))
          }
          seen = new URL(path, "http://127.0.0.1")
          if (options.legacySse === true) {
            if (req.method === "GET" && seen.pathname === "/v1/mcp") {
              requests.push({ ...record, status: 200 })
              const transport = new LegacySseTransport(res, String(sessions.size + 1))
              sessions.set(transport.sessionId, transport)
              res.on("close", () => sessions.delete(transport.sessionId))
              return makeServer(options, seen).connect(transport)
            }
            const session = sessions.get(seen.searchParams.get("sessionId") ?? "")
            if (req.method === "POST" && seen.pathname === "/messages" && session !== undefined) {
              session.onmessage?.(JSON.parse(body.toString("utf8")) as JSONRPCMessage)
              return respond(new Response("Accepted", { status: 202 }))
            }
            return respond(new Response(null, { status: 405 }))
          }
          const request = new Request(new URL(path, `http://${headers["host"] ?? "127.0.0.1"}`), {
            method: req.method ?? "GET",
            headers,
            ...(req.method === "POST" ? { body: body.toString("utf8") } : {})
          })
          return respond(await handler.fetch(request))
        })().catch((error: unknown) => {
          res.writeHead(500)
          res.end(String(error))
        })
      })
      await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve))
      const port = (http.address() as AddressInfo).port
      const server: TestServer = { url: `http://127.0.0.1:${port}/v1/mcp`, requests }
      return { server, http, handler, sessions }
    }),
    ({ handler, http, sessions }) =>
      Effect.promise(async () => {
        for (const session of sessions.values()) await session.close()
        await handler.close()
        await new Promise<void>((resolve) => {
          http.close(() => resolve())
          http.closeAllConnections()
        })
      })
  ).pipe(Effect.map(({ server }) => server))

/** A port on 127.0.0.1 with nothing listening (for connection failures). */
export const closedPort = Effect.promise(async () => {
  const http = createServer()
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve))
  const port = (http.address() as AddressInfo).port
  await new Promise<void>((resolve) => http.close(() => resolve()))
  return port
})
