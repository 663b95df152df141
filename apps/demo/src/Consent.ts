// The sandbox's automatic consent as a programmatic user agent: it prints the authorization URL a browser would open,
// follows the sandbox's single redirect (its test user signs in and approves), and hands the redirect URL back.
import { UserAgent } from "@mcpauth/oauth2-authorization"
import * as R from "./Render.ts"

export const automaticConsent = UserAgent.programmatic(async (url) => {
  R.info(R.bold("Authorization URL") + " (a browser would open this):")
  R.info(R.dim(`${url.origin}${url.pathname}`))
  for (const [k, v] of url.searchParams) {
    const shown = k === "state" ? `${v.slice(0, 6)}… (${v.length} chars, CSPRNG)` : v
    R.info(`  ${R.cyan(k.padEnd(22))} ${shown}`)
  }
  const response = await R.waiting(
    "automatic consent (the sandbox signs in its test user and approves)",
    () => fetch(url, { redirect: "manual" })
  )
  const location = response.headers.get("location")
  if (location === null) throw new Error(`the authorization endpoint answered ${response.status} without a redirect`)
  const redirect = new URL(location, url)
  const shown = new URL(redirect)
  if (shown.searchParams.has("code")) shown.searchParams.set("code", "[redacted]")
  const state = shown.searchParams.get("state")
  if (state !== null) shown.searchParams.set("state", `${state.slice(0, 6)}…`)
  R.info(`redirected to ${R.dim(shown.href)}`)
  return redirect
})
