/**
 * Errors thrown from inside the fetch handed to the MCP SDK. The SDK passes them through unchanged, and `DatadogMcp`
 * turns them into `DatadogMcpError` reasons.
 *
 * @internal
 */
export class RateLimitExhausted extends Error {
  readonly url: string
  readonly attempts: number
  readonly retryAfterSeconds: number | undefined
  readonly detail: string
  constructor(
    options: {
      readonly url: string
      readonly attempts: number
      readonly retryAfterSeconds: number | undefined
      readonly detail: string
    }
  ) {
    super(`HTTP 429 from ${options.url}: ${options.detail}`)
    this.name = "RateLimitExhausted"
    this.url = options.url
    this.attempts = options.attempts
    this.retryAfterSeconds = options.retryAfterSeconds
    this.detail = options.detail
  }
}
