/**
 * Runs benchmark tasks in fresh Node processes (the same Node as the harness, so Node 24 and its type stripping).
 */
import type { ChildProcess } from "node:child_process"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import type { Task } from "./child.ts"

const childScript = fileURLToPath(new URL("./child.ts", import.meta.url))
const importScript = fileURLToPath(new URL("./import-child.ts", import.meta.url))
const benchDir = fileURLToPath(new URL("..", import.meta.url))

export interface Running {
  readonly process: ChildProcess
  /** Resolves when the child prints `READY`. */
  readonly ready: Promise<void>
  /** Resolves with the child's `RESULT` (rejects when it exits without one). */
  readonly result: Promise<unknown>
  /** Wall time from spawn to the `RESULT` line, ms. */
  readonly go: () => void
}

export const start = (task: Task, nodeArgs: ReadonlyArray<string> = []): Running =>
  startScript(childScript, [JSON.stringify(task)], task.mode, nodeArgs)

const startScript = (
  script: string,
  args: ReadonlyArray<string>,
  label: string,
  nodeArgs: ReadonlyArray<string> = []
): Running => {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    cwd: benchDir,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, NODE_NO_WARNINGS: "1" }
  })
  let out = ""
  let err = ""
  let onReady: () => void = () => {}
  const ready = new Promise<void>((resolve) => {
    onReady = resolve
  })
  child.stdout.setEncoding("utf8")
  child.stderr.setEncoding("utf8")
  child.stdout.on("data", (chunk: string) => {
    out += chunk
    if (/^READY$/m.test(out)) onReady()
  })
  child.stderr.on("data", (chunk: string) => {
    err += chunk
  })
  const result = new Promise<unknown>((resolve, reject) => {
    child.on("error", reject)
    child.on("close", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("RESULT "))
      if (code === 0 && line !== undefined) resolve(JSON.parse(line.slice("RESULT ".length)))
      else reject(new Error(`bench child (${label}) exited ${code}: ${err.trim().slice(-2000)}`))
    })
  })
  // A child that dies before READY must not leave `ready` pending forever
  result.catch(() => onReady())
  return {
    process: child,
    ready,
    result,
    go: () => {
      child.stdin.write("GO\n")
    }
  }
}

export const runTask = <A>(task: Task, nodeArgs: ReadonlyArray<string> = []): Promise<A> =>
  start(task, nodeArgs).result as Promise<A>

/** The time to import `specifier` into a fresh process that loaded nothing else. */
export const runImport = (specifier: string): Promise<{ importMs: number; processStartToImportedMs: number }> =>
  startScript(importScript, [specifier], `import ${specifier}`).result as Promise<
    { importMs: number; processStartToImportedMs: number }
  >
