// Runs one advanced example: ./run example <name>   (./run example --list)
import { readdirSync } from "node:fs"
import { join } from "node:path"

const dir = join(import.meta.dirname, "examples")
const names = readdirSync(dir).filter((f) => f.endsWith(".ts")).map((f) => f.replace(/\.ts$/, "")).toSorted()
const name = process.argv[2]
if (name === undefined || name === "--list" || !names.includes(name)) {
  if (name !== undefined && name !== "--list") console.error(`no example named "${name}"`)
  console.log(`Examples (./run example <name>):\n${names.map((n) => `  ${n}`).join("\n")}`)
  process.exit(name === undefined || name === "--list" ? 0 : 2)
}
await import(join(dir, `${name}.ts`))
