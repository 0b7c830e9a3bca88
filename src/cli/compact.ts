/**
 * `effect-lru-cache compact FILE`: rewrites a cache file as one snapshot, through the library's
 * own file backend (lock, temporary file, fsync, rename, fsync of the directory), exactly as a
 * cache does when its scope closes. Keys and values pass through as stored bytes, never decoded,
 * so that a file written with any codec compacts.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { Codec, PersistedEntry } from "../CachePersistence.js"
import * as codec from "../internal/persistence/codec.js"
import * as fileBackend from "../internal/persistence/fileBackend.js"
import { type CacheFile, CliError, read } from "./cacheFile.js"
import { count } from "./render.js"

export interface CompactOptions {
  readonly file: string
  readonly readOnly: boolean
  /** Compact even a damaged file: keep its valid records and move it aside, as a cache would. */
  readonly repair: boolean
}

const bytes: Codec<Uint8Array> = codec.make<Uint8Array>(
  "bytes",
  (value) => Either.right(value),
  (value) => Either.right(value)
)

const sizes = (file: CacheFile) =>
  [
    file.snapshot === undefined ? "no snapshot" : `snapshot ${file.snapshot.bytes.length} bytes`,
    file.journal === undefined
      ? "no journal"
      : `journal ${file.journal.bytes.length} bytes (${count(file.journal.records.length, "record")})`
  ].join(", ")

/**
 * Rewrites the file; fails if a live process holds its lock, with `--read-only`, and on a damaged
 * file unless `repair`. Expired entries are left out, as every snapshot leaves them out.
 */
export const compact = (options: CompactOptions) =>
  Effect.gen(function* () {
    if (options.readOnly) {
      return yield* new CliError({ message: "compact rewrites the file, so it cannot run with --read-only" })
    }
    const before = yield* read(options.file)
    for (const part of [before.snapshot, before.journal]) {
      if (part === undefined || options.repair) continue
      // A repaired length is damage too: the backend moves the file aside all the same.
      const damage = [part.damage, ...part.repairs].find((found) => found?.movedAside)
      if (damage !== undefined) {
        return yield* new CliError({
          message: `${part.path} is damaged at byte offset ${damage.offset}, record ${damage.index}: ${damage.description}. Compacting keeps the records a cache opening it would keep and moves the damaged file aside, as it would: run verify to see every problem, then compact --repair to do so.`
        })
      }
    }
    yield* Effect.scoped(
      Effect.gen(function* () {
        let entries: ReadonlyArray<PersistedEntry<Uint8Array, Uint8Array>> = []
        // Durability "close": nothing is written until the scope closes, and then one snapshot.
        const backend = yield* fileBackend
          .make<Uint8Array, Uint8Array>({ path: before.snapshotPath, durability: "close", codec: bytes })
          .open({
            capacity: Number.MAX_SAFE_INTEGER,
            entries: () => entries
          })
        entries = backend.loaded
      })
    ).pipe(Effect.mapError((error) => new CliError({ message: error.message })))
    const after = yield* read(options.file)
    // The final snapshot's failure is logged, not raised, by the backend: check what is on disk.
    if (after.snapshot?.result.stop !== "end" || after.journal !== undefined) {
      return yield* new CliError({
        message: `${after.snapshotPath} was not compacted: the new snapshot could not be written (see the error logged above); the files are as before`
      })
    }
    const dropped = before.entries.length - after.entries.length
    yield* Console.log(`compacted ${after.snapshotPath}`)
    yield* Console.log(`  before: ${sizes(before)}`)
    yield* Console.log(
      `  after:  snapshot ${after.snapshot.bytes.length} bytes, generation ${after.snapshot.result.generation}, ${count(after.entries.length, "entry", "entries")}; no journal`
    )
    if (dropped > 0) yield* Console.log(`  left out ${count(dropped, "expired entry", "expired entries")}`)
  })
