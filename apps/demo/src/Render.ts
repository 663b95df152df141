// Terminal rendering for the demo: numbered steps with timings, a ticker on every wait, tables. Never prints a secret.
import type { AuthEvent } from "@mcpauth/mcp-auth/AuthEvent"

const tty = process.stdout.isTTY === true && process.env.NO_COLOR === undefined
const paint = (code: string) => (text: string) => (tty ? `\u001b[${code}m${text}\u001b[0m` : text)
export const dim = paint("2")
export const bold = paint("1")
export const green = paint("32")
export const red = paint("31")
export const yellow = paint("33")
export const cyan = paint("36")

let lastOutput = Date.now()
const out = (line: string) => {
  lastOutput = Date.now()
  process.stdout.write(`${line}\n`)
}

/**
 * While running, prints "… still waiting (Ns)" when nothing else was printed for 5 s; returns the stop function.
 */
export const heartbeat = (): () => void => {
  let lastBeat = 0
  const timer = setInterval(() => {
    const quiet = Date.now() - lastOutput
    if (quiet < 5000 || Date.now() - lastBeat < 5000) return
    lastBeat = Date.now()
    // written directly: a heartbeat does not count as output
    process.stdout.write(`  ${dim(`… still waiting for the server (${Math.round(quiet / 1000)} s)`)}\n`)
  }, 1000)
  timer.unref()
  return () => clearInterval(timer)
}

/**
 * Text from a server or an error, made safe for a terminal: control characters (ESC, BEL, C1, bidi overrides…) are
 * shown escaped, so a server cannot retitle the terminal, clear it or forge output; bounded in length.
 */
export const safe = (text: string, max = 2000): string => {
  let escaped = ""
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0
    const control = (c < 0x20 && c !== 0x0a && c !== 0x09) || (c >= 0x7f && c <= 0x9f) || c === 0x200e ||
      c === 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)
    escaped += control ? `\\u${c.toString(16).padStart(4, "0")}` : ch
  }
  return escaped.length > max ? `${escaped.slice(0, max)}… (${escaped.length} chars)` : escaped
}

export const heading = (text: string) => out(`\n${bold(text)}\n${dim("─".repeat(Math.min(text.length, 80)))}`)
export const info = (text: string) => out(`  ${text}`)
export const ok = (text: string) => out(`  ${green("✔")} ${text}`)
export const warn = (text: string) => out(`  ${yellow("!")} ${safe(text)}`)
export const fail = (text: string) => out(`  ${red("✖")} ${safe(text)}`)

const seconds = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`)

/**
 * Runs `work`, showing what it waits for: on a terminal a live elapsed-time ticker, elsewhere a line every 5 s.
 */
export const waiting = async <A>(label: string, work: () => Promise<A>): Promise<A> => {
  const start = Date.now()
  const timer = setInterval(() => {
    const elapsed = seconds(Date.now() - start)
    if (tty) process.stdout.write(`\r  ${cyan("…")} ${label} ${dim(`(${elapsed})`)}   `)
    else out(`  … still ${label} (${elapsed})`)
  }, tty ? 200 : 5000)
  try {
    const result = await work()
    if (tty) process.stdout.write("\r\u001b[2K")
    out(`  ${green("✔")} ${label} ${dim(`(${seconds(Date.now() - start)})`)}`)
    return result
  } catch (error) {
    if (tty) process.stdout.write("\r\u001b[2K")
    out(`  ${red("✖")} ${label} ${dim(`(${seconds(Date.now() - start)})`)}`)
    throw error
  } finally {
    clearInterval(timer)
  }
}

const STEP_TITLES: Record<string, string> = {
  request: "MCP request",
  restore: "Stored credentials",
  discovery: "Discovery (RFC 9728 protected resource metadata)",
  metadata: "Authorization server metadata (RFC 8414 / OIDC)",
  registration: "Client registration (RFC 7591 / metadata document / pre-registered)",
  authorization: "Authorization (PKCE S256, state, iss, resource)",
  token: "Token",
  refresh: "Refresh",
  "step-up": "Step-up authorization",
  store: "Token store",
  revocation: "Revocation (RFC 7009)"
}

const describe = (value: unknown): string => {
  if (Array.isArray(value)) return value.map(describe).join(", ")
  if (value !== null && typeof value === "object") {
    return Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${describe(v)}`).join(" ")
  }
  return String(value)
}

/**
 * An event sink that prints the authorization flow step by step, with timings and every URL tried.
 */
export const eventPrinter = () => {
  const started = new Map<string, number>()
  return (event: AuthEvent) => {
    const title = STEP_TITLES[event.step] ?? event.step
    const timing = event.durationMs === undefined ? "" : dim(` (${seconds(event.durationMs)})`)
    switch (event.phase) {
      case "start":
        started.set(event.step, Date.now())
        out(`\n  ${cyan("▶")} ${bold(title)}: ${safe(event.message)}`)
        break
      case "done":
        out(`    ${green("✔")} ${safe(event.message)}${timing}`)
        break
      case "failed":
        out(`    ${red("✖")} ${safe(event.message)}${timing}`)
        break
      case "info": {
        const status = event.status === undefined || event.message.startsWith(String(event.status))
          ? ""
          : `${event.status} `
        const url = event.url === undefined || event.message.includes(event.url) ? "" : dim(` ${event.url}`)
        out(`    ${dim("·")} ${status}${safe(event.message)}${url}`)
        break
      }
    }
    if (event.data !== undefined) {
      for (const [key, value] of Object.entries(event.data)) {
        if (key === "error") continue
        if (key === "attempts" && Array.isArray(value)) {
          for (const attempt of value as ReadonlyArray<Record<string, unknown>>) {
            out(
              `      ${dim("tried")} ${String(attempt.url ?? "")} ${dim("→")} ${
                describe(attempt.status ?? attempt.outcome ?? "")
              }`
            )
          }
        } else {
          out(`      ${dim(`${key}:`)} ${safe(describe(value))}`)
        }
      }
    }
  }
}

/**
 * Prints rows as an aligned table, cutting long cells.
 */
export const table = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>, maxWidth = 70) => {
  const cut = (s: string) => (s.length > maxWidth ? `${s.slice(0, maxWidth - 1)}…` : s)
  const cells = rows.map((r) => r.map(cut))
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)))
  out(`  ${headers.map((h, i) => bold(h.padEnd(widths[i] ?? 0))).join("  ")}`)
  out(`  ${widths.map((w) => "─".repeat(w)).join("  ")}`)
  for (const row of cells) out(`  ${row.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ")}`)
}
