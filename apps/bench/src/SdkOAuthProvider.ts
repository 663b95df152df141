/**
 * The baseline: the official MCP SDK's own OAuth client (`OAuthClientProvider` + `auth()` inside the transport),
 * implemented as its documentation asks, with in-memory storage (every optional storage hook implemented, so the SDK
 * can skip discovery when it knows the answer) and the same programmatic consent hand-off as ours: the
 * authorization URL is fetched without following redirects, and the sandbox's one 303 is the redirect URI.
 *
 * The state can be exported and seeded, so that a "new process" starts with what an earlier one stored.
 */
import type {
  OAuthClientInformationContext,
  OAuthClientMetadata,
  OAuthClientProvider,
  OAuthDiscoveryState,
  StoredOAuthClientInformation,
  StoredOAuthTokens
} from "@modelcontextprotocol/client"
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from "@modelcontextprotocol/client"
import { randomBytes } from "node:crypto"

export interface SdkState {
  readonly client?: StoredOAuthClientInformation | undefined
  readonly tokens?: StoredOAuthTokens | undefined
  readonly discovery?: OAuthDiscoveryState | undefined
}

// A loopback redirect URI: nothing needs to listen, the hand-off reads the redirect's Location itself
const REDIRECT_URI = "http://127.0.0.1:48123/callback"

export class SdkOAuthProvider implements OAuthClientProvider {
  private stored: {
    client?: StoredOAuthClientInformation | undefined
    tokens?: StoredOAuthTokens | undefined
    discovery?: OAuthDiscoveryState | undefined
    verifier?: string | undefined
    state?: string | undefined
  }
  /** The redirect URL of the last hand-off, waiting for `finishAuth`. */
  callback: URL | undefined = undefined
  /** How many times the user would have been sent to the browser. */
  interactions = 0

  constructor(seed: SdkState = {}) {
    this.stored = { client: seed.client, tokens: seed.tokens, discovery: seed.discovery }
  }

  get redirectUrl(): string {
    return REDIRECT_URI
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: "mcpauth bench (SDK baseline)",
      redirect_uris: [REDIRECT_URI],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none"
    }
  }

  state(): string {
    this.stored.state = randomBytes(16).toString("base64url")
    return this.stored.state
  }

  expectedState(): string | undefined {
    return this.stored.state
  }

  clientInformation(_ctx?: OAuthClientInformationContext): StoredOAuthClientInformation | undefined {
    return this.stored.client
  }

  saveClientInformation(info: StoredOAuthClientInformation): void {
    this.stored.client = info
  }

  tokens(_ctx?: OAuthClientInformationContext): StoredOAuthTokens | undefined {
    return this.stored.tokens
  }

  saveTokens(tokens: StoredOAuthTokens): void {
    this.stored.tokens = tokens
  }

  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    this.interactions++
    const res = await fetch(authorizationUrl, { redirect: "manual" })
    const location = res.headers.get("location")
    if (location === null) throw new Error(`authorize answered ${res.status} without a Location`)
    this.callback = new URL(location, authorizationUrl)
  }

  saveCodeVerifier(codeVerifier: string): void {
    this.stored.verifier = codeVerifier
  }

  codeVerifier(): string {
    if (this.stored.verifier === undefined) throw new Error("no code verifier saved")
    return this.stored.verifier
  }

  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.stored.discovery = state
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.stored.discovery
  }

  invalidateCredentials(scope: "all" | "client" | "tokens" | "verifier" | "discovery"): void {
    if (scope === "all" || scope === "client") this.stored.client = undefined
    if (scope === "all" || scope === "tokens") this.stored.tokens = undefined
    if (scope === "all" || scope === "verifier") this.stored.verifier = undefined
    if (scope === "all" || scope === "discovery") this.stored.discovery = undefined
  }

  /**
   * Registers the client the way an application with a known registration endpoint pre-registers it: the same
   * metadata the SDK would send, without `scope`. The SDK's own dynamic registration always adds the selected scope
   * to the client metadata (`registerClient`), and oidc-provider refuses resource scopes there
   * (`invalid_client_metadata`), so the SDK cannot register itself with the sandbox.
   */
  async preregister(registrationEndpoint: string): Promise<void> {
    if (this.stored.client !== undefined) return
    const res = await fetch(registrationEndpoint, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(this.clientMetadata)
    })
    if (res.status !== 201) throw new Error(`registration answered ${res.status}: ${await res.text()}`)
    this.stored.client = (await res.json()) as StoredOAuthClientInformation
  }

  snapshot(): SdkState {
    return { client: this.stored.client, tokens: this.stored.tokens, discovery: this.stored.discovery }
  }
}

const newClient = () => new Client({ name: "mcpauth-bench-sdk", version: "0.0.0" })

/**
 * Connects the SDK client with its own OAuth: on `UnauthorizedError` after the hand-off, checks `state`, calls
 * `finishAuth` and connects again with a new transport (the SDK's documented interactive pattern).
 */
export const connectSdkOAuth = async (url: string, provider: SdkOAuthProvider): Promise<Client> => {
  const first = newClient()
  const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider })
  try {
    await first.connect(transport)
    return first
  } catch (error) {
    const callback = provider.callback
    if (!(error instanceof UnauthorizedError) || callback === undefined) throw error
    provider.callback = undefined
    await first.close().catch(() => {})
    // The SDK does not check `state`: the caller must (RFC 6749 §10.12)
    if (callback.searchParams.get("state") !== provider.expectedState()) {
      throw new Error("state mismatch", { cause: error })
    }
    await transport.finishAuth(callback.searchParams)
    const second = newClient()
    await second.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: provider }))
    return second
  }
}

/** The SDK with a static `Authorization` header: the floor for any authorised client. */
export const connectSdkStatic = async (url: string, accessToken: string): Promise<Client> => {
  const client = newClient()
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { authorization: `Bearer ${accessToken}` } }
    })
  )
  return client
}
