import { Clock, Effect, Option } from "effect"
import { randomBytes } from "node:crypto"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { fail, InsecurePermissions, NotARegularFile, StorageFailure } from "../TokenStoreError.ts"
import type { TokenStoreError } from "../TokenStoreError.ts"
import { withFileLock } from "./fileLock.ts"
import type { FileLockOptions } from "./fileLock.ts"
import { openRegular } from "./regularFile.ts"

/** Where entries live; ids are file-name safe. */
export interface Backend {
  readonly description: string
  readonly read: (id: string) => Effect.Effect<Option.Option<string>, TokenStoreError>
  readonly write: (id: string, text: string) => Effect.Effect<void, TokenStoreError>
  readonly remove: (id: string) => Effect.Effect<void, TokenStoreError>
  readonly list: Effect.Effect<ReadonlyArray<string>, TokenStoreError>
  /** Moves an unreadable entry out of the way (never deletes it); returns where it went. */
  readonly setAside: (id: string) => Effect.Effect<string, TokenStoreError>
  readonly lock: <A, E, R>(
    id: string,
    effect: Effect.Effect<A, E | TokenStoreError, R>
  ) => Effect.Effect<A, E | TokenStoreError, R>
}

export const memoryBackend = (): Backend => {
  const map = new Map<string, string>()
  return {
    description: "memory",
    read: (id) => Effect.sync(() => Option.fromNullishOr(map.get(id))),
    write: (id, text) => Effect.sync(() => void map.set(id, text)),
    remove: (id) => Effect.sync(() => void map.delete(id)),
    list: Effect.sync(() => [...map.keys()]),
    setAside: (id) =>
      Effect.sync(() => {
        const aside = `${id}.corrupt-${Date.now()}`
        const text = map.get(id)
        if (text !== undefined) map.set(aside, text)
        map.delete(id)
        return aside
      }),
    lock: (_id, effect) => effect
  }
}

const failure = (operation: string, path: string) => (error: unknown) =>
  fail(new StorageFailure({ operation, path, detail: String((error as Error)?.message ?? error) }))

const attempt = <A>(operation: string, path: string, f: () => Promise<A>) =>
  Effect.tryPromise({ try: f, catch: failure(operation, path) })

export interface FileBackendOptions {
  readonly directory: string
  readonly repairPermissions: boolean
  readonly lock: FileLockOptions
}

const OWNER_ONLY_FILE = 0o600
const OWNER_ONLY_DIR = 0o700

/** `mkdir(2)` of one level (injectable for tests: a read-only file system needs privileges to mount). */
export type MakeDirectory = (path: string, options: { readonly mode: number }) => Promise<unknown>

const HINTS: Readonly<Record<string, string>> = {
  EROFS: "the file system is read-only",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOTDIR: "a parent is not a directory",
  ENOSPC: "no space left on the device"
}

/**
 * Creates `dir` and its missing parents one level at a time (0700 each). Node's recursive `mkdir` reports ENOENT on a
 * read-only file system, hiding EROFS; here the failing level and its real error code are reported, with what to do.
 */
export const createDirectory = (dir: string, mkdir: MakeDirectory = Fs.mkdir) =>
  Effect.tryPromise({
    try: async () => {
      const missing: Array<string> = []
      for (let level = dir;; level = Path.dirname(level)) {
        const exists = await Fs.stat(level).then(() => true, (error: NodeJS.ErrnoException) => {
          if (error.code === "ENOENT") return false
          throw error
        })
        if (exists) break
        missing.unshift(level)
        if (Path.dirname(level) === level) break
      }
      for (const level of missing) {
        try {
          await mkdir(level, { mode: OWNER_ONLY_DIR })
        } catch (error) {
          // EEXIST: created meanwhile by another process
          if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
        }
      }
    },
    catch: (error) => {
      const code = (error as NodeJS.ErrnoException).code ?? ""
      const hint = HINTS[code]
      return fail(
        new StorageFailure({
          operation: "create directory",
          path: dir,
          detail: `${String((error as Error)?.message ?? error)}${
            hint === undefined
              ? ""
              : ` (${hint}; choose a writable store directory with the \`directory\` option or $MCPAUTH_HOME)`
          }`
        })
      )
    }
  })

const ensureDirectory = (dir: string) =>
  createDirectory(dir).pipe(
    Effect.andThen(attempt("stat", dir, () => Fs.stat(dir))),
    Effect.flatMap((stat) =>
      // MCP §Security Considerations: credentials in a directory only the user can enter (0700)
      (stat.mode & 0o077) !== 0
        ? Effect.logWarning(`token store: ${dir} had mode ${(stat.mode & 0o777).toString(8)}; set to 700`).pipe(
          Effect.andThen(attempt("chmod", dir, () => Fs.chmod(dir, OWNER_ONLY_DIR)))
        )
        : Effect.void
    )
  )

export const fileBackend = (options: FileBackendOptions): Effect.Effect<Backend> =>
  Effect.gen(function*() {
    const tokens = Path.join(options.directory, "tokens")
    const locks = Path.join(options.directory, "locks")
    const pathOf = (id: string) => Path.join(tokens, `${id}.json`)
    const prepare = yield* Effect.cached(
      ensureDirectory(options.directory).pipe(
        Effect.andThen(ensureDirectory(tokens)),
        Effect.andThen(ensureDirectory(locks))
      )
    )

    const setAside = (id: string) =>
      Effect.gen(function*() {
        const path = pathOf(id)
        const now = yield* Clock.currentTimeMillis
        const aside = `${path}.corrupt-${new Date(now).toISOString().replace(/[:.]/g, "-")}`
        // rename(2) moves a symbolic link itself, never what it points to
        yield* attempt("set aside", path, () => Fs.rename(path, aside))
        return aside
      })

    const read = (id: string) =>
      Effect.gen(function*() {
        yield* prepare
        const path = pathOf(id)
        const opened = yield* attempt("open", path, () => openRegular(path))
        if (opened._tag === "Absent") return Option.none<string>()
        if (opened._tag === "NotRegular") {
          // a link, pipe, device or directory is never opened or followed: set aside like a corrupt file
          const reason = new NotARegularFile({ path, kind: opened.kind })
          const aside = yield* setAside(id)
          yield* Effect.logWarning(`${reason.message}. It was set aside as ${aside}`)
          return Option.none<string>()
        }
        const { handle, stats } = opened
        return yield* Effect.gen(function*() {
          // MCP §Security Considerations: token files are readable and writable by the owner only (0600)
          if ((stats.mode & 0o077) !== 0) {
            const mode = (stats.mode & 0o777).toString(8)
            if (!options.repairPermissions) {
              return yield* fail(new InsecurePermissions({ path, mode, expected: "600" }))
            }
            yield* Effect.logWarning(`token store: repairPermissions: ${path} had mode ${mode}; set to 600`)
            yield* attempt("chmod", path, () => handle.chmod(OWNER_ONLY_FILE))
          }
          return Option.some(yield* attempt("read", path, () => handle.readFile("utf8")))
        }).pipe(Effect.ensuring(Effect.promise(() => handle.close())))
      })

    const write = (id: string, text: string) =>
      Effect.gen(function*() {
        yield* prepare
        const path = pathOf(id)
        const temp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`
        // atomic replace: write a 0600 temp file, flush it, rename it over the old file
        yield* attempt("write", temp, async () => {
          const handle = await Fs.open(temp, "wx", OWNER_ONLY_FILE)
          try {
            await handle.writeFile(text, "utf8")
            await handle.sync()
          } finally {
            await handle.close()
          }
          await Fs.rename(temp, path)
        }).pipe(Effect.tapError(() => Effect.promise(() => Fs.rm(temp, { force: true }))))
      })

    const remove = (id: string) =>
      prepare.pipe(Effect.andThen(attempt("remove", pathOf(id), () => Fs.rm(pathOf(id), { force: true }))))

    const list = prepare.pipe(
      Effect.andThen(attempt("list", tokens, () => Fs.readdir(tokens))),
      Effect.map((names) => names.filter((n) => n.endsWith(".json")).map((n) => n.slice(0, -".json".length)))
    )

    return {
      description: `file ${options.directory}`,
      read,
      write,
      remove,
      list,
      setAside,
      lock: (id, effect) =>
        prepare.pipe(Effect.andThen(withFileLock(Path.join(locks, `${id}.lock`), options.lock, effect)))
    } satisfies Backend
  })

/** The subset of `@napi-rs/keyring` used here. */
export interface KeyringModule {
  readonly Entry: new(service: string, account: string) => {
    setPassword(password: string): void
    getPassword(): string | null
    deletePassword(): boolean
  }
  readonly findCredentials: (service: string) => ReadonlyArray<{ readonly account: string }>
}

/** Entries in the OS keyring (service `service`, account = id); locks stay files in the file store's directory. */
export const keyringBackend = (keyring: KeyringModule, service: string, files: Backend): Backend => {
  const call = <A>(operation: string, id: string, f: () => A) =>
    Effect.try({ try: f, catch: failure(operation, `keyring ${service}/${id}`) })
  return {
    description: `OS keyring (service ${service})`,
    read: (id) => call("read", id, () => Option.fromNullishOr(new keyring.Entry(service, id).getPassword())),
    write: (id, text) => call("write", id, () => new keyring.Entry(service, id).setPassword(text)),
    remove: (id) => call("remove", id, () => void new keyring.Entry(service, id).deletePassword()),
    list: call(
      "list",
      "*",
      () => keyring.findCredentials(service).map((c) => c.account).filter((a) => !a.includes("."))
    ),
    setAside: (id) =>
      call("set aside", id, () => {
        const entry = new keyring.Entry(service, id)
        const text = entry.getPassword()
        const aside = `${id}.corrupt-${Date.now()}`
        if (text !== null) new keyring.Entry(service, aside).setPassword(text)
        entry.deletePassword()
        return aside
      }),
    lock: files.lock
  }
}
