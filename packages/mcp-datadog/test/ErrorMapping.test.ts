import { assert, describe, it } from "@effect/vitest"
import { McpAuthError } from "@mcpauth/mcp-auth"
import { DatadogMcp } from "@mcpauth/mcp-datadog"
import { ProtocolError, SdkError, SdkErrorCode, SdkHttpError, UnauthorizedError } from "@modelcontextprotocol/client"
import { Effect } from "effect"

const context = { url: "https://mcp.datadoghq.com/v1/mcp", mode: "api-key" as const, method: "tools/call" }
const map = (error: unknown) => DatadogMcp.fromUnknown(error, context).reason

const http = (status: number) =>
  new SdkHttpError(SdkErrorCode.ClientHttpNotImplemented, `Error POSTing to endpoint: ${status}`, { status })

describe("DatadogMcp.fromUnknown", () => {
  it.effect("HTTP 401 and 403 are AuthFailed with the status and mode", () =>
    Effect.sync(() => {
      for (const status of [401, 403]) {
        const reason = map(http(status))
        assert.strictEqual(reason._tag, "AuthFailed")
        if (reason._tag === "AuthFailed") {
          assert.strictEqual(reason.status, status)
          assert.strictEqual(reason.mode, "api-key")
        }
      }
      assert.strictEqual(map(new UnauthorizedError())._tag, "AuthFailed")
    }))

  it.effect("RFC 6585 §4: an HTTP 429 that reached the SDK is RateLimited; other statuses are UnexpectedStatus", () =>
    Effect.sync(() => {
      assert.strictEqual(map(http(429))._tag, "RateLimited")
      const reason = map(http(502))
      assert.strictEqual(reason._tag, "UnexpectedStatus")
      if (reason._tag === "UnexpectedStatus") assert.strictEqual(reason.status, 502)
    }))

  it.effect("a JSON-RPC error keeps its code and the method", () =>
    Effect.sync(() => {
      const reason = map(new ProtocolError(-32602, "Invalid params"))
      assert.strictEqual(reason._tag, "JsonRpcError")
      if (reason._tag === "JsonRpcError") {
        assert.strictEqual(reason.code, -32602)
        assert.strictEqual(reason.method, "tools/call")
      }
    }))

  it.effect("timeouts and closed connections are ConnectionFailed; invalid results are InvalidResponse", () =>
    Effect.sync(() => {
      assert.strictEqual(map(new SdkError(SdkErrorCode.RequestTimeout, "Request timed out"))._tag, "ConnectionFailed")
      assert.strictEqual(map(new SdkError(SdkErrorCode.ConnectionClosed, "closed"))._tag, "ConnectionFailed")
      assert.strictEqual(map(new SdkError(SdkErrorCode.InvalidResult, "bad"))._tag, "InvalidResponse")
    }))

  it.effect("a network error keeps its cause chain in the detail", () =>
    Effect.sync(() => {
      const reason = map(new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED 127.0.0.1:1") }))
      assert.strictEqual(reason._tag, "ConnectionFailed")
      assert.include(reason.message, "ECONNREFUSED")
    }))

  it.effect("another tagged error is SignInFailed only in oauth mode (it came from the caller's auth layer)", () =>
    Effect.sync(() => {
      const tagged = Object.assign(new Error("no refresh token"), { _tag: "SomeAuthError" })
      const reason = DatadogMcp.fromUnknown(tagged, { ...context, mode: "oauth" }).reason
      assert.strictEqual(reason._tag, "SignInFailed")
      assert.include(reason.message, "no refresh token")
      assert.notInclude(reason.message, "refused")
      assert.strictEqual(map(tagged)._tag, "ConnectionFailed")
    }))

  it.effect("MCP Transports §Backwards Compatibility: only 404/405 answers fall back to SSE", () =>
    Effect.sync(() => {
      assert.isTrue(DatadogMcp.shouldFallBackToSse(http(404)))
      assert.isTrue(DatadogMcp.shouldFallBackToSse(http(405)))
      for (const status of [400, 401, 403, 406, 500, 502, 503]) {
        assert.isFalse(DatadogMcp.shouldFallBackToSse(http(status)))
      }
      assert.isFalse(DatadogMcp.shouldFallBackToSse(new TypeError("fetch failed")))
    }))

  describe("the McpAuthError of @mcpauth/mcp-auth", () => {
    const oauth = { ...context, mode: "oauth" as const }
    const mapAuth = (reason: McpAuthError.McpAuthError["reason"]) => {
      const error = new McpAuthError.McpAuthError({ reason })
      const mapped = DatadogMcp.fromUnknown(error, oauth)
      // the original error is kept as the cause
      assert.strictEqual((mapped.reason as { readonly cause?: unknown }).cause, error)
      return mapped.reason
    }
    const refused = (host: string) =>
      new TypeError("fetch failed", {
        cause: Object.assign(new Error(`connect ECONNREFUSED ${host}`), { code: "ECONNREFUSED" })
      })

    it.effect("a request that never reached the server is ConnectionFailed naming the URL and ECONNREFUSED", () =>
      Effect.sync(() => {
        const reason = mapAuth(
          new McpAuthError.StepFailed({ step: "request", detail: "fetch failed", error: refused("127.0.0.1:19999") })
        )
        assert.strictEqual(reason._tag, "ConnectionFailed")
        assert.include(reason.message, "cannot talk to the MCP server at https://mcp.datadoghq.com/v1/mcp")
        assert.include(reason.message, "connect ECONNREFUSED 127.0.0.1:19999")
        assert.notInclude(reason.message, "credentials")
      }))

    it.effect("a DNS failure (ENOTFOUND) and every address of an AggregateError are named", () =>
      Effect.sync(() => {
        const dns = new TypeError("fetch failed", {
          cause: Object.assign(new Error("getaddrinfo ENOTFOUND mcp.example.invalid"), { code: "ENOTFOUND" })
        })
        const reason = mapAuth(new McpAuthError.StepFailed({ step: "request", detail: "fetch failed", error: dns }))
        assert.strictEqual(reason._tag, "ConnectionFailed")
        assert.include(reason.message, "ENOTFOUND mcp.example.invalid")
        const both = new TypeError("fetch failed", {
          cause: Object.assign(
            new AggregateError([
              new Error("connect ECONNREFUSED ::1:1"),
              new Error("connect ECONNREFUSED 127.0.0.1:1")
            ]),
            { code: "ECONNREFUSED" }
          )
        })
        const aggregate = mapAuth(
          new McpAuthError.StepFailed({ step: "request", detail: "fetch failed", error: both })
        )
        assert.include(aggregate.message, "ECONNREFUSED ::1:1")
        assert.include(aggregate.message, "ECONNREFUSED 127.0.0.1:1")
      }))

    it.effect("a failed sign-in step is SignInFailed naming the step and keeping its detail in full", () =>
      Effect.sync(() => {
        const long = `the document at https://as.example/.well-known/oauth-authorization-server ${"x".repeat(400)} end`
        for (const step of ["discovery", "metadata", "registration", "authorization", "token", "store", "restore"]) {
          const reason = mapAuth(new McpAuthError.StepFailed({ step, detail: long }))
          assert.strictEqual(reason._tag, "SignInFailed")
          assert.include(reason.message, `OAuth sign-in for https://mcp.datadoghq.com/v1/mcp failed at ${step}: `)
          assert.include(reason.message, long)
          assert.notInclude(reason.message, "refused the")
        }
        const restore = mapAuth(
          new McpAuthError.StepFailed({ step: "restore", detail: "/home/u/.config/mcpauth/x.json has mode 644" })
        )
        assert.include(restore.message, "failed at restore: /home/u/.config/mcpauth/x.json has mode 644")
      }))

    it.effect("a sign-in step that failed on the network says so, beside the step's own message", () =>
      Effect.sync(() => {
        const error = { _tag: "DiscoveryError", message: "request failed", cause: refused("127.0.0.1:7") }
        const reason = mapAuth(new McpAuthError.StepFailed({ step: "discovery", detail: "request failed", error }))
        assert.strictEqual(reason._tag, "SignInFailed")
        assert.include(reason.message, "failed at discovery: request failed (connect ECONNREFUSED 127.0.0.1:7")
      }))

    it.effect("only a refusal by the server (401 again, refresh rejected, scope still short) blames credentials", () =>
      Effect.sync(() => {
        const still = mapAuth(new McpAuthError.StillUnauthorized({ url: context.url, detail: "invalid_token" }))
        assert.strictEqual(still._tag, "AuthFailed")
        if (still._tag === "AuthFailed") assert.strictEqual(still.status, 401)
        assert.include(still.message, "refused the oauth credentials")
        const scope = mapAuth(new McpAuthError.InsufficientScope({ url: context.url, attempts: 2 }))
        assert.strictEqual(scope._tag, "AuthFailed")
        if (scope._tag === "AuthFailed") assert.strictEqual(scope.status, 403)
        assert.strictEqual(mapAuth(new McpAuthError.RefreshRejected({ detail: "invalid_grant" }))._tag, "AuthFailed")
        const client = mapAuth(new McpAuthError.ClientRejected({ clientId: "abc", detail: "invalid_client" }))
        assert.strictEqual(client._tag, "SignInFailed")
        assert.include(client.message, "rejected client abc")
        const interaction = mapAuth(new McpAuthError.InteractionRequired({ detail: "no user agent" }))
        assert.strictEqual(interaction._tag, "SignInFailed")
      }))
  })
})
