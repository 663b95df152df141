import { assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { createServer } from "node:net"

const cwd = new URL("..", import.meta.url).pathname

/** Runs `node src/main.ts ...args` to its end (every case here exits before the sandbox starts serving). */
const cli = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  new Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ["src/main.ts", ...args], {
      cwd,
      env: { PATH: process.env["PATH"] ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`node src/main.ts ${args.join(" ")} did not exit: ${stdout}${stderr}`))
    }, 30_000)
    child.once("exit", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })

/** Checks the shape of a usage error (exit 2, one line, a blank line, the usage, no stack trace); its first line. */
const usageError = (result: { readonly code: number | null; readonly stdout: string; readonly stderr: string }) => {
  assert.strictEqual(result.code, 2, result.stderr)
  const [first, second] = result.stderr.split("\n")
  assert.strictEqual(second, "", "the error is one line, then a blank line")
  assert.include(result.stderr, "Usage: node src/main.ts [options]")
  assert.notMatch(result.stderr, /\n\s+at |ERR_PARSE_ARGS|node:internal/, "no stack trace")
  assert.strictEqual(result.stdout, "")
  return first ?? ""
}

describe("the CLI (node src/main.ts) refuses bad flags with one line and the usage, exit 2", () => {
  it("an unknown option, a missing value, a positional argument", async () => {
    const [bogus, missing, positional] = await Promise.all([
      cli(["--bogus"]),
      cli(["--port"]),
      cli(["extra"])
    ])
    assert.include(usageError(bogus), "Unknown option '--bogus'")
    assert.include(usageError(missing), "'--port <value>' argument missing")
    assert.include(usageError(positional), "Unexpected argument 'extra'")
  })

  it("out-of-range numbers: a negative TTL, a port above 65535", async () => {
    const [dash, negative, zero, port, authPort] = await Promise.all([
      cli(["--access-token-ttl", "-5"]),
      cli(["--access-token-ttl=-5"]),
      cli(["--refresh-token-ttl", "0"]),
      cli(["--port", "99999"]),
      cli(["--auth-port", "1.5"])
    ])
    assert.include(usageError(dash), "--access-token-ttl")
    assert.include(usageError(negative), `--access-token-ttl must be an integer from 1 to 31536000, got "-5"`)
    assert.include(usageError(zero), `--refresh-token-ttl must be an integer from 1`)
    assert.include(usageError(port), `--port must be an integer from 0 to 65535, got "99999"`)
    assert.include(usageError(authPort), `--auth-port must be an integer from 0 to 65535, got "1.5"`)
  })

  it("API-key mode takes both keys: one alone is an error, from a flag or the environment", async () => {
    const [api, app, fromEnv] = await Promise.all([
      cli(["--api-key", "k"]),
      cli(["--app-key", "a"]),
      cli([], { SANDBOX_DD_API_KEY: "k" })
    ])
    assert.include(usageError(api), "--api-key (or SANDBOX_DD_API_KEY) needs --app-key")
    assert.include(usageError(app), "--app-key (or SANDBOX_DD_APP_KEY) needs --api-key")
    assert.include(usageError(fromEnv), "needs --app-key")
  })

  it("a port already in use is named, with --port 0 suggested", async () => {
    const holder = createServer()
    const port = await new Promise<number>((resolve) =>
      holder.listen(0, "127.0.0.1", () => {
        const address = holder.address()
        resolve(typeof address === "object" && address !== null ? address.port : 0)
      })
    )
    try {
      const [mcp, auth] = await Promise.all([
        cli(["--port", String(port), "--quiet"]),
        cli(["--auth-port", String(port), "--quiet"])
      ])
      assert.include(usageError(mcp), `port ${port} on 127.0.0.1 is already in use (--port ${port})`)
      assert.include(mcp.stderr, "--port 0 for a free port")
      assert.include(usageError(auth), `(--auth-port ${port}); stop what holds it, or use --auth-port 0`)
    } finally {
      await new Promise((resolve) => holder.close(resolve))
    }
  })
})
