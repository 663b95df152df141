// The path a person takes, in a real browser: headless Chromium opens the authorization URL our client produced,
// signs in and approves on the sandbox's own HTML pages (oidc-provider interactions), is redirected to OUR loopback
// callback and sees OUR success page; the official MCP client SDK then lists tools through our authorised fetch.
// A screenshot of each page is kept in artifacts/e2e/.
import { assert, describe, it } from "@effect/vitest"
import { McpAuthorization } from "@mcpauth/mcp-auth"
import type { AuthEvent } from "@mcpauth/mcp-auth/AuthEvent"
import { UserAgent } from "@mcpauth/oauth2-authorization"
import { TokenStore } from "@mcpauth/token-store"
import { Cause, Effect, Exit, Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { join } from "node:path"
import type { BrowserContext } from "playwright-core"
import { browserContext } from "./support/Browser.ts"
import {
  artifactsDir,
  count,
  ensureArtifactsDir,
  isAuthorize,
  isRegister,
  isToken,
  sandboxResource,
  tempDir,
  withMcp
} from "./support/Fixtures.ts"

interface Journey {
  readonly authorizationUrl: URL
  readonly consentScope: string
  readonly consentClient: string
  readonly finalUrl: URL
  readonly finalStatus: number | undefined
  readonly heading: string
  readonly pageText: string
  readonly screenshots: ReadonlyArray<string>
}

// What a person does: open the URL, type the test account's credentials, press approve (or deny), read the last page.
const walk = async (
  context: BrowserContext,
  url: string,
  shotPrefix: string,
  choice: "approve" | "deny" = "approve"
): Promise<Journey> => {
  const authorizationUrl = new URL(url)
  const redirectUri = authorizationUrl.searchParams.get("redirect_uri") ?? ""
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  const shots: Array<string> = []
  const shoot = async (name: string) => {
    const path = join(artifactsDir, `${shotPrefix}-${name}.png`)
    await page.screenshot({ path, fullPage: true })
    shots.push(path)
  }
  try {
    await page.goto(url, { waitUntil: "load" })
    await page.locator("#login-form").waitFor()
    await shoot("1-login")
    await page.locator("#login").fill("jane@example.com")
    await page.locator("#password").fill("sandbox")
    await page.locator("#submit").click()
    await page.locator("#approve").waitFor()
    const consentScope = (await page.locator("#scope").textContent()) ?? ""
    const consentClient = (await page.locator("#client-name").textContent()) ?? ""
    await shoot("2-consent")
    // the last redirect goes to our loopback listener, which answers once the code has been exchanged
    const response = page.waitForResponse((r) => r.url().startsWith(redirectUri))
    await page.locator(`#${choice}`).click()
    const finalStatus = (await response).status()
    await page.waitForURL((u) => u.href.startsWith(redirectUri), { waitUntil: "load" })
    await shoot(choice === "approve" ? "3-success" : "3-denied")
    return {
      authorizationUrl,
      consentScope,
      consentClient,
      finalUrl: new URL(page.url()),
      finalStatus,
      heading: (await page.locator("h1").textContent()) ?? "",
      pageText: (await page.locator("body").textContent()) ?? "",
      screenshots: shots
    }
  } finally {
    await page.close()
  }
}

// MCP §Scope Selection Strategy. datadog: no challenge, so the PRM's scopes_supported ["mcp_all"]; strict: the
// challenge's scope="mcp_read", plus offline_access because that authorization server lists it
const profiles = [
  { profile: "datadog", scope: "mcp_all", resourceScope: "mcp_all" },
  { profile: "strict", scope: "mcp_read offline_access", resourceScope: "mcp_read" }
] as const

describe("a person signs in with a real browser (headless Chromium)", () => {
  it.live.each(profiles)(
    "$profile profile, consent pages: login → consent → our loopback callback's success page; then tools are listed",
    ({ profile, resourceScope, scope }) =>
      Effect.scoped(Effect.gen(function*() {
        yield* ensureArtifactsDir
        const sandbox = yield* sandboxResource({ profile, consent: "page", rateLimit: false })
        const dir = yield* tempDir("browser")
        const context = yield* browserContext
        const events: Array<AuthEvent> = []
        // the browser runs detached from the client (as a real one would); its outcome is collected here
        let journey: Promise<Journey> | undefined
        const userAgent = UserAgent.browser({
          open: (url) => {
            journey = walk(context, url, `browser-${profile}`)
            return journey
          }
        })
        const layer = McpAuthorization.layerDefault({
          serverUrl: sandbox.mcpUrl,
          userAgent,
          client: { name: "mcpauth e2e (browser)" },
          allowLoopbackHttp: true,
          callbackTimeout: "30 seconds",
          store: TokenStore.layerFile({ directory: dir }),
          events: (e) => events.push(e)
        }).pipe(Layer.provide(FetchHttpClient.layer))

        const listed = yield* Effect.exit(withMcp((c) => c.listTools()).pipe(Effect.provide(layer)))
        assert.isDefined(journey, "the browser user agent was never asked to open a URL")
        // a failed browser step is reported as itself (not only as the client's callback timeout)
        const j = yield* Effect.promise(() => journey ?? Promise.reject(new Error("no journey")))
        const tools = yield* listed

        // the URL the browser opened is the sandbox's authorization endpoint, with PKCE S256, state and resource
        assert.strictEqual(j.authorizationUrl.origin, sandbox.authorizationServerOrigin)
        assert.strictEqual(j.authorizationUrl.searchParams.get("code_challenge_method"), "S256")
        assert.isNotNull(j.authorizationUrl.searchParams.get("state"))
        // RFC 8707: the resource is the PRM's, as received (datadog: the bare origin; strict: the MCP URL)
        assert.strictEqual(j.authorizationUrl.searchParams.get("resource"), sandbox.resource)
        assert.strictEqual(j.authorizationUrl.searchParams.get("scope"), scope)
        // the sandbox's pages were really rendered and used (the consent page lists the resource's scopes)
        assert.strictEqual(j.consentClient, "mcpauth e2e (browser)")
        assert.strictEqual(j.consentScope.trim(), resourceScope)
        // RFC 8252 §7.3: the browser ended on our loopback redirect URI, with code, state and iss (RFC 9207)
        const redirectUri = new URL(j.authorizationUrl.searchParams.get("redirect_uri") ?? "")
        assert.strictEqual(redirectUri.hostname, "127.0.0.1")
        assert.strictEqual(j.finalUrl.origin, redirectUri.origin)
        assert.strictEqual(j.finalUrl.pathname, redirectUri.pathname)
        assert.isNotNull(j.finalUrl.searchParams.get("code"))
        assert.strictEqual(j.finalUrl.searchParams.get("state"), j.authorizationUrl.searchParams.get("state"))
        assert.strictEqual(j.finalUrl.searchParams.get("iss"), sandbox.issuer)
        // our success page, answered after the code was exchanged
        assert.strictEqual(j.finalStatus, 200)
        assert.strictEqual(j.heading, "Signed in")
        assert.include(j.pageText, "You can close this window")
        assert.lengthOf(j.screenshots, 3)

        // the client lists tools with the token the browser sign-in produced
        assert.include(tools.tools.map((t) => t.name), "search_datadog_logs")
        assert.strictEqual(count(sandbox, isRegister), 1)
        assert.strictEqual(count(sandbox, isToken), 1)
        assert.isAtLeast(count(sandbox, isAuthorize), 1)
        assert.isTrue(events.some((e) => e.step === "token"))
      })),
    60_000
  )

  it.live(
    "RFC 6749 §4.1.2.1: the person denies on the consent page: our callback shows the failure, the client gets access_denied",
    () =>
      Effect.scoped(Effect.gen(function*() {
        yield* ensureArtifactsDir
        const sandbox = yield* sandboxResource({ profile: "datadog", consent: "page", rateLimit: false })
        const dir = yield* tempDir("browser-deny")
        const context = yield* browserContext
        let journey: Promise<Journey> | undefined
        const userAgent = UserAgent.browser({
          open: (url) => {
            journey = walk(context, url, "browser-deny", "deny")
            return journey
          }
        })
        const layer = McpAuthorization.layerDefault({
          serverUrl: sandbox.mcpUrl,
          userAgent,
          client: { name: "mcpauth e2e (browser)" },
          allowLoopbackHttp: true,
          callbackTimeout: "30 seconds",
          store: TokenStore.layerFile({ directory: dir })
        }).pipe(Layer.provide(FetchHttpClient.layer))

        const listed = yield* Effect.exit(withMcp((c) => c.listTools()).pipe(Effect.provide(layer)))
        const j = yield* Effect.promise(() => journey ?? Promise.reject(new Error("no journey")))
        // the browser ended on our loopback callback with error=access_denied and saw our failure page
        assert.strictEqual(j.finalUrl.searchParams.get("error"), "access_denied")
        assert.isNull(j.finalUrl.searchParams.get("code"))
        assert.strictEqual(j.finalStatus, 400)
        assert.strictEqual(j.heading, "Sign-in failed")
        assert.include(j.pageText, "access_denied")
        // the client failed with that reason, and no token was ever requested
        assert.isTrue(Exit.isFailure(listed))
        assert.include(Exit.isFailure(listed) ? String(Cause.squash(listed.cause)) : "", "access_denied")
        assert.strictEqual(count(sandbox, isToken), 0)
      })),
    60_000
  )
})
