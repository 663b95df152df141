/**
 * Structured progress events of the authorization flow, for progress display and diagnostics. Events never carry
 * a secret: tokens appear only as redacted summaries (expiry, audience, scope).
 *
 * @since 0.1.0
 */

/**
 * The step of the flow an event belongs to.
 *
 * @category models
 * @since 0.1.0
 */
export type AuthStep =
  | "request"
  | "restore"
  | "discovery"
  | "metadata"
  | "registration"
  | "authorization"
  | "token"
  | "refresh"
  | "step-up"
  | "store"
  | "revocation"

/**
 * One progress event. `phase` is `start`, `done` or `failed` for timed steps and `info` for single facts.
 *
 * @category models
 * @since 0.1.0
 */
export interface AuthEvent {
  readonly step: AuthStep
  readonly phase: "start" | "done" | "failed" | "info"
  readonly message: string
  readonly url?: string | undefined
  readonly status?: number | undefined
  readonly durationMs?: number | undefined
  /** Step-specific facts (URLs tried, client id, token expiry/audience/scope…); never a secret. */
  readonly data?: Readonly<Record<string, unknown>> | undefined
}

/**
 * Receives events; must not throw or block.
 *
 * @category models
 * @since 0.1.0
 */
export type AuthEventSink = (event: AuthEvent) => void

/**
 * A sink that drops every event.
 *
 * @category constructors
 * @since 0.1.0
 */
export const ignore: AuthEventSink = () => {}
