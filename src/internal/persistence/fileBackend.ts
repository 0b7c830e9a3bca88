/**
 * The file backend: a snapshot at `path` and a journal at `<path>.journal`, after Redis's RDB + AOF.
 *
 * Both files carry a generation in their header. A snapshot of generation `g` holds the state at
 * the start of the journal of generation `g`; a journal of an older generation is stale and
 * ignored. Compaction writes the snapshot `g + 1` (temporary file, fsync, rename, fsync of the
 * directory), then removes the journal `g`; the journal `g + 1` is created (temporary file,
 * rename) on the next flush. A crash between any two of these steps leaves either the old pair,
 * the new snapshot with a stale journal, or the new pair: always a loadable state.
 *
 * All the writing is done by one background fiber; the cache's fibers only append records to a
 * buffer, synchronously, in the order of their state changes.
 */
import type * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import { PersistenceError } from "../../CacheError.js"
import type { Backend, FileOptions, OpenContext, Persistence } from "../../CachePersistence.js"
import { currentCacheName, observeWrite, type WriteObserver } from "../metrics.js"
import * as entryCodecs from "./entryCodecs.js"
import { METHOD, type Settings, validate } from "./fileSettings.js"
import { currentFlushObserver } from "./flushObserver.js"
import { type LoadedColumns, withColumns } from "./loadedColumns.js"
import * as lock from "./lock.js"
import * as records from "./records.js"
import * as snapshots from "./snapshot.js"
import * as tempFiles from "./tempFiles.js"
import { PersistenceTypeId } from "./typeId.js"
import { Pending } from "./writeBuffer.js"

// "interval" makes writers wait for a flush when this much is waiting or the last flush is two
// intervals old: a program that never yields to the event loop would otherwise starve the flush
// (whose file operations need the event loop) and pile its writes up in memory, unbounded.
const BACKLOG = 4 << 20
const JOURNAL_HEADER_LENGTH = records.encodeHeader(records.JOURNAL_MAGIC, 0).length
// After a failed write, the writer tries again on time, whatever the volume of writes since: a disk
// that has room again is found within a second at first, within a minute at most.
const RETRY = Schedule.exponential(Duration.seconds(1)).pipe(
  Schedule.union(Schedule.spaced(Duration.minutes(1)))
)

const writeFailed = (description: string, path: string) => (cause: unknown) =>
  new PersistenceError({ reason: "WriteFailed", method: METHOD, description, path, cause })

/** @internal */
export const make = <K, V>(
  options: FileOptions<K, V>
): Persistence<K, V, PersistenceError, FileSystem.FileSystem | Path.Path> => ({
  [PersistenceTypeId]: PersistenceTypeId,
  open: (context) => open(options, context)
})

const open = <K, V>(options: FileOptions<K, V>, context: OpenContext<K, V>) =>
  Effect.gen(function* () {
    const settings = yield* validate(options)
    const codecs = yield* entryCodecs.resolveCodecs(METHOD, options)
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const snapshotPath = path.resolve(settings.path)
    const directory = path.dirname(snapshotPath)
    yield* fs
      .makeDirectory(directory, { recursive: true, mode: 0o700 })
      .pipe(Effect.mapError(writeFailed("cannot create the directory", directory)))
    yield* lock.acquire(`${snapshotPath}.lock`, METHOD)
    const store = new FileStore(fs, snapshotPath, directory, settings, codecs, context)
    yield* store.removeStaleTemporaries(path.basename(snapshotPath))
    const loaded = yield* store.load
    yield* Effect.acquireRelease(store.start, () => store.close)
    return store.backend(loaded)
  })

class FileStore<K, V> {
  readonly journalPath: string
  readonly wake = Effect.unsafeMakeLatch(false)
  generation = 0
  journalFile: { readonly file: FileSystem.File; readonly scope: Scope.CloseableScope } | undefined
  journalBytes = 0
  lastSnapshotBytes = 0
  /** Reports the flushes and compactions as the cache's metrics and spans; set by `start`. */
  observeWrite!: WriteObserver
  /** Records appended since the last flush, in state order. */
  pending = new Pending()
  /** Completed when the records now in `pending` are durable (or cannot be made so). */
  batch = newBatch()
  /** Bytes recorded since the last snapshot, and the growth at which to compact. */
  growth = 0
  compactAfter = 0
  /** The journal on disk cannot be appended to any more: only a new snapshot restores it. */
  needsSnapshot = false
  /** The last background write failed: "interval" and "close" writes report it until one succeeds. */
  error: PersistenceError | undefined
  /** The last compaction failed: the next retry compacts, whatever the growth since. */
  compactionFailed = false
  stopping = false
  /**
   * Set in the synchronous step in which the final snapshot takes the cache's entries: a write
   * accepted after it would be in neither that snapshot nor any journal, so it fails instead.
   */
  sealed = false
  flusher: Fiber.RuntimeFiber<void> | undefined
  clock: Clock.Clock = Clock.make()
  /** When the last flush of the journal ended (or the store opened). */
  flushedAt = 0

  constructor(
    readonly fs: FileSystem.FileSystem,
    readonly snapshotPath: string,
    readonly directory: string,
    readonly settings: Settings,
    readonly codecs: entryCodecs.Codecs<K, V>,
    readonly context: OpenContext<K, V>
  ) {
    this.journalPath = `${snapshotPath}.journal`
  }

  backend(loaded: LoadedColumns<K, V>): Backend<K, V, PersistenceError> {
    return withColumns<K, V, PersistenceError>(
      {
        prepareSet: (key, value, expiresAt) =>
          entryCodecs.encodeSetRecord(this.codecs, METHOD, key, value, expiresAt),
        recordSet: (prepared) => this.append(prepared as Uint8Array),
        recordDelete: (key) => {
          const encoded = this.codecs.key.encode(key)
          // A key that does not encode was never stored: there is nothing to remove on disk.
          return Either.isLeft(encoded) ? Effect.void : this.append(records.encodeDelete(encoded.right))
        },
        recordDeleteMany: (keys) => {
          const encoded: Array<Uint8Array> = []
          for (const key of keys) {
            const bytes = this.codecs.key.encode(key)
            if (Either.isRight(bytes)) encoded.push(bytes.right)
          }
          return encoded.length === 0 ? Effect.void : this.append(records.encodeDeleteMany(encoded))
        },
        recordClear: () => this.append(records.encodeClear())
      },
      loaded
    )
  }

  append(record: Uint8Array): Effect.Effect<void, PersistenceError> {
    if (this.sealed) {
      return Effect.fail(
        new PersistenceError({
          reason: "Closed",
          method: METHOD,
          description: "the cache's scope has closed; this write was not persisted",
          path: this.snapshotPath
        })
      )
    }
    this.growth += record.length
    const durability = this.settings.durability
    if (durability === "close") {
      if (this.growth > this.compactAfter) this.wake.unsafeOpen()
    } else {
      this.pending.append(record)
      if (durability === "always") {
        this.wake.unsafeOpen()
        return Deferred.await(this.batch)
      }
      if (this.growth > this.compactAfter) this.wake.unsafeOpen()
      if (
        this.pending.length > BACKLOG ||
        this.clock.unsafeCurrentTimeMillis() - this.flushedAt > 2 * Duration.toMillis(this.settings.interval)
      ) {
        this.wake.unsafeOpen()
        return Deferred.await(this.batch)
      }
    }
    return this.error === undefined ? Effect.void : Effect.fail(this.error)
  }

  // --- loading -------------------------------------------------------------------------------------

  readOptional(file: string): Effect.Effect<Option.Option<Uint8Array>, PersistenceError> {
    return this.fs.readFile(file).pipe(
      Effect.map(Option.some),
      Effect.catchAll((error) =>
        error._tag === "SystemError" && error.reason === "NotFound"
          ? Effect.succeed(Option.none())
          : Effect.fail(
              new PersistenceError({
                reason: "ReadFailed",
                method: METHOD,
                description: "cannot read the file",
                path: file,
                cause: error
              })
            )
      )
    )
  }

  /** Renames a damaged file to `<file>.corrupt-<time>`, keeping the evidence, and says so. */
  moveAside(file: string, damage: string): Effect.Effect<void> {
    const fs = this.fs
    return Effect.gen(function* () {
      const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
      let target = `${file}.corrupt-${now}`
      for (let i = 1; yield* Effect.orElseSucceed(fs.exists(target), () => false); i++) {
        target = `${file}.corrupt-${now}-${i}`
      }
      const moved = yield* Effect.either(fs.rename(file, target))
      yield* Effect.logWarning(
        Either.isRight(moved)
          ? `${damage}; moved it aside to ${target}`
          : `${damage}; it could not be moved aside`
      ).pipe(Effect.annotateLogs({ path: file }))
    })
  }

  get load(): Effect.Effect<LoadedColumns<K, V>, PersistenceError> {
    const self = this
    return Effect.gen(function* () {
      const state = new snapshots.RawState()
      let rewrite = false
      let snapshotGeneration: number | undefined
      const snapshot = yield* self.readOptional(self.snapshotPath)
      if (Option.isSome(snapshot)) {
        const result = records.scan(snapshot.value, records.SNAPSHOT_MAGIC, state.snapshot)
        snapshotGeneration = result.generation
        if (result.stop === "end" && result.repaired === 0) {
          self.lastSnapshotBytes = snapshot.value.length
        } else {
          rewrite = true
          yield* self.moveAside(self.snapshotPath, records.describeDamage("the snapshot", result, "end"))
        }
      }
      const base = snapshotGeneration ?? 0
      let journalGeneration: number | undefined
      const journalBytes = yield* self.readOptional(self.journalPath)
      let appendAt: number | undefined
      if (Option.isSome(journalBytes)) {
        const result = records.scan(
          journalBytes.value,
          records.JOURNAL_MAGIC,
          state.journal,
          (generation) => generation >= base
        )
        journalGeneration = result.generation
        if (result.generation === undefined) {
          // A journal is created under a temporary name and renamed whole, so a bad header is damage.
          if (result.stop === "corrupt") {
            rewrite = true
            yield* self.moveAside(self.journalPath, records.describeDamage("the journal", result, "eof"))
          }
        } else if (result.generation >= base) {
          if (result.generation !== base) rewrite = true
          // Damage in the middle, and damage repaired, are kept as evidence; a torn tail is not damage.
          if (result.stop === "corrupt" || result.stop === "end" || result.repaired > 0) {
            rewrite = true
            yield* self.moveAside(self.journalPath, records.describeDamage("the journal", result, "eof"))
          } else {
            if (result.stop === "torn") {
              yield* Effect.logInfo(
                `dropped the torn last record of the journal (${result.records} records kept)`
              ).pipe(Effect.annotateLogs({ path: self.journalPath }))
            }
            appendAt = result.validLength
          }
        }
      }
      const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
      const live = state.liveRows(now, self.context.capacity)
      if (rewrite) {
        self.generation = Math.max(snapshotGeneration ?? 0, journalGeneration ?? 0) + 1
        const written = yield* Effect.either(self.writeSnapshot(self.generation, state.entries(live)))
        if (Either.isLeft(written) || Either.isLeft(written.right.synced)) {
          self.needsSnapshot = true
          yield* Effect.logWarning("cannot write a repaired snapshot; will retry")
        }
        if (Either.isRight(written)) {
          self.lastSnapshotBytes = written.right.size
          yield* Effect.ignore(self.fs.remove(self.journalPath))
        }
      } else {
        self.generation = base
        if (appendAt !== undefined && self.settings.durability !== "close") {
          const opened = yield* Effect.either(self.openJournal(appendAt))
          // Cannot append: start from a snapshot of what was loaded, the journal is then stale.
          if (Either.isLeft(opened)) self.needsSnapshot = true
        }
      }
      self.compactAfter = Math.max(self.settings.threshold, 2 * self.lastSnapshotBytes)
      return yield* state.decode(self.codecs, live, self.snapshotPath)
    })
  }

  // --- writing -------------------------------------------------------------------------------------

  syncDirectory(): Effect.Effect<void, PersistenceError> {
    // `FileSystem` has no fsync of a directory; opening it read-only gives a handle to `sync`.
    return Effect.scoped(Effect.flatMap(this.fs.open(this.directory, { flag: "r" }), (dir) => dir.sync)).pipe(
      Effect.mapError(writeFailed("cannot fsync the directory", this.directory))
    )
  }

  /** Opens the journal for appending, truncated to `length` (dropping a torn last record). */
  openJournal(length: number): Effect.Effect<void, PersistenceError> {
    return Effect.gen(this, function* () {
      const scope = yield* Scope.make()
      const file = yield* Scope.extend(
        this.fs.open(this.journalPath, { flag: "a", mode: 0o600 }),
        scope
      ).pipe(
        Effect.tap((file) => file.truncate(length)),
        Effect.tapError(() => Scope.close(scope, Exit.void)),
        Effect.mapError(writeFailed("cannot open the journal", this.journalPath))
      )
      this.journalFile = { file, scope }
      this.journalBytes = length
    })
  }

  /**
   * Removes the temporary files that a process that stopped half-way left (we hold the lock: no
   * one else writes them now). Unlinked, never opened: a symlink planted under such a name goes,
   * and its target stays as it was.
   */
  removeStaleTemporaries(base: string): Effect.Effect<void> {
    return Effect.gen(this, function* () {
      const names = yield* Effect.orElseSucceed(this.fs.readDirectory(this.directory), () => [])
      for (const name of names) {
        if (tempFiles.isTemporaryOf(base, name)) {
          yield* Effect.ignore(this.fs.remove(`${this.directory}/${name}`))
        }
      }
    })
  }

  /**
   * Writes a new file aside, next to `target`, and returns its name. The name is unpredictable and
   * the file is created exclusively ("wx": O_CREAT | O_EXCL, which also refuses to follow a symlink
   * planted at that name), so nothing but a file of our own is ever written, and its mode is the
   * 0600 asked for (narrowed by the umask, never widened by a file that was there before).
   */
  writeAside<A>(
    target: string,
    write: (file: FileSystem.File) => Effect.Effect<A, PlatformError.PlatformError>
  ): Effect.Effect<{ readonly temporary: string; readonly result: A }, PlatformError.PlatformError> {
    const fs = this.fs
    const attempt = (
      tries: number
    ): Effect.Effect<{ readonly temporary: string; readonly result: A }, PlatformError.PlatformError> =>
      Effect.scoped(
        Effect.gen(function* () {
          const temporary = `${target}${tempFiles.TEMPORARY_INFIX}${tempFiles.randomSuffix()}`
          const opened = yield* Effect.either(fs.open(temporary, { flag: "wx", mode: 0o600 }))
          if (Either.isLeft(opened)) {
            // Someone else's file (or link) at that name: leave it, and try another name.
            const taken = opened.left._tag === "SystemError" && opened.left.reason === "AlreadyExists"
            return yield* taken && tries < 3 ? attempt(tries + 1) : Effect.fail(opened.left)
          }
          const result = yield* write(opened.right).pipe(
            Effect.tapError(() => Effect.ignore(fs.remove(temporary)))
          )
          return { temporary, result }
        })
      )
    return attempt(1)
  }

  /** Starts a fresh journal of the current generation: written aside, then renamed into place. */
  createJournal(): Effect.Effect<void, PersistenceError> {
    const header = records.encodeHeader(records.JOURNAL_MAGIC, this.generation)
    return this.writeAside(this.journalPath, (file) =>
      Effect.zipRight(file.writeAll(header), file.sync)
    ).pipe(
      Effect.flatMap(({ temporary }) =>
        this.fs
          .rename(temporary, this.journalPath)
          .pipe(Effect.tapError(() => Effect.ignore(this.fs.remove(temporary))))
      ),
      Effect.mapError(writeFailed("cannot create the journal", this.journalPath)),
      Effect.zipRight(this.syncDirectory()),
      Effect.zipRight(this.openJournal(JOURNAL_HEADER_LENGTH))
    )
  }

  closeJournal(): Effect.Effect<void> {
    const current = this.journalFile
    this.journalFile = undefined
    return current === undefined ? Effect.void : Scope.close(current.scope, Exit.void)
  }

  /** Appends `bytes` to the journal and fsyncs; on failure, cuts the journal back to where it was. */
  writeJournal(bytes: Uint8Array): Effect.Effect<void, PersistenceError> {
    return Effect.gen(this, function* () {
      if (this.journalFile === undefined) yield* this.createJournal()
      const { file } = this.journalFile!
      const written = yield* Effect.either(Effect.zipRight(file.writeAll(bytes), file.sync))
      if (Either.isLeft(written)) {
        const restored = yield* Effect.either(file.truncate(this.journalBytes))
        if (Either.isLeft(restored)) this.needsSnapshot = true
        return yield* Effect.fail(writeFailed("cannot append to the journal", this.journalPath)(written.left))
      }
      this.journalBytes += bytes.length
    })
  }

  /**
   * Writes a snapshot aside, fsyncs it, renames it over the old one and fsyncs the directory. Fails
   * only if the old snapshot is still in place; once renamed, the new one is what a reader sees, so
   * a failed fsync of the directory comes back as `synced`, for the caller to report.
   */
  writeSnapshot(
    generation: number,
    entries: Iterable<snapshots.RawEntry>
  ): Effect.Effect<
    { readonly size: number; readonly synced: Either.Either<void, PersistenceError> },
    PersistenceError
  > {
    return this.writeAside(this.snapshotPath, (file) =>
      Effect.tap(
        snapshots.encodeSnapshot(generation, entries, (chunk) => file.writeAll(chunk)),
        () => file.sync
      )
    ).pipe(
      Effect.flatMap(({ result: size, temporary }) =>
        this.fs.rename(temporary, this.snapshotPath).pipe(
          Effect.tapError(() => Effect.ignore(this.fs.remove(temporary))),
          Effect.as(size)
        )
      ),
      Effect.mapError(writeFailed("cannot write the snapshot", this.snapshotPath)),
      Effect.flatMap((size) =>
        Effect.map(Effect.either(this.syncDirectory()), (synced) => ({ size, synced }))
      )
    )
  }

  get flush(): Effect.Effect<void> {
    return Effect.gen(this, function* () {
      if (this.pending.length === 0 || this.needsSnapshot) return
      const records = this.pending.take()
      const batch = this.batch
      this.batch = newBatch()
      const written = yield* Effect.either(
        this.observeWrite("CachePersistence.flush", this.writeJournal(records), () => records.length)
      )
      this.flushedAt = this.clock.unsafeCurrentTimeMillis()
      if (Either.isRight(written)) {
        this.error = undefined
        Deferred.unsafeDone(batch, Exit.void)
      } else {
        // Kept, in order, for the next attempt: the journal must not skip a change the cache made.
        this.pending.prepend(records)
        this.error = written.left
        Deferred.unsafeDone(batch, Exit.fail(written.left))
      }
    })
  }

  get compact(): Effect.Effect<boolean> {
    return Effect.gen(this, function* () {
      // One synchronous step, with no chance for another fiber to run in between: the entries are
      // exactly the state that the records taken here led to.
      const entries = this.context.entries()
      const covered = this.batch
      const coveredRecords = this.pending.take()
      const growth = this.growth
      this.batch = newBatch()
      this.growth = 0
      let unencodable = 0
      const raw = snapshots.encodeEntries(this.codecs, entries, () => unencodable++)
      const written = yield* Effect.either(
        this.observeWrite(
          "CachePersistence.compact",
          this.writeSnapshot(this.generation + 1, raw),
          ({ size }) => size
        )
      )
      if (unencodable > 0) {
        yield* Effect.logWarning(`${unencodable} entries no longer encode and were left out of the snapshot`)
      }
      if (Either.isLeft(written)) {
        this.pending.prepend(coveredRecords)
        this.growth += growth
        this.compactAfter = this.growth + Math.max(this.settings.threshold, 2 * this.lastSnapshotBytes)
        this.compactionFailed = true
        this.error = written.left
        Deferred.unsafeDone(covered, Exit.fail(written.left))
        return false
      }
      // Renamed: the new snapshot is the base now, even if the directory's fsync failed.
      const { size, synced } = written.right
      this.generation++
      this.lastSnapshotBytes = size
      this.compactAfter = Math.max(this.settings.threshold, 2 * size)
      this.needsSnapshot = false
      this.compactionFailed = false
      this.error = Either.isLeft(synced) ? synced.left : undefined
      Deferred.unsafeDone(covered, Either.isLeft(synced) ? Exit.fail(synced.left) : Exit.void)
      yield* this.closeJournal()
      // The old journal is stale now; the next flush starts the new one (and fsyncs the directory).
      yield* Effect.ignore(this.fs.remove(this.journalPath))
      return Either.isRight(synced)
    })
  }

  /** One round of writing; `retry` when it is the retry of a failed one. */
  step(retry: boolean): Effect.Effect<void> {
    return Effect.gen(this, function* () {
      yield* this.flush
      if (this.needsSnapshot || this.growth > this.compactAfter || (retry && this.compactionFailed)) {
        yield* this.compact
      }
    })
  }

  get start(): Effect.Effect<void> {
    return Effect.gen(this, function* () {
      this.clock = yield* Effect.clock
      this.observeWrite = observeWrite(yield* FiberRef.get(currentCacheName))
      this.flushedAt = this.clock.unsafeCurrentTimeMillis()
      const wait =
        this.settings.durability === "interval"
          ? Effect.raceFirst(Effect.sleep(this.settings.interval), this.wake.await)
          : this.wake.await
      const observe = yield* FiberRef.get(currentFlushObserver)
      const retry = yield* Schedule.driver(RETRY)
      const loop = Effect.gen(this, function* () {
        while (!this.stopping) {
          const retrying =
            this.error === undefined
              ? yield* Effect.as(wait, false)
              : yield* Effect.raceFirst(
                  Effect.as(Effect.ignore(retry.next(undefined)), true),
                  Effect.as(wait, false)
                )
          this.wake.unsafeClose()
          if (this.stopping) break
          yield* this.step(retrying)
          if (this.error === undefined) yield* retry.reset
          observe({ error: this.error })
        }
      })
      // Forked from an uninterruptible acquire: the loop must be interruptible again, or the race
      // above could not cut its sleep short.
      this.flusher = yield* Effect.forkDaemon(Effect.interruptible(loop))
    })
  }

  /** Stops the flusher, then writes a final snapshot (or, failing that, the journal). */
  get close(): Effect.Effect<void> {
    return Effect.gen(this, function* () {
      this.stopping = true
      this.wake.unsafeOpen()
      if (this.flusher !== undefined) yield* Fiber.await(this.flusher)
      // No yield between sealing and the compaction's first, synchronous step.
      this.sealed = true
      const compacted = yield* this.compact
      if (!compacted) {
        yield* this.flush
        yield* Effect.logError(
          this.settings.durability === "close"
            ? "cannot write the final snapshot: changes since the last snapshot are lost"
            : "cannot write the final snapshot: the journal keeps what it could",
          this.error
        ).pipe(Effect.annotateLogs({ path: this.snapshotPath }))
      }
      Deferred.unsafeDone(
        this.batch,
        Exit.fail(
          new PersistenceError({
            reason: "Closed",
            method: METHOD,
            description: "the cache's scope closed before this write was persisted",
            path: this.snapshotPath
          })
        )
      )
      yield* this.closeJournal()
    }).pipe(Effect.uninterruptible)
  }
}

const newBatch = () => Deferred.unsafeMake<void, PersistenceError>(FiberId.none)
