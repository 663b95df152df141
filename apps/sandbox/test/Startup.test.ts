import { assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { startSandbox } from "../src/index.ts"

describe("starting", () => {
  // How fast it starts is a benchmark figure (./run bench), not a timed test: CI machines are shared and noisy.
  it("starts both profiles on 127.0.0.1 only, serves, and closes", async () => {
    for (const profile of ["datadog", "strict"] as const) {
      const sandbox = await startSandbox({ profile })
      try {
        for (const url of [sandbox.mcpUrl, sandbox.issuer, sandbox.authorizationServerOrigin, sandbox.resourceOrigin]) {
          assert.strictEqual(new URL(url).hostname, "127.0.0.1")
        }
        const res = await fetch(sandbox.resourceMetadataUrl)
        assert.strictEqual(res.status, 200)
        await res.text()
      } finally {
        await sandbox.close()
      }
      const after = await fetch(sandbox.resourceMetadataUrl).then(() => "open", () => "closed")
      assert.strictEqual(after, "closed")
    }
  })

  it("refuses a host other than 127.0.0.1", async () => {
    const error = await startSandbox({ host: "0.0.0.0" as "127.0.0.1" }).then(() => undefined, (e: unknown) => e)
    assert.instanceOf(error, Error)
  })

  it("the CLI (node src/main.ts) prints the URLs and stops on SIGTERM", async () => {
    const child = spawn(process.execPath, ["src/main.ts", "--profile", "strict", "--quiet"], {
      cwd: new URL("..", import.meta.url).pathname,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    const mcpUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 30_000)
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString("utf8")
        const match = /MCP URL\s+(http:\/\/127\.0\.0\.1:\d+\/v1\/mcp)/.exec(out)
        if (match !== null) {
          clearTimeout(timer)
          resolve(match[1] as string)
        }
      })
      child.once("exit", (code) => reject(new Error(`exited ${code}: ${out}`)))
    })
    const res = await fetch(mcpUrl, { method: "POST" })
    assert.strictEqual(res.status, 401)
    await res.text()
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
    child.kill("SIGTERM")
    assert.strictEqual(await exited, 0)
  })
})

describe("DNS rebinding protection", () => {
  it("refuses an MCP request whose Host header is not a loopback name", async () => {
    const { request } = await import("node:http")
    const sandbox = await startSandbox({ apiKey: "k", appKey: "a" })
    try {
      const status = (host: string) =>
        new Promise<number>((resolve, reject) => {
          const url = new URL(sandbox.mcpUrl)
          const req = request({
            host: "127.0.0.1",
            port: url.port,
            path: url.pathname,
            method: "POST",
            headers: { host, "content-type": "application/json", dd_api_key: "k", dd_application_key: "a" }
          }, (res) => {
            res.resume()
            resolve(res.statusCode ?? 0)
          })
          req.on("error", reject)
          req.end("{}")
        })
      assert.strictEqual(await status("evil.example:80"), 403)
      assert.strictEqual(await status(`localhost:${new URL(sandbox.mcpUrl).port}`), 400)
    } finally {
      await sandbox.close()
    }
  })
})
