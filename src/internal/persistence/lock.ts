import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { PersistenceError } from "../../CacheError.js"
import { randomSuffix, TEMPORARY_INFIX } from "./tempFiles.js"

// Locks held by this process, by absolute path: a lock file naming our own pid but absent from
// this set was left by an earlier process that had the same pid (a container restarted as pid 1).
const held = new Set<string>()

/**
 * Whether a process with this pid exists. `process.kill(pid, 0)` sends nothing; it is the one
 * portable probe, and `FileSystem` has no equivalent. EPERM means the process exists but belongs to
 * someone else.
 */
const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

const readHolder = (fs: FileSystem.FileSystem, lockPath: string) =>
  fs.readFileString(lockPath).pipe(
    Effect.map((text) => {
      const pid = Number.parseInt(text.trim(), 10)
      return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
    }),
    // Gone between our attempt and the read: the holder just released it, try again.
    Effect.catchAll(() => Effect.succeed(null))
  )

const isAlreadyExists = (error: { readonly _tag: string; readonly reason?: string }) =>
  error._tag === "SystemError" && error.reason === "AlreadyExists"

/**
 * Creates the lock file with our pid already in it: written under a temporary name, then hard-linked
 * to the lock's name, which fails if the lock exists. Creating it exclusively and then writing
 * would leave a moment where another opener finds it empty and takes it for abandoned. Where hard
 * links are not supported, or the temporary file cannot be made, falls back to that exclusive
 * create.
 *
 * The temporary name is unpredictable and created exclusively ("wx", mode 0600): a symlink planted
 * there makes the create fail instead of redirecting the write.
 */
const create = (fs: FileSystem.FileSystem, lockPath: string) => {
  const temporary = `${lockPath}${TEMPORARY_INFIX}${randomSuffix()}`
  const content = `${process.pid}\n`
  const exclusive = fs.writeFileString(lockPath, content, { flag: "wx", mode: 0o600 })
  return fs.writeFileString(temporary, content, { flag: "wx", mode: 0o600 }).pipe(
    Effect.matchEffect({
      onFailure: () => exclusive,
      onSuccess: () =>
        fs.link(temporary, lockPath).pipe(
          Effect.ensuring(Effect.ignore(fs.remove(temporary))),
          Effect.catchAll((error) => (isAlreadyExists(error) ? Effect.fail(error) : exclusive))
        )
    })
  )
}

/**
 * Takes the lock file `lockPath` (created atomically, mode 0600, holding our pid) for the life of
 * the scope. A lock held by a live process fails with reason "Locked"; one left by a dead process,
 * or unreadable, is taken over.
 *
 * @internal
 */
export const acquire = (
  lockPath: string,
  method: string
): Effect.Effect<void, PersistenceError, FileSystem.FileSystem | Scope.Scope> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const fail = (reason: "Locked" | "WriteFailed", description: string, cause?: unknown) =>
      new PersistenceError({ reason, method, description, path: lockPath, cause })
    const attempt = (tries: number): Effect.Effect<void, PersistenceError> =>
      create(fs, lockPath).pipe(
        Effect.catchAll((error) => {
          if (!isAlreadyExists(error)) {
            return Effect.fail(fail("WriteFailed", "cannot create the lock file", error))
          }
          if (tries >= 5) return Effect.fail(fail("Locked", "the lock file keeps changing hands"))
          return readHolder(fs, lockPath).pipe(
            Effect.flatMap((pid) => {
              if (pid === null) return attempt(tries + 1)
              if (pid !== undefined && isAlive(pid) && (pid !== process.pid || held.has(lockPath))) {
                return Effect.fail(
                  fail(
                    "Locked",
                    `process ${pid} holds the lock; one process at a time may open this cache file`
                  )
                )
              }
              return Effect.logWarning(
                `taking over the lock of ${pid === undefined ? "an unknown process" : `dead process ${pid}`}`
              ).pipe(
                Effect.annotateLogs({ path: lockPath }),
                Effect.zipRight(Effect.ignore(fs.remove(lockPath))),
                Effect.zipRight(attempt(tries + 1))
              )
            })
          )
        })
      )
    yield* Effect.acquireRelease(
      Effect.zipRight(
        attempt(0),
        Effect.sync(() => held.add(lockPath))
      ),
      () =>
        Effect.sync(() => held.delete(lockPath)).pipe(
          Effect.zipRight(readHolder(fs, lockPath)),
          Effect.flatMap((pid) => (pid === process.pid ? Effect.ignore(fs.remove(lockPath)) : Effect.void))
        )
    )
  })

/**
 * The pid of the live process holding the lock `lockPath`, if any: the one `acquire` would refuse
 * to open past. Only reads, so that a tool can look without taking the lock.
 *
 * @internal
 */
export const liveHolder = (
  lockPath: string
): Effect.Effect<number | undefined, never, FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) =>
    Effect.map(readHolder(fs, lockPath), (pid) =>
      pid != null && isAlive(pid) && (pid !== process.pid || held.has(lockPath)) ? pid : undefined
    )
  )
