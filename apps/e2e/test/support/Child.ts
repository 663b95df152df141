// Runs a fixture script in a new Node process (`process.execPath`, Node's type stripping), with a bounded lifetime;
// the process is killed when the scope is interrupted.
import { Effect } from "effect"
import { spawn } from "node:child_process"
import type { ChildProcess } from "node:child_process"

export interface ChildOutcome {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface Child {
  readonly process: ChildProcess
  /** Resolves once stdout has printed this line. */
  readonly line: (text: string) => Promise<void>
  readonly done: Promise<ChildOutcome>
}

export const fixture = (name: string): string => new URL(`../fixtures/${name}`, import.meta.url).pathname

/** Starts the script; killed after `timeoutMs` or when the scope closes. */
export const start = (
  script: string,
  env: Record<string, string>,
  options: { readonly cwd?: string | undefined; readonly timeoutMs?: number | undefined } = {}
) =>
  Effect.acquireRelease(
    Effect.sync((): Child => {
      const child = spawn(process.execPath, [script], {
        env: { ...process.env, ...env },
        cwd: options.cwd,
        stdio: ["pipe", "pipe", "pipe"]
      })
      let stdout = ""
      let stderr = ""
      const waiters: Array<{ text: string; resolve: () => void }> = []
      child.stdout.on("data", (d: Buffer) => {
        stdout += d.toString()
        for (const w of waiters) if (stdout.split("\n").includes(w.text)) w.resolve()
      })
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
      const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 45_000)
      const done = new Promise<ChildOutcome>((resolve) =>
        child.on("close", (code) => {
          clearTimeout(timer)
          resolve({ code, stdout, stderr })
        })
      )
      const line = (text: string) =>
        new Promise<void>((resolve, reject) => {
          if (stdout.split("\n").includes(text)) return resolve()
          waiters.push({ text, resolve })
          void done.then((o) => reject(new Error(`exited ${String(o.code)} before printing ${text}: ${o.stderr}`)))
        })
      return { process: child, line, done }
    }),
    (child) => Effect.sync(() => child.process.exitCode === null && child.process.kill("SIGKILL"))
  )

/** Runs the script to its end. */
export const run = (
  script: string,
  env: Record<string, string>,
  options: { readonly cwd?: string | undefined; readonly timeoutMs?: number | undefined } = {}
) => Effect.scoped(Effect.flatMap(start(script, env, options), (c) => Effect.promise(() => c.done)))

/** The parsed `RESULT {json}` line of a fixture's stdout. */
export const result = <A>(outcome: ChildOutcome): A => {
  const line = outcome.stdout.split("\n").find((l) => l.startsWith("RESULT "))
  if (line === undefined) {
    throw new Error(`no RESULT line (exit ${String(outcome.code)}); stderr:\n${outcome.stderr}`)
  }
  return JSON.parse(line.slice("RESULT ".length)) as A
}
