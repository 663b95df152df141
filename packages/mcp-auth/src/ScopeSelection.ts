/**
 * Which `scope` to request: the MCP scope selection strategy for the first authorization, and the scope union for
 * step-up authorization.
 *
 * @see [MCP 2026-07-28 Authorization §Scope Selection Strategy](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization#scope-selection-strategy)
 * @see [MCP 2026-07-28 Authorization §Step-Up Authorization Flow](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization#step-up-authorization-flow)
 * @since 0.1.0
 */

/**
 * Splits a space-delimited scope string (RFC 6749 §3.3) into its distinct tokens, in order.
 *
 * @category constructors
 * @since 0.1.0
 */
export const parseScope = (scope: string | undefined): ReadonlyArray<string> =>
  scope === undefined ? [] : [...new Set(scope.split(/[ \t]+/).filter((s) => s.length > 0))]

/**
 * Joins scope tokens into the RFC 6749 §3.3 form, or `undefined` when there are none (so `scope` is omitted).
 *
 * @category constructors
 * @since 0.1.0
 */
export const formatScope = (scopes: Iterable<string>): string | undefined => {
  const list = [...new Set(scopes)]
  return list.length === 0 ? undefined : list.join(" ")
}

/**
 * What the first authorization may consider.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScopeInputs {
  /** The `scope` of the `WWW-Authenticate` challenge that triggered the flow, if any. */
  readonly challengeScope?: string | undefined
  /** The protected resource metadata's `scopes_supported`, if any. */
  readonly resourceScopesSupported?: ReadonlyArray<string> | undefined
  /** The authorization server metadata's `scopes_supported`, if any (only consulted for `offline_access`). */
  readonly authorizationServerScopesSupported?: ReadonlyArray<string> | undefined
  /** Scopes the user asked for explicitly; they replace the strategy's choice (offline_access rule still applies). */
  readonly override?: ReadonlyArray<string> | undefined
}

/**
 * The scope of the first authorization request, or `undefined` to omit the parameter.
 *
 * 1. the challenge's `scope`, when present (authoritative for the current operation);
 * 2. else every scope of the protected resource metadata's `scopes_supported`;
 * 3. else no `scope` at all.
 *
 * `offline_access` is added only when the authorization server lists it in its `scopes_supported`.
 *
 * @see [MCP 2026-07-28 Authorization §Scope Selection Strategy](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization#scope-selection-strategy)
 * @see [MCP 2026-07-28 Authorization §Refresh Tokens](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization#refresh-tokens)
 * @category constructors
 * @since 0.1.0
 */
export const selectInitialScope = (inputs: ScopeInputs): string | undefined => {
  let chosen: ReadonlyArray<string>
  if (inputs.override !== undefined && inputs.override.length > 0) {
    chosen = inputs.override
  } else if (inputs.challengeScope !== undefined && parseScope(inputs.challengeScope).length > 0) {
    // MCP §Scope Selection Strategy 1: use the scope parameter from the initial WWW-Authenticate header
    chosen = parseScope(inputs.challengeScope)
  } else if (inputs.resourceScopesSupported !== undefined) {
    // MCP §Scope Selection Strategy 2: else all scopes in the PRM's scopes_supported (omit when undefined)
    chosen = inputs.resourceScopesSupported
  } else {
    chosen = []
  }
  // MCP §Refresh Tokens: MAY add offline_access when the AS metadata lists it in scopes_supported; only then
  const withOffline =
    inputs.authorizationServerScopesSupported?.includes("offline_access") === true && chosen.length > 0
      ? [...chosen, "offline_access"]
      : chosen
  return formatScope(withOffline)
}

/**
 * The scope of a step-up authorization: the union of the previously requested scopes and the challenge's scopes.
 *
 * @see [MCP 2026-07-28 Authorization §Step-Up Authorization Flow](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization#step-up-authorization-flow)
 * @category constructors
 * @since 0.1.0
 */
export const stepUpScope = (previous: string | undefined, challengeScope: string | undefined): string | undefined =>
  // MCP §Step-Up Authorization Flow 2: the union of the previously requested scope set and the challenge's scopes
  formatScope([...parseScope(previous), ...parseScope(challengeScope)])
