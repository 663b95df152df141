import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import type { Sandbox } from "../src/index.ts"
import { startSandbox } from "../src/index.ts"
import {
  authorizeUrl,
  followToRedirect,
  Jar,
  type Json,
  metadata,
  pkce,
  redirectUri,
  registerPublic,
  tokenRequest
} from "./support/Http.ts"

// The HTML mode a person (or headless Chromium) drives: stable ids #login, #password, button[type=submit], #approve.
describe("consent: page", () => {
  let sandbox: Sandbox
  let as: Json
  beforeAll(async () => {
    sandbox = await startSandbox({ profile: "datadog", consent: "page" })
    as = await metadata(sandbox)
  })
  afterAll(() => sandbox.close())

  const start = async () => {
    const client = await registerPublic(as, { client_name: "Page <Test>" })
    const { verifier, challenge } = pkce()
    const jar = new Jar()
    const { last, redirect } = await followToRedirect(
      authorizeUrl(as, {
        response_type: "code",
        client_id: String(client["client_id"]),
        redirect_uri: redirectUri,
        code_challenge: challenge,
        code_challenge_method: "S256",
        state: "page-state",
        resource: sandbox.resource
      }),
      jar
    )
    assert.isUndefined(redirect)
    return { client, verifier, jar, last, page: await last.text() }
  }

  const formAction = (html: string, id: string): string => {
    const match = new RegExp(`<form id="${id}" method="post" action="([^"]+)"`).exec(html)
    assert.isNotNull(match)
    return `${sandbox.authorizationServerOrigin}${(match as RegExpExecArray)[1]}`
  }

  it("shows a login form with stable ids and escapes the client name", async () => {
    const { last, page } = await start()
    assert.strictEqual(last.status, 200)
    assert.include(page, `id="login" name="login"`)
    assert.include(page, `id="password" name="password" type="password"`)
    assert.include(page, `<button id="submit" type="submit">`)
    assert.include(page, "Page &lt;Test&gt;")
    assert.notInclude(page, "Page <Test>")
  })

  it("refuses a wrong password with #error, then logs in, shows #approve and redirects back with a code", async () => {
    const { client, verifier, jar, page } = await start()
    const loginUrl = formAction(page, "login-form")
    const wrong = await followToRedirect(loginUrl, jar, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ login: "jane@example.com", password: "wrong" }).toString()
    })
    assert.strictEqual(wrong.last.status, 401)
    assert.include(await wrong.last.text(), `id="error"`)

    const login = await followToRedirect(loginUrl, jar, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ login: "jane@example.com", password: "sandbox" }).toString()
    })
    assert.isUndefined(login.redirect)
    const consent = await login.last.text()
    assert.include(consent, `<button id="approve" type="submit">`)
    assert.include(consent, sandbox.resource)

    const approved = await followToRedirect(formAction(consent, "consent-form"), jar, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: ""
    })
    const code = approved.redirect?.searchParams.get("code")
    assert.isString(code)
    assert.strictEqual(approved.redirect?.searchParams.get("state"), "page-state")
    const token = await tokenRequest(as, {
      grant_type: "authorization_code",
      code: code as string,
      redirect_uri: redirectUri,
      client_id: String(client["client_id"]),
      code_verifier: verifier
    })
    assert.strictEqual(token.status, 200)
  })

  it("RFC 6749 §4.1.2.1: #deny redirects back with access_denied", async () => {
    const { jar, page } = await start()
    const login = await followToRedirect(formAction(page, "login-form"), jar, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ login: "sam@example.com", password: "sandbox" }).toString()
    })
    const consent = await login.last.text()
    const denied = await followToRedirect(formAction(consent, "deny-form"), jar, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: ""
    })
    assert.strictEqual(denied.redirect?.searchParams.get("error"), "access_denied")
    assert.strictEqual(denied.redirect?.searchParams.get("state"), "page-state")
  })
})
