/**
 * What a user would configure for each scenario's server, exactly like the official SDK's everything-client: whether
 * this is a machine-to-machine client, whether pre-registered credentials are used, whether the server is a legacy
 * (2025-03-26) one. Nothing here decides anything about authorization; the packages do.
 */

/**
 * The user's configuration for one scenario.
 */
export interface Profile {
  /** Use the pre-registered client id / secret of `MCP_CONFORMANCE_CONTEXT`. */
  readonly preregistered: boolean
  /** A headless machine-to-machine client (OAuth client credentials grant), from `MCP_CONFORMANCE_CONTEXT`. */
  readonly machineToMachine: boolean
  /** The user knows the server speaks the 2025-03-26 protocol (enables its discovery fallbacks). */
  readonly legacy20250326: boolean
  /**
   * The user hosts a client ID metadata document for this server. Offered only where the scenario is about it: the
   * suite tries to fetch a configured document URL when some scenarios end, and `conformance-test.local` is not a
   * loopback name, so offering it elsewhere would make the run look a name up outside 127.0.0.1.
   */
  readonly clientIdMetadataDocument: boolean
}

const base: Profile = {
  preregistered: false,
  machineToMachine: false,
  legacy20250326: false,
  clientIdMetadataDocument: false
}

/**
 * The configuration for a scenario name.
 */
export const profileFor = (scenario: string): Profile => {
  switch (scenario) {
    case "auth/pre-registration":
      return { ...base, preregistered: true }
    case "auth/basic-cimd":
      return { ...base, clientIdMetadataDocument: true }
    case "auth/client-credentials-basic":
    case "auth/client-credentials-jwt":
      return { ...base, machineToMachine: true }
    case "auth/2025-03-26-oauth-metadata-backcompat":
    case "auth/2025-03-26-oauth-endpoint-fallback":
      return { ...base, legacy20250326: true }
    default:
      return base
  }
}
