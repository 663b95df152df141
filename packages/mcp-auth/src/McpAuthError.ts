/**
 * The orchestrator's typed error: what went wrong while authorizing a request to an MCP server.
 *
 * @see [MCP 2026-07-28 Authorization](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization)
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * A step of the authorization flow failed (discovery, metadata, registration, authorization, token, refresh, store).
 * `error` holds the step's own typed error (e.g. a `DiscoveryError`), `message` says what happened.
 *
 * @category errors
 * @since 0.1.0
 */
export class StepFailed extends Schema.TaggedError<StepFailed>()("StepFailed", {
  step: Schema.String,
  detail: Schema.String,
  error: Schema.optional(Schema.Unknown)
}) {
  override get message() {
    return `${this.step} failed: ${this.detail}`
  }
}

/**
 * The server still answered 401 after the client obtained fresh credentials: the orchestrator does not loop.
 *
 * @category errors
 * @since 0.1.0
 */
export class StillUnauthorized extends Schema.TaggedError<StillUnauthorized>()("StillUnauthorized", {
  url: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `the MCP server at ${this.url} refused fresh credentials with 401 (${this.detail})`
  }
}

/**
 * The server kept answering 403 `insufficient_scope` after the allowed number of step-up authorizations.
 *
 * @category errors
 * @since 0.1.0
 */
export class InsufficientScope extends Schema.TaggedError<InsufficientScope>()("InsufficientScope", {
  url: Schema.String,
  requiredScope: Schema.optional(Schema.String),
  grantedScope: Schema.optional(Schema.String),
  attempts: Schema.Number
}) {
  override get message() {
    return `MCP §Step-Up Authorization Flow: still insufficient_scope after ${this.attempts} step-up attempt(s) at ${this.url}` +
      ` (required: ${this.requiredScope ?? "unspecified"}, granted: ${this.grantedScope ?? "unknown"})`
  }
}

/**
 * A refresh token the authorization server rejected (`invalid_grant`): the tokens are cleared and the user must
 * authorize again; the client registration is kept.
 *
 * @category errors
 * @since 0.1.0
 */
export class RefreshRejected extends Schema.TaggedError<RefreshRejected>()("RefreshRejected", {
  detail: Schema.String
}) {
  override get message() {
    return `the refresh token was rejected (${this.detail}); authorization is needed again`
  }
}

/**
 * The authorization server no longer knows the client (`invalid_client`, or an authorize-time refusal naming it):
 * the registration is dropped and the client registers once more.
 *
 * @category errors
 * @since 0.1.0
 */
export class ClientRejected extends Schema.TaggedError<ClientRejected>()("ClientRejected", {
  clientId: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `the authorization server rejected client ${this.clientId} (${this.detail})`
  }
}

/**
 * Interactive authorization is needed but the orchestrator was told not to involve the user (e.g. a warm-start check).
 *
 * @category errors
 * @since 0.1.0
 */
export class InteractionRequired extends Schema.TaggedError<InteractionRequired>()("InteractionRequired", {
  detail: Schema.String
}) {
  override get message() {
    return `user interaction is required: ${this.detail}`
  }
}

/**
 * The error of the orchestrator; recover from one reason with `Effect.catchReason("McpAuthError", …)`.
 *
 * @category errors
 * @since 0.1.0
 */
export class McpAuthError extends Schema.TaggedError<McpAuthError>()("McpAuthError", {
  reason: Schema.Union([
    StepFailed,
    StillUnauthorized,
    InsufficientScope,
    RefreshRejected,
    ClientRejected,
    InteractionRequired
  ])
}) {
  override get message() {
    return this.reason.message
  }
}

/**
 * Wraps a step's own error into an `McpAuthError`, keeping the original for callers that inspect it.
 *
 * @category constructors
 * @since 0.1.0
 */
export const stepFailed = (step: string, error: unknown): McpAuthError =>
  error instanceof McpAuthError ? error : new McpAuthError({
    reason: new StepFailed({
      step,
      detail: error instanceof Error ? error.message : String(error),
      error
    })
  })
