import { assert, describe, it } from "@effect/vitest"
import { ScopeSelection } from "@mcpauth/mcp-auth"
import { Effect } from "effect"

describe("ScopeSelection", () => {
  it.effect.each<[string, ScopeSelection.ScopeInputs, string | undefined]>([
    ["challenge scope wins", { challengeScope: "files:read", resourceScopesSupported: ["a", "b"] }, "files:read"],
    ["else every PRM scopes_supported", { resourceScopesSupported: ["mcp:basic", "mcp:read"] }, "mcp:basic mcp:read"],
    ["else omitted", {}, undefined],
    ["an empty challenge scope falls through", { challengeScope: "  ", resourceScopesSupported: ["x"] }, "x"],
    ["an empty scopes_supported omits scope", { resourceScopesSupported: [] }, undefined],
    [
      "offline_access added when the AS lists it",
      { resourceScopesSupported: ["mcp:basic"], authorizationServerScopesSupported: ["mcp:basic", "offline_access"] },
      "mcp:basic offline_access"
    ],
    [
      "offline_access never added when the AS does not list it",
      { resourceScopesSupported: ["mcp:basic"], authorizationServerScopesSupported: ["mcp:basic", "mcp:read"] },
      "mcp:basic"
    ],
    [
      "offline_access not added alone when no scope is chosen",
      { authorizationServerScopesSupported: ["offline_access"] },
      undefined
    ],
    ["an explicit override replaces the strategy", { override: ["mcp_all"], challengeScope: "x" }, "mcp_all"],
    ["duplicates are dropped", { challengeScope: "a b a" }, "a b"]
  ])(
    "MCP §Scope Selection Strategy: %s",
    ([, inputs, expected]) => Effect.sync(() => assert.strictEqual(ScopeSelection.selectInitialScope(inputs), expected))
  )

  it.effect.each<[string | undefined, string | undefined, string | undefined]>([
    ["read", "write", "read write"],
    ["read write", "write", "read write"],
    [undefined, "write", "write"],
    ["read", undefined, "read"],
    [undefined, undefined, undefined]
  ])(
    "MCP §Step-Up Authorization Flow 2: union of %s and %s is %s",
    ([previous, challenge, expected]) =>
      Effect.sync(() => assert.strictEqual(ScopeSelection.stepUpScope(previous, challenge), expected))
  )
})
