import { Clock, Effect, Option } from "effect"
import { randomBytes } from "node:crypto"
import * as Fs from "node:fs/promises"
import { fail, LockTimeout, NotARegularFile, StorageFailure } from "../TokenStoreError.ts"
import type { TokenStoreError } from "../TokenStoreError.ts"
import { openRegular } from "./regularFile.ts"

export interface FileLockOptions {
  /** How long a lock is valid before others may break it (ms). */
  readonly ttlMillis: number
  /** How long to wait for a held lock (ms). */
  readonly waitMillis: number
  /** Poll interval (ms). */
  readonly pollMillis: number
}

interface LockContent {
  readonly pid: number
  readonly expires_at: number
  readonly owner: string
}

const parse = (text: string): Option.Option<LockContent> => {
  try {
    const v: unknown = JSON.parse(text)
    if (
      typeof v === "object" && v !== null && typeof (v as LockContent).pid === "number" &&
      typeof (v as LockContent).expires_at === "number" && typeof (v as LockContent).owner === "string"
    ) return Option.some(v as LockContent)
  } catch {
    // unreadable lock content: treated as stale below
  }
  return Option.none()
}

/** Whether a process with this pid runs on this machine (EPERM: it runs under another user). */
export const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

const failure = (operation: string, path: string) => (error: unknown) =>
  fail(new StorageFailure({ operation, path, detail: String((error as Error)?.message ?? error) }))

const NO_HARD_LINKS = new Set(["ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV", "EPERM"])

const tryCreate = (path: string, content: LockContent) =>
  Effect.tryPromise({
    try: async () => {
      // The lock file appears with its content complete: written to a temporary file of ours, then hard-linked into
      // place; link(2) fails with EEXIST when the lock exists, atomically, as O_CREAT | O_EXCL does. (A lock file
      // created empty and filled afterwards could be read empty by a waiting process, taken for "unreadable, stale"
      // and broken while its owner held it: two holders, e.g. two refreshes with the same rotating refresh token.)
      const temp = `${path}.${content.owner}.tmp`
      // "wx": O_CREAT | O_EXCL never writes through a link found at the temporary name
      await Fs.writeFile(temp, JSON.stringify(content), { mode: 0o600, flag: "wx" })
      try {
        await Fs.link(temp, path)
        return true
      } catch (error) {
        if (!NO_HARD_LINKS.has((error as NodeJS.ErrnoException).code ?? "")) throw error
        // a file system without hard links: create the lock exclusively in place, then fill it
        const handle = await Fs.open(path, "wx", 0o600)
        try {
          await handle.writeFile(JSON.stringify(content))
        } finally {
          await handle.close()
        }
        return true
      } finally {
        await Fs.unlink(temp).catch(() => {})
      }
    },
    catch: (error) => error as NodeJS.ErrnoException
  }).pipe(
    Effect.catch((error) =>
      error.code === "EEXIST" ? Effect.succeed(false) : Effect.fail(failure("create lock", path)(error))
    )
  )

type LockFile =
  | { readonly _tag: "Absent" }
  | { readonly _tag: "NotRegular"; readonly kind: string }
  | { readonly _tag: "Text"; readonly text: string }

// a lock path that is a link, a pipe, a device or a directory is never opened or followed (a pipe would block)
const readLock = (path: string) =>
  Effect.tryPromise({
    try: async (): Promise<LockFile> => {
      const opened = await openRegular(path)
      if (opened._tag !== "Regular") return opened
      try {
        return { _tag: "Text", text: await opened.handle.readFile("utf8") }
      } finally {
        await opened.handle.close()
      }
    },
    catch: failure("read lock", path)
  })

/**
 * Takes the lock file at `path` (owner pid + expiry inside), breaking it when it is expired or its owner process is
 * gone; runs `effect`; releases the lock only if it is still ours.
 */
export const withFileLock = <A, E, R>(
  path: string,
  options: FileLockOptions,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E | TokenStoreError, R> => {
  const owner = randomBytes(16).toString("hex")
  const acquire = Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    let holder: number | undefined
    let announced = false
    while (true) {
      const now = yield* Clock.currentTimeMillis
      const created = yield* tryCreate(path, { pid: process.pid, expires_at: now + options.ttlMillis, owner })
      if (created) return
      const current = yield* readLock(path)
      if (current._tag === "NotRegular") {
        // not a lock file of ours: moved aside (rename(2) moves a link itself, never its target) and kept
        const aside = `${path}.corrupt-${owner}`
        const moved = yield* Effect.tryPromise({
          try: () => Fs.rename(path, aside).then(() => true),
          catch: (error) => error as NodeJS.ErrnoException
        }).pipe(
          // ENOENT: another waiter moved it first
          Effect.catch((error) =>
            error.code === "ENOENT" ? Effect.succeed(false) : Effect.fail(failure("set aside", path)(error))
          )
        )
        if (moved) {
          yield* Effect.logWarning(
            `${new NotARegularFile({ path, kind: current.kind }).message}. It was set aside as ${aside}`
          )
        }
        continue
      }
      if (current._tag === "Text") {
        const content = parse(current.text)
        holder = Option.isSome(content) ? content.value.pid : undefined
        const stale = Option.isNone(content) || content.value.expires_at <= now || !pidAlive(content.value.pid)
        if (stale) {
          // a stale lock (expired, unreadable, or its process is gone) is broken: moved aside, then retried
          const aside = `${path}.stale-${owner}`
          yield* Effect.tryPromise({ try: () => Fs.rename(path, aside), catch: (e) => e }).pipe(
            Effect.andThen(Effect.tryPromise({ try: () => Fs.unlink(aside), catch: (e) => e })),
            Effect.ignore
          )
          yield* Effect.logWarning(
            `token store: broke a stale lock ${path}${holder === undefined ? "" : ` of process ${holder}`}`
          )
          continue
        }
      }
      if (!announced && current._tag === "Text") {
        announced = true
        const who = holder === undefined ? "another process" : `process ${holder}`
        yield* Effect.logInfo(
          `token store: waiting up to ${
            Math.ceil(options.waitMillis / 1000)
          } s for the lock ${path}: ${who} is signing in or refreshing these credentials`
        )
      }
      if (now - started >= options.waitMillis) {
        return yield* fail(new LockTimeout({ path, holderPid: holder, waitedMillis: now - started }))
      }
      yield* Effect.sleep(options.pollMillis)
    }
  })
  const release = readLock(path).pipe(
    Effect.flatMap((current) =>
      current._tag === "Text" &&
        Option.match(parse(current.text), { onNone: () => false, onSome: (c) => c.owner === owner })
        ? Effect.tryPromise({ try: () => Fs.unlink(path), catch: (e) => e })
        : Effect.void
    ),
    Effect.ignore
  )
  return Effect.acquireUseRelease(acquire, () => effect, () => release)
}
