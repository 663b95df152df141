/**
 * Secure token storage for MCP clients: credentials keyed by (authorization server issuer, resource, client id),
 * with the client registration and the discovered metadata needed to refresh after a restart; in memory, in files
 * (0600 in a 0700 directory, atomic writes, cross-process locks) or in the OS keyring.
 *
 * @see [MCP 2026-07-28 Authorization §Security Considerations](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization)
 * @see [MCP 2026-07-28 Authorization §Refresh Tokens](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization)
 * @see [OAuth 2.1 §4.3.3 - refresh token rotation](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1#section-4.3.3)
 * @since 0.1.0
 */
import { Clock, Context, Effect, Layer, Option, Redacted, Schema, Semaphore } from "effect"
import { createHash } from "node:crypto"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileBackend, keyringBackend, memoryBackend } from "./internal/backends.ts"
import type { Backend, KeyringModule } from "./internal/backends.ts"
import { EntryNotFound, fail } from "./TokenStoreError.ts"
import type { TokenStoreError } from "./TokenStoreError.ts"

const RedactedString = Schema.RedactedFromValue(Schema.String)
const Extra = Schema.Record(Schema.String, Schema.Unknown)

/**
 * Stored tokens (an `@mcpauth/oauth2-authorization` `TokenSet` fits). `expires_at` is absolute (epoch ms).
 *
 * @category schemas
 * @since 0.1.0
 */
export const StoredTokens = Schema.Struct({
  access_token: RedactedString,
  token_type: Schema.String,
  expires_at: Schema.optional(Schema.Finite),
  refresh_token: Schema.optional(RedactedString),
  scope: Schema.optional(Schema.String),
  id_token: Schema.optional(RedactedString),
  raw: Schema.optional(Extra)
})

/**
 * @category models
 * @since 0.1.0
 */
export type StoredTokens = typeof StoredTokens.Type

/**
 * A client registration (an `@mcpauth/rfc7591-registration` `ClientInformation` fits).
 *
 * @category schemas
 * @since 0.1.0
 */
export const StoredClient = Schema.Struct({
  issuer: Schema.String,
  client_id: Schema.String,
  client_secret: Schema.optional(RedactedString),
  client_secret_expires_at: Schema.optional(Schema.Finite),
  client_id_issued_at: Schema.optional(Schema.Finite),
  token_endpoint_auth_method: Schema.String,
  redirect_uris: Schema.Array(Schema.String),
  scope: Schema.optional(Schema.String),
  source: Schema.String,
  registration_access_token: Schema.optional(RedactedString),
  registration_client_uri: Schema.optional(Schema.String),
  response: Schema.optional(Extra)
})

/**
 * @category models
 * @since 0.1.0
 */
export type StoredClient = typeof StoredClient.Type

/**
 * The authorization server metadata needed to refresh after a restart (RFC 8414 names; unknown members kept).
 *
 * @category schemas
 * @since 0.1.0
 */
export const StoredMetadata = Schema.StructWithRest(
  Schema.Struct({
    issuer: Schema.String,
    token_endpoint: Schema.String,
    authorization_endpoint: Schema.String,
    revocation_endpoint: Schema.optional(Schema.String),
    token_endpoint_auth_methods_supported: Schema.optional(Schema.Array(Schema.String)),
    authorization_response_iss_parameter_supported: Schema.optional(Schema.Boolean)
  }),
  [Extra]
)

/**
 * One stored credential: key, tokens (absent after they were cleared), registration and metadata.
 *
 * @category schemas
 * @since 0.1.0
 */
export const StoredEntry = Schema.Struct({
  issuer: Schema.String,
  resource: Schema.String,
  client_id: Schema.String,
  tokens: Schema.optional(StoredTokens),
  client: StoredClient,
  metadata: StoredMetadata,
  /** RFC 9728 protected resource metadata, when the caller keeps it. */
  resource_metadata: Schema.optional(Extra),
  /** The scope last requested (base of a step-up). */
  requested_scope: Schema.optional(Schema.String),
  updated_at: Schema.Finite
})

/**
 * @category models
 * @since 0.1.0
 */
export type StoredEntry = typeof StoredEntry.Type

/**
 * What an entry is stored under.
 *
 * @category models
 * @since 0.1.0
 */
export interface StoreKey {
  readonly issuer: string
  readonly resource: string
  readonly client_id: string
}

const EntryFile = Schema.fromJsonString(Schema.Struct({
  format: Schema.Literal("mcpauth/token-entry"),
  version: Schema.Literal(1),
  entry: StoredEntry
}))

const ClientFile = Schema.fromJsonString(Schema.Struct({
  format: Schema.Literal("mcpauth/client"),
  version: Schema.Literal(1),
  client: StoredClient
}))

const hash = (...parts: ReadonlyArray<string>) =>
  createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 40)

/**
 * The storage id of an entry (file-name safe, no secrets, stable).
 *
 * @category constructors
 * @since 0.1.0
 */
export const entryId = (key: StoreKey): string => `entry-${hash(key.issuer, key.resource, key.client_id)}`

/**
 * The storage id of the client registration of an issuer (registration state is per authorization server).
 *
 * @category constructors
 * @since 0.1.0
 */
export const clientId = (issuer: string): string => `client-${hash(issuer)}`

const lockId = (key: StoreKey | string): string => typeof key === "string" ? `lock-${hash(key)}` : entryId(key)

/**
 * The token store.
 *
 * @category services
 * @since 0.1.0
 */
export class TokenStore extends Context.Service<TokenStore, {
  /** Where entries live (`memory`, `file <dir>`, `OS keyring …`). */
  readonly description: string
  readonly get: (key: StoreKey) => Effect.Effect<Option.Option<StoredEntry>, TokenStoreError>
  /** Writes the entry (atomically) and the client registration of its issuer. */
  readonly set: (entry: StoredEntry) => Effect.Effect<void, TokenStoreError>
  /** Drops the tokens of an entry but keeps the entry, its registration and metadata (after `invalid_grant`). */
  readonly clearTokens: (key: StoreKey) => Effect.Effect<void, TokenStoreError>
  readonly remove: (key: StoreKey) => Effect.Effect<void, TokenStoreError>
  /** The stored client registration of an authorization server. */
  readonly getClient: (issuer: string) => Effect.Effect<Option.Option<StoredClient>, TokenStoreError>
  readonly setClient: (client: StoredClient) => Effect.Effect<void, TokenStoreError>
  readonly removeClient: (issuer: string) => Effect.Effect<void, TokenStoreError>
  /** The most recently updated entry for a resource (optionally at one issuer). */
  readonly latestForResource: (
    resource: string,
    issuer?: string
  ) => Effect.Effect<Option.Option<StoredEntry>, TokenStoreError>
  readonly list: Effect.Effect<ReadonlyArray<StoredEntry>, TokenStoreError>
  /**
   * Runs `effect` holding the lock of `key`: single-flight within the process, and a lock file across processes
   * (file and keyring stores). A string key locks anything else (e.g. a first sign-in per issuer and resource).
   */
  readonly withLock: <A, E, R>(
    key: StoreKey | string,
    effect: Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | TokenStoreError, R>
}>()("@mcpauth/token-store/TokenStore") {}

/**
 * Builds the store on a backend.
 *
 * @category constructors
 * @since 0.1.0
 */
const makeWith = (backend: Backend): TokenStore["Service"] => {
  const semaphores = new Map<string, Semaphore.Semaphore>()
  const semaphore = (id: string) => {
    let s = semaphores.get(id)
    if (s === undefined) {
      s = Semaphore.makeUnsafe(1)
      semaphores.set(id, s)
    }
    return s
  }

  const decode = <S extends Schema.Decoder<unknown>>(schema: S, id: string) =>
    backend.read(id).pipe(
      Effect.flatMap(Option.match({
        onNone: () => Effect.succeed(Option.none<S["Type"]>()),
        onSome: (text) =>
          Schema.decodeUnknownEffect(schema)(text).pipe(
            Effect.map(Option.some),
            // a corrupt or foreign file is reported and set aside, never deleted and never fatal
            Effect.catch((error) =>
              backend.setAside(id).pipe(
                Effect.flatMap((aside) =>
                  Effect.logWarning(
                    `token store (${backend.description}): ${id} is not a valid token store document and was set aside as ${aside}: ${error.message}`
                  )
                ),
                Effect.as(Option.none<S["Type"]>())
              )
            )
          )
      }))
    )

  const encodeEntry = (entry: StoredEntry) =>
    Schema.encodeEffect(EntryFile)({ format: "mcpauth/token-entry", version: 1, entry }).pipe(Effect.orDie)
  const encodeClient = (client: StoredClient) =>
    Schema.encodeEffect(ClientFile)({ format: "mcpauth/client", version: 1, client }).pipe(Effect.orDie)

  const get = (key: StoreKey) =>
    decode(EntryFile, entryId(key)).pipe(
      Effect.map(Option.map((file) => file.entry)),
      Effect.withSpan("TokenStore.get")
    )

  const setClient = (client: StoredClient) =>
    // the client file is read before it is replaced: a corrupt or foreign one is set aside and reported, as an entry
    // file is, instead of vanishing silently under the new registration
    decode(ClientFile, clientId(client.issuer)).pipe(
      Effect.catch((error) =>
        error.reason._tag === "InsecurePermissions"
          ? Effect.logWarning(
            `token store (${backend.description}): ${error.reason.path} had mode ${error.reason.mode} (its contents may have been read by other users); it is replaced by a new ${error.reason.expected} file`
          )
          : Effect.fail(error)
      ),
      Effect.andThen(encodeClient(client)),
      Effect.flatMap((text) => backend.write(clientId(client.issuer), text))
    )

  const set = (entry: StoredEntry) =>
    encodeEntry(entry).pipe(
      Effect.flatMap((text) => backend.write(entryId(entry), text)),
      Effect.andThen(setClient(entry.client)),
      Effect.withSpan("TokenStore.set")
    )

  const clearTokens = (key: StoreKey) =>
    get(key).pipe(
      Effect.flatMap(Option.match({
        onNone: () => Effect.void,
        onSome: (entry) =>
          Clock.currentTimeMillis.pipe(
            Effect.flatMap((now) => {
              const { tokens: _dropped, ...rest } = entry
              return encodeEntry({ ...rest, updated_at: now })
            }),
            Effect.flatMap((text) => backend.write(entryId(key), text))
          )
      }))
    )

  const list = backend.list.pipe(
    Effect.flatMap((ids) => Effect.forEach(ids.filter((id) => id.startsWith("entry-")), (id) => decode(EntryFile, id))),
    Effect.map((found) => found.flatMap((o) => Option.isSome(o) ? [o.value.entry] : []))
  )

  return TokenStore.of({
    description: backend.description,
    get,
    set,
    clearTokens,
    remove: (key) => backend.remove(entryId(key)),
    getClient: (issuer) => decode(ClientFile, clientId(issuer)).pipe(Effect.map(Option.map((f) => f.client))),
    setClient,
    removeClient: (issuer) => backend.remove(clientId(issuer)),
    latestForResource: (resource, issuer) =>
      list.pipe(
        Effect.map((entries) =>
          Option.fromNullishOr(
            entries
              .filter((e) => e.resource === resource && (issuer === undefined || e.issuer === issuer))
              .toSorted((a, b) => b.updated_at - a.updated_at)[0]
          )
        )
      ),
    list,
    withLock: <A, E, R>(key: StoreKey | string, effect: Effect.Effect<A, E, R>) => {
      const id = lockId(key)
      // in-process single flight first, then the cross-process lock
      return semaphore(id).withPermits(1)(backend.lock<A, E, R>(id, effect))
    }
  })
}

/**
 * Options of the file and keyring stores.
 *
 * @category models
 * @since 0.1.0
 */
export interface FileStoreOptions {
  /** The store directory; default `$MCPAUTH_HOME`, else `$XDG_CONFIG_HOME/mcpauth`, else `~/.config/mcpauth`. */
  readonly directory?: string | undefined
  /**
   * **Security-weakening.** Token files readable by other users are set to 0600 and used (with a logged warning)
   * instead of being refused with `InsecurePermissions`.
   */
  readonly repairPermissions?: boolean | undefined
  /** A lock older than this may be broken by others (default 60 s). */
  readonly lockTtlMillis?: number | undefined
  /** How long to wait for a lock (default 30 s). */
  readonly lockWaitMillis?: number | undefined
}

/**
 * The store directory: the option, else `$MCPAUTH_HOME`, else `$XDG_CONFIG_HOME/mcpauth`, else `~/.config/mcpauth`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const resolveDirectory = (
  options: Pick<FileStoreOptions, "directory">,
  env: Readonly<Record<string, string | undefined>> = process.env,
  home: string = Os.homedir()
): string => {
  // "~" and "~/…" mean the home directory (a quoted "~/x" in a .env or a shell is not expanded by the shell)
  const expand = (p: string) => (p === "~" ? home : p.startsWith("~/") ? Path.join(home, p.slice(2)) : p)
  if (options.directory !== undefined) return Path.resolve(expand(options.directory))
  if (env["MCPAUTH_HOME"]) return Path.resolve(expand(env["MCPAUTH_HOME"]))
  // XDG Base Directory: $XDG_CONFIG_HOME (a relative value is invalid and ignored, as the spec says), default ~/.config
  const xdg = env["XDG_CONFIG_HOME"]
  if (xdg && Path.isAbsolute(xdg)) return Path.join(xdg, "mcpauth")
  return Path.join(home, ".config", "mcpauth")
}

/** Whether the configured store directory was relative (then resolved against the working directory). */
const relativeDirectory = (
  options: Pick<FileStoreOptions, "directory">,
  env: Readonly<Record<string, string | undefined>> = process.env
): string | undefined => {
  const given = options.directory ?? (env["MCPAUTH_HOME"] || undefined)
  return given !== undefined && given !== "~" && !given.startsWith("~/") && !Path.isAbsolute(given) ? given : undefined
}

const makeFileBackend = (options: FileStoreOptions) =>
  Effect.suspend(() => {
    const relative = relativeDirectory(options)
    return relative === undefined ? Effect.void : Effect.logWarning(
      `token store directory "${relative}" is relative: tokens go to ${
        resolveDirectory(options)
      } (under the working directory; use an absolute path or ~/…)`
    )
  }).pipe(Effect.andThen(
    fileBackend({
      directory: resolveDirectory(options),
      repairPermissions: options.repairPermissions === true,
      lock: {
        ttlMillis: options.lockTtlMillis ?? 60_000,
        waitMillis: options.lockWaitMillis ?? 30_000,
        pollMillis: 25
      }
    }).pipe(
      Effect.tap(() =>
        options.repairPermissions === true
          ? Effect.logWarning("token store: repairPermissions is on (security-weakening)")
          : Effect.void
      )
    )
  ))

/**
 * An in-memory store (tests, or clients that must not persist anything).
 *
 * @category layers
 * @since 0.1.0
 */
export const layerMemory: Layer.Layer<TokenStore> = Layer.sync(TokenStore, () => makeWith(memoryBackend()))

/**
 * A file store: one JSON document per entry in `<dir>/tokens`, mode 0600 in 0700 directories, written atomically,
 * Schema-validated on read; lock files in `<dir>/locks`.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerFile = (options: FileStoreOptions = {}): Layer.Layer<TokenStore> =>
  Layer.effect(TokenStore, Effect.map(makeFileBackend(options), makeWith))

/**
 * Options of {@link layerKeyring}.
 *
 * @category models
 * @since 0.1.0
 */
export interface KeyringStoreOptions extends FileStoreOptions {
  /** Keyring service name (default `mcpauth`). */
  readonly service?: string | undefined
  /** The keyring module (default: `@napi-rs/keyring`, loaded on demand). */
  readonly keyring?: KeyringModule | undefined
}

/**
 * Entries in the OS keyring (`@napi-rs/keyring`). Where no keyring service runs (or the module cannot load) it falls
 * back to the file store and logs a notice saying so.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerKeyring = (options: KeyringStoreOptions = {}): Layer.Layer<TokenStore> =>
  Layer.effect(
    TokenStore,
    Effect.gen(function*() {
      const files = yield* makeFileBackend(options)
      const service = options.service ?? "mcpauth"
      const probe = Effect.gen(function*() {
        const keyring: KeyringModule = options.keyring ??
          (yield* Effect.tryPromise(() => import("@napi-rs/keyring") as Promise<KeyringModule>))
        yield* Effect.try(() => {
          // a write is the only reliable probe: reads answer "absent" even where nothing can be stored
          const entry = new keyring.Entry(service, "probe")
          entry.setPassword("probe")
          entry.deletePassword()
        })
        return keyring
      })
      return yield* probe.pipe(
        Effect.map((keyring) => makeWith(keyringBackend(keyring, service, files))),
        Effect.catch((error) =>
          Effect.logWarning(
            `token store: no OS keyring is available (${
              String((error as { cause?: unknown }).cause ?? error)
            }); using the ${files.description} store instead`
          ).pipe(Effect.as(makeWith(files)))
        )
      )
    })
  )

/**
 * Options of {@link refreshSingleFlight}.
 *
 * @category models
 * @since 0.1.0
 */
export interface RefreshOptions<E, R> {
  /** Performs the refresh with the entry as re-read under the lock; returns the new tokens. */
  readonly refresh: (
    entry: StoredEntry & { readonly tokens: StoredTokens }
  ) => Effect.Effect<StoredTokens, E, R>
  /** Refresh when the access token expires within this many ms (default 60 000). */
  readonly skewMillis?: number | undefined
  /**
   * The access token the caller saw rejected (e.g. a 401): refresh when the store still holds it, whatever its
   * expiry; when another process already replaced it, the stored tokens are returned without a refresh.
   */
  readonly staleAccessToken?: Redacted.Redacted<string> | undefined
  /** When true for a refresh error (e.g. `invalid_grant`), the tokens are cleared (registration kept). */
  readonly isRejected?: ((error: E) => boolean) | undefined
}

/**
 * Refresh single-flight: lock → re-read → if still expired (or still the rejected token) call `refresh` → write →
 * unlock. Two processes sharing a rotating refresh token never both use it: the second one finds the new tokens.
 * Returns the entry as stored afterwards (without `tokens` when they were cleared or never held).
 *
 * @see [OAuth 2.1 §4.3.3 - refresh token rotation](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1#section-4.3.3)
 * @category combinators
 * @since 0.1.0
 */
export const refreshSingleFlight = <E, R>(
  key: StoreKey,
  options: RefreshOptions<E, R>
): Effect.Effect<StoredEntry, E | TokenStoreError, TokenStore | R> =>
  Effect.gen(function*() {
    const store = yield* TokenStore
    return yield* store.withLock(
      key,
      Effect.gen(function*() {
        // re-read under the lock: another process may have refreshed already
        const found = yield* store.get(key)
        if (Option.isNone(found)) {
          return yield* fail(
            new EntryNotFound({ issuer: key.issuer, resource: key.resource, client_id: key.client_id })
          )
        }
        const entry = found.value
        const tokens = entry.tokens
        if (tokens === undefined || tokens.refresh_token === undefined) return entry
        const now = yield* Clock.currentTimeMillis
        const stale = options.staleAccessToken
        const due = stale !== undefined
          ? Redacted.value(stale) === Redacted.value(tokens.access_token)
          : tokens.expires_at !== undefined && tokens.expires_at - (options.skewMillis ?? 60_000) <= now
        if (!due) return entry
        const fresh = yield* options.refresh({ ...entry, tokens }).pipe(
          Effect.tapError((error) =>
            options.isRejected?.(error) === true
              ? store.clearTokens(key).pipe(Effect.ignore)
              : Effect.void
          )
        )
        const next: StoredEntry = {
          ...entry,
          // OAuth 2.1 §4.3.3: a refresh response without a new refresh token keeps the old one
          tokens: { ...fresh, refresh_token: fresh.refresh_token ?? tokens.refresh_token },
          updated_at: yield* Clock.currentTimeMillis
        }
        yield* store.set(next)
        return next
      })
    )
  })
