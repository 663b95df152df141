import { assert, describe, it } from "@effect/vitest"
import { DatadogConfig, DotEnv } from "@mcpauth/mcp-datadog"
import { Effect, Logger, Redacted } from "effect"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { reasonOf } from "./support/Errors.ts"

const load = (env: Record<string, string>, options: Omit<DatadogConfig.LoadOptions, "env"> = {}) =>
  DatadogConfig.load({ dotEnvPath: false, ...options, env })

/** A temporary .env file holding `text`, removed with the scope. */
const dotEnv = (text: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const dir = await mkdtemp(join(tmpdir(), "mcp-datadog-config-"))
      await writeFile(join(dir, ".env"), text)
      return dir
    }),
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
  ).pipe(Effect.map((dir) => join(dir, ".env")))

/** Runs an effect and returns the log lines it wrote. */
const captureLogs = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const logger = Logger.make<unknown, void>(({ message }) => {
      lines.push((Array.isArray(message) ? message : [message]).map(String).join(" "))
    })
    const exit = yield* Effect.exit(effect.pipe(Effect.provide(Logger.layer([logger]))))
    return { exit, lines }
  })

describe("defaults", () => {
  it.effect("no configuration: US1, OAuth, the default redirect URI, no toolsets", () =>
    Effect.gen(function*() {
      const config = yield* load({})
      assert.strictEqual(config.site.id, "us1")
      assert.strictEqual(config.mcpUrl.href, "https://mcp.datadoghq.com/v1/mcp")
      assert.isFalse(config.mcpUrlOverridden)
      assert.strictEqual(config.redirectUri, "http://localhost:8080/callback")
      assert.deepStrictEqual(config.auth, { _tag: "OAuth" })
      assert.deepStrictEqual(config.toolsets, [])
      assert.deepStrictEqual(config.omitTools, [])
      assert.isUndefined(config.clientId)
      assert.isUndefined(config.clientSecret)
    }))
})

describe("from the environment", () => {
  it.effect("every variable", () =>
    Effect.gen(function*() {
      const config = yield* load({
        DATADOG_SITE: "eu1",
        DATADOG_MCP_TOOLSETS: "core, alerting,,core",
        DATADOG_MCP_OMIT_TOOLS: "search_datadog_docs",
        DD_API_KEY: "api-key-1",
        DD_APPLICATION_KEY: "app-key-1",
        DATADOG_CLIENT_ID: "client-1",
        DATADOG_CLIENT_SECRET: "secret-1",
        DATADOG_REDIRECT_URI: "http://127.0.0.1:19876/callback"
      })
      assert.strictEqual(config.site.id, "eu1")
      assert.strictEqual(
        config.mcpUrl.href,
        "https://mcp.datadoghq.eu/v1/mcp?toolsets=core,alerting&omit_tools=search_datadog_docs"
      )
      assert.deepStrictEqual(config.toolsets, ["core", "alerting"])
      assert.strictEqual(config.redirectUri, "http://127.0.0.1:19876/callback")
      assert.strictEqual(config.clientId, "client-1")
      assert.strictEqual(config.clientSecret && Redacted.value(config.clientSecret), "secret-1")
      assert.strictEqual(config.auth._tag, "ApiKey")
      if (config.auth._tag === "ApiKey") {
        assert.strictEqual(Redacted.value(config.auth.apiKey), "api-key-1")
        assert.strictEqual(Redacted.value(config.auth.appKey), "app-key-1")
      }
    }))

  it.effect("DATADOG_ACCESS_TOKEN selects access-token mode", () =>
    Effect.gen(function*() {
      const config = yield* load({ DATADOG_ACCESS_TOKEN: "pat-123" })
      assert.strictEqual(config.auth._tag, "AccessToken")
      if (config.auth._tag === "AccessToken") assert.strictEqual(Redacted.value(config.auth.accessToken), "pat-123")
    }))

  it.effect("DATADOG_MCP_URL overrides the site's URL (loopback http allowed) and keeps its own query", () =>
    Effect.gen(function*() {
      const config = yield* load({
        DATADOG_SITE: "us5",
        DATADOG_MCP_URL: "http://127.0.0.1:4000/v1/mcp?x=1",
        DATADOG_MCP_TOOLSETS: "core"
      })
      assert.isTrue(config.mcpUrlOverridden)
      assert.strictEqual(config.mcpUrl.href, "http://127.0.0.1:4000/v1/mcp?x=1&toolsets=core")
      assert.strictEqual(config.site.id, "us5")
      const https = yield* load({ DATADOG_MCP_URL: "https://mcp.example.test/v1/mcp" })
      assert.strictEqual(https.mcpUrl.href, "https://mcp.example.test/v1/mcp")
    }))

  it.effect("an unknown toolset is a warning naming the variable, and is still sent", () =>
    Effect.gen(function*() {
      const { exit, lines } = yield* captureLogs(load({ DATADOG_MCP_TOOLSETS: "core,made-up-set" }))
      assert.isTrue(exit._tag === "Success")
      if (exit._tag === "Success") assert.include(exit.value.mcpUrl.search, "toolsets=core,made-up-set")
      assert.isTrue(lines.some((l) => l.includes("DATADOG_MCP_TOOLSETS") && l.includes("made-up-set")))
      const known = yield* captureLogs(load({ DATADOG_MCP_TOOLSETS: "all,apm,core" }))
      assert.deepStrictEqual(known.lines, [])
    }))
})

describe("precedence", () => {
  it.effect("the .env file is read; the real environment wins over it; explicit options win over both", () =>
    Effect.gen(function*() {
      const path = yield* dotEnv(
        [
          "DATADOG_SITE=datadoghq.eu",
          "DATADOG_CLIENT_ID=from-file",
          "export DATADOG_MCP_TOOLSETS=\"core,dbm\"",
          "DATADOG_REDIRECT_URI=http://localhost:9999/cb # the file's"
        ].join("\n")
      )
      const fileOnly = yield* DatadogConfig.load({ env: {}, dotEnvPath: path })
      assert.strictEqual(fileOnly.site.id, "eu1")
      assert.strictEqual(fileOnly.clientId, "from-file")
      assert.deepStrictEqual(fileOnly.toolsets, ["core", "dbm"])
      assert.strictEqual(fileOnly.redirectUri, "http://localhost:9999/cb")

      const envWins = yield* DatadogConfig.load({ env: { DATADOG_SITE: "ap1" }, dotEnvPath: path })
      assert.strictEqual(envWins.site.id, "ap1")
      assert.strictEqual(envWins.clientId, "from-file")

      const optionsWin = yield* DatadogConfig.load({
        env: { DATADOG_SITE: "ap1" },
        dotEnvPath: path,
        overrides: { site: "us3", toolsets: ["core"], apiKey: Redacted.make("k"), appKey: "a" }
      })
      assert.strictEqual(optionsWin.site.id, "us3")
      assert.deepStrictEqual(optionsWin.toolsets, ["core"])
      assert.strictEqual(optionsWin.auth._tag, "ApiKey")
    }).pipe(Effect.scoped))

  it.effect("a malformed .env fails naming the file and line", () =>
    Effect.gen(function*() {
      const path = yield* dotEnv("DATADOG_SITE=eu1\nDD_API_KEY\n")
      const reason = reasonOf(yield* Effect.exit(DatadogConfig.load({ env: {}, dotEnvPath: path })))
      assert.strictEqual(reason._tag, "DotEnvSyntax")
      assert.include(reason.message, `${path}:2`)
    }).pipe(Effect.scoped))
})

describe("invalid values name the variable", () => {
  const cases: ReadonlyArray<{ name: string; env: Record<string, string>; variable: string; tag: string }> = [
    { name: "unknown site", env: { DATADOG_SITE: "datadoghq.nope" }, variable: "DATADOG_SITE", tag: "UnknownSite" },
    {
      name: "government site",
      env: { DATADOG_SITE: "ddog-gov.com" },
      variable: "DATADOG_SITE",
      tag: "UnsupportedSite"
    },
    {
      name: "redirect URI on a non-loopback http host",
      env: { DATADOG_REDIRECT_URI: "http://example.com/callback" },
      variable: "DATADOG_REDIRECT_URI",
      tag: "InvalidConfig"
    },
    {
      name: "relative redirect URI",
      env: { DATADOG_REDIRECT_URI: "/callback" },
      variable: "DATADOG_REDIRECT_URI",
      tag: "InvalidConfig"
    },
    {
      name: "redirect URI with a fragment",
      env: { DATADOG_REDIRECT_URI: "https://example.com/cb#x" },
      variable: "DATADOG_REDIRECT_URI",
      tag: "InvalidConfig"
    },
    {
      name: "redirect URI with another scheme",
      env: { DATADOG_REDIRECT_URI: "myapp://callback" },
      variable: "DATADOG_REDIRECT_URI",
      tag: "InvalidConfig"
    },
    {
      name: "client secret without client id",
      env: { DATADOG_CLIENT_SECRET: "s3cret-value" },
      variable: "DATADOG_CLIENT_SECRET",
      tag: "InvalidConfig"
    },
    {
      name: "API key without application key",
      env: { DD_API_KEY: "s3cret-value" },
      variable: "DD_APPLICATION_KEY",
      tag: "InvalidConfig"
    },
    {
      name: "application key without API key",
      env: { DD_APPLICATION_KEY: "s3cret-value" },
      variable: "DD_API_KEY",
      tag: "InvalidConfig"
    },
    {
      name: "API keys and an access token together",
      env: { DD_API_KEY: "s3cret-value", DD_APPLICATION_KEY: "s3cret-value", DATADOG_ACCESS_TOKEN: "s3cret-value" },
      variable: "DATADOG_ACCESS_TOKEN",
      tag: "InvalidConfig"
    },
    {
      name: "a key with a line break",
      env: { DD_API_KEY: "s3cret-value\nX-Evil: 1", DD_APPLICATION_KEY: "ok" },
      variable: "DD_API_KEY",
      tag: "InvalidConfig"
    },
    {
      name: "a token with a space",
      env: { DATADOG_ACCESS_TOKEN: "s3cret value" },
      variable: "DATADOG_ACCESS_TOKEN",
      tag: "InvalidConfig"
    },
    {
      name: "MCP URL not a URL",
      env: { DATADOG_MCP_URL: "not a url" },
      variable: "DATADOG_MCP_URL",
      tag: "InvalidConfig"
    },
    {
      name: "MCP URL with another scheme",
      env: { DATADOG_MCP_URL: "ftp://127.0.0.1/v1/mcp" },
      variable: "DATADOG_MCP_URL",
      tag: "InvalidConfig"
    },
    {
      name: "MCP URL on plain http off loopback",
      env: { DATADOG_MCP_URL: "http://mcp.example.com/v1/mcp" },
      variable: "DATADOG_MCP_URL",
      tag: "InvalidConfig"
    },
    {
      name: "MCP URL with credentials",
      env: { DATADOG_MCP_URL: "https://user:s3cret-value@mcp.example.com/v1/mcp" },
      variable: "DATADOG_MCP_URL",
      tag: "InvalidConfig"
    },
    {
      name: "MCP URL with a fragment",
      env: { DATADOG_MCP_URL: "https://mcp.example.com/v1/mcp#frag" },
      variable: "DATADOG_MCP_URL",
      tag: "InvalidConfig"
    },
    {
      name: "a toolset name with a space",
      env: { DATADOG_MCP_TOOLSETS: "core,bad name" },
      variable: "DATADOG_MCP_TOOLSETS",
      tag: "InvalidConfig"
    },
    {
      name: "an omitted tool name with a slash",
      env: { DATADOG_MCP_OMIT_TOOLS: "a/b" },
      variable: "DATADOG_MCP_OMIT_TOOLS",
      tag: "InvalidConfig"
    }
  ]
  it.effect.each(cases)("$name -> $tag naming $variable", ({ env, tag, variable }) =>
    Effect.gen(function*() {
      const reason = reasonOf(yield* Effect.exit(load(env)))
      assert.strictEqual(reason._tag, tag)
      assert.isTrue(reason.message.startsWith(`${variable}:`), reason.message)
      // no secret ever appears in a message
      assert.notInclude(reason.message, "s3cret")
    }))

  it.effect("**Security-weakening** allowInsecureHttp accepts http off loopback, and logs it", () =>
    Effect.gen(function*() {
      const { exit, lines } = yield* captureLogs(
        load({ DATADOG_MCP_URL: "http://mcp.example.com/v1/mcp" }, { allowInsecureHttp: true })
      )
      assert.strictEqual(exit._tag, "Success")
      assert.isTrue(lines.some((l) => l.includes("allowInsecureHttp") && l.includes("http://mcp.example.com")))
    }))
})

describe("secrets", () => {
  it.effect("are Redacted: printing or serialising the config never shows them", () =>
    Effect.gen(function*() {
      const config = yield* load({
        DD_API_KEY: "api-s3cret",
        DD_APPLICATION_KEY: "app-s3cret",
        DATADOG_CLIENT_ID: "id",
        DATADOG_CLIENT_SECRET: "client-s3cret"
      })
      const shown = `${JSON.stringify(config)} ${String(config.clientSecret)} ${
        config.auth._tag === "ApiKey" ? String(config.auth.apiKey) : ""
      }`
      assert.notInclude(shown, "s3cret")
    }))
})

describe("errors name the input actually used", () => {
  it.effect("an option is named beside its variable; a .env value names the file; the environment the variable", () =>
    Effect.gen(function*() {
      const option = reasonOf(yield* Effect.exit(load({}, { overrides: { site: "bogus" } })))
      assert.strictEqual(option._tag, "UnknownSite")
      assert.match(option.message, /^DATADOG_SITE \(from the site option\): unknown Datadog site "bogus"/)
      const url = reasonOf(yield* Effect.exit(load({}, { overrides: { mcpUrl: "ftp://x" } })))
      assert.match(url.message, /^DATADOG_MCP_URL \(from the mcpUrl option\): /)
      const path = yield* dotEnv("DATADOG_SITE=ddog-gov.com\n")
      const file = reasonOf(yield* Effect.exit(load({}, { dotEnvPath: path })))
      assert.strictEqual(file._tag, "UnsupportedSite")
      assert.include(file.message, `DATADOG_SITE (from ${path}): `)
      const env = reasonOf(yield* Effect.exit(load({ DATADOG_SITE: "bogus" }, { dotEnvPath: path })))
      assert.match(env.message, /^DATADOG_SITE: unknown Datadog site "bogus"/)
      if (env._tag === "UnknownSite") assert.isUndefined(env.source)
    }).pipe(Effect.scoped))
})

describe("echoed values are escaped and bounded", () => {
  const messageOf = (env: Record<string, string>) =>
    Effect.exit(load(env)).pipe(Effect.map((exit) => reasonOf(exit).message))

  it.effect("a 5 MB value is cut to 120 characters, its length named, and echoed once", () =>
    Effect.gen(function*() {
      const huge = `${"a".repeat(5 * 1024 * 1024)}!`
      const message = yield* messageOf({ DATADOG_MCP_OMIT_TOOLS: huge })
      assert.isBelow(message.length, 400, message.slice(0, 400))
      assert.include(message, `"${"a".repeat(120)}"… (${huge.length} chars)`)
      assert.strictEqual(message.split("(5242881 chars)").length, 2, "echoed once")
      const list = yield* messageOf({ DATADOG_MCP_TOOLSETS: `core,${"b".repeat(200)}?` })
      assert.isBelow(list.length, 400, list)
      assert.include(list, "(201 chars)")
    }))

  it.effect("control characters (ESC, NUL, line breaks) and bidi overrides are escaped JSON-style, never raw", () =>
    Effect.gen(function*() {
      const esc = yield* messageOf({ DATADOG_SITE: "\u001b[31mRED" })
      assert.include(esc, String.raw`"\u001b[31mRED"`)
      assert.notInclude(esc, "\u001b")
      const nul = yield* messageOf({ DATADOG_MCP_URL: "http://127.0.0.1/v1\u0000mcp#x\ny" })
      assert.include(nul, String.raw`\u0000mcp#x\ny`)
      assert.notInclude(nul, "\u0000")
      assert.notInclude(nul, "\n")
      const bidi = yield* messageOf({ DATADOG_SITE: "\u202egov.\u009b31m" })
      assert.include(bidi, String.raw`\u202egov.\u009b31m`)
      assert.notMatch(bidi, /[\u202e\u009b]/)
    }))
})

describe("MCPAUTH_HOME (the OAuth token store directory)", () => {
  it.effect("is read from the overrides, the environment and .env, in that order; unset or blank = the store's default", () =>
    Effect.gen(function*() {
      assert.isUndefined((yield* load({})).storeDirectory)
      assert.isUndefined((yield* load({ MCPAUTH_HOME: "  " })).storeDirectory)
      assert.strictEqual((yield* load({ MCPAUTH_HOME: "/tmp/from-env" })).storeDirectory, "/tmp/from-env")
      const path = yield* dotEnv("MCPAUTH_HOME=/tmp/from-dotenv\n")
      assert.strictEqual((yield* load({}, { dotEnvPath: path })).storeDirectory, "/tmp/from-dotenv")
      assert.strictEqual(
        (yield* load({ MCPAUTH_HOME: "/tmp/from-env" }, { dotEnvPath: path })).storeDirectory,
        "/tmp/from-env"
      )
      const overridden = yield* load({ MCPAUTH_HOME: "/tmp/from-env" }, {
        dotEnvPath: path,
        overrides: { storeDirectory: "/tmp/from-option" }
      })
      assert.strictEqual(overridden.storeDirectory, "/tmp/from-option")
    }).pipe(Effect.scoped))
})

describe(".env.example at the repository root", () => {
  it.effect("parses with our parser, sets nothing as copied, and documents every variable as a commented line", () =>
    Effect.gen(function*() {
      const path = new URL("../../../.env.example", import.meta.url).pathname
      const config = yield* DatadogConfig.load({ env: {}, dotEnvPath: path })
      assert.strictEqual(config.mcpUrl.href, "https://mcp.datadoghq.com/v1/mcp")
      const text = yield* Effect.promise(() => import("node:fs/promises").then((fs) => fs.readFile(path, "utf8")))
      // copied verbatim it must change nothing (e.g. an active DATADOG_SITE would move the demo off the sandbox)
      assert.deepStrictEqual(yield* DotEnv.parse(text, path), {})
      for (const variable of DatadogConfig.VARIABLES) {
        assert.match(text, new RegExp(`^# ${variable}=`, "m"), `${variable} is documented as "# ${variable}=…"`)
      }
    }))
})
