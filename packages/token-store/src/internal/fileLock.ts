import { Clock, Effect, Option } from "effect"
import { randomBytes } from "node:crypto"
import * as Fs from "node:fs/promises"
import { fail, LockTimeout, StorageFailure } from "../TokenStoreError.ts"
import type { TokenStoreError } from "../TokenStoreError.ts"

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
      await Fs.writeFile(temp, JSON.stringify(content), { mode: 0o600 })
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

const readLock = (path: string) =>
  Effect.tryPromise({ try: () => Fs.readFile(path, "utf8"), catch: (e) => e as NodeJS.ErrnoException }).pipe(
    Effect.map(Option.some),
    Effect.catch((e) =>
      e.code === "ENOENT" ? Effect.succeed(Option.none<string>()) : Effect.fail(failure("read lock", path)(e))
    )
  )

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
    while (true) {
      const now = yield* Clock.currentTimeMillis
      const created = yield* tryCreate(path, { pid: process.pid, expires_at: now + options.ttlMillis, owner })
      if (created) return
      const current = yield* readLock(path)
      if (Option.isSome(current)) {
        const content = parse(current.value)
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
      if (now - started >= options.waitMillis) {
        return yield* fail(new LockTimeout({ path, holderPid: holder, waitedMillis: now - started }))
      }
      yield* Effect.sleep(options.pollMillis)
    }
  })
  const release = readLock(path).pipe(
    Effect.flatMap((current) =>
      Option.isSome(current) &&
        Option.match(parse(current.value), { onNone: () => false, onSome: (c) => c.owner === owner })
        ? Effect.tryPromise({ try: () => Fs.unlink(path), catch: (e) => e })
        : Effect.void
    ),
    Effect.ignore
  )
  return Effect.acquireUseRelease(acquire, () => effect, () => release)
}
