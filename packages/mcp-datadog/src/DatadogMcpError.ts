/**
 * The one error of `@mcpauth/mcp-datadog`: a `DatadogMcpError` whose `reason` says what went wrong — a bad site, a
 * bad configuration value (naming the variable), a malformed `.env` line (naming the file and line), or a failure
 * talking to the MCP server (tool error, rate limit, refused credentials, failed sign-in, connection failure, protocol
 * error).
 *
 * No message ever holds a key, token or client secret: configuration errors name the variable, never its value,
 * when the variable is a secret. Other values are echoed JSON-quoted with control characters escaped, cut to 120
 * characters (the full value stays in the reason's field).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { showValue } from "./internal/show.ts"

// the variable, and where its value came from when that was not the environment: "DATADOG_SITE (from the site option)"
const inputName = (reason: { readonly variable: string; readonly source?: string | undefined }) =>
  reason.source === undefined ? reason.variable : `${reason.variable} (from ${reason.source})`

/**
 * A `DATADOG_SITE` that is not one of the supported Datadog sites.
 *
 * @category errors
 * @since 0.1.0
 */
export class UnknownSite extends Schema.TaggedError<UnknownSite>()("UnknownSite", {
  site: Schema.String,
  variable: Schema.String,
  valid: Schema.Array(Schema.String),
  /** Where the value came from when not the environment (an option, a `.env` file). */
  source: Schema.optional(Schema.String)
}) {
  override get message() {
    return `${inputName(this)}: unknown Datadog site ${showValue(this.site)}; valid sites are ${
      this.valid.join(", ")
    } (or set DATADOG_MCP_URL to a full MCP server URL)`
  }
}

/**
 * A Datadog site this client refuses, with the reason (the government sites are not served by Datadog's remote MCP
 * server).
 *
 * @category errors
 * @since 0.1.0
 */
export class UnsupportedSite extends Schema.TaggedError<UnsupportedSite>()("UnsupportedSite", {
  site: Schema.String,
  variable: Schema.String,
  why: Schema.String,
  /** Where the value came from when not the environment (an option, a `.env` file). */
  source: Schema.optional(Schema.String)
}) {
  override get message() {
    return `${inputName(this)}: the Datadog site ${showValue(this.site)} is not supported: ${this.why}`
  }
}

/**
 * A configuration value that is missing, malformed or inconsistent. `variable` names the environment variable at
 * fault and `source` where its value came from when that was not the environment (e.g. `the site option`, a `.env`
 * file); the value itself is only echoed when it is not a secret.
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidConfig extends Schema.TaggedError<InvalidConfig>()("InvalidConfig", {
  variable: Schema.String,
  expected: Schema.String,
  value: Schema.optional(Schema.String),
  /** Where the value came from when not the environment (an option, a `.env` file). */
  source: Schema.optional(Schema.String)
}) {
  override get message() {
    return this.value === undefined
      ? `${inputName(this)}: ${this.expected}`
      : `${inputName(this)}: ${this.expected}, got ${showValue(this.value)}`
  }
}

/**
 * A `.env` file line that does not parse. Names the file and the (1-based) line; never echoes the line, which may
 * hold a secret.
 *
 * @category errors
 * @since 0.1.0
 */
export class DotEnvSyntax extends Schema.TaggedError<DotEnvSyntax>()("DotEnvSyntax", {
  file: Schema.String,
  line: Schema.Number,
  detail: Schema.String
}) {
  override get message() {
    return `${this.file}:${this.line}: ${this.detail}`
  }
}

/**
 * A `.env` file that exists but cannot be read.
 *
 * @category errors
 * @since 0.1.0
 */
export class DotEnvUnreadable extends Schema.TaggedError<DotEnvUnreadable>()("DotEnvUnreadable", {
  file: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `cannot read ${this.file}: ${this.detail}`
  }
}

/**
 * Neither API keys nor an access token are configured, and no OAuth-authorised fetch was supplied.
 *
 * @category errors
 * @since 0.1.0
 */
export class OAuthNotConfigured extends Schema.TaggedError<OAuthNotConfigured>()("OAuthNotConfigured", {}) {
  override get message() {
    return "no DD_API_KEY + DD_APPLICATION_KEY and no DATADOG_ACCESS_TOKEN are set, so OAuth is needed, but no " +
      "OAuth-authorised fetch was supplied (use McpFetch.layerFromFetch with the fetch from @mcpauth/mcp-auth)"
  }
}

/**
 * A tool call that the server answered with `isError: true`. `text` joins the text content of the result; the whole
 * result is kept in `result`.
 *
 * @see [MCP 2025-06-18 Tools §Error Handling](https://modelcontextprotocol.io/specification/2025-06-18/server/tools#error-handling)
 * @category errors
 * @since 0.1.0
 */
export class ToolError extends Schema.TaggedError<ToolError>()("ToolError", {
  tool: Schema.String,
  text: Schema.String,
  result: Schema.Unknown
}) {
  override get message() {
    return `the tool "${this.tool}" reported an error: ${this.text === "" ? "(no text content)" : this.text}`
  }
}

/**
 * The server kept answering `429 Too Many Requests` after the bounded waits (or asked for a wait longer than the
 * configured maximum).
 *
 * @see [RFC 6585 §4 - 429 Too Many Requests](https://www.rfc-editor.org/rfc/rfc6585#section-4)
 * @category errors
 * @since 0.1.0
 */
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  url: Schema.String,
  attempts: Schema.Number,
  retryAfterSeconds: Schema.optional(Schema.Number),
  detail: Schema.String
}) {
  override get message() {
    return `rate limited by ${this.url} (HTTP 429) after ${this.attempts} attempt(s)${
      this.retryAfterSeconds === undefined ? "" : `; the server asks to retry after ${this.retryAfterSeconds} s`
    }: ${this.detail}`
  }
}

/**
 * The server refused the credentials (HTTP 401 or 403) and the auth layer had nothing more to try (fresh tokens still
 * refused, a rejected refresh token, a scope still insufficient after step-up); `cause` holds the auth layer's error.
 *
 * @category errors
 * @since 0.1.0
 */
export class AuthFailed extends Schema.TaggedError<AuthFailed>()("AuthFailed", {
  url: Schema.String,
  mode: Schema.Literals(["oauth", "api-key", "access-token"]),
  status: Schema.optional(Schema.Number),
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {
  override get message() {
    const hint = this.mode === "api-key"
      ? " (check DD_API_KEY and DD_APPLICATION_KEY, and that the key's role has mcp_read)"
      : this.mode === "access-token"
      ? " (check DATADOG_ACCESS_TOKEN)"
      : ""
    return `${this.url} refused the ${this.mode} credentials${
      this.status === undefined ? "" : ` (HTTP ${this.status})`
    }${hint}: ${this.detail}`
  }
}

/**
 * The OAuth sign-in (or the token bookkeeping around it) failed before the MCP server could judge any credentials:
 * `step` names where (`discovery`, `metadata`, `registration`, `authorization`, `token`, `refresh`, `store`,
 * `restore`, …), `detail` is that step's own message, in full, and `cause` the original error.
 *
 * @see [MCP 2026-07-28 Authorization](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization)
 * @category errors
 * @since 0.1.0
 */
export class SignInFailed extends Schema.TaggedError<SignInFailed>()("SignInFailed", {
  url: Schema.String,
  step: Schema.String,
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {
  override get message() {
    return `OAuth sign-in for ${this.url} failed at ${this.step}: ${this.detail}`
  }
}

/**
 * The MCP server could not be reached, or the connection broke (network error, timeout, closed connection).
 *
 * @category errors
 * @since 0.1.0
 */
export class ConnectionFailed extends Schema.TaggedError<ConnectionFailed>()("ConnectionFailed", {
  url: Schema.String,
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {
  override get message() {
    return `cannot talk to the MCP server at ${this.url}: ${this.detail}`
  }
}

/**
 * The MCP server answered with an HTTP status this client does not handle (e.g. 500).
 *
 * @category errors
 * @since 0.1.0
 */
export class UnexpectedStatus extends Schema.TaggedError<UnexpectedStatus>()("UnexpectedStatus", {
  url: Schema.String,
  status: Schema.Number,
  detail: Schema.String
}) {
  override get message() {
    return `the MCP server at ${this.url} answered HTTP ${this.status}: ${this.detail}`
  }
}

/**
 * A tool call refused before any request: the arguments of `tools/call` must be a plain JSON object (or absent).
 *
 * @see [MCP 2025-06-18 Tools §Calling Tools](https://modelcontextprotocol.io/specification/2025-06-18/server/tools#calling-tools)
 * @category errors
 * @since 0.1.0
 */
export class InvalidArguments extends Schema.TaggedError<InvalidArguments>()("InvalidArguments", {
  tool: Schema.String,
  expected: Schema.String,
  got: Schema.String
}) {
  override get message() {
    return `the arguments of the tool ${showValue(this.tool)} must be ${this.expected}, got ${this.got}`
  }
}

/**
 * A JSON-RPC error answer from the MCP server (e.g. an unknown tool or resource).
 *
 * @category errors
 * @since 0.1.0
 */
export class JsonRpcError extends Schema.TaggedError<JsonRpcError>()("JsonRpcError", {
  method: Schema.String,
  code: Schema.Number,
  detail: Schema.String
}) {
  override get message() {
    return `${this.method} failed with JSON-RPC error ${this.code}: ${this.detail}`
  }
}

/**
 * A response that does not have the expected shape. Names the document, the field and what was expected.
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidResponse extends Schema.TaggedError<InvalidResponse>()("InvalidResponse", {
  document: Schema.String,
  expected: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `${this.document}: expected ${this.expected}: ${this.detail}`
  }
}

/**
 * The client was closed; create a new one.
 *
 * @category errors
 * @since 0.1.0
 */
export class Closed extends Schema.TaggedError<Closed>()("Closed", {}) {
  override get message() {
    return "the Datadog MCP client is closed"
  }
}

/**
 * The error of every `@mcpauth/mcp-datadog` operation; recover from one reason with
 * `Effect.catchReason("DatadogMcpError", "RateLimited", …)`.
 *
 * @category errors
 * @since 0.1.0
 */
export class DatadogMcpError extends Schema.TaggedError<DatadogMcpError>()("DatadogMcpError", {
  reason: Schema.Union([
    UnknownSite,
    UnsupportedSite,
    InvalidConfig,
    DotEnvSyntax,
    DotEnvUnreadable,
    OAuthNotConfigured,
    ToolError,
    RateLimited,
    AuthFailed,
    SignInFailed,
    ConnectionFailed,
    UnexpectedStatus,
    InvalidArguments,
    JsonRpcError,
    InvalidResponse,
    Closed
  ])
}) {
  override get message() {
    return this.reason.message
  }
}

/**
 * The reasons a `DatadogMcpError` may carry.
 *
 * @category errors
 * @since 0.1.0
 */
export type Reason = DatadogMcpError["reason"]

/**
 * Wraps a reason into a `DatadogMcpError`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (reason: Reason): DatadogMcpError => new DatadogMcpError({ reason })
