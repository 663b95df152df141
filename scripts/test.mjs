// The README's test command (`./run test`): format check, then lint, typecheck and every package's tests through
// turbo (cached), then a summary of what ran. Exits non-zero on any failure, on a skipped test, or on no test at all.
import { spawnSync } from "node:child_process"
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { join } from "node:path"

const root = new URL("..", import.meta.url).pathname
const started = Date.now()

const step = (title, cmd, args) => {
  console.log(`\n▶ ${title}: ${cmd} ${args.join(" ")}`)
  const t0 = Date.now()
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: process.env })
  const secs = ((Date.now() - t0) / 1000).toFixed(1)
  if (r.status !== 0) {
    console.error(`✖ ${title} failed (exit ${r.status ?? r.signal}) after ${secs}s`)
    process.exit(r.status || 1)
  }
  console.log(`✔ ${title} (${secs}s)`)
}

const workspaces = ["packages", "apps"].flatMap((dir) =>
  existsSync(join(root, dir))
    ? readdirSync(join(root, dir), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(root, dir, d.name, "package.json")))
      .map((d) => join(dir, d.name))
    : []
)
// Stale results must never be counted: turbo restores the real ones from its cache.
for (const ws of workspaces) rmSync(join(root, ws, ".test-results"), { recursive: true, force: true })

const has = (ws) => existsSync(join(root, ws, "package.json"))
// The real-browser end-to-end test needs Debian's Chromium; install it once when missing
if (has("apps/e2e")) {
  const r = spawnSync("bash", ["scripts/ensure-chromium.sh"], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8"
  })
  if (r.status !== 0) process.exit(r.status || 1)
  process.env.CHROMIUM_PATH = r.stdout.trim()
}

step("format", "dprint", ["check"])
step("barrels", "node", ["scripts/barrels.mjs", "--check"])
step("lint, typecheck, build, tests", "turbo", ["run", "lint", "typecheck", "build", "test", "--output-logs=new-only"])

// The official MCP conformance suite against our conformance client (prints its own per-scenario summary)
if (has("apps/conformance")) {
  step("MCP conformance suite", "pnpm", ["--filter", "@mcpauth/conformance", "run", "conformance"])
}
// A short benchmark run, so that `./run bench` keeps working (figures are not judged here)
if (has("apps/bench")) step("benchmark smoke run", "pnpm", ["--filter", "@mcpauth/bench", "run", "bench:smoke"])

let passed = 0, failed = 0, skipped = 0, files = 0
const rows = []
for (const ws of workspaces) {
  const pkg = JSON.parse(readFileSync(join(root, ws, "package.json"), "utf8"))
  if (!pkg.scripts?.test) continue
  const file = join(root, ws, ".test-results", "vitest.json")
  if (!existsSync(file)) {
    console.error(`✖ ${pkg.name}: has a test script but wrote no results (${file})`)
    process.exit(1)
  }
  const r = JSON.parse(readFileSync(file, "utf8"))
  const s = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0)
  passed += r.numPassedTests
  failed += r.numFailedTests
  skipped += s
  files += r.numTotalTestSuites ?? 0
  rows.push([pkg.name, r.numPassedTests, r.numFailedTests, s])
}
const conformanceFile = join(root, "apps/conformance/.test-results/conformance-summary.json")
if (has("apps/conformance")) {
  if (!existsSync(conformanceFile)) {
    console.error(`✖ the conformance run wrote no summary (${conformanceFile})`)
    process.exit(1)
  }
  const c = JSON.parse(readFileSync(conformanceFile, "utf8"))
  rows.push(["MCP conformance (checks)", c.passed, c.failed + c.warnings, 0])
  passed += c.passed
  failed += c.failed + c.warnings
}
console.log("\nTest summary")
const w = Math.max(...rows.map((r) => r[0].length), 7)
console.log(`  ${"package".padEnd(w)}  passed  failed  skipped`)
for (const [n, p, f, s] of rows) {
  console.log(`  ${n.padEnd(w)}  ${String(p).padStart(6)}  ${String(f).padStart(6)}  ${String(s).padStart(7)}`)
}
console.log(`  total time ${((Date.now() - started) / 1000).toFixed(1)}s`)
if (skipped > 0) console.error(`✖ ${skipped} skipped or todo test(s): none may be left behind`)
if (passed === 0) console.error("✖ no test ran")
console.log(`Tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`)
process.exit(failed > 0 || skipped > 0 || passed === 0 ? 1 : 0)
