/**
 * One benchmark process. `node src/child.ts '<json task>'`: runs the task, prints `READY` when a concurrent task is
 * connected (then waits for `GO` on stdin), and ends with one line `RESULT <json>`.
 *
 * Times are `performance.now()` (milliseconds since this process started).
 */
import type { Client } from "@modelcontextprotocol/client"
import { readFile, writeFile } from "node:fs/promises"
import { createInterface } from "node:readline"
import type { Ours } from "./Ours.ts"
import type * as OursNs from "./Ours.ts"
import type * as SdkNs from "./SdkOAuthProvider.ts"
import type { SdkState } from "./SdkOAuthProvider.ts"
import { summarize } from "./Stats.ts"

// Each kind loads only what it needs (dynamic imports), so that start-up figures compare like with like: the SDK
// baselines never load Effect or our packages

export type Kind = "ours" | "sdk-oauth" | "sdk-static"

export interface ToolCall {
  readonly name: string
  readonly arguments: Record<string, unknown>
}

export type Task =
  | {
    readonly mode: "connect"
    readonly kind: Kind
    readonly url: string
    /** ours: file store directory; sdk-oauth: JSON state file (read when present, written at the end) */
    readonly state?: string
    /** sdk-static */
    readonly token?: string
    /** sdk-oauth without a stored client: pre-register at this endpoint (see `SdkOAuthProvider.preregister`) */
    readonly registrationEndpoint?: string
  }
  | {
    readonly mode: "concurrent"
    readonly kind: "ours" | "sdk-oauth"
    readonly url: string
    readonly state: string
    readonly workers: number
    /** epoch ms: workers stop starting calls after this */
    readonly until: number
    readonly tool: ToolCall
  }
  | {
    readonly mode: "overhead"
    readonly url: string
    readonly state: string
    readonly token: string
    readonly calls: number
    readonly warmup: number
    readonly tool: ToolCall
  }
  | {
    readonly mode: "memory"
    readonly kind: "ours" | "sdk-static"
    readonly url: string
    readonly state?: string
    readonly token?: string
    readonly calls: number
    readonly window: number
    /** Calls made before the measured ones (V8 heap sizing, compiled code, Node's fetch warming up). */
    readonly warmup: number
    readonly tool: ToolCall
  }

const result = (value: unknown) => {
  process.stdout.write(`RESULT ${JSON.stringify(value)}\n`)
}

const readState = async (path: string | undefined): Promise<SdkState> => {
  if (path === undefined) return {}
  try {
    return JSON.parse(await readFile(path, "utf8")) as SdkState
  } catch {
    return {}
  }
}

const errorText = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).slice(0, 300)

type OursModule = typeof OursNs
type SdkModule = typeof SdkNs
let oursModule: OursModule | undefined
let sdkModule: SdkModule | undefined

/** Loads the modules of a kind (before any timing starts: import time is measured on its own). */
const load = async (kind: Kind): Promise<void> => {
  // Node loads its fetch (undici) on first access of `globalThis.fetch`; our modules touch it when they load, so it
  // is loaded here for every kind, before any timing starts
  void globalThis.fetch
  if (kind === "ours") oursModule ??= await import("./Ours.ts")
  // our client drives the SDK's Client too, so the SDK module is loaded for every kind
  sdkModule ??= await import("./SdkOAuthProvider.ts")
}

/** Runs `body` with a connected client of the given kind. */
const withClient = async <A>(
  kind: Kind,
  url: string,
  state: string | undefined,
  token: string | undefined,
  body: (client: Client, info: { interactions: () => number; ours?: Ours }) => Promise<A>,
  registrationEndpoint?: string
): Promise<A> => {
  if (kind === "ours") {
    await load(kind)
    const { connectOurs, withOurs } = oursModule as OursModule
    return withOurs({ url, storeDir: state }, async (ours) => {
      const client = await connectOurs(ours, url)
      try {
        return await body(client, { interactions: ours.interactions, ours })
      } finally {
        await client.close()
      }
    })
  }
  await load(kind)
  const { connectSdkOAuth, connectSdkStatic, SdkOAuthProvider } = sdkModule as SdkModule
  if (kind === "sdk-static") {
    if (token === undefined) throw new Error("sdk-static needs a token")
    const client = await connectSdkStatic(url, token)
    try {
      return await body(client, { interactions: () => 0 })
    } finally {
      await client.close()
    }
  }
  const provider = new SdkOAuthProvider(await readState(state))
  if (registrationEndpoint !== undefined) await provider.preregister(registrationEndpoint)
  const client = await connectSdkOAuth(url, provider)
  try {
    return await body(client, { interactions: () => provider.interactions })
  } finally {
    await client.close()
    if (state !== undefined) await writeFile(state, JSON.stringify(provider.snapshot()), { mode: 0o600 })
  }
}

const waitForGo = () =>
  new Promise<void>((resolve) => {
    const rl = createInterface({ input: process.stdin })
    rl.on("line", (line) => {
      if (line.trim() === "GO") {
        rl.close()
        resolve()
      }
    })
  })

const run = async (task: Task): Promise<void> => {
  switch (task.mode) {
    case "connect": {
      await load(task.kind)
      // From before the client exists (its store read, its layers built) to the first tools/list result
      const t0 = performance.now()
      const out = await withClient(task.kind, task.url, task.state, task.token, async (client, info) => {
        const tools = await client.listTools()
        const ready = performance.now()
        return { connectMs: ready - t0, processStartToToolsMs: ready, tools: tools.tools.length, info }
      }, task.registrationEndpoint)
      const events = out.info.ours?.events
      const refreshes = events?.filter((e) => e.step === "refresh" && e.phase === "done").length
      // where our client spent its time (the steps' own durations; never secrets)
      const steps = events?.filter((e) => e.phase === "done" && e.durationMs !== undefined)
        .map((e) => ({ step: e.step, ms: e.durationMs }))
      result({
        connectMs: out.connectMs,
        processStartToToolsMs: out.processStartToToolsMs,
        tools: out.tools,
        interactions: out.info.interactions(),
        ...(refreshes === undefined ? {} : { refreshEvents: refreshes, steps })
      })
      return
    }
    case "concurrent": {
      await withClient(task.kind, task.url, task.state, undefined, async (client, info) => {
        process.stdout.write("READY\n")
        await waitForGo()
        const started = Date.now()
        let calls = 0
        const failures: Array<string> = []
        const worker = async () => {
          while (Date.now() < task.until) {
            calls++
            try {
              const r = await client.callTool({ name: task.tool.name, arguments: task.tool.arguments }, {
                timeout: 20_000
              })
              if (r.isError === true) failures.push(`isError: ${JSON.stringify(r.content).slice(0, 200)}`)
            } catch (e) {
              failures.push(errorText(e))
            }
          }
        }
        await Promise.all(Array.from({ length: task.workers }, worker))
        result({
          calls,
          failed: failures.length,
          failures: [...new Set(failures)].slice(0, 5),
          runMs: Date.now() - started,
          interactions: info.interactions()
        })
      })
      return
    }
    case "overhead": {
      // Both clients in this process, calls interleaved (alternating which goes first) so that both see the same
      // machine; the sandbox runs in the parent process
      await withClient(
        "ours",
        task.url,
        task.state,
        undefined,
        (ours) =>
          withClient("sdk-static", task.url, undefined, task.token, async (sdk) => {
            const call = async (client: Client) => {
              const t0 = performance.now()
              const r = await client.callTool({ name: task.tool.name, arguments: task.tool.arguments })
              if (r.isError === true) throw new Error(`tool error: ${JSON.stringify(r.content).slice(0, 200)}`)
              return performance.now() - t0
            }
            for (let i = 0; i < task.warmup; i++) {
              await call(ours)
              await call(sdk)
            }
            const a: Array<number> = []
            const b: Array<number> = []
            for (let i = 0; i < task.calls; i++) {
              if (i % 2 === 0) {
                a.push(await call(ours))
                b.push(await call(sdk))
              } else {
                b.push(await call(sdk))
                a.push(await call(ours))
              }
            }
            result({ ours: summarize(a), baseline: summarize(b) })
          })
      )
      return
    }
    case "memory": {
      await withClient(task.kind, task.url, task.state, task.token, async (client) => {
        const gc = (globalThis as { gc?: () => void }).gc
        const rss: Array<number> = []
        const heapAfterGc: Array<{ call: number; bytes: number; external: number; arrayBuffers: number; rss: number }> =
          []
        let failed = 0
        const warmupRss: Array<number> = []
        for (let i = 1; i <= task.warmup; i++) {
          try {
            const r = await client.callTool({ name: task.tool.name, arguments: task.tool.arguments })
            if (r.isError === true) failed++
          } catch {
            failed++
          }
          warmupRss.push(process.memoryUsage.rss())
        }
        for (let i = 1; i <= task.calls; i++) {
          try {
            const r = await client.callTool({ name: task.tool.name, arguments: task.tool.arguments })
            if (r.isError === true) failed++
          } catch {
            failed++
          }
          rss.push(process.memoryUsage.rss())
          if (gc !== undefined && (i === task.window || i % Math.max(task.window, task.calls / 10) === 0)) {
            gc()
            const m = process.memoryUsage()
            heapAfterGc.push({
              call: i,
              bytes: m.heapUsed,
              external: m.external,
              arrayBuffers: m.arrayBuffers,
              rss: m.rss
            })
          }
        }
        const first = rss.slice(0, task.window)
        const last = rss.slice(-task.window)
        result({
          calls: task.calls,
          failed,
          peakRss: Math.max(...rss),
          warmupRss: { calls: task.warmup, first: warmupRss[0] ?? 0, last: warmupRss.at(-1) ?? 0 },
          firstWindow: { peak: Math.max(...first), median: summarize(first).median },
          lastWindow: { peak: Math.max(...last), median: summarize(last).median },
          heapAfterGc
        })
      })
      return
    }
  }
}

const task = JSON.parse(process.argv[2] ?? "{}") as Task
run(task).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench child failed (${task.mode}): ${error instanceof Error ? error.stack : String(error)}\n`)
    process.exit(1)
  }
)
