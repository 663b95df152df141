/**
 * The conformance runner (`pnpm conformance`): runs the official MCP conformance suite's CLI against our conformance
 * client for the suites `auth`, `draft`, `backcompat`, the core scenarios `initialize` and `tools_call`, and the
 * client-credentials extension scenarios; every run writes per-check JSON into `.test-results/`, which is then read
 * back into one table per scenario (passed / failed / warnings) and `.test-results/conformance-summary.json`.
 *
 * Exit 0 only when every CLI run exited 0, every expected scenario has results, and no check failed or warned.
 * The expected-failures baseline (`conformance-baseline.yml`) is empty and must stay so.
 *
 * `--sequential` runs every scenario on its own instead of the suites' parallel runs (for slow machines).
 */
import { spawn } from "node:child_process"
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises"
import { dirname, join, relative, sep } from "node:path"
import { fileURLToPath } from "node:url"
import { summarize, toTable } from "./Summary.ts"
import type { ScenarioChecks } from "./Summary.ts"

const appDir = join(dirname(fileURLToPath(import.meta.url)), "..")
const resultsDir = join(appDir, ".test-results")
// One directory per run, so that two runs at once (two terminals, CI and a developer) never mix their checks
const runsDir = join(resultsDir, "conformance")
const checksDir = join(runsDir, `${new Date().toISOString().replace(/[:.]/g, "-")}-${process.pid}`)
const baseline = join(appDir, "conformance-baseline.yml")
const cli = join(appDir, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js")
const clientScript = join(appDir, "src", "client.ts")

/** Suites and scenarios run, in order. */
export const RUNS: ReadonlyArray<{ readonly suite: string } | { readonly scenario: string }> = [
  { suite: "auth" },
  { suite: "draft" },
  { suite: "backcompat" },
  { scenario: "initialize" },
  { scenario: "tools_call" },
  { scenario: "auth/client-credentials-basic" },
  { scenario: "auth/client-credentials-jwt" }
]

const sequential = process.argv.includes("--sequential")

// The CLI splits the command on spaces (no quoting) and runs it from its own working directory (this app), so a path
// with a space is given relative to the app.
const command = [process.execPath, clientScript].map((p) => (p.includes(" ") ? relative(appDir, p) : p)).join(" ")

const runCli = (args: ReadonlyArray<string>): Promise<{ code: number; output: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: appDir, stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.on("close", (code) => resolve({ code: code ?? 1, output }))
    child.on("error", (error) => resolve({ code: 1, output: String(error) }))
  })

/** Every client scenario name, as the CLI lists them. */
const listClientScenarios = async (): Promise<ReadonlyArray<string>> => {
  const { output } = await runCli(["list", "--client"])
  return [...output.matchAll(/^\s+- (\S+)/gm)].map((m) => m[1] as string)
}

// The members of each suite in the pinned CLI (0.1.16): the scenarios that must have results, and what
// `--sequential` runs one by one
const SUITE_MEMBERS: Record<string, (name: string) => boolean> = {
  auth: (n) =>
    n.startsWith("auth/") && !n.startsWith("auth/2025-03-26-") && !n.startsWith("auth/client-credentials-") &&
    !["auth/resource-mismatch", "auth/offline-access-scope", "auth/offline-access-not-supported"].includes(n) &&
    !n.startsWith("auth/cross-app-access"),
  draft: (n) =>
    ["auth/resource-mismatch", "auth/offline-access-scope", "auth/offline-access-not-supported"].includes(n),
  backcompat: (n) => n.startsWith("auth/2025-03-26-")
}

const TIMESTAMP = /-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/

/** Every `checks.json` under the output directory, named by scenario (the directory name without its timestamp). */
const readChecks = async (): Promise<ReadonlyArray<ScenarioChecks>> => {
  const files = (await readdir(checksDir, { recursive: true })).filter((f) => f.endsWith(`${sep}checks.json`))
  const out: Array<ScenarioChecks> = []
  for (const file of files.toSorted()) {
    const name = dirname(file).split(sep).join("/").replace(TIMESTAMP, "")
    const checks: unknown = JSON.parse(await readFile(join(checksDir, file), "utf8"))
    out.push({ name, checks: Array.isArray(checks) ? checks : [] })
  }
  return out
}

const main = async () => {
  // runs older than an hour are gone (a current run elsewhere is never touched)
  await mkdir(runsDir, { recursive: true })
  for (const entry of await readdir(runsDir, { withFileTypes: true })) {
    const path = join(runsDir, entry.name)
    if (Date.now() - (await stat(path)).mtimeMs > 3_600_000) await rm(path, { recursive: true, force: true })
  }
  await mkdir(checksDir, { recursive: true })
  const started = Date.now()
  const cliFailures: Array<string> = []
  const expected = new Set<string>()
  const all = await listClientScenarios()
  const plan: Array<{ label: string; args: ReadonlyArray<string> }> = []
  for (const run of RUNS) {
    if ("suite" in run && !sequential) {
      plan.push({ label: `suite ${run.suite}`, args: ["--suite", run.suite] })
      for (const name of all.filter(SUITE_MEMBERS[run.suite] ?? (() => false))) {
        expected.add(name)
      }
    } else if ("suite" in run) {
      for (const name of all.filter(SUITE_MEMBERS[run.suite] ?? (() => false))) {
        plan.push({ label: name, args: ["--scenario", name] })
        expected.add(name)
      }
    } else {
      plan.push({ label: run.scenario, args: ["--scenario", run.scenario] })
      expected.add(run.scenario)
    }
  }
  for (const step of plan) {
    const t0 = Date.now()
    const { code, output } = await runCli([
      "client",
      "--command",
      command,
      ...step.args,
      "-o",
      checksDir,
      "--expected-failures",
      baseline
    ])
    process.stdout.write(`${step.label}: CLI exit ${code} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`)
    if (code !== 0) {
      cliFailures.push(step.label)
      process.stdout.write(output.split("\n").filter((l) => !/^\s*$/.test(l)).slice(-40).join("\n") + "\n")
    }
  }
  const results = await readChecks()
  const summary = summarize(results)
  const missing = [...expected].filter((name) => !results.some((r) => r.name === name))
  process.stdout.write(`\n${toTable(summary)}\n`)
  await writeFile(join(resultsDir, "conformance-summary.json"), `${JSON.stringify(summary, null, 2)}\n`)
  process.stdout.write(
    `\n${summary.scenarios.length} scenarios in ${((Date.now() - started) / 1000).toFixed(1)} s; summary in ${
      relative(process.cwd(), join(resultsDir, "conformance-summary.json"))
    }\n`
  )
  for (const name of missing) process.stdout.write(`missing results: ${name}\n`)
  for (const label of cliFailures) process.stdout.write(`the conformance CLI failed: ${label}\n`)
  const ok = summary.failed === 0 && summary.warnings === 0 && missing.length === 0 && cliFailures.length === 0
  process.stdout.write(ok ? "conformance: PASSED\n" : "conformance: FAILED\n")
  process.exit(ok ? 0 : 1)
}

await main()
