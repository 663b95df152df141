import { type SandboxOptions, startSandbox } from "@mcpauth/sandbox"
import { Effect } from "effect"

/** The Datadog look-alike sandbox (apps/sandbox) on 127.0.0.1, closed with the scope. */
export const sandbox = (options: SandboxOptions = {}) =>
  Effect.acquireRelease(
    Effect.promise(() => startSandbox({ profile: "datadog", ...options })),
    (s) => Effect.promise(() => s.close())
  )

export const API_KEY = "sandbox-api-s3cret"
export const APP_KEY = "sandbox-app-s3cret"
export const PAT = "sandbox-pat-s3cret"
