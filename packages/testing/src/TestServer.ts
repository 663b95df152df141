/**
 * A small real HTTP server on 127.0.0.1 (port 0) per test, closed by the test's scope: serves fixed replies by path
 * and records every path requested.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

export interface Reply {
  readonly status?: number
  readonly headers?: Readonly<Record<string, string>>
  /** A string body, a JSON value (serialised), or a function that writes the body itself. */
  readonly body?: string | ((res: Http.ServerResponse) => void) | undefined
  readonly json?: unknown
}

export type Routes = (origin: string) => Readonly<Record<string, Reply>>

export interface TestServer {
  readonly origin: string
  /** Every path requested, in order. */
  readonly requests: Array<string>
}

/** Serves `routes` (path → reply; anything else is 404) on 127.0.0.1, for the lifetime of the current scope. */
export const serve = (routes: Routes) =>
  Effect.acquireRelease(
    Effect.callback<{ readonly server: Http.Server; readonly info: TestServer }>((resume) => {
      const requests: Array<string> = []
      let table: Readonly<Record<string, Reply>> = {}
      const server = Http.createServer((req, res) => {
        const path = req.url ?? "/"
        requests.push(path)
        const reply = table[path]
        if (reply === undefined) {
          res.writeHead(404, { "content-type": "text/plain" }).end("not found")
          return
        }
        const headers: Record<string, string> = { ...reply.headers }
        if (reply.json !== undefined) headers["content-type"] ??= "application/json"
        res.writeHead(reply.status ?? 200, headers)
        if (typeof reply.body === "function") reply.body(res)
        else res.end(reply.json !== undefined ? JSON.stringify(reply.json) : reply.body ?? "")
      })
      server.listen(0, "127.0.0.1", () => {
        const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
        table = routes(origin)
        resume(Effect.succeed({ server, info: { origin, requests } }))
      })
    }),
    ({ server }) =>
      Effect.callback<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ info }) => info))
