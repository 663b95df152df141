// Headless Chromium (Debian's package) driven by playwright-core: no browser is downloaded, the executable comes from
// CHROMIUM_PATH (exported by the README's test command) or from scripts/ensure-chromium.sh.
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { chromium } from "playwright-core"
import type { BrowserContext } from "playwright-core"
import { repoRoot } from "./Fixtures.ts"

/** The flags this machine's Chromium needs (headless, no sandbox as root, no background traffic off loopback). */
export const chromiumArgs: ReadonlyArray<string> = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run"
]

/** CHROMIUM_PATH, else what scripts/ensure-chromium.sh finds or installs. */
export const chromiumPath = (): string => {
  const fromEnv = process.env["CHROMIUM_PATH"]
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv
  const r = spawnSync("bash", [join(repoRoot, "scripts", "ensure-chromium.sh")], {
    cwd: repoRoot,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 300_000
  })
  const path = r.stdout.trim()
  if (r.status !== 0 || path === "") {
    throw new Error(`scripts/ensure-chromium.sh found no Chromium (exit ${String(r.status ?? r.signal)})`)
  }
  return path
}

/**
 * A browser context with a fresh `--user-data-dir` (playwright passes it from `launchPersistentContext`), closed and
 * deleted with the scope.
 */
export const browserContext = Effect.acquireRelease(
  Effect.promise(async () => {
    const userDataDir = await mkdtemp(join(tmpdir(), "mcpauth-e2e-chromium-"))
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath(),
      headless: true,
      args: [...chromiumArgs],
      timeout: 30_000
    })
    return { context, userDataDir }
  }),
  ({ context, userDataDir }) =>
    Effect.promise(async () => {
      await context.close()
      await rm(userDataDir, { recursive: true, force: true })
    })
).pipe(Effect.map(({ context }): BrowserContext => context))
