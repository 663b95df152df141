/**
 * The one error of `@mcpauth/token-store`, with a tagged `reason` per failure.
 *
 * @see [MCP 2026-07-28 Authorization §Security Considerations (token storage)](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization)
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * A token file readable or writable by other users: it is not used until its permissions are fixed.
 *
 * @category errors
 * @since 0.1.0
 */
export class InsecurePermissions extends Schema.TaggedError<InsecurePermissions>()("InsecurePermissions", {
  path: Schema.String,
  mode: Schema.String,
  expected: Schema.String
}) {
  override get message() {
    return `${this.path} has mode ${this.mode}; credentials must be ${this.expected} (owner only). Its tokens may have been read by other users: run \`chmod ${this.expected} '${this.path}'\` (or delete it and sign in again)`
  }
}

/**
 * A store path (token, client or lock file) that is not a regular file: a symbolic link, a named pipe, a device, a
 * directory or a socket. It is never opened or followed (a link could point at another user's file or a device; a
 * named pipe would block the client).
 *
 * @category errors
 * @since 0.1.0
 */
export class NotARegularFile extends Schema.TaggedError<NotARegularFile>()("NotARegularFile", {
  path: Schema.String,
  kind: Schema.String
}) {
  override get message() {
    return `token store: ${this.path} is a ${this.kind}, not a regular file; the token store never opens or follows one. Move it out of the way (\`mv\` or \`rm\` on a link acts on the link itself, not on what it points to); the store writes a regular file in its place at the next sign-in`
  }
}

/**
 * A file-system or keyring operation failed.
 *
 * @category errors
 * @since 0.1.0
 */
export class StorageFailure extends Schema.TaggedError<StorageFailure>()("StorageFailure", {
  operation: Schema.String,
  path: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `token store: cannot ${this.operation} ${this.path}: ${this.detail}`
  }
}

/**
 * The cross-process lock could not be taken in time.
 *
 * @category errors
 * @since 0.1.0
 */
export class LockTimeout extends Schema.TaggedError<LockTimeout>()("LockTimeout", {
  path: Schema.String,
  holderPid: Schema.optional(Schema.Number),
  waitedMillis: Schema.Number
}) {
  override get message() {
    const holder = this.holderPid === undefined ? "another process" : `process ${this.holderPid}`
    return `token store: the lock ${this.path} is still held by ${holder} after ${this.waitedMillis} ms: it is signing in or refreshing these credentials right now. Wait for it to finish (or stop it) and try again; if ${holder} is no mcpauth client (the lock outlived it), delete the lock file`
  }
}

/**
 * The entry the operation needs does not exist.
 *
 * @category errors
 * @since 0.1.0
 */
export class EntryNotFound extends Schema.TaggedError<EntryNotFound>()("EntryNotFound", {
  issuer: Schema.String,
  resource: Schema.String,
  client_id: Schema.String
}) {
  override get message() {
    return `token store: no entry for ${this.resource} at ${this.issuer} (client ${this.client_id})`
  }
}

/**
 * The error of every token store operation.
 *
 * @category errors
 * @since 0.1.0
 */
export class TokenStoreError extends Schema.TaggedError<TokenStoreError>()("TokenStoreError", {
  reason: Schema.Union([InsecurePermissions, NotARegularFile, StorageFailure, LockTimeout, EntryNotFound])
}) {
  override get message() {
    return this.reason.message
  }
}

/**
 * Wraps a reason into the package error.
 *
 * @category constructors
 * @since 0.1.0
 */
export const fail = (reason: TokenStoreError["reason"]): TokenStoreError => new TokenStoreError({ reason })
