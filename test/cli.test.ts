import { execFile } from "node:child_process"
import * as FileSystem from "@effect/platform/FileSystem"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Duration, Effect, Either, Exit, Option, Schema, TestClock } from "effect"
import * as CachePersistence from "../src/CachePersistence.js"
import { CliError } from "../src/cli/cacheFile.js"
import { compact } from "../src/cli/compact.js"
import { exportEntries } from "../src/cli/export.js"
import { inspect } from "../src/cli/inspect.js"
import { verify } from "../src/cli/verify.js"
import * as codec from "../src/internal/persistence/codec.js"
import * as journal from "../src/internal/persistence/records.js"
import * as LruCache from "../src/LruCache.js"

/** Runs a command as a function, collecting what it prints. */
const captured = <A, E, R>(command: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const lines: Array<string> = []
    const base = yield* Effect.console
    const push = (...args: ReadonlyArray<unknown>) =>
      Effect.sync(() => {
        lines.push(args.join(" "))
      })
    const exit = yield* Effect.exit(Effect.withConsole(command, { ...base, log: push, error: push }))
    return { lines, text: lines.join("\n"), exit }
  })

const failureMessage = <A, E>(exit: Exit.Exit<A, E>): string => {
  if (Exit.isSuccess(exit)) return "(succeeded)"
  const failure = Cause.failureOption(exit.cause)
  return Option.isSome(failure) && failure.value instanceof CliError
    ? failure.value.message
    : Cause.pretty(exit.cause)
}

const tempDirectory = Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeTempDirectoryScoped())

/** The files a cache leaves when its process dies with the cache open. */
const copyOpenCache = (from: string, to: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    for (const suffix of ["", ".journal"]) {
      if (yield* fs.exists(`${from}${suffix}`)) yield* fs.copyFile(`${from}${suffix}`, `${to}${suffix}`)
    }
  })

const bytesOf = (path: string) => Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFile(path))

const open = (path: string) =>
  LruCache.make({
    capacity: 100,
    persistence: CachePersistence.file<string, unknown>({ path, durability: "always" })
  })

/**
 * A cache at `path`, open in the scope, holding, least recently used first: "alpha" (expires an
 * hour after time 0) and "beta" (never), in the snapshot a first session left; then, in the
 * journal of this second one, "gamma" (a second), "doomed" (deleted), and "rich" (a Date, a Map
 * and a bigint). Every record is fsynced before its write returns.
 */
const writeCache = (path: string) =>
  Effect.gen(function* () {
    yield* Effect.scoped(
      Effect.gen(function* () {
        const cache = yield* open(path)
        yield* cache.set("alpha", 1, { timeToLive: Duration.hours(1) })
        yield* cache.set("beta", "two")
      })
    )
    const cache = yield* open(path)
    yield* cache.set("gamma", 3, { timeToLive: Duration.seconds(1) })
    yield* cache.set("doomed", 4)
    yield* cache.delete("doomed")
    yield* cache.set("rich", { at: new Date(0), tags: new Map([["a", 1]]), big: 12n })
    return cache
  })

const encoded = (value: unknown) => Either.getOrThrow(codec.structuredClone.encode(value))

/**
 * The files {@link writeCache} leaves at `<directory>/cache.bin` when its process dies with the
 * cache open (a copy taken while it is), in a fresh directory.
 */
const killedCache = Effect.gen(function* () {
  const directory = yield* tempDirectory
  const path = `${directory}/cache.bin`
  yield* Effect.scoped(
    Effect.flatMap(writeCache(`${directory}/open.bin`), () => copyOpenCache(`${directory}/open.bin`, path))
  )
  return { directory, path }
})

/** Where the journal {@link writeCache} leaves has its second record: after its header and "gamma". */
const secondJournalRecord =
  journal.encodeHeader(journal.JOURNAL_MAGIC, 0).length +
  journal.encodeSet(encoded("gamma"), encoded(3), 0).length

/** Flips the bits of `mask` in byte `offset` of `file`; returns the bytes written back. */
const flipByte = (file: string, offset: number, mask: number) =>
  Effect.gen(function* () {
    const bytes = yield* bytesOf(file)
    bytes[offset]! ^= mask
    yield* Effect.flatMap(FileSystem.FileSystem, (fs) => fs.writeFile(file, bytes))
    return bytes
  })

/** The damaged journals a load or a repair moved aside in `directory`. */
const movedAside = (directory: string) =>
  Effect.map(
    Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readDirectory(directory)),
    (names) => names.filter((name) => name.startsWith("cache.bin.journal.corrupt-"))
  )

const verifyFile = (path: string) => captured(verify({ file: path, readOnly: false, codec: "auto" }))
const inspectFile = (path: string) => captured(inspect({ file: path, readOnly: false, codec: "auto" }))

describe("effect-lru-cache command", () => {
  it.scoped("inspect lists every key with its size and expiry, after a summary of the files", () =>
    Effect.gen(function* () {
      const directory = yield* tempDirectory
      yield* Effect.scoped(
        Effect.flatMap(writeCache(`${directory}/open.bin`), () =>
          copyOpenCache(`${directory}/open.bin`, `${directory}/cache.bin`)
        )
      )
      yield* TestClock.adjust(Duration.seconds(2))
      const { lines, text, exit } = yield* captured(
        inspect({ file: `${directory}/cache.bin`, readOnly: false, codec: "auto" })
      )
      expect(Exit.isSuccess(exit), text).toBe(true)
      expect(text).toContain("2 entries, complete")
      expect(text).toContain("4 records (3 set, 1 delete, 0 delete-many, 0 clear)")
      expect(text).toContain("4: 3 live, 1 expired")
      const row = (key: string) => lines.find((line) => line.startsWith(`"${key}"`))
      // Most recently used first.
      expect(lines.filter((line) => line.startsWith('"')).map((line) => line.split(" ")[0])).toEqual([
        '"rich"',
        '"gamma"',
        '"beta"',
        '"alpha"'
      ])
      expect(row("beta")).toMatch(
        new RegExp(`\\s${encoded("beta").length + encoded("two").length}\\s+never$`)
      )
      expect(row("alpha")).toContain("1970-01-01T01:00:00.000Z (in 59m 58s)")
      expect(row("gamma")).toContain("(expired 1s ago)")
      expect(lines.some((line) => line.startsWith('"doomed"'))).toBe(false)
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("verify passes a clean file and names the file, offset and record of a flipped byte", () =>
    Effect.gen(function* () {
      const { path } = yield* killedCache
      const clean = yield* verifyFile(path)
      expect(Exit.isSuccess(clean.exit), clean.text).toBe(true)
      expect(clean.text).toContain("ok: 6 records")

      // The journal's second record starts after the header and the first set record.
      const second = secondJournalRecord
      yield* flipByte(`${path}.journal`, second + 12, 0x01)
      const damaged = yield* verifyFile(path)
      expect(Exit.isFailure(damaged.exit)).toBe(true)
      expect(failureMessage(damaged.exit)).toContain("is damaged: 1 problem")
      expect(damaged.text).toContain(`${path}.journal: byte offset ${second}, record 1: checksum mismatch`)
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("a delete-many record is one record, at its own offset, in inspect and verify", () =>
    Effect.gen(function* () {
      const directory = yield* tempDirectory
      const path = `${directory}/cache.bin`
      yield* Effect.scoped(
        Effect.gen(function* () {
          const cache = yield* open(`${directory}/open.bin`)
          yield* cache.set("a1", 1)
          yield* cache.set("a2", 2)
          yield* cache.set("b", 3)
          // One record for the two keys it removes.
          expect(yield* cache.invalidateWhen((key) => key.startsWith("a"))).toBe(2)
          yield* cache.set("c", 4)
          yield* copyOpenCache(`${directory}/open.bin`, path)
        })
      )
      const inspected = yield* inspectFile(path)
      expect(Exit.isSuccess(inspected.exit), inspected.text).toBe(true)
      expect(inspected.text).toContain("5 records (4 set, 0 delete, 1 delete-many, 0 clear)")
      const clean = yield* verifyFile(path)
      expect(clean.text).toContain("ok: 5 records")

      // A byte flipped in the set after the delete-many is reported at that set: record 4.
      const header = journal.encodeHeader(journal.JOURNAL_MAGIC, 0).length
      const sets = ["a1", "a2", "b"].map(
        (key, i) => journal.encodeSet(encoded(key), encoded(i + 1), 0).length
      )
      const last =
        header +
        sets.reduce((sum, length) => sum + length, 0) +
        journal.encodeDeleteMany([encoded("a1"), encoded("a2")]).length
      yield* flipByte(`${path}.journal`, last + 12, 0x01)
      const damaged = yield* verifyFile(path)
      expect(damaged.text).toContain(`${path}.journal: byte offset ${last}, record 4: checksum mismatch`)
      expect(damaged.text).toContain("4 valid records")
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped(
    "a delete-many record with no key is listed at its offset, and the records after it at theirs",
    () =>
      Effect.gen(function* () {
        // The format allows it (the library never writes one): a file another writer or a tool made.
        const fs = yield* FileSystem.FileSystem
        const directory = yield* tempDirectory
        const path = `${directory}/cache.bin`
        const header = journal.encodeHeader(journal.JOURNAL_MAGIC, 0)
        const set = journal.encodeSet(encoded("a"), encoded(1), Number.POSITIVE_INFINITY)
        const empty = journal.encodeDeleteMany([])
        const after = journal.encodeSet(encoded("b"), encoded(2), Number.POSITIVE_INFINITY)
        const bytes = new Uint8Array(header.length + set.length + empty.length + after.length)
        let at = 0
        for (const part of [header, set, empty, after]) {
          bytes.set(part, at)
          at += part.length
        }
        yield* fs.writeFile(`${path}.journal`, bytes)
        const inspected = yield* inspectFile(path)
        expect(Exit.isSuccess(inspected.exit), failureMessage(inspected.exit)).toBe(true)
        expect(inspected.text).toContain("3 records (2 set, 0 delete, 1 delete-many, 0 clear)")
        const clean = yield* verifyFile(path)
        expect(clean.text).toContain("ok: 3 records")
        // A byte flipped in the set after it is reported at that set: record 2, at its own offset.
        const last = header.length + set.length + empty.length
        bytes[last + 12] ^= 0x01
        yield* fs.writeFile(`${path}.journal`, bytes)
        const damaged = yield* verifyFile(path)
        expect(damaged.text).toContain(`${path}.journal: byte offset ${last}, record 2: checksum mismatch`)
      }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped(
    "verify reports a record whose damaged length the checksum repaired, which a load moves aside",
    () =>
      Effect.gen(function* () {
        const { path } = yield* killedCache
        const second = secondJournalRecord
        // The length field's low byte: the record's true end is still found by its checksum.
        yield* flipByte(`${path}.journal`, second, 0x40)
        const verified = yield* verifyFile(path)
        expect(Exit.isFailure(verified.exit), verified.text).toBe(true)
        expect(verified.text).toContain(
          `${path}.journal: byte offset ${second}, record 1: its length field is damaged; its checksum gives its true end`
        )
        const inspected = yield* inspectFile(path)
        expect(inspected.text).toContain("1 record's length repaired by its checksum; run verify")
      }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped(
    "verify says a journal with a repaired record and a torn tail is moved aside, as a load does",
    () =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const { directory, path } = yield* killedCache
        const second = secondJournalRecord
        const bytes = yield* bytesOf(`${path}.journal`)
        bytes[second] ^= 0x40
        // The last record, "rich", cut short as by a crash in the middle of its write.
        const torn = bytes.subarray(0, bytes.length - 3)
        yield* fs.writeFile(`${path}.journal`, torn)
        const verified = yield* verifyFile(path)
        expect(verified.text).toContain(
          "record 3: the record's length says 65 bytes but the file ends 62 bytes after its frame (the last record: a write cut short) (a cache opening it keeps the 3 records before it and moves the file aside)"
        )
        expect(verified.text).not.toContain("never acknowledged")
        yield* Effect.scoped(open(path))
        expect(yield* movedAside(directory)).toHaveLength(1)
      }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("verify says damage in a stale journal is ignored on load, not dropped as a torn write", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const { path } = yield* killedCache
      const bytes = yield* bytesOf(`${path}.journal`)
      // Generation 0, older than the snapshot's 1: a load ignores the journal, damage and all.
      bytes.set(journal.encodeHeader(journal.JOURNAL_MAGIC, 0))
      bytes[40] ^= 0x01
      yield* fs.writeFile(`${path}.journal`, bytes)
      const verified = yield* verifyFile(path)
      expect(verified.text).toContain(`${path}.journal: byte offset 26, record 0: `)
      expect(verified.text).toContain("(the journal is stale and ignored on load)")
      expect(verified.text).not.toContain("never acknowledged")
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("verify numbers a snapshot's repaired end record as the record after the last entry", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const { path } = yield* killedCache
      const bytes = yield* bytesOf(path)
      // The end record (8 bytes of frame, 5 of body) closes the snapshot of "alpha" and "beta".
      const end = bytes.length - 13
      bytes[end] ^= 0x40
      yield* fs.writeFile(path, bytes)
      const verified = yield* verifyFile(path)
      expect(Exit.isFailure(verified.exit), verified.text).toBe(true)
      expect(verified.text).toContain(
        `${path}: byte offset ${end}, record 2: its length field is damaged; its checksum gives its true end`
      )
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("compact leaves one snapshot that loads the same entries", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const directory = yield* tempDirectory
      const path = `${directory}/cache.bin`
      const expected = yield* Effect.scoped(
        Effect.gen(function* () {
          const cache = yield* writeCache(`${directory}/open.bin`)
          yield* copyOpenCache(`${directory}/open.bin`, path)
          return yield* cache.entries
        })
      )
      const { text, exit } = yield* captured(compact({ file: path, readOnly: false, repair: false }))
      expect(Exit.isSuccess(exit), text).toBe(true)
      expect(yield* fs.exists(`${path}.journal`)).toBe(false)
      const snapshot = journal.scan(yield* bytesOf(path), journal.SNAPSHOT_MAGIC, {
        set: () => {},
        delete: () => {},
        clear: () => {}
      })
      expect(snapshot).toMatchObject({ stop: "end", records: 4 })
      const reopened = yield* Effect.scoped(
        Effect.flatMap(
          LruCache.make({ capacity: 100, persistence: CachePersistence.file<string, unknown>({ path }) }),
          (cache) => cache.entries
        )
      )
      expect(reopened).toEqual(expected)
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped.each([
    // A flipped byte inside a record: its checksum fails.
    { damage: "a corrupt record", offset: 40, mask: 0x01 },
    // A flipped bit in a record's length: its checksum repairs it, and a load moves the file aside.
    { damage: "a repaired record length", offset: secondJournalRecord, mask: 0x40 }
  ])("compact refuses a file with $damage unless told to repair it", ({ offset, mask }) =>
    Effect.gen(function* () {
      const { directory, path } = yield* killedCache
      const bytes = yield* flipByte(`${path}.journal`, offset, mask)
      const refused = yield* captured(compact({ file: path, readOnly: false, repair: false }))
      expect(failureMessage(refused.exit)).toContain("compact --repair")
      expect(yield* bytesOf(`${path}.journal`)).toEqual(bytes)
      const repaired = yield* captured(compact({ file: path, readOnly: false, repair: true }))
      expect(Exit.isSuccess(repaired.exit), repaired.text).toBe(true)
      expect(yield* movedAside(directory)).toHaveLength(1)
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("export writes one JSON line per live entry, least recently used first", () =>
    Effect.gen(function* () {
      const directory = yield* tempDirectory
      const path = `${directory}/cache.bin`
      yield* Effect.scoped(writeCache(path))
      yield* TestClock.adjust(Duration.seconds(2))
      const { lines, exit } = yield* captured(exportEntries({ file: path, readOnly: false, codec: "auto" }))
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(lines.map((line) => JSON.parse(line))).toEqual([
        { key: "alpha", value: 1, expiresAt: 3_600_000 },
        { key: "beta", value: "two", expiresAt: null },
        {
          key: "rich",
          value: { at: "1970-01-01T00:00:00.000Z", tags: { $map: [["a", 1]] }, big: { $bigint: "12" } },
          expiresAt: null
        }
      ])
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("a file written with a Schema codec verifies and lists its keys in their encoded form", () =>
    Effect.gen(function* () {
      const directory = yield* tempDirectory
      const path = `${directory}/cache.bin`
      yield* Effect.scoped(
        Effect.gen(function* () {
          const cache = yield* LruCache.make({
            capacity: 10,
            persistence: CachePersistence.file({
              path,
              keyCodec: CachePersistence.codec.schema(Schema.NumberFromString),
              valueCodec: CachePersistence.codec.schema(Schema.DateFromString)
            })
          })
          yield* cache.set(7, new Date(0))
        })
      )
      const verified = yield* verifyFile(path)
      expect(Exit.isSuccess(verified.exit), verified.text).toBe(true)
      const inspected = yield* inspectFile(path)
      expect(inspected.lines.some((line) => line.startsWith('"7"'))).toBe(true)
      // Checked against the wrong codec, every key and value fails to decode, and says where.
      const wrongCodec = yield* captured(verify({ file: path, readOnly: false, codec: "structured-clone" }))
      expect(failureMessage(wrongCodec.exit)).toContain("2 problems")
      expect(wrongCodec.text).toContain(
        `${path}: byte offset ${journal.encodeHeader(journal.SNAPSHOT_MAGIC, 0).length}, record 0: the set record's key does not decode`
      )
      const raw = yield* captured(inspect({ file: path, readOnly: false, codec: "raw" }))
      expect(raw.lines.some((line) => line.startsWith("<not decoded, 3 bytes: 223722>"))).toBe(true)
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("a file a live process holds is refused without --read-only, and left as it is", () =>
    Effect.gen(function* () {
      const directory = yield* tempDirectory
      const path = `${directory}/cache.bin`
      yield* writeCache(path) // open until the end of the test: this process holds the lock
      const before = yield* bytesOf(`${path}.journal`)
      for (const command of [
        inspect({ file: path, readOnly: false, codec: "auto" }),
        verify({ file: path, readOnly: false, codec: "auto" }),
        exportEntries({ file: path, readOnly: false, codec: "auto" }),
        compact({ file: path, readOnly: false, repair: false })
      ]) {
        const { exit } = yield* captured(command)
        expect(failureMessage(exit)).toMatch(new RegExp(`process ${process.pid}`))
      }
      const readOnly = yield* captured(inspect({ file: path, readOnly: true, codec: "auto" }))
      expect(Exit.isSuccess(readOnly.exit), readOnly.text).toBe(true)
      expect(readOnly.text).toContain(`held by live process ${process.pid}`)
      const compactReadOnly = yield* captured(compact({ file: path, readOnly: true, repair: false }))
      expect(failureMessage(compactReadOnly.exit)).toContain("cannot run with --read-only")
      expect(yield* bytesOf(`${path}.journal`)).toEqual(before)
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.live("the bin exits 0 on a clean file and non-zero on a damaged one", () =>
    Effect.gen(function* () {
      const directory = yield* tempDirectory
      const path = `${directory}/cache.bin`
      yield* Effect.scoped(writeCache(path))
      const run = (...args: Array<string>) =>
        Effect.async<{ code: number; output: string }>((resume) => {
          execFile(
            process.execPath,
            ["--import", "tsx", "src/cli/bin.ts", ...args],
            { timeout: 50_000 },
            (error, stdout, stderr) =>
              resume(
                Effect.succeed({ code: error === null ? 0 : (error.code as number), output: stdout + stderr })
              )
          )
        })
      const clean = yield* run("verify", path)
      expect(clean, clean.output).toMatchObject({ code: 0 })
      // Inside the first record, which follows the magic string and the header record.
      const first = journal.encodeHeader(journal.SNAPSHOT_MAGIC, 0).length
      yield* flipByte(path, first + 10, 0x01)
      const damaged = yield* run("verify", path)
      expect(damaged.code).toBe(1)
      expect(damaged.output).toContain(`${path}: byte offset ${first}, record 0: checksum mismatch`)
      expect(damaged.output).toContain(`effect-lru-cache: ${path} is damaged`)
    }).pipe(Effect.scoped, Effect.provide(NodeContext.layer))
  )
})
