import { assert, describe, it } from "@effect/vitest"
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

  it.effect("a tagged error is AuthFailed only in oauth mode (it came from the auth layer)", () =>
    Effect.sync(() => {
      const tagged = Object.assign(new Error("no refresh token"), { _tag: "McpAuthError" })
      assert.strictEqual(DatadogMcp.fromUnknown(tagged, { ...context, mode: "oauth" }).reason._tag, "AuthFailed")
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
})
