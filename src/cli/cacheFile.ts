/**
 * Reading a cache file for the inspector: the snapshot and its journal, scanned with the library's
 * own reader, every record listed with where it sits, and the entries they leave, replayed the way
 * a cache's load replays them.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as codec from "../internal/persistence/codec.js"
import * as lock from "../internal/persistence/lock.js"
import * as journal from "../internal/persistence/records.js"
import { type RawEntry, RawState } from "../internal/persistence/snapshot.js"

/** A failure of the inspector, with the message it prints. */
export class CliError extends Data.TaggedError("CliError")<{ readonly message: string }> {}

/** How keys and values are decoded for display and checked by `verify`. */
export type CodecName = "auto" | "structured-clone" | "json" | "raw"

/** The choices of `--codec`, the default first. */
export const codecNames: ReadonlyArray<CodecName> = ["auto", "structured-clone", "json", "raw"]

/** One valid record of a file, where it starts, and its number among the file's records (from 0). */
export type RecordInfo =
  | {
      readonly kind: "set"
      readonly index: number
      readonly offset: number
      readonly key: Uint8Array
      readonly value: Uint8Array
      readonly expiresAt: number
    }
  | { readonly kind: "delete"; readonly index: number; readonly offset: number; readonly key: Uint8Array }
  | {
      readonly kind: "delete-many"
      readonly index: number
      readonly offset: number
      readonly keys: ReadonlyArray<Uint8Array>
    }
  | { readonly kind: "clear"; readonly index: number; readonly offset: number }

/** One of the two files, as scanned. */
export interface Part {
  readonly path: string
  readonly bytes: Uint8Array
  readonly result: journal.ScanResult
  readonly records: ReadonlyArray<RecordInfo>
  /** What is wrong with the file, if anything: where reading it stopped early, and why. */
  readonly damage: Damage | undefined
  /**
   * Records whose damaged length field their checksum repaired: read in full, but damage all the
   * same, which a cache opening the file (unless it is a stale journal) moves aside as evidence.
   */
  readonly repairs: ReadonlyArray<Repair>
}

/** A record whose length field was damaged, and repaired from its checksum. */
export interface Repair {
  readonly offset: number
  readonly index: number
  readonly description: string
  readonly movedAside: boolean
}

/**
 * Damage found by reading. `movedAside` tells what a cache opening the file does with it: `true`
 * for damage it moves aside as evidence (keeping the valid records), `false` for a torn last
 * record of a journal with no repaired record, which it drops (a write a crash cut short, never
 * acknowledged), and for any damage of a stale journal, which it ignores.
 */
export interface Damage {
  readonly offset: number
  readonly index: number
  readonly description: string
  readonly movedAside: boolean
  /** Damage in a journal older than the snapshot, which a cache opening the file ignores. */
  readonly stale: boolean
}

/** A cache file: its snapshot, its journal, and the entries they hold. */
export interface CacheFile {
  readonly snapshotPath: string
  readonly journalPath: string
  readonly lockPath: string
  readonly snapshot: Part | undefined
  readonly journal: Part | undefined
  /** Whether the journal's records count: not when its generation is older than the snapshot's. */
  readonly journalApplies: boolean
  /** Every entry the records leave, expired or not, least recently used first. */
  readonly entries: ReadonlyArray<RawEntry>
}

/** `base`: for a journal, the snapshot's generation; an older journal is stale and ignored on load. */
const scanPart = (path: string, bytes: Uint8Array, magic: string, base = 0): Part => {
  const records: Array<RecordInfo> = []
  // Offsets come from the subarrays `scan` hands out and the library's own encoders' lengths, so
  // that the record layout stays described in internal/persistence/records.ts only.
  const start = (end: number, length: number) => end - length
  const endOf = (view: Uint8Array) => view.byteOffset - bytes.byteOffset + view.length
  let previousEnd = journal.encodeHeader(magic, 0).length
  const result = journal.scan(bytes, magic, {
    set: (key, value, expiresAt) => {
      previousEnd = endOf(value)
      const offset = start(previousEnd, journal.setRecordLength(key, value))
      records.push({ kind: "set", index: records.length, offset, key, value, expiresAt })
    },
    delete: (key) => {
      previousEnd = endOf(key)
      const offset = start(previousEnd, journal.encodeDelete(key).length)
      records.push({ kind: "delete", index: records.length, offset, key })
    },
    deleteMany: (keys) => {
      // Keys are listed in the record in order; the record ends with its last key. One with no
      // key (valid, though the library never writes one) starts where the previous record ended.
      const length = journal.encodeDeleteMany(keys).length
      const offset = keys.length === 0 ? previousEnd : start(endOf(keys[keys.length - 1]!), length)
      previousEnd = offset + length
      records.push({ kind: "delete-many", index: records.length, offset, keys })
    },
    clear: () => {
      const offset = previousEnd
      previousEnd += journal.encodeClear().length
      records.push({ kind: "clear", index: records.length, offset })
    }
  })
  const stale = result.generation !== undefined && result.generation < base
  // Numbered as records are everywhere else: by how many come before it. A snapshot's end record,
  // repaired too when its length is damaged, is not listed, and is numbered after the last one.
  const repairs = result.repairedAt.map((offset) => ({
    offset,
    index: records.filter((record) => record.offset < offset).length,
    description: "its length field is damaged; its checksum gives its true end",
    movedAside: !stale
  }))
  return { path, bytes, result, records, damage: damageOf(bytes, magic, result, stale), repairs }
}

const damageOf = (
  bytes: Uint8Array,
  magic: string,
  result: journal.ScanResult,
  stale: boolean
): Damage | undefined => {
  const at = { offset: result.validLength, index: result.records, stale }
  const isSnapshot = magic === journal.SNAPSHOT_MAGIC
  switch (result.stop) {
    case "end":
      return isSnapshot
        ? undefined
        : { ...at, description: "an end record, which only a snapshot has", movedAside: !stale }
    case "eof":
      // The library renames a snapshot into place only once it is complete.
      return isSnapshot
        ? { ...at, description: "no end record: the snapshot is incomplete", movedAside: true }
        : undefined
    case "torn":
    case "corrupt":
      return {
        ...at,
        description: journal.describeStop(bytes, magic, result),
        // A torn tail is dropped quietly only from a journal with no other damage: one with a
        // repaired record is moved aside whole.
        movedAside: !stale && (isSnapshot || result.stop === "corrupt" || result.repaired > 0)
      }
  }
}

const readOptional = (fs: FileSystem.FileSystem, path: string) =>
  fs.readFile(path).pipe(
    Effect.map((bytes): Uint8Array | undefined => bytes),
    Effect.catchAll((error) =>
      error._tag === "SystemError" && error.reason === "NotFound"
        ? Effect.succeed(undefined)
        : Effect.fail(new CliError({ message: `cannot read ${path}: ${error.message}` }))
    )
  )

/** The absolute paths of a cache file's snapshot, journal and lock, as the library names them. */
export const pathsOf = (file: string) =>
  Effect.map(Path.Path, (path) => {
    const snapshotPath = path.resolve(file)
    return { snapshotPath, journalPath: `${snapshotPath}.journal`, lockPath: `${snapshotPath}.lock` }
  })

/**
 * Fails when a live process holds the file's lock: a cache has it open and may be writing it.
 * `--read-only` skips this, and then nothing is locked: the files are read as they are.
 */
export const refuseIfLocked = (file: string, readOnly: boolean) =>
  Effect.gen(function* () {
    if (readOnly) return
    const { lockPath } = yield* pathsOf(file)
    const pid = yield* lock.liveHolder(lockPath)
    if (pid !== undefined) {
      return yield* new CliError({
        message: `${file} is open in process ${pid} (it holds ${lockPath}). Stop that process first, or pass --read-only to read the file as it is now, which may be in the middle of a write.`
      })
    }
  })

/**
 * Reads a cache file: `FILE` is the path given to `CachePersistence.file`, the snapshot; its
 * journal is `FILE.journal`. Reads only, whatever it finds.
 */
export const read = (file: string): Effect.Effect<CacheFile, CliError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const paths = yield* pathsOf(file)
    const snapshotBytes = yield* readOptional(fs, paths.snapshotPath)
    const journalBytes = yield* readOptional(fs, paths.journalPath)
    if (snapshotBytes === undefined && journalBytes === undefined) {
      return yield* new CliError({
        message: `no cache file at ${paths.snapshotPath} (nor its journal ${paths.journalPath}): give the path the cache was persisted to`
      })
    }
    const snapshot =
      snapshotBytes === undefined
        ? undefined
        : scanPart(paths.snapshotPath, snapshotBytes, journal.SNAPSHOT_MAGIC)
    // As a cache's load does: the snapshot's valid records, then a journal of its generation or later.
    const base = snapshot?.result.generation ?? 0
    const journalPart =
      journalBytes === undefined
        ? undefined
        : scanPart(paths.journalPath, journalBytes, journal.JOURNAL_MAGIC, base)
    const state = new RawState()
    for (const record of snapshot?.records ?? []) replay(state.snapshot, record)
    const journalGeneration = journalPart?.result.generation
    const journalApplies = journalGeneration !== undefined && journalGeneration >= base
    if (journalApplies) for (const record of journalPart!.records) replay(state.journal, record)
    return {
      ...paths,
      snapshot,
      journal: journalPart,
      journalApplies,
      entries: state.live(Number.NEGATIVE_INFINITY, Number.MAX_SAFE_INTEGER)
    }
  })

const replay = (visitor: journal.Visitor, record: RecordInfo) => {
  switch (record.kind) {
    case "set":
      return visitor.set(record.key, record.value, record.expiresAt)
    case "delete":
      return visitor.delete(record.key)
    case "delete-many":
      for (const key of record.keys) visitor.delete(key)
      return
    case "clear":
      return visitor.clear()
  }
}

/** A decoded key or value, or why it could not be decoded. */
export type Decoded = Either.Either<unknown, string>

/**
 * Decodes bytes with the named codec. `auto` tries the default structured clone codec, then JSON
 * (what the JSON and Schema codecs write; a Schema's encoded side, not validated); their first
 * bytes never overlap. `raw` decodes nothing.
 */
export const decode = (name: CodecName, bytes: Uint8Array): Decoded => {
  switch (name) {
    case "raw":
      return Either.left("not decoded (--codec raw)")
    case "structured-clone":
      return Either.mapLeft(
        codec.structuredClone.decode(bytes),
        (failure) => `structured clone: ${failure.description}`
      )
    case "json":
      return Either.mapLeft(codec.json.decode(bytes), (failure) => `JSON: ${failure.description}`)
    case "auto": {
      const cloned = codec.structuredClone.decode(bytes)
      if (Either.isRight(cloned)) return Either.right(cloned.right)
      return Either.mapLeft(
        codec.json.decode(bytes),
        (failure) => `neither structured clone (${cloned.left.description}) nor JSON (${failure.description})`
      )
    }
  }
}
