import { constants } from "node:fs"
import type { Stats } from "node:fs"
import * as Fs from "node:fs/promises"

/** What kind of file system object `stats` describes, in words for a message. */
export const kindOf = (stats: Stats): string =>
  stats.isSymbolicLink()
    ? "symbolic link"
    : stats.isFIFO()
    ? "named pipe (FIFO)"
    : stats.isDirectory()
    ? "directory"
    : stats.isCharacterDevice()
    ? "character device"
    : stats.isBlockDevice()
    ? "block device"
    : stats.isSocket()
    ? "socket"
    : stats.isFile()
    ? "regular file"
    : "special file"

export type Opened =
  | { readonly _tag: "Absent" }
  | { readonly _tag: "NotRegular"; readonly kind: string }
  | { readonly _tag: "Regular"; readonly handle: Fs.FileHandle; readonly stats: Stats }

// O_NOFOLLOW: a link swapped in after the lstat fails (ELOOP) instead of being followed; O_NONBLOCK: a named pipe
// swapped in never blocks the open
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK

/**
 * Opens `path` for reading only when it is a regular file: anything else (a symbolic link, even to a regular file; a
 * named pipe; a device; a directory; a socket) is reported by kind and never opened or followed. The opened handle is
 * checked again (`fstat`) so a swap between the check and the open is caught. (A regular file replaced by another
 * regular file in between, as lock files are, is simply the file now there: it was opened without following a link.)
 */
export const openRegular = async (path: string): Promise<Opened> => {
  let before: Stats
  try {
    before = await Fs.lstat(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { _tag: "Absent" }
    throw error
  }
  if (!before.isFile()) return { _tag: "NotRegular", kind: kindOf(before) }
  let handle: Fs.FileHandle
  try {
    handle = await Fs.open(path, READ_FLAGS)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === "ENOENT") return { _tag: "Absent" }
    if (code === "ELOOP") return { _tag: "NotRegular", kind: "symbolic link" }
    throw error
  }
  const stats = await handle.stat()
  if (!stats.isFile()) {
    await handle.close()
    return { _tag: "NotRegular", kind: kindOf(stats) }
  }
  return { _tag: "Regular", handle, stats }
}
