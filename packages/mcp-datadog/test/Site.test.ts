import { assert, describe, it } from "@effect/vitest"
import { Site } from "@mcpauth/mcp-datadog"
import { Effect } from "effect"
import { reasonOf } from "./support/Errors.ts"

describe("Site.resolve", () => {
  it.effect.each(
    [
      ["datadoghq.com", "us1", "https://mcp.datadoghq.com/v1/mcp"],
      ["us3.datadoghq.com", "us3", "https://mcp.us3.datadoghq.com/v1/mcp"],
      ["us5.datadoghq.com", "us5", "https://mcp.us5.datadoghq.com/v1/mcp"],
      ["datadoghq.eu", "eu1", "https://mcp.datadoghq.eu/v1/mcp"],
      ["ap1.datadoghq.com", "ap1", "https://mcp.ap1.datadoghq.com/v1/mcp"],
      ["ap2.datadoghq.com", "ap2", "https://mcp.ap2.datadoghq.com/v1/mcp"]
    ] as const
  )("%s (%s) -> %s", ([domain, id, url]) =>
    Effect.gen(function*() {
      const byDomain = yield* Site.resolve(domain)
      const byId = yield* Site.resolve(id)
      const shouting = yield* Site.resolve(` ${id.toUpperCase()} `)
      assert.strictEqual(byDomain.mcpUrl, url)
      assert.strictEqual(byDomain.id, id)
      assert.deepStrictEqual(byId, byDomain)
      assert.deepStrictEqual(shouting, byDomain)
    }))

  it.effect("accepts the app URL of a site", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* Site.resolve("https://app.datadoghq.eu/")).id, "eu1")
      assert.strictEqual((yield* Site.resolve("https://us5.datadoghq.com")).id, "us5")
    }))

  it.effect("the default site is US1", () =>
    Effect.sync(() => {
      assert.strictEqual(Site.DEFAULT_SITE.domain, "datadoghq.com")
      assert.strictEqual(Site.SITES.length, 6)
    }))

  it.effect.each(["ddog-gov.com", "app.ddog-gov.com", "us2.ddog-gov.com", "gov", "US1-FED"])(
    "refuses the government site %s, saying why",
    (name) =>
      Effect.gen(function*() {
        const reason = reasonOf(yield* Effect.exit(Site.resolve(name)))
        assert.strictEqual(reason._tag, "UnsupportedSite")
        assert.include(reason.message, "DATADOG_SITE")
        assert.include(reason.message, "not available on the government sites")
      })
  )

  it.effect.each(["datadoghq.co", "uk9", "", "mcp.datadoghq.com"])(
    "an unknown site %j fails listing the valid ones",
    (name) =>
      Effect.gen(function*() {
        const reason = reasonOf(yield* Effect.exit(Site.resolve(name, "site option")))
        assert.strictEqual(reason._tag, "UnknownSite")
        if (reason._tag !== "UnknownSite") return
        assert.deepStrictEqual(reason.valid, Site.validNames)
        assert.strictEqual(reason.variable, "site option")
        for (const s of Site.SITES) assert.include(reason.message, s.domain)
        assert.include(reason.message, "DATADOG_MCP_URL")
      })
  )
})
