import { spawnSync } from "node:child_process"
import * as FileSystem from "@effect/platform/FileSystem"
import * as KeyValueStore from "@effect/platform/KeyValueStore"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import {
  Chunk,
  Clock,
  Context,
  Data,
  Duration,
  Effect,
  Either,
  Exit,
  Fiber,
  Layer,
  Option,
  Queue,
  Schema,
  Scope,
  TestClock
} from "effect"
import * as fc from "fast-check"
import { type MapStore, mapBackend } from "../examples/mapBackend.js"
import type { PersistenceError } from "../src/CacheError.js"
import * as CachePersistence from "../src/CachePersistence.js"
import { currentFlushObserver, type FlushRound } from "../src/internal/persistence/flushObserver.js"
import * as journal from "../src/internal/persistence/records.js"
import * as LruCache from "../src/LruCache.js"
import { type Backend, type Place, persistenceConformance, provide } from "./conformance/persistence.js"
import { instrument } from "./fixtures/persistence/fileSystem.js"
import { at, withLogs } from "./fixtures/persistence/logs.js"
import { pollUntil } from "./fixtures/poll.js"

// Tests that open hundreds of caches use memory-backed /dev/shm where there is one: fsync costs
// nothing there, and what they check does not depend on it.
const tempDirectoryIn = (parent: string | undefined) =>
  Effect.gen(function* () {
    const context = yield* Layer.build(NodeContext.layer)
    const fs = Context.get(context, FileSystem.FileSystem)
    const inParent = parent !== undefined && (yield* Effect.orElseSucceed(fs.exists(parent), () => false))
    const directory = yield* Effect.orDie(fs.makeTempDirectoryScoped(inParent ? { directory: parent } : {}))
    return { context, directory }
  })

const tempDirectory = tempDirectoryIn(undefined)

const fileBackend = (durability: CachePersistence.Durability): Backend => ({
  name: `file, durability "${durability}"`,
  place: Effect.map(
    tempDirectory,
    ({ context, directory }): Place =>
      (codecs) =>
        provide(CachePersistence.file({ path: `${directory}/cache.bin`, durability, ...codecs }), context)
  )
})

const keyValueBackend = (
  name: string,
  layer: Effect.Effect<Context.Context<KeyValueStore.KeyValueStore>, never, import("effect").Scope.Scope>
): Backend => ({
  name: `keyValueStore, ${name}`,
  place: Effect.map(
    layer,
    (context): Place =>
      (codecs) =>
        provide(CachePersistence.keyValueStore({ key: "cache", ...codecs }), context)
  )
})

// A backend written against the public contract alone: passing the suite shows the contract is enough.
const ownBackend: Backend = {
  name: "a backend of one's own (examples/mapBackend.ts)",
  place: Effect.sync((): Place => {
    const store: MapStore = new Map()
    return (codecs) => mapBackend(store, codecs)
  })
}

persistenceConformance([
  fileBackend("always"),
  fileBackend("interval"),
  fileBackend("close"),
  keyValueBackend("layerMemory", Layer.build(KeyValueStore.layerMemory)),
  keyValueBackend(
    "layerFileSystem",
    Effect.flatMap(tempDirectory, ({ context, directory }) =>
      Layer.build(
        Layer.provide(KeyValueStore.layerFileSystem(directory), Layer.succeedContext(context))
      ).pipe(Effect.orDie)
    )
  ),
  ownBackend
])

describe("codecs", () => {
  it("structuredClone keeps rich values and refuses functions and symbols", () => {
    const codec = CachePersistence.codec.structuredClone
    const value = { d: new Date(5), m: new Map([[1, new Set(["x"])]]), n: 10n, a: new Float64Array([1.5]) }
    const bytes = Either.getOrThrow(codec.encode(value))
    expect(Either.getOrThrow(codec.decode(bytes))).toEqual(value)
    expect(Either.isLeft(codec.encode(() => 1))).toBe(true)
    expect(Either.isLeft(codec.encode({ s: Symbol("s") }))).toBe(true)
    expect(Either.isLeft(codec.decode(new Uint8Array([0xff, 0x0f, 0x63])))).toBe(true)
  })

  it("structuredClone round-trips what its fast forms and v8 each take", () => {
    const codec = CachePersistence.codec.structuredClone
    const sparse: Array<number> = [1]
    sparse[2] = 3
    const values: ReadonlyArray<unknown> = [
      "",
      "héllo \u{1F600}",
      0,
      -0,
      Number.NaN,
      Infinity,
      1e300,
      true,
      null,
      undefined,
      sparse,
      [1, "a", { b: [null, false] }],
      { a: undefined },
      { nested: { at: new Date(3) } },
      Object.assign(Object.create(null), { x: 1 }),
      { __proto__: null, constructor: 1 },
      [new Map(), new Set([[]])]
    ]
    for (const value of values) {
      const decoded = Either.getOrThrow(codec.decode(Either.getOrThrow(codec.encode(value))))
      // Prototypes are not data: a null-prototype object comes back a plain one.
      expect(decoded).toEqual(value)
      if (typeof value === "number") expect(Object.is(decoded, value)).toBe(true)
    }
    const roundTrip = (value: unknown) =>
      Either.getOrThrow(codec.decode(Either.getOrThrow(codec.encode(value))))
    expect(1 in (roundTrip(sparse) as Array<number>)).toBe(false)
    expect(Object.keys(roundTrip({ a: undefined }) as object)).toEqual(["a"])
    const shared = { same: true }
    expect(Either.getOrThrow(codec.decode(Either.getOrThrow(codec.encode(shared))))).toEqual(shared)
    expect(Either.getOrThrow(codec.decode(Either.getOrThrow(codec.encode(shared))))).toEqual(shared)
  })

  it("a value that throws while being read is a typed failure of every codec, not a defect", () => {
    const throwingGetter = {
      get boom(): never {
        throw new Error("getter boom")
      }
    }
    const hostile = new Proxy(
      {},
      {
        get: () => {
          throw new Error("trap boom")
        },
        ownKeys: () => {
          throw new Error("trap boom")
        },
        getPrototypeOf: () => {
          throw new Error("trap boom")
        }
      }
    )
    const codecs = [
      CachePersistence.codec.structuredClone,
      CachePersistence.codec.json,
      CachePersistence.codec.schema(Schema.Struct({ boom: Schema.String }))
    ]
    for (const codec of codecs) {
      for (const value of [throwingGetter, hostile, [throwingGetter], { nested: hostile }]) {
        const encoded = codec.encode(value as never)
        expect(Either.isLeft(encoded), `${codec.name} encoding a hostile value`).toBe(true)
      }
    }
    const mine = CachePersistence.codec.make<number>(
      "mine",
      () => {
        throw new Error("encoder bug")
      },
      () => {
        throw new Error("decoder bug")
      }
    )
    const failed = mine.encode(1)
    expect(Either.isLeft(failed) && failed.left.description).toContain("encoder bug")
    expect(Either.isLeft(mine.decode(new Uint8Array([1])))).toBe(true)
  })

  it("structuredClone keeps the extra own properties of an array, as v8 does", () => {
    const codec = CachePersistence.codec.structuredClone
    const tagged = Object.assign([1, "two", { three: 3 }], { label: "kept" })
    const decoded = Either.getOrThrow(codec.decode(Either.getOrThrow(codec.encode(tagged)))) as typeof tagged
    expect(decoded.label).toBe("kept")
    expect(Object.keys(decoded)).toEqual(["0", "1", "2", "label"])
    const nested = { list: Object.assign([1], { extra: true }) }
    const back = Either.getOrThrow(codec.decode(Either.getOrThrow(codec.encode(nested)))) as typeof nested
    expect(back.list.extra).toBe(true)
  })

  it("json refuses what JSON cannot represent", () => {
    const codec = CachePersistence.codec.json
    expect(Either.getOrThrow(codec.decode(Either.getOrThrow(codec.encode({ a: [1, "b", null] }))))).toEqual({
      a: [1, "b", null]
    })
    expect(Either.isLeft(codec.encode(undefined))).toBe(true)
    expect(Either.isLeft(codec.encode(1n))).toBe(true)
    expect(Either.isLeft(codec.decode(new Uint8Array([0xc3, 0x28])))).toBe(true)
  })

  it("schema validates on the way in and out", () => {
    const codec = CachePersistence.codec.schema(Schema.Struct({ at: Schema.Date, n: Schema.BigInt }))
    const value = { at: new Date(7), n: 12345678901234567890n }
    expect(Either.getOrThrow(codec.decode(Either.getOrThrow(codec.encode(value))))).toEqual(value)
    expect(Either.isLeft(codec.encode({ at: "not a date", n: 1n } as any))).toBe(true)
    expect(Either.isLeft(codec.decode(new TextEncoder().encode('{"at":"x","n":"1"}')))).toBe(true)
    expect(CachePersistence.isCodec(codec)).toBe(true)
  })
})

describe("record checksums", () => {
  const ascii = (text: string) => new TextEncoder().encode(text)
  const ramp = new Uint8Array(1024).map((_, i) => i & 0xff)

  it("are CRC-32 as zlib computes it: known vectors, short (table) and long (zlib)", () => {
    for (const crc of [journal.crc32, journal.crc32Table]) {
      expect(crc(ascii("123456789"))).toBe(0xcbf43926)
      expect(crc(ascii("The quick brown fox jumps over the lazy dog"))).toBe(0x414fa339)
      expect(crc(ramp)).toBe(0xb70b4c26)
      expect(crc(new Uint8Array())).toBe(0)
    }
  })

  it("give the same values by either route, over any span and continued from any split", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.nat(), fc.nat(), fc.nat(), (bytes, a, b, c) => {
        const [start, split, end] = [a, b, c].map((n) => n % (bytes.length + 1)).sort((x, y) => x - y) as [
          number,
          number,
          number
        ]
        const whole = journal.crc32Table(bytes, start, end)
        expect(journal.crc32(bytes, start, end)).toBe(whole)
        expect(journal.crc32(bytes, split, end, journal.crc32(bytes, start, split))).toBe(whole)
        expect(journal.crc32Table(bytes, split, end, journal.crc32Table(bytes, start, split))).toBe(whole)
      }),
      { numRuns: 300 }
    )
  })
})

// --- the file backend ------------------------------------------------------------------------------

/** A place on disk, and a way to open a cache on it with a given file system. */
const onDiskIn = (parent: string | undefined) =>
  Effect.gen(function* () {
    const { context, directory } = yield* tempDirectoryIn(parent)
    const path = `${directory}/cache.bin`
    const open = <K, V>(
      options: Omit<CachePersistence.FileOptions<K, V>, "path"> & { readonly capacity?: number } = {},
      fs: FileSystem.FileSystem = Context.get(context, FileSystem.FileSystem)
    ) =>
      LruCache.make<K, V, PersistenceError, never>({
        capacity: options.capacity ?? 100,
        persistence: provide(
          CachePersistence.file<K, V>({ ...options, path }),
          Context.add(context, FileSystem.FileSystem, fs)
        )
      })
    return { context, directory, path, open, fs: Context.get(context, FileSystem.FileSystem) }
  })

const onDisk = onDiskIn(undefined)

/** Copies the files as they are now (what a crash now would leave) to a new place. */
const copyFiles = (fs: FileSystem.FileSystem, path: string) =>
  Effect.gen(function* () {
    const copy = yield* onDisk
    for (const suffix of ["", ".journal"]) {
      const bytes = yield* Effect.option(fs.readFile(`${path}${suffix}`))
      if (bytes._tag === "Some") yield* fs.writeFile(`${copy.path}${suffix}`, bytes.value)
    }
    return copy
  })

const decode = (bytes: Uint8Array) => Either.getOrThrow(CachePersistence.codec.structuredClone.decode(bytes))

/** The records of the journal on disk now. */
const journalRecords = (fs: FileSystem.FileSystem, path: string) =>
  Effect.map(
    Effect.orElseSucceed(fs.readFile(`${path}.journal`), () => new Uint8Array()),
    (bytes) => {
      const seen: Array<string> = []
      journal.scan(bytes, journal.JOURNAL_MAGIC, {
        set: (key) => seen.push(`set ${decode(key)}`),
        delete: (key) => seen.push(`delete ${decode(key)}`),
        clear: () => seen.push("clear")
      })
      return seen
    }
  )

/**
 * Observes the rounds of the background writer of the caches that `observed` opens, so that a test
 * moving the `TestClock` waits for the round of writing that the move starts, not for real time.
 */
const writerRounds = Effect.gen(function* () {
  const rounds = yield* Queue.unbounded<FlushRound>()
  return {
    observed: <A, E, R>(open: Effect.Effect<A, E, R>) =>
      Effect.locally(open, currentFlushObserver, (round) => Queue.unsafeOffer(rounds, round)),
    /** Rounds ended so far and not yet taken. */
    ended: Queue.size(rounds),
    /** The next round to end (or the oldest one ended and not yet taken). */
    next: Queue.take(rounds),
    /** Moves the clock by `duration` and returns the round of writing this starts, once it has ended. */
    adjust: (duration: Duration.DurationInput) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const until = now + Duration.toMillis(duration)
        // Moving the clock before the writer has gone to sleep on it would leave it asleep.
        yield* pollUntil(
          Effect.map(
            TestClock.sleeps(),
            Chunk.some((at) => at > now && at <= until)
          ),
          "the writer sleeps on the clock"
        )
        yield* Queue.takeAll(rounds)
        yield* TestClock.adjust(duration)
        return yield* Queue.take(rounds)
      })
  }
})

describe("file backend", () => {
  it.each(["always", "interval", "close"] as const)(
    '"%s": a write acknowledged while the scope closes is in the files',
    (durability) =>
      Effect.gen(function* () {
        const { open } = yield* onDisk
        const scope = yield* Scope.make()
        const cache = yield* open<number, number>({ durability, capacity: 100_000 }).pipe(Scope.extend(scope))
        let acknowledged = -1
        // A writer that goes on while the scope closes: each write either fails or is persisted.
        const writer = yield* Effect.forkDaemon(
          Effect.gen(function* () {
            for (let i = 0; ; i++) {
              if (Either.isLeft(yield* Effect.either(cache.set(i, i)))) return
              acknowledged = i
              yield* Effect.yieldNow()
            }
          })
        )
        // Real files: wait for real acknowledgements (an fsync each, with "always"), then close.
        yield* pollUntil(
          Effect.sync(() => acknowledged >= 2),
          "three writes are acknowledged"
        )
        yield* Effect.repeatN(Effect.yieldNow(), 200)
        yield* Scope.close(scope, Exit.void)
        yield* Fiber.await(writer)
        const loaded = new Set(
          yield* Effect.scoped(Effect.flatMap(open<number, number>({ capacity: 100_000 }), (c) => c.keys))
        )
        const missing = Array.from({ length: acknowledged + 1 }, (_, i) => i).filter((i) => !loaded.has(i))
        expect(acknowledged).toBeGreaterThan(0)
        expect(missing).toEqual([])
      }).pipe(Effect.scoped, Effect.runPromise)
  )

  it.scoped("an Equal key needs a schema codec: without one its set fails and changes nothing", () =>
    Effect.gen(function* () {
      const Point = Schema.Data(Schema.Struct({ x: Schema.Number, y: Schema.Number }))
      const { open } = yield* onDisk
      const plain = yield* open<unknown, string>({ durability: "always" })
      const error = yield* Effect.flip(plain.set(Data.struct({ x: 1, y: 2 }), "p"))
      expect(error.reason).toBe("Unencodable")
      expect(error.message).toContain("schema")
      expect(yield* plain.size).toBe(0)

      const other = yield* onDisk
      const typed = yield* other.open<typeof Point.Type, string>({
        durability: "always",
        keyCodec: CachePersistence.codec.schema(Point),
        valueCodec: CachePersistence.codec.json
      })
      yield* typed.set(Data.struct({ x: 1, y: 2 }), "p")
      const crashed = yield* copyFiles(other.fs, other.path)
      const reopened = yield* crashed.open<typeof Point.Type, string>({
        keyCodec: CachePersistence.codec.schema(Point),
        valueCodec: CachePersistence.codec.json
      })
      // Found by an equal key made anew: it came back as a Data struct, not a plain object.
      expect(yield* reopened.get(Data.struct({ x: 1, y: 2 }))).toEqual(Option.some("p"))
    })
  )

  it.scoped("keys the cache holds as one are one on disk, and distinct strings stay distinct", () =>
    Effect.gen(function* () {
      const { open, fs, path } = yield* onDisk
      const cache = yield* open<unknown, string>({ durability: "always" })
      yield* cache.set(0, "zero")
      expect(yield* cache.delete(-0)).toBe(true)
      // Lone surrogates: UTF-8 would turn both into U+FFFD, a third string.
      yield* cache.set("\ud83d", "lone high")
      yield* cache.set("\ude00", "lone low")
      yield* cache.set("\ufffd", "replacement character")
      const crashed = yield* copyFiles(fs, path)
      const reopened = yield* crashed.open<unknown, string>({})
      expect(yield* reopened.has(0)).toBe(false)
      expect(yield* reopened.entries).toEqual([
        ["\ufffd", "replacement character"],
        ["\ude00", "lone low"],
        ["\ud83d", "lone high"]
      ])
    })
  )

  it.scoped('"always": a set completes once its record is on disk', () =>
    Effect.gen(function* () {
      const { open, fs, path } = yield* onDisk
      const cache = yield* open<string, number>({ durability: "always" })
      yield* cache.set("a", 1)
      expect(yield* journalRecords(fs, path)).toEqual(["set a"])
      yield* cache.delete("a")
      yield* cache.set("b", 2)
      yield* cache.clear
      expect(yield* journalRecords(fs, path)).toEqual(["set a", "delete a", "set b", "clear"])
    })
  )

  it.scoped('"always": concurrent writers share fsyncs', () =>
    Effect.gen(function* () {
      const { open, fs, path } = yield* onDisk
      const counted = instrument(fs, () => false)
      const cache = yield* open<number, number>({ durability: "always", capacity: 1000 }, counted.fs)
      yield* Effect.forEach(
        Array.from({ length: 200 }, (_, i) => i),
        (i) => cache.set(i, i),
        {
          concurrency: "unbounded",
          discard: true
        }
      )
      expect((yield* journalRecords(fs, path)).length).toBe(200)
      expect(counted.count("sync")).toBeLessThan(20)
    })
  )

  it.scoped('"interval": records reach the disk within the interval', () =>
    Effect.gen(function* () {
      const { open, fs, path } = yield* onDisk
      const rounds = yield* writerRounds
      const cache = yield* rounds.observed(
        open<string, number>({ durability: "interval", interval: "1 second" })
      )
      yield* cache.set("a", 1)
      expect(yield* journalRecords(fs, path)).toEqual([])
      expect(yield* rounds.ended).toBe(0)
      const round = yield* rounds.adjust("1 second")
      expect(round.error).toBeUndefined()
      expect(yield* journalRecords(fs, path)).toEqual(["set a"])
    })
  )

  it.scoped('"close": nothing is written before the scope closes, everything after', () =>
    Effect.gen(function* () {
      const { open, fs, path } = yield* onDisk
      yield* Effect.scoped(
        Effect.gen(function* () {
          const rounds = yield* writerRounds
          const cache = yield* rounds.observed(open<string, number>({ durability: "close" }))
          yield* cache.set("a", 1)
          yield* TestClock.adjust("1 minute")
          expect(yield* rounds.ended).toBe(0)
          expect(yield* fs.exists(path)).toBe(false)
          expect(yield* journalRecords(fs, path)).toEqual([])
        })
      )
      const cache = yield* open<string, number>({ durability: "close" })
      expect(yield* cache.entries).toEqual([["a", 1]])
    })
  )

  it.scoped("the journal is compacted into the snapshot, and the files stay small", () =>
    Effect.gen(function* () {
      const { open, fs, path } = yield* onDisk
      const cache = yield* open<number, string>({
        durability: "always",
        compactionThreshold: 2048,
        capacity: 20
      })
      for (let i = 0; i < 1000; i++) {
        yield* cache.set(i % 50, `value ${i}`)
        const size = Number(
          (yield* Effect.orElseSucceed(fs.stat(`${path}.journal`), () => ({ size: 0n }))).size
        )
        expect(size).toBeLessThan(2048 + 200)
      }
      const expected = yield* cache.entries
      const copy = yield* copyFiles(fs, path)
      const reopened = yield* copy.open<number, string>({ capacity: 20 })
      expect(yield* reopened.entries).toEqual(expected)
    })
  )

  it.scoped("files are created with mode 0600", () =>
    Effect.gen(function* () {
      const { open, fs, path } = yield* onDisk
      const cache = yield* open<string, number>({ durability: "always" })
      yield* cache.set("a", 1)
      yield* Effect.scoped(open<string, number>({ durability: "close" }).pipe(Effect.ignore))
      for (const file of [`${path}.journal`, `${path}.lock`]) {
        expect((yield* fs.stat(file)).mode & 0o777).toBe(0o600)
      }
    })
  )

  /** A file outside the cache's directory that a planted symlink points to. */
  const victim = Effect.gen(function* () {
    const { context, directory } = yield* tempDirectory
    const fs = Context.get(context, FileSystem.FileSystem)
    const path = `${directory}/victim.txt`
    yield* fs.writeFileString(path, "precious")
    yield* fs.chmod(path, 0o644)
    return {
      path,
      /** Fails the test if anything wrote to the victim or changed its mode. */
      untouched: Effect.gen(function* () {
        expect(yield* fs.readFileString(path)).toBe("precious")
        expect((yield* fs.stat(path)).mode & 0o777).toBe(0o644)
      })
    }
  })

  /** Writes, compactions, a journal started anew, a close: every kind of file the backend writes. */
  const everyKindOfWrite = (cache: LruCache.LruCache<string, number, PersistenceError>) =>
    Effect.forEach(
      Array.from({ length: 40 }, (_, i) => i),
      (i) => Effect.either(cache.set(`k${i % 7}`, i)),
      { discard: true }
    )

  it.scoped("a symlink planted at a temporary file's usual name redirects nothing", () =>
    Effect.gen(function* () {
      const { open, fs, path } = yield* onDisk
      const target = yield* victim
      const planted = [`${path}.tmp`, `${path}.journal.tmp`, `${path}.lock.${process.pid}.tmp`]
      for (const name of planted) yield* fs.symlink(target.path, name)
      yield* Effect.scoped(
        Effect.flatMap(open<string, number>({ durability: "always", compactionThreshold: 256 }), (cache) =>
          Effect.gen(function* () {
            yield* everyKindOfWrite(cache)
            expect(yield* cache.get("k4")).toEqual(Option.some(39))
          })
        )
      )
      yield* target.untouched
      const reopened = yield* open<string, number>({})
      expect(yield* reopened.get("k4")).toEqual(Option.some(39))
      // Stale temporary files are unlinked, never opened: the links are gone, their target stays.
      expect(yield* fs.exists(`${path}.tmp`)).toBe(false)
      expect(yield* fs.exists(`${path}.journal.tmp`)).toBe(false)
      yield* target.untouched
    })
  )

  it.scoped("a symlink planted at the exact temporary name, guessed as it is made, redirects nothing", () =>
    Effect.gen(function* () {
      const { open, fs, directory } = yield* onDisk
      const target = yield* victim
      // An attacker who wins every race: a link appears at each temporary name just before it is opened.
      const plant = (name: string) =>
        name.startsWith(directory) && name.includes(".tmp")
          ? Effect.ignore(fs.symlink(target.path, name))
          : Effect.void
      const guessing: FileSystem.FileSystem = {
        ...fs,
        open: (name, options) => Effect.zipRight(plant(name), fs.open(name, options)),
        writeFile: (name, data, options) => Effect.zipRight(plant(name), fs.writeFile(name, data, options)),
        writeFileString: (name, data, options) =>
          Effect.zipRight(plant(name), fs.writeFileString(name, data, options))
      }
      const { result: outcomes, logs } = yield* withLogs(
        Effect.gen(function* () {
          const cache = yield* open<string, number>(
            { durability: "always", compactionThreshold: 256 },
            guessing
          )
          const first = yield* Effect.either(cache.set("a", 1))
          yield* everyKindOfWrite(cache)
          // The disk refused, the memory did not.
          expect(yield* cache.get("a")).toEqual(Option.some(1))
          return { first }
        })
      )
      yield* target.untouched
      // No file could be made safely: the writes say so, and so does the close.
      expect(Either.isLeft(outcomes.first) && outcomes.first.left.reason).toBe("WriteFailed")
      expect(at(logs, "ERROR")).toEqual([expect.stringContaining("cannot write the final snapshot")])
    })
  )

  it.scoped("a leftover temporary file with mode 0666 never widens the snapshot's mode", () =>
    Effect.gen(function* () {
      const { open, fs, path } = yield* onDisk
      for (const name of [`${path}.tmp`, `${path}.journal.tmp`]) {
        yield* fs.writeFileString(name, "left over by a crash")
        yield* fs.chmod(name, 0o666)
      }
      yield* Effect.scoped(
        Effect.flatMap(open<string, number>({ durability: "always", compactionThreshold: 256 }), (cache) =>
          Effect.gen(function* () {
            for (let i = 0; i < 40; i++) {
              yield* cache.set(`k${i % 7}`, i)
              for (const file of [path, `${path}.journal`, `${path}.lock`]) {
                const mode = yield* Effect.option(Effect.map(fs.stat(file), (stat) => stat.mode & 0o777))
                if (Option.isSome(mode)) expect(mode.value.toString(8), `${file} after set ${i}`).toBe("600")
              }
            }
            expect(yield* fs.exists(path)).toBe(true)
          })
        )
      )
      expect((yield* fs.stat(path)).mode & 0o777).toBe(0o600)
      expect((yield* fs.readDirectory(path.slice(0, path.lastIndexOf("/")))).sort()).toEqual(["cache.bin"])
    })
  )

  it.scoped("a second opener of the same path is refused while the first holds it", () =>
    Effect.gen(function* () {
      const { open } = yield* onDisk
      yield* open<string, number>()
      const error = yield* Effect.flip(Effect.scoped(open<string, number>()))
      expect(error._tag).toBe("PersistenceError")
      expect((error as PersistenceError).reason).toBe("Locked")
      expect(error.message).toContain(`process ${process.pid}`)
    })
  )

  it.scoped("a lock left by a dead process is taken over", () =>
    Effect.gen(function* () {
      const { open, fs, path } = yield* onDisk
      const dead = spawnSync(process.execPath, ["-e", ""]).pid!
      yield* fs.writeFileString(`${path}.lock`, `${dead}\n`)
      const { result: holder, logs } = yield* withLogs(
        Effect.gen(function* () {
          const cache = yield* open<string, number>()
          yield* cache.set("a", 1)
          return (yield* fs.readFileString(`${path}.lock`)).trim()
        })
      )
      expect(holder).toBe(String(process.pid))
      expect(at(logs, "WARN")).toEqual([`taking over the lock of dead process ${dead}`])
    })
  )
})

// --- damaged files ---------------------------------------------------------------------------------

const encode = (value: unknown) => Either.getOrThrow(CachePersistence.codec.structuredClone.encode(value))
const concat = (parts: ReadonlyArray<Uint8Array>) => new Uint8Array(Buffer.concat(parts))

/** A snapshot and a journal written by hand, with every state the journal passes through. */
const fixture = (() => {
  const far = 1e15
  const snapshotEntries: Array<[string, string, number]> = [
    ["k0", "s0", Infinity],
    ["k1", "s1", far],
    ["k2", "s2", Infinity],
    ["k3", "s3", far],
    ["k4", "s4", Infinity]
  ]
  type Op = readonly ["set", string, string] | readonly ["delete", string] | readonly ["clear"]
  const ops: ReadonlyArray<Op> = [
    ["set", "k1", "j1"],
    ["delete", "k2"],
    ["set", "k5", "j5"],
    ["set", "k0", "j0"],
    ["clear"],
    ["set", "k7", "j7"],
    ["set", "k3", "j3"]
  ]
  const snapshot = concat([
    journal.encodeHeader(journal.SNAPSHOT_MAGIC, 2),
    ...snapshotEntries.map(([k, v, e]) => journal.encodeSet(encode(k), encode(v), e)),
    journal.encodeEnd(snapshotEntries.length)
  ])
  const records = ops.map((op) =>
    op[0] === "set"
      ? journal.encodeSet(encode(op[1]), encode(op[2]), Infinity)
      : op[0] === "delete"
        ? journal.encodeDelete(encode(op[1]))
        : journal.encodeClear()
  )
  const header = journal.encodeHeader(journal.JOURNAL_MAGIC, 2)
  const journalBytes = concat([header, ...records])
  const boundaries = records.reduce(
    (ends, record) => {
      ends.push(ends[ends.length - 1]! + record.length)
      return ends
    },
    [header.length]
  )
  // States as `cache.entries` shows them: most recently used first.
  const states: Array<Array<[string, string]>> = []
  const state = new Map(snapshotEntries.map(([k, v]) => [k, v]))
  states.push([...state].reverse())
  const written = new Map<string, Set<string>>()
  for (const [k, v] of snapshotEntries) written.set(k, new Set([v]))
  for (const op of ops) {
    if (op[0] === "set") {
      state.delete(op[1])
      state.set(op[1], op[2])
      written.set(op[1], (written.get(op[1]) ?? new Set()).add(op[2]))
    } else if (op[0] === "delete") state.delete(op[1])
    else state.clear()
    states.push([...state].reverse())
  }
  return { snapshot, journal: journalBytes, boundaries, states, written }
})()

type DiskPlace = Effect.Effect.Success<typeof onDisk>

/** Writes the given files in an emptied place, opens a cache on them and returns what it loaded. */
const loadFiles = (
  place: DiskPlace,
  files: { readonly snapshot?: Uint8Array; readonly journal?: Uint8Array }
) =>
  Effect.gen(function* () {
    for (const name of yield* place.fs.readDirectory(place.directory)) {
      yield* place.fs.remove(`${place.directory}/${name}`)
    }
    if (files.snapshot !== undefined) yield* place.fs.writeFile(place.path, files.snapshot)
    if (files.journal !== undefined) yield* place.fs.writeFile(`${place.path}.journal`, files.journal)
    const { result: entries, logs } = yield* withLogs(
      Effect.flatMap(place.open<string, string>(), (cache) => cache.entries)
    )
    const aside = (yield* place.fs.readDirectory(place.directory)).filter((name) =>
      name.includes(".corrupt-")
    )
    return { entries, aside, logs }
  })

const finalState = JSON.stringify(fixture.states[fixture.states.length - 1])

const expectOnlyWrittenValues = (entries: ReadonlyArray<readonly [string, string]>) => {
  for (const [key, value] of entries) expect(fixture.written.get(key)?.has(value)).toBe(true)
}

describe("damaged files", () => {
  it.scoped("a journal cut at any byte loads as the state after its last whole record", () =>
    Effect.gen(function* () {
      const place = yield* onDiskIn("/dev/shm")
      for (let length = 0; length <= fixture.journal.length; length++) {
        const { entries, aside, logs } = yield* loadFiles(place, {
          snapshot: fixture.snapshot,
          journal: fixture.journal.subarray(0, length)
        })
        const whole = fixture.boundaries.filter((end) => end <= length).length - 1
        expect(entries).toEqual(fixture.states[Math.max(0, whole)])
        expect(aside).toEqual([])
        // A torn tail is what a crash during a write leaves: dropped, and said so, but no alarm.
        expect(at(logs, "WARN")).toEqual([])
        if (length > fixture.boundaries[0]! && !fixture.boundaries.includes(length)) {
          expect(at(logs, "INFO")).toEqual([
            `dropped the torn last record of the journal (${whole} records kept)`
          ])
        }
      }
    })
  )

  it.scoped("a snapshot cut at any byte keeps a valid prefix, moved aside, and never a wrong value", () =>
    Effect.gen(function* () {
      const place = yield* onDiskIn("/dev/shm")
      for (let length = 0; length < fixture.snapshot.length; length++) {
        const { entries, aside, logs } = yield* loadFiles(place, {
          snapshot: fixture.snapshot.subarray(0, length),
          journal: fixture.journal
        })
        expectOnlyWrittenValues(entries)
        expect(aside.length).toBe(1)
        expect(at(logs, "WARN")).toEqual([expect.stringContaining(`the snapshot is damaged`)])
        expect(at(logs, "WARN")[0]).toContain(aside[0])
      }
      const whole = yield* loadFiles(place, { snapshot: fixture.snapshot, journal: fixture.journal })
      expect(whole.entries).toEqual(fixture.states[fixture.states.length - 1])
    })
  )

  it.scoped("flipped bytes never crash the load nor yield a wrong value", () =>
    Effect.gen(function* () {
      const place = yield* onDiskIn("/dev/shm")
      const runs = process.env.CI ? 100 : 200
      const samples = fc.sample(
        fc.record({
          inSnapshot: fc.boolean(),
          flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), {
            minLength: 1,
            maxLength: 3
          })
        }),
        { numRuns: runs, seed: 42 }
      )
      for (const { inSnapshot, flips } of samples) {
        const snapshot = fixture.snapshot.slice()
        const journalBytes = fixture.journal.slice()
        const target = inSnapshot ? snapshot : journalBytes
        for (const [position, mask] of flips) target[position % target.length]! ^= mask
        const { entries, aside, logs } = yield* loadFiles(place, { snapshot, journal: journalBytes })
        expectOnlyWrittenValues(entries)
        // Nothing lost in silence: a load that did not give the last state said why.
        if (JSON.stringify(entries) !== finalState) {
          expect(logs.length, JSON.stringify(flips)).toBeGreaterThan(0)
        }
        for (const file of aside) {
          expect(at(logs, "WARN").some((message) => message.includes(file))).toBe(true)
        }
      }
    })
  )

  it.scoped("a flipped bit in a record's length, anywhere in the journal, is repaired by the checksum", () =>
    Effect.gen(function* () {
      const place = yield* onDiskIn("/dev/shm")
      const starts = fixture.boundaries.slice(0, -1)
      for (const [index, start] of starts.entries()) {
        for (let bit = 0; bit < 32; bit++) {
          const damaged = fixture.journal.slice()
          damaged[start + (bit >> 3)]! ^= 1 << (bit & 7)
          const { entries, aside, logs } = yield* loadFiles(place, {
            snapshot: fixture.snapshot,
            journal: damaged
          })
          const where = `record ${index}, bit ${bit}`
          expect(entries, where).toEqual(fixture.states[fixture.states.length - 1])
          // Damage, even repaired, is kept as evidence and reported.
          expect(aside, where).toEqual([expect.stringMatching(/^cache\.bin\.journal\.corrupt-/)])
          expect(at(logs, "WARN"), where).toEqual([
            `the journal is damaged: repaired 1 record whose length was damaged (its checksum confirms it); moved it aside to ${place.directory}/${aside[0]}`
          ])
        }
      }
    })
  )

  it.scoped("a flipped bit in a record's length in the snapshot is repaired too", () =>
    Effect.gen(function* () {
      const place = yield* onDiskIn("/dev/shm")
      const view = new DataView(fixture.snapshot.buffer, fixture.snapshot.byteOffset)
      const starts: Array<number> = []
      for (
        let at = fixture.boundaries[0]!;
        at < fixture.snapshot.length;
        at += 8 + view.getUint32(at, true)
      ) {
        starts.push(at)
      }
      for (const start of starts) {
        for (const bit of [0, 5, 13, 31]) {
          const damaged = fixture.snapshot.slice()
          damaged[start + (bit >> 3)]! ^= 1 << (bit & 7)
          const { entries, aside, logs } = yield* loadFiles(place, {
            snapshot: damaged,
            journal: fixture.journal
          })
          const where = `record at byte ${start}, bit ${bit}`
          expect(entries, where).toEqual(fixture.states[fixture.states.length - 1])
          expect(aside, where).toEqual([expect.stringMatching(/^cache\.bin\.corrupt-/)])
          expect(at(logs, "WARN"), where).toEqual([
            expect.stringMatching(/^the snapshot is damaged: repaired 1 record/)
          ])
        }
      }
    })
  )

  it.scoped("damage in the middle of the journal is kept as evidence, with the count of records lost", () =>
    Effect.gen(function* () {
      const place = yield* onDiskIn("/dev/shm")
      const records = fixture.boundaries.length - 1
      for (let index = 0; index < records - 1; index++) {
        // The first byte of the record's body: its checksum no longer matches, its length is intact.
        const damaged = fixture.journal.slice()
        damaged[fixture.boundaries[index]! + 8]! ^= 0x10
        const { entries, aside, logs } = yield* loadFiles(place, {
          snapshot: fixture.snapshot,
          journal: damaged
        })
        // The state before the damage, which existed: never one made of records on both sides of a gap.
        expect(entries, `damage in record ${index}`).toEqual(fixture.states[index])
        expect(aside).toEqual([expect.stringMatching(/^cache\.bin\.journal\.corrupt-/)])
        expect(at(logs, "INFO")).toEqual([])
        expect(at(logs, "WARN")).toEqual([
          `the journal is damaged at byte ${fixture.boundaries[index]}: kept the ${index} records before it; lost the damaged record and the ${records - index - 1} valid records after it; moved it aside to ${place.directory}/${aside[0]}`
        ])
      }
    })
  )

  it.scoped("files that are not cache files at all are moved aside and the cache starts empty", () =>
    Effect.gen(function* () {
      const place = yield* onDiskIn("/dev/shm")
      const garbage = new TextEncoder().encode("not a cache file, not at all, no")
      const { entries, aside, logs } = yield* loadFiles(place, { snapshot: garbage, journal: garbage })
      expect(entries).toEqual([])
      expect(aside.length).toBe(2)
      expect(at(logs, "WARN")).toEqual([
        expect.stringContaining("the snapshot is damaged"),
        expect.stringContaining("the journal is damaged")
      ])
    })
  )

  it.scoped("values whose checksum holds but that no longer decode are skipped, as decode says", () =>
    Effect.gen(function* () {
      const place = yield* onDiskIn("/dev/shm")
      const bytes = (...parts: ReadonlyArray<number | string>) =>
        concat(parts.map((part) => (typeof part === "number" ? new Uint8Array([part]) : Buffer.from(part))))
      // Each of the structured clone codec's forms, good and bad, as the load decodes them in place.
      const entries: ReadonlyArray<readonly [string, Uint8Array]> = [
        ["bad json", bytes(3, "{not json")],
        ["ok", encode({ x: [1, "y"] })],
        ["short number", bytes(2, "\x01\x02")],
        ["text", encode("héllo")],
        ["bad v8", bytes(0xff, "\x0f\x63")],
        ["number", encode(-2.5)],
        ["unknown form", bytes(9)],
        ["v8", encode(new Map([[1, 2]]))]
      ]
      const snapshot = concat([
        journal.encodeHeader(journal.SNAPSHOT_MAGIC, 1),
        ...entries.map(([key, value]) => journal.encodeSet(encode(key), value, Infinity)),
        journal.encodeEnd(entries.length)
      ])
      const { entries: loaded, aside, logs } = yield* loadFiles(place, { snapshot })
      expect(loaded).toEqual([
        ["v8", new Map([[1, 2]])],
        ["number", -2.5],
        ["text", "héllo"],
        ["ok", { x: [1, "y"] }]
      ])
      expect(aside).toEqual([])
      expect(at(logs, "WARN")).toEqual([
        expect.stringMatching(/^skipped 4 persisted entries that no longer decode \(first: not JSON\)/)
      ])
    })
  )

  it.scoped("after a torn last record, new records are appended after the last whole one", () =>
    Effect.gen(function* () {
      const place = yield* onDiskIn("/dev/shm")
      const torn = fixture.journal.subarray(0, fixture.journal.length - 3)
      yield* place.fs.writeFile(place.path, fixture.snapshot)
      yield* place.fs.writeFile(`${place.path}.journal`, torn)
      const { logs } = yield* withLogs(
        Effect.gen(function* () {
          const cache = yield* place.open<string, string>({ durability: "always" })
          yield* cache.set("after", "the tear")
        })
      )
      expect(at(logs, "INFO")).toEqual([
        `dropped the torn last record of the journal (${fixture.states.length - 2} records kept)`
      ])
      expect(at(logs, "WARN")).toEqual([])
      const copy = yield* copyFiles(place.fs, place.path)
      const entries = yield* Effect.scoped(Effect.flatMap(copy.open<string, string>(), (c) => c.entries))
      expect(entries).toEqual([["after", "the tear"], ...fixture.states[fixture.states.length - 2]!])
    })
  )

  it.scoped(
    "a damaged value in a KeyValueStore is moved aside and the cache starts from its valid prefix",
    () =>
      Effect.gen(function* () {
        const context = yield* Layer.build(KeyValueStore.layerMemory)
        const store = Context.get(context, KeyValueStore.KeyValueStore)
        yield* store.set("cache", fixture.snapshot.subarray(0, fixture.snapshot.length - 20))
        const persistence = provide(CachePersistence.keyValueStore<string, string>({ key: "cache" }), context)
        const { result: entries, logs } = yield* withLogs(
          Effect.flatMap(LruCache.make({ capacity: 10, persistence }), (cache) => cache.entries)
        )
        expect(at(logs, "WARN")).toEqual([expect.stringContaining("cache.corrupt-0")])
        expect(entries.length).toBeGreaterThan(0)
        expectOnlyWrittenValues(entries)
        const aside = (yield* store.get("cache.corrupt-0")).pipe(Option.isSome)
        expect(aside).toBe(true)
      })
  )
})

// --- a failing disk --------------------------------------------------------------------------------

describe("a failing disk", () => {
  it.scoped('"interval": a failed background write fails the next writes until one succeeds', () =>
    Effect.gen(function* () {
      const place = yield* onDisk
      const faulty = instrument(place.fs, (operation, n) => operation === "sync" && n === 1 && "ENOSPC")
      const rounds = yield* writerRounds
      const cache = yield* rounds.observed(place.open<string, number>({ durability: "interval" }, faulty.fs))
      yield* cache.set("a", 1)
      expect((yield* rounds.adjust("1 second")).error?.reason).toBe("WriteFailed")
      const failed = yield* Effect.flip(cache.set("b", 2))
      expect(failed.reason).toBe("WriteFailed")
      expect(failed.message).toContain("ENOSPC")
      expect(yield* cache.get("b")).toEqual(Option.some(2))
      // The failed records are kept and retried in order: the next flush writes them all.
      expect((yield* rounds.adjust("1 second")).error).toBeUndefined()
      yield* cache.set("c", 3)
      expect(yield* journalRecords(place.fs, place.path)).toEqual(["set a", "set b"])
      expect((yield* rounds.adjust("1 second")).error).toBeUndefined()
      expect(yield* journalRecords(place.fs, place.path)).toEqual(["set a", "set b", "set c"])
    })
  )

  it.scoped('"close": once a full disk has room again, writes succeed after a retry on time', () =>
    Effect.gen(function* () {
      const place = yield* onDisk
      let full = true
      const faulty = instrument(place.fs, (operation) => operation === "write" && full && "ENOSPC")
      const rounds = yield* writerRounds
      const cache = yield* rounds.observed(
        place.open<string, number>({ durability: "close", compactionThreshold: 256 }, faulty.fs)
      )
      // Past the threshold: the writer compacts, and the full disk refuses the snapshot.
      for (let i = 0; i < 20; i++) yield* Effect.either(cache.set(`k${i}`, i))
      expect((yield* rounds.next).error?.message).toContain("ENOSPC")
      expect((yield* Effect.flip(cache.set("while full", 0))).reason).toBe("WriteFailed")
      full = false
      // A few writes, far fewer than another threshold's worth: the retry does not wait for volume.
      expect((yield* Effect.flip(cache.set("freed", 1))).reason).toBe("WriteFailed")
      expect((yield* rounds.adjust("1 second")).error).toBeUndefined()
      yield* cache.set("after", 2)
      // What a crash now would leave: the snapshot of the retry holds the writes made before it.
      const copy = yield* copyFiles(place.fs, place.path)
      const loaded = yield* copy.open<string, number>({ capacity: 100 })
      expect(yield* loaded.get("freed")).toEqual(Option.some(1))
      expect(yield* loaded.get("k19")).toEqual(Option.some(19))
    })
  )

  it.scoped("a disk that stays full is retried less and less often", () =>
    Effect.gen(function* () {
      const place = yield* onDisk
      const faulty = instrument(place.fs, (operation) => operation === "write" && "ENOSPC")
      const rounds = yield* writerRounds
      const cache = yield* rounds.observed(
        place.open<string, number>({ durability: "close", compactionThreshold: 256 }, faulty.fs)
      )
      for (let i = 0; i < 20; i++) yield* Effect.either(cache.set(`k${i}`, i))
      expect((yield* rounds.next).error).toBeDefined()
      const writesBefore = faulty.count("write")
      // Retries after 1, 2, 4 and 8 seconds: one snapshot attempt each.
      for (const delay of ["1 second", "2 seconds", "4 seconds", "8 seconds"] as const) {
        expect((yield* rounds.adjust(delay)).error?.message).toContain("ENOSPC")
      }
      expect(faulty.count("write") - writesBefore).toBe(4)
      expect(yield* rounds.ended).toBe(0)
    })
  )

  /** Thirty sets of ten keys, with compactions; what was acknowledged, and what failed how. */
  const workload = (place: DiskPlace, fs: FileSystem.FileSystem) =>
    Effect.gen(function* () {
      const cache = yield* place.open<string, number>({ durability: "always", compactionThreshold: 256 }, fs)
      const acknowledged = new Map<string, number>()
      const failures: Array<string> = []
      for (let i = 0; i < 30; i++) {
        const key = `k${i % 10}`
        const exit = yield* Effect.either(cache.set(key, i))
        if (Either.isRight(exit)) acknowledged.set(key, i)
        else failures.push(exit.left.reason)
        // The cache keeps serving from memory whatever the disk did.
        expect(yield* cache.get(key)).toEqual(Option.some(i))
      }
      return { acknowledged, failures }
    })

  it.scoped("a failed write, fsync or rename fails the set; the disk keeps every acknowledged set", () =>
    Effect.gen(function* () {
      const clean = yield* onDiskIn("/dev/shm")
      const counted = instrument(clean.fs, () => false)
      const { logs: cleanLogs } = yield* withLogs(workload(clean, counted.fs))
      expect(cleanLogs).toEqual([])
      const totals = {
        write: counted.count("write"),
        sync: counted.count("sync"),
        rename: counted.count("rename")
      }
      expect(totals.rename).toBeGreaterThan(2)
      let surfaced = 0
      for (const operation of ["write", "sync", "rename"] as const) {
        // Every n would be thorough but slow: a dozen spread over the run catch each kind of step.
        const step = Math.ceil(totals[operation] / (process.env.CI ? 12 : 24))
        for (let n = 1; n <= totals[operation]; n += step) {
          yield* Effect.scoped(
            Effect.gen(function* () {
              const place = yield* onDiskIn("/dev/shm")
              const faulty = instrument(
                place.fs,
                (op, count) => op === operation && count === n && (n % 2 ? "ENOSPC" : "EACCES")
              )
              const {
                result: { acknowledged, failures },
                logs
              } = yield* withLogs(
                Effect.gen(function* () {
                  const result = yield* workload(place, faulty.fs)
                  // What a crash right now would leave on disk.
                  const copy = yield* copyFiles(place.fs, place.path)
                  const loaded = new Map(
                    yield* Effect.scoped(Effect.flatMap(copy.open<string, number>(), (c) => c.entries))
                  )
                  for (const [key, value] of result.acknowledged) {
                    // Later than acknowledged is fine: a failed write is retried with the next one.
                    expect(loaded.get(key)).toBeGreaterThanOrEqual(value)
                  }
                  for (const [key, value] of loaded) expect(value % 10).toBe(Number(key.slice(1)))
                  return result
                })
              )
              expect(failures.every((reason) => reason === "WriteFailed")).toBe(true)
              // The one thing worth a log: the final snapshot failed, and the fault is named.
              for (const line of logs) {
                expect(line.level).toBe("ERROR")
                expect(line.message).toMatch(
                  /^cannot write the final snapshot: the journal keeps what it could/
                )
                expect(line.message).toMatch(/ENOSPC|EACCES/)
              }
              surfaced += failures.length
              // After the scope closed, the files hold the cache's last state.
              const reopened = yield* Effect.scoped(
                Effect.flatMap(place.open<string, number>(), (c) => c.entries)
              )
              expect(new Map(reopened)).toEqual(
                new Map(Array.from({ length: 10 }, (_, k) => [`k${k}`, 20 + k]))
              )
              expect(acknowledged.size).toBeLessThanOrEqual(10)
            })
          )
        }
      }
      expect(surfaced).toBeGreaterThan(totals.write / 2)
    })
  )
})

describe("invalid options", () => {
  const rejects = (persistence: LruCache.Options<string, string, any, any>["persistence"], option: string) =>
    Effect.gen(function* () {
      const error = yield* LruCache.make({ capacity: 10, persistence }).pipe(
        Effect.flip,
        Effect.provide(NodeContext.layer),
        Effect.provide(KeyValueStore.layerMemory)
      )
      expect(error._tag).toBe("InvalidOption")
      expect(error).toMatchObject({ option })
      expect(error.message).toContain(`"${option}"`)
    })

  it.scoped("a file backend fails make with a typed error naming the option", () =>
    Effect.gen(function* () {
      yield* rejects(CachePersistence.file({ path: "" }), "path")
      yield* rejects(
        CachePersistence.file({ path: "x.bin", durability: "sometimes" as "always" }),
        "durability"
      )
      yield* rejects(CachePersistence.file({ path: "x.bin", interval: -1 }), "interval")
      yield* rejects(
        CachePersistence.file({ path: "x.bin", compactionThreshold: 1.5 }),
        "compactionThreshold"
      )
      yield* rejects(CachePersistence.file({ path: "x.bin", codec: JSON as never }), "codec")
    })
  )

  it.scoped("a KeyValueStore backend fails make with a typed error naming the option", () =>
    Effect.gen(function* () {
      yield* rejects(CachePersistence.keyValueStore({ key: "" }), "key")
      yield* rejects(CachePersistence.keyValueStore({ key: "cache", interval: 0 }), "interval")
    })
  )
})

describe("the delete-many record", () => {
  const header = journal.encodeHeader(journal.JOURNAL_MAGIC, 0)
  const visit = (bytes: Uint8Array) => {
    const visited: Array<string> = []
    const result = journal.scan(bytes, journal.JOURNAL_MAGIC, {
      set: (key) => visited.push(`set ${Buffer.from(key).toString("hex")}`),
      delete: (key) => visited.push(`delete ${Buffer.from(key).toString("hex")}`),
      clear: () => visited.push("clear")
    })
    return { visited, result }
  }

  it("deletes each of its keys, in order; cut anywhere, it deletes none of them", () => {
    const many = journal.encodeDeleteMany([new Uint8Array([1, 2]), new Uint8Array([]), new Uint8Array([3])])
    const set = journal.encodeSet(new Uint8Array([9]), new Uint8Array([8]), Infinity)
    const whole = concat([header, set, many])
    const { result, visited } = visit(whole)
    expect(result.stop).toBe("eof")
    expect(result.records).toBe(2)
    expect(visited).toEqual(["set 09", "delete 0102", "delete ", "delete 03"])
    for (let cut = header.length + set.length + 1; cut < whole.length; cut++) {
      const torn = visit(whole.subarray(0, cut))
      expect({ cut, stop: torn.result.stop, visited: torn.visited }).toEqual({
        cut,
        stop: "torn",
        visited: ["set 09"]
      })
    }
  })

  it("one whose key count disagrees with its keys is damage, described as such", () => {
    const many = journal.encodeDeleteMany([new Uint8Array([1]), new Uint8Array([2])])
    // Claims three keys; the checksum is made right again, so that only the count is wrong.
    const body = many.slice(8)
    new DataView(body.buffer).setUint32(1, 3, true)
    const framed = new Uint8Array(many.length)
    const view = new DataView(framed.buffer)
    view.setUint32(0, body.length, true)
    view.setUint32(4, journal.crc32(body), true)
    framed.set(body, 8)
    const bytes = concat([header, framed])
    const { result, visited } = visit(bytes)
    expect(result.stop).not.toBe("eof")
    expect(visited).toEqual([])
    expect(journal.describeStop(bytes, journal.JOURNAL_MAGIC, result)).toBe(
      "a delete-many record whose keys do not fill it exactly as its key count says"
    )
  })
})
