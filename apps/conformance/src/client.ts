/**
 * The conformance client: what the official MCP conformance suite (`@modelcontextprotocol/conformance`) runs against
 * its mock servers. It uses our packages exactly as a user would: `McpAuthorization.layerDefault` with a memory token
 * store and the programmatic hand-off, the official MCP client SDK over the authorised `fetch`.
 *
 * The suite appends the server URL as the last argument, names the scenario in `MCP_CONFORMANCE_SCENARIO` and, for
 * some scenarios, gives pre-registered credentials or a private key in `MCP_CONFORMANCE_CONTEXT` (JSON).
 *
 * The scenario name only selects what a user would configure (see `Profile.ts`); every authorization decision is the
 * packages'. Exit 0 when the MCP session worked, 1 on any failure (including a refusal to authorize).
 */
import { Effect } from "effect"
import { run } from "./Conformance.ts"

const serverUrl = process.argv.at(-1)
const code = await Effect.runPromise(run({
  serverUrl: serverUrl ?? "",
  scenario: process.env["MCP_CONFORMANCE_SCENARIO"] ?? "",
  context: process.env["MCP_CONFORMANCE_CONTEXT"]
}))
process.exit(code)
