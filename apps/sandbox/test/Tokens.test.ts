import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import type { JWK } from "jose"
import { exportJWK, generateKeyPair, importJWK, SignJWT } from "jose"
import type { Sandbox } from "../src/index.ts"
import { startSandbox } from "../src/index.ts"
import { codeFlow, decodeJwt, initializeBody, type Json, mcpPost } from "./support/Http.ts"

// The tests own the AS signing key, so each forged token is correctly signed and wrong in exactly one respect; a
// re-signed copy of a real token is accepted, which proves the refusals come from the claim under test.
describe("bearer verification (RFC 9068 JWT access tokens)", () => {
  let sandbox: Sandbox
  let key: JWK
  let real: { header: Json; payload: Json }

  const sign = async (payload: Json, header: Json = real.header, signingKey: JWK = key) =>
    new SignJWT(payload).setProtectedHeader({ ...header, alg: "RS256" }).sign(await importJWK(signingKey, "RS256"))

  const refusal = async (token: string): Promise<string> => {
    const res = await mcpPost(sandbox.mcpUrl, initializeBody, { authorization: `Bearer ${token}` })
    assert.strictEqual(res.status, 401)
    await res.text()
    const challenge = res.headers.get("www-authenticate") ?? ""
    assert.match(challenge, /error="invalid_token"/)
    return challenge
  }

  beforeAll(async () => {
    const { privateKey } = await generateKeyPair("RS256", { extractable: true })
    key = { ...(await exportJWK(privateKey)), kid: "test-key", alg: "RS256", use: "sig" }
    sandbox = await startSandbox({ profile: "strict", signingKey: key, rateLimit: false })
    const { token } = await codeFlow(sandbox)
    real = decodeJwt(String(token.body["access_token"]))
  })
  afterAll(() => sandbox.close())

  it("accepts a correctly signed copy of a real token (baseline)", async () => {
    const res = await mcpPost(sandbox.mcpUrl, initializeBody, { authorization: `Bearer ${await sign(real.payload)}` })
    assert.strictEqual(res.status, 200)
    await res.text()
  })

  it("RFC 9068 §4: refuses an expired token", async () => {
    const now = Math.floor(Date.now() / 1000)
    assert.include(await refusal(await sign({ ...real.payload, iat: now - 7200, exp: now - 60 })), "expired")
  })

  it("RFC 9068 §4: refuses a token whose aud is not this resource", async () => {
    assert.include(await refusal(await sign({ ...real.payload, aud: "http://127.0.0.1:1/other" })), `claim \\"aud\\"`)
  })

  it("RFC 9068 §4: refuses a token from another issuer", async () => {
    assert.include(await refusal(await sign({ ...real.payload, iss: "http://127.0.0.1:1" })), `claim \\"iss\\"`)
  })

  it("RFC 9068 §4: refuses a token signed by another key under the same kid", async () => {
    const { privateKey } = await generateKeyPair("RS256", { extractable: true })
    const other = { ...(await exportJWK(privateKey)), kid: "test-key" }
    assert.include(await refusal(await sign(real.payload, real.header, other)), "signature")
  })

  it("RFC 9068 §4: refuses an unsecured token (alg none)", async () => {
    const encode = (value: Json) => Buffer.from(JSON.stringify(value)).toString("base64url")
    const unsigned = `${encode({ alg: "none", typ: "at+jwt" })}.${encode(real.payload)}.`
    assert.include(await refusal(unsigned), "algorithm")
  })

  it("RFC 9068 §4: refuses a token whose typ is not at+jwt", async () => {
    assert.include(await refusal(await sign(real.payload, { ...real.header, typ: "JWT" })), `claim \\"typ\\"`)
  })

  it("RFC 9068 §4: refuses an HS256 token keyed with the public key (algorithm confusion)", async () => {
    const { n } = key
    const hs = await new SignJWT(real.payload)
      .setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: "test-key" })
      .sign(new TextEncoder().encode(String(n)))
    assert.include(await refusal(hs), "algorithm")
  })
})

describe("access token lifetime", () => {
  let sandbox: Sandbox
  beforeAll(async () => {
    sandbox = await startSandbox({ profile: "datadog", accessTokenTtlSeconds: 1, rateLimit: false })
  })
  afterAll(() => sandbox.close())

  it("a real token stops working after accessTokenTtlSeconds", async () => {
    const { token } = await codeFlow(sandbox)
    assert.strictEqual(token.body["expires_in"], 1)
    const headers = { authorization: `Bearer ${String(token.body["access_token"])}` }
    const fresh = await mcpPost(sandbox.mcpUrl, initializeBody, headers)
    assert.strictEqual(fresh.status, 200)
    await fresh.text()
    await new Promise((resolve) => setTimeout(resolve, 2100))
    const stale = await mcpPost(sandbox.mcpUrl, initializeBody, headers)
    assert.strictEqual(stale.status, 401)
    await stale.text()
  })
})
