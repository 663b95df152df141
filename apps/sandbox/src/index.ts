/**
 * @mcpauth/sandbox: a local Datadog MCP look-alike with a real authorization server.
 */
export { accounts } from "./Accounts.ts"
export type { Account } from "./Accounts.ts"
export { legacyMcpPath, mcpPath, startSandbox } from "./Sandbox.ts"
export type { Sandbox, SandboxOptions } from "./Sandbox.ts"
