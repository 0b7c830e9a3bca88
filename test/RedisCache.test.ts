import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Chunk,
  Config,
  ConfigError,
  ConfigProvider,
  Context,
  Data,
  Deferred,
  Duration,
  Effect,
  Either,
  Equal,
  Exit,
  Fiber,
  Logger,
  Option,
  type Scope
} from "effect"
import * as fc from "fast-check"
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest"
import type { RedisError } from "../src/CacheError.js"
import {
  type Commands,
  connect,
  describeConnection,
  firstConnect,
  normalizeUrl,
  sanitizeCause
} from "../src/internal/redis/client.js"
import { decodeKey, encodeKey, keyPrefix } from "../src/internal/redis/keyEncoding.js"
import * as scan from "../src/internal/redis/scan.js"
import type * as LruCache from "../src/LruCache.js"
import * as MemoCache from "../src/MemoCache.js"
import * as RedisCache from "../src/RedisCache.js"
import {
  beginTest,
  captureLogs,
  endTest,
  type Log,
  recorder,
  takeLateWarnings,
  takeLogs,
  warnings
} from "./redis/logs.js"
import { type RedisProxy, startProxy, subscriber } from "./redis/proxy.js"
import { available, type Peer, type RedisServer, spawnPeer, startServer } from "./redis/server.js"

let counter = 0
/** A fresh prefix per test, so that tests sharing a server never see each other's keys. */
const freshPrefix = (name: string) => `test:${name}:${process.pid}:${counter++}:`

const millis = (n: number) => Effect.sleep(Duration.millis(n))

/** Retries `effect` until `done` holds, every 20 ms, for at most `within` ms; returns the last result. */
const eventually = <A, E>(effect: Effect.Effect<A, E>, done: (a: A) => boolean, within = 3000) =>
  Effect.gen(function* () {
    const deadline = Date.now() + within
    while (true) {
      const result = yield* effect
      if (done(result) || Date.now() > deadline) return result
      yield* millis(20)
    }
  })

describe("redisKey", () => {
  const keyArbitrary = fc.oneof(
    fc.string(),
    fc.jsonValue(),
    fc.bigInt(),
    fc.constant(undefined),
    fc.array(fc.oneof(fc.string(), fc.integer(), fc.boolean())),
    // Names that plain assignment would treat specially.
    fc.dictionary(fc.constantFrom("__proto__", "constructor", "toString", "a"), fc.integer())
  )

  it("keeps string keys as they are, and escapes the marker", () => {
    expect(encodeKey("user:42")).toEqual(Either.right("user:42"))
    expect(encodeKey("\u0000x")).not.toEqual(encodeKey(Data.tuple("x")))
    expect(decodeKey(Either.getOrThrow(encodeKey("\u0000x")))).toBe("\u0000x")
  })

  it("encodes equal keys alike, different keys apart, and decodes them back", () => {
    fc.assert(
      fc.property(keyArbitrary, keyArbitrary, (a, b) => {
        const ea = Either.getOrThrow(encodeKey(a))
        const eb = Either.getOrThrow(encodeKey(b))
        const same = JSON.stringify(canonicalize(a)) === JSON.stringify(canonicalize(b))
        expect(ea === eb).toBe(same)
        expect(Either.getOrThrow(encodeKey(decodeKey(ea)))).toBe(ea)
      })
    )
  })

  it("keeps an own __proto__ property of a key (and every other name) through decoding", () => {
    for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      const key = JSON.parse(`{"${name}":0,"a":[{"${name}":1}]}`)
      const encoded = Either.getOrThrow(encodeKey(key))
      const decoded = decodeKey(encoded) as Record<string, unknown>
      expect(Object.keys(decoded)).toEqual([name, "a"].sort())
      expect(Object.getOwnPropertyDescriptor(decoded, name)?.value).toBe(0)
      expect(Either.getOrThrow(encodeKey(decoded))).toBe(encoded)
      expect(Equal.equals(decoded, decodeKey(encoded))).toBe(true)
    }
  })

  it("treats Data structs with the same fields as one key, whatever their order", () => {
    const a = Either.getOrThrow(encodeKey(Data.struct({ id: 1, region: "eu" })))
    const b = Either.getOrThrow(encodeKey(Data.struct({ region: "eu", id: 1 })))
    expect(a).toBe(b)
    expect(Equal.equals(decodeKey(a), Data.struct({ id: 1, region: "eu" }))).toBe(true)
  })

  it("follows the cache's key identity: 0 and -0 are one key, NaN finds NaN, Date by value", () => {
    const encoded = (key: unknown) => Either.getOrThrow(encodeKey(key))
    expect(encoded(-0)).toBe(encoded(0))
    expect(encoded(Data.tuple(-0, { a: -0 }))).toBe(encoded(Data.tuple(0, { a: 0 })))
    expect(Object.is(decodeKey(encoded(-0)), 0)).toBe(true)
    expect(encoded(0 / 0)).toBe(encoded(Number.NaN))
    expect(Number.isNaN(decodeKey(encoded(Number.NaN)))).toBe(true)
    expect(encoded(new Date(-0))).toBe(encoded(new Date(0)))
    expect(encoded(new Date(5))).not.toBe(encoded(new Date(6)))
  })

  it("rejects what has no stable encoding, naming where", () => {
    expect(encodeKey({ f: () => 1 })).toEqual(
      Either.left({ path: "key.f", reason: "a function has no stable encoding" })
    )
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(Either.isLeft(encodeKey(cyclic))).toBe(true)
    expect(Either.isLeft(encodeKey(new Map()))).toBe(true)
  })
})

/** Sorts object properties, the way the canonical encoding sees a value. */
const canonicalize = (value: unknown): unknown => {
  if (typeof value === "bigint") return `bigint:${value}`
  if (value === undefined) return "undefined:"
  if (typeof value === "string") return `string:${value}`
  if (typeof value === "number") return `number:${Object.is(value, -0) ? 0 : value}`
  if (Array.isArray(value)) return value.map(canonicalize)
  if (typeof value === "object" && value !== null) {
    // Tagged, so that an empty object and an empty array stay apart.
    return {
      object: Object.keys(value)
        .sort()
        .map((k) => [k, canonicalize((value as Record<string, unknown>)[k])])
    }
  }
  return value
}

describe.skipIf(!available)("RedisCache", () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startServer()
  })
  afterAll(async () => {
    await server?.stop()
    expect(takeLateWarnings(), "warnings logged after their test had ended").toEqual([])
  })

  /**
   * A test on the live clock (Redis expires keys on wall time), with its logs captured: a test that
   * provokes a warning asserts it with {@link expectWarnings}; any other warning fails the test.
   */
  const live = (name: string, body: () => Effect.Effect<unknown, unknown, Scope.Scope>) =>
    it.scopedLive(name, () => captureLogs(body()))

  beforeEach((context) => beginTest(context.task.name))
  afterEach(() => {
    expect(warnings(endTest())).toEqual([])
  })

  /** Takes the logs captured so far; the warnings among them must match `expected`, in order. */
  const expectWarnings = (...expected: Array<RegExp>): Array<Log> => {
    const logs = takeLogs()
    const found = warnings(logs)
    expect(found.map((log) => log.message)).toEqual(expected.map((pattern) => expect.stringMatching(pattern)))
    return logs
  }

  /** Where a peer's log lines go: to the logs of the test that spawned it. */
  const peerLog = () => {
    const record = recorder()
    return (level: string, message: string) => record({ level, message })
  }

  /**
   * Heartbeats are under test only where a test sets `heartbeatInterval`. Elsewhere they would race
   * the operations under test to notice an outage first, and a round trip slowed past the interval
   * by a busy machine would drop L1 in the middle of a test about something else. The one heartbeat
   * a cache sends as it starts may still be on its way when a test stops Redis: the outage is then
   * noticed by it rather than by the operation, hence warnings naming either.
   */
  const QUIET_HEARTBEAT = Duration.minutes(10)

  const make = <K = string, V = unknown>(prefix: string, options: Partial<RedisCache.Options<V, K>> = {}) =>
    RedisCache.make<K, V>({
      capacity: 100,
      connection: { path: server.socket },
      prefix,
      heartbeatInterval: QUIET_HEARTBEAT,
      ...options
    })

  const startPeer = (options: Record<string, unknown>) =>
    Effect.promise(() =>
      spawnPeer(
        server.socket,
        { heartbeatInterval: Duration.toMillis(QUIET_HEARTBEAT), ...options },
        peerLog()
      )
    )

  /** A peer on `server`, killed with the scope if the test ends before it is done with it. */
  const spawnScopedPeer = (options: Record<string, unknown>) =>
    Effect.acquireRelease(startPeer(options), (peer) => Effect.promise(() => peer.kill()))

  const withPeer = <A, E>(options: Record<string, unknown>, use: (peer: Peer) => Effect.Effect<A, E>) =>
    Effect.acquireUseRelease(startPeer(options), use, (peer) => Effect.promise(() => peer.close()))

  const ask = (peer: Peer, request: Parameters<Peer["request"]>[0]) =>
    Effect.promise(() => peer.request(request))

  live("maxSize bounds L1 by weight: what it evicts, or cannot hold, is served from Redis", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix("maxSize")
      const cache = yield* make<string, string>(prefix, {
        maxSize: 10,
        sizeOf: (value, key) => value.length + (key === "weighed-by-key" ? 5 : 0)
      })
      const events = yield* cache.subscribe
      yield* cache.set("a", "xxxx")
      yield* cache.set("b", "xxxx")
      expect((yield* cache.stats).totalSize).toBe(8)
      // A third entry of 4 does not fit beside them: L1 evicts the least recent, Redis keeps it.
      yield* cache.set("c", "xxxx")
      expect(Chunk.toReadonlyArray(yield* events.takeAll)).toEqual([
        { key: "a", value: "xxxx", cause: "evicted" }
      ])
      expect(yield* cache.stats).toMatchObject({ size: 2, totalSize: 8, evictions: 1 })
      expect(yield* cache.get("a")).toEqual(Option.some("xxxx"))
      expect((yield* cache.stats).remoteHits).toBe(1)
      // Too heavy for L1 on its own (6 + 5 by its key): stored in Redis, read from Redis every time.
      yield* cache.set("weighed-by-key", "yyyyyy")
      expect(yield* cache.get("weighed-by-key")).toEqual(Option.some("yyyyyy"))
      expect(yield* cache.get("weighed-by-key")).toEqual(Option.some("yyyyyy"))
      expect((yield* cache.stats).remoteHits).toBe(3)
      expect(yield* cache.has("weighed-by-key")).toBe(true)
      // Computed too heavy: returned and stored in Redis, not in L1.
      expect(yield* cache.getOrCompute("computed", Effect.succeed("z".repeat(11)))).toBe("z".repeat(11))
      expect(yield* cache.get("computed")).toEqual(Option.some("z".repeat(11)))
      expect((yield* cache.stats).remoteHits).toBe(4)
    })
  )

  live("maxSize and sizeOf go together, and a weigher's bad answer is a defect naming the key", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix("maxSize-options")
      const alone = yield* Effect.flip(make<string, string>(prefix, { maxSize: 10 }))
      expect(alone).toMatchObject({ _tag: "InvalidOption", method: "RedisCache.make", option: "maxSize" })
      const weigherAlone = yield* Effect.flip(
        make<string, string>(prefix, { sizeOf: (value) => value.length })
      )
      expect(weigherAlone).toMatchObject({ _tag: "InvalidOption", option: "sizeOf" })
      const cache = yield* make<string, number>(prefix, { maxSize: 10, sizeOf: (value) => value })
      yield* cache.set("k", 1)
      const exit = yield* Effect.exit(cache.set("k", -1))
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
      expect(String(Cause.squash((exit as Exit.Failure<void, never>).cause))).toMatch(
        /sizeOf must return a non-negative integer, got -1 for the key "k"/
      )
      // Raised before Redis took the write: L1 and Redis both still hold the old value.
      expect(yield* cache.get("k")).toEqual(Option.some(1))
      const other = yield* make<string, number>(prefix)
      expect(yield* other.get("k")).toEqual(Option.some(1))
    })
  )

  live("serves L1, L2 and misses, and counts each", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix("basics")
      const a = yield* make<string, { n: number; at: Date }>(prefix)
      const b = yield* make<string, { n: number; at: Date }>(prefix)
      const value = { n: 1, at: new Date(0) }
      yield* a.set("k", value)
      // Once b has the invalidation of that set, nothing drops what it reads next from its L1.
      yield* eventually(b.stats, (stats) => stats.invalidations >= 1)
      expect(yield* b.get("k")).toEqual(Option.some(value))
      expect(yield* b.get("k")).toEqual(Option.some(value))
      expect(yield* b.get("missing")).toEqual(Option.none())
      const stats = yield* b.stats
      expect(stats).toMatchObject({ hits: 2, remoteHits: 1, localHits: 1, misses: 1, size: 1 })
      expect(yield* b.has("k")).toBe(true)
      expect(yield* b.has("missing")).toBe(false)
      expect(yield* a.delete("k")).toBe(true)
      expect(yield* a.delete("k")).toBe(false)
      expect(yield* eventually(b.get("k"), Option.isNone)).toEqual(Option.none())
    })
  )

  live("holds at most capacity entries in L1, all of them in Redis", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix("capacity")
      const cache = yield* make<string, number>(prefix, { capacity: 2 })
      const events = yield* cache.subscribe
      yield* cache.set("a", 1)
      yield* cache.set("b", 2)
      yield* cache.get("a")
      yield* cache.set("c", 3)
      expect(yield* events.takeAll).toMatchObject({ length: 1 })
      expect((yield* cache.stats).evictions).toBe(1)
      expect((yield* cache.stats).size).toBe(2)
      expect(yield* cache.size).toBe(3)
      // The evicted entry is still in Redis: a remote hit.
      expect(yield* cache.get("b")).toEqual(Option.some(2))
      expect((yield* cache.stats).remoteHits).toBe(1)
    })
  )

  live("a subscriber that does not read holds a bounded number of events, the newest", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix("events-bound")
      const cache = yield* make<string, number>(prefix, { capacity: 2 })
      const idle = yield* cache.subscribe
      const sets = 1200
      for (let i = 0; i < sets; i++) yield* cache.set(`k${i}`, i)
      // Every set after the first two evicts one entry.
      const evictions = sets - 2
      const bound = 1024
      expect(yield* idle.size).toBe(bound)
      const stats = yield* cache.stats
      expect(stats.evictions).toBe(evictions)
      expect(stats.droppedEvents).toBe(evictions - bound)
      const kept = yield* idle.takeAll
      expect(kept.pipe((chunk) => Array.from(chunk).map((event) => event.value))).toEqual(
        Array.from({ length: bound }, (_, i) => evictions - bound + i)
      )
    })
  )

  live("two instances in two processes see each other's sets and deletes", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix("peers")
      const local = yield* make<string, string>(prefix)
      yield* withPeer({ prefix }, (peer) =>
        Effect.gen(function* () {
          yield* local.set("k", "one")
          yield* eventually(ask(peer, { op: "stats" }), (stats) => stats.invalidations >= 1)
          expect(yield* ask(peer, { op: "get", key: "k" })).toBe("one")
          // The peer now answers from its L1...
          expect(yield* ask(peer, { op: "get", key: "k" })).toBe("one")
          expect((yield* ask(peer, { op: "stats" })).localHits).toBe(1)
          // ...which this instance's writes invalidate.
          yield* local.set("k", "two")
          expect(yield* eventually(ask(peer, { op: "get", key: "k" }), (v) => v === "two")).toBe("two")
          yield* ask(peer, { op: "set", key: "k", value: "three" })
          expect(yield* local.get("k")).toEqual(Option.some("three"))
          yield* ask(peer, { op: "set", key: "k", value: "four" })
          expect(yield* eventually(local.get("k"), (v) => Equal.equals(v, Option.some("four")))).toEqual(
            Option.some("four")
          )
          expect(yield* ask(peer, { op: "delete", key: "k" })).toBe(true)
          expect(yield* eventually(local.get("k"), Option.isNone)).toEqual(Option.none())
          yield* local.set("k", "five")
          expect(yield* eventually(ask(peer, { op: "get", key: "k" }), (v) => v === "five")).toBe("five")
          expect(yield* local.delete("k")).toBe(true)
          expect(yield* eventually(ask(peer, { op: "get", key: "k" }), (v) => v === null)).toBe(null)
          expect((yield* local.stats).invalidations).toBeGreaterThanOrEqual(2)
        })
      )
    })
  )

  live("0 and -0 are one key in L1 and in Redis, and NaN finds NaN", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix("identity")
      const writer = yield* make<unknown, string>(prefix)
      const reader = yield* make<unknown, string>(prefix)
      yield* writer.set(-0, "zero")
      yield* writer.set(Data.tuple(-0, "x"), "tuple")
      yield* writer.set(Number.NaN, "nan")
      // From the writer's L1, then from Redis.
      expect(yield* writer.get(0)).toEqual(Option.some("zero"))
      expect(yield* reader.get(0)).toEqual(Option.some("zero"))
      expect(yield* reader.get(Data.tuple(0, "x"))).toEqual(Option.some("tuple"))
      expect(yield* reader.get(0 / 0)).toEqual(Option.some("nan"))
      expect(yield* reader.size).toBe(3)
      expect(yield* reader.delete(0)).toBe(true)
      expect(yield* eventually(writer.get(-0), Option.isNone)).toEqual(Option.none())
    })
  )

  live("reports other instances' invalidations of L1 copies as events", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix("events")
      const a = yield* make<string, number>(prefix)
      const b = yield* make<string, number>(prefix)
      // Subscribed before anything happens: no event can be missed.
      const subscription = yield* b.subscribe
      // Each step waits for b to receive a's invalidation, so that b's L1 holds what it should.
      const invalidations = (n: number) => eventually(b.stats, (stats) => stats.invalidations >= n)
      yield* a.set("k", 1)
      yield* invalidations(1)
      yield* b.get("k")
      yield* a.set("k", 2)
      yield* invalidations(2)
      yield* b.get("k")
      yield* a.delete("k")
      const received = yield* Effect.all([subscription.take, subscription.take]).pipe(
        Effect.timeout(Duration.seconds(3))
      )
      expect(received).toEqual([
        { key: "k", value: 1, cause: "replaced" },
        { key: "k", value: 2, cause: "deleted" }
      ])
    })
  )

  live("reads racing writes end with the last write everywhere", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix("race")
      const writer = yield* make<string, number>(prefix)
      const reader = yield* make<string, number>(prefix)
      const rounds = process.env.CI === undefined ? 300 : 1000
      let writing = true
      const reads = Effect.gen(function* () {
        while (writing) {
          yield* reader.get("k")
          // Let the event loop deliver replies and invalidations: L1 hits never wait for it.
          yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
        }
      })
      const writes = Effect.gen(function* () {
        for (let i = 0; i < rounds; i++) yield* writer.set("k", i)
        writing = false
      })
      yield* Effect.all([reads, reads, writes], { concurrency: "unbounded", discard: true })
      // Once the last invalidation has arrived, every read must see the last write.
      yield* eventually(reader.stats, (stats) => stats.invalidations >= rounds)
      expect(yield* reader.get("k")).toEqual(Option.some(rounds - 1))
    })
  )

  live("lets Redis enforce the time to live", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const prefix = freshPrefix("ttl")
        // Long enough that a loaded machine still reads the key before it expires; short enough to wait.
        const a = yield* make<string, string>(prefix, { timeToLive: Duration.millis(250) })
        const b = yield* make<string, string>(prefix)
        const raw = server.client()
        yield* a.set("k", "v")
        yield* a.set("forever", "v", { timeToLive: Duration.infinity })
        const pttl = yield* Effect.promise(() => raw.pttl(`${keyPrefix(prefix)}k`))
        expect(pttl).toBeGreaterThan(0)
        expect(pttl).toBeLessThanOrEqual(250)
        expect(yield* Effect.promise(() => raw.pttl(`${keyPrefix(prefix)}forever`))).toBe(-1)
        // b's L1 copy takes the time Redis has left, not a fresh one.
        expect(yield* b.get("k")).toEqual(Option.some("v"))
        const left = Option.getOrThrow(yield* b.remainingTtl("k"))
        expect(Duration.toMillis(left)).toBeLessThanOrEqual(250)
        expect(yield* b.remainingTtl("forever")).toEqual(Option.some(Duration.infinity))
        // Real time on purpose: Redis expires keys on its own clock.
        yield* millis(350)
        expect(yield* Effect.promise(() => raw.exists(`${keyPrefix(prefix)}k`))).toBe(0)
        expect(yield* a.get("k")).toEqual(Option.none())
        expect(yield* b.get("k")).toEqual(Option.none())
        expect(yield* b.get("forever")).toEqual(Option.some("v"))
      })
    )
  )

  live("a time to live of zero or less stores nothing and removes the key everywhere", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix("zero")
      const a = yield* make<string, string>(prefix)
      const b = yield* make<string, string>(prefix)
      yield* a.set("k", "v")
      expect(yield* b.get("k")).toEqual(Option.some("v"))
      yield* a.set("k", "w", { timeToLive: 0 })
      expect(yield* a.get("k")).toEqual(Option.none())
      expect(yield* eventually(b.get("k"), Option.isNone)).toEqual(Option.none())
    })
  )

  live("clear removes its own prefix only, and other instances drop their L1", () =>
    Effect.gen(function* () {
      // A prefix with glob characters: unescaped, `glob*:` would also match `globby:`.
      const mine = `${freshPrefix("clear")}glob*:`
      const theirs = mine.replace("glob*:", "globby:")
      const a = yield* make<string, number>(mine)
      const b = yield* make<string, number>(mine)
      const other = yield* make<string, number>(theirs)
      const raw = server.client()
      yield* Effect.promise(() => raw.set(`${mine.slice(0, -6)}unrelated`, "x"))
      for (let i = 0; i < 30; i++) yield* a.set(`k${i}`, i)
      yield* other.set("k0", 0)
      yield* other.set("k1", 1)
      expect(yield* b.get("k3")).toEqual(Option.some(3))
      expect(yield* a.size).toBe(30)
      yield* a.clear
      expect(yield* a.size).toBe(0)
      expect(yield* a.get("k3")).toEqual(Option.none())
      expect(yield* eventually(b.get("k3"), Option.isNone)).toEqual(Option.none())
      expect([...(yield* other.keys)].sort()).toEqual(["k0", "k1"])
      expect(yield* Effect.promise(() => raw.get(`${mine.slice(0, -6)}unrelated`))).toBe("x")
    })
  )

  live("no prefix reaches the keys of another, even one it begins", () =>
    Effect.gen(function* () {
      const base = freshPrefix("nested")
      const names = ["app", "app2", "app:", "app:x", "ap", "app*", "app\\"]
      const caches = yield* Effect.forEach(names, (name) => make<string, string>(`${base}${name}`))
      for (const [i, cache] of caches.entries()) {
        yield* cache.set("keep", names[i]!)
        yield* cache.set(`only-${names[i]}`, names[i]!)
        yield* cache.getOrCompute(`computed-${names[i]}`, Effect.succeed(names[i]!))
      }
      for (const [i, cache] of caches.entries()) {
        expect(yield* cache.size).toBe(3)
        expect([...(yield* cache.keys)].sort()).toEqual(
          ["keep", `only-${names[i]}`, `computed-${names[i]}`].sort()
        )
        expect((yield* cache.values).every((value) => value === names[i])).toBe(true)
      }
      // Clearing each in turn leaves every other untouched, in Redis and in L1.
      for (const [i, cache] of caches.entries()) {
        yield* cache.clear
        expect(yield* cache.size).toBe(0)
        for (const [j, other] of caches.entries()) {
          if (j <= i) continue
          expect(yield* other.size).toBe(3)
          expect(yield* other.get("keep")).toEqual(Option.some(names[j]))
        }
      }
    })
  )

  live("size, keys, values and entries read the whole prefix in Redis", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix("scan")
      type Key = { readonly id: number; readonly region: string }
      const a = yield* make<Key | string, string>(prefix)
      const b = yield* make<Key | string, string>(prefix, { capacity: 1 })
      yield* a.set(Data.struct({ id: 1, region: "eu" }), "one")
      yield* a.set(Data.struct({ region: "us", id: 2 }), "two")
      yield* a.set("plain", "three")
      expect(yield* b.size).toBe(3)
      expect(yield* b.get(Data.struct({ region: "eu", id: 1 }))).toEqual(Option.some("one"))
      const keys = yield* b.keys
      expect(keys.some((key) => Equal.equals(key, Data.struct({ id: 2, region: "us" })))).toBe(true)
      expect(keys).toContain("plain")
      expect([...(yield* b.values)].sort()).toEqual(["one", "three", "two"])
      expect((yield* b.entries).length).toBe(3)
    })
  )

  live("a value that cannot be decoded is a miss, logged and counted", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix("decode")
      const cache = yield* make<string, string>(prefix)
      const raw = server.client()
      yield* Effect.promise(() => raw.set(`${keyPrefix(prefix)}bad`, Buffer.from([0xff, 0x00, 0x13])))
      expect(yield* cache.get("bad")).toEqual(Option.none())
      expect(yield* cache.getOrCompute("bad", Effect.succeed("fresh"))).toBe("fresh")
      expect(yield* cache.get("bad")).toEqual(Option.some("fresh"))
      const stats = yield* cache.stats
      expect(stats.decodeFailures).toBe(2)
      expect(stats.misses).toBe(2)
      expectWarnings(
        /RedisCache\.get: the value of .*bad.* cannot be decoded/,
        /RedisCache\.getOrCompute: the value/
      )
    })
  )

  live("has, peek, remainingTtl and get agree on every kind of entry", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix("agree")
      const writer = yield* make<unknown, string>(prefix)
      const raw = server.client()
      const rawKey = (key: unknown) => keyPrefix(prefix) + Either.getOrThrow(encodeKey(key))
      const keys: Array<unknown> = [
        "plain",
        "expiring",
        "undecodable",
        "hash",
        "list",
        "missing",
        1,
        -0,
        Data.struct({ id: 1 }),
        Data.tuple("a", 2),
        { id: 2 },
        [1, "b"],
        new Date(0),
        2n,
        null
      ]
      for (const key of keys) {
        if (key === "missing") continue
        if (key === "expiring") yield* writer.set(key, "v", { timeToLive: Duration.minutes(1) })
        else yield* writer.set(key, "v")
      }
      yield* Effect.promise(() => raw.set(rawKey("undecodable"), Buffer.from([0xff, 0x00, 0x13])))
      yield* Effect.promise(() => raw.del(rawKey("hash"), rawKey("list")))
      yield* Effect.promise(() => raw.hset(rawKey("hash"), "field", "v"))
      yield* Effect.promise(() => raw.rpush(rawKey("list"), "v"))
      // A fresh instance reads Redis; the writer reads its L1 first (after the raw writes, which
      // sent no invalidation, its L1 still holds "v" for those keys: not what is compared here).
      const reader = yield* make<unknown, string>(prefix)
      for (const key of keys) {
        const answers = {
          has: yield* reader.has(key),
          peek: Option.isSome(yield* reader.peek(key)),
          remainingTtl: Option.isSome(yield* reader.remainingTtl(key)),
          get: Option.isSome(yield* reader.get(key))
        }
        const expected = !["undecodable", "hash", "list", "missing"].includes(key as string)
        expect({ key, ...answers }).toEqual({
          key,
          has: expected,
          peek: expected,
          remainingTtl: expected,
          get: expected
        })
        // Once in L1, the same answers.
        expect(yield* reader.has(key)).toBe(expected)
        expect(Option.isSome(yield* reader.remainingTtl(key))).toBe(expected)
      }
      // Six reads of each of the three bad entries, each logged; none of them an outage.
      const logged = warnings(takeLogs()).map((log) => log.message)
      expect(logged).toHaveLength(18)
      for (const message of logged) expect(message).toMatch(/cannot be decoded .*; counted as a miss/)
      expect((yield* reader.stats).unavailable).toBe(0)
    })
  )

  live("a value the codec cannot encode fails the write and changes nothing", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix("encode")
      const cache = yield* make<string, unknown>(prefix)
      yield* cache.set("k", "kept")
      const exit = yield* Effect.exit(cache.set("k", () => 1))
      expect(Exit.isFailure(exit) && Cause.squash(exit.cause)).toMatchObject({ _tag: "RedisError" })
      expect(yield* cache.get("k")).toEqual(Option.some("kept"))
    })
  )

  live("getOrCompute computes once across two processes", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix("stampede")
      const local = yield* make<string, string>(prefix)
      let computations = 0
      const compute = Effect.sync(() => {
        computations++
        return `${process.pid}:k`
      }).pipe(Effect.delay(Duration.millis(150)))
      yield* withPeer({ prefix }, (peer) =>
        Effect.gen(function* () {
          const remote = Effect.forEach(
            Array.from({ length: 20 }, () => ask(peer, { op: "getOrCompute", key: "k", computeMillis: 150 })),
            (request) => request,
            { concurrency: "unbounded" }
          )
          const here = Effect.forEach(
            Array.from({ length: 20 }, () => local.getOrCompute("k", compute)),
            (request) => request,
            { concurrency: "unbounded" }
          )
          const [theirs, ours] = yield* Effect.all([remote, here], { concurrency: "unbounded" })
          const all = [...theirs, ...ours]
          expect(new Set(all).size).toBe(1)
          const peerComputations: number = yield* ask(peer, { op: "computations" })
          expect(computations + peerComputations).toBe(1)
        })
      )
    })
  )

  live("takes the lock over when its holder dies", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix("holder")
      const local = yield* make<string, string>(prefix)
      const peer = yield* spawnScopedPeer({ prefix, lockTimeToLive: 1000 })
      // The peer takes the lock and would compute for 10 s...
      peer.request({ op: "getOrCompute", key: "k", computeMillis: 10_000 }).catch(() => {})
      const raw = server.client()
      yield* eventually(
        Effect.promise(() => raw.keys(`${keyPrefix(prefix)}*`)),
        (keys) => keys.length > 0
      )
      // ...and dies with it.
      yield* Effect.promise(() => peer.kill())
      const lockLeft = yield* Effect.promise(() => raw.pttl(`${keyPrefix(prefix)}\u0000lock:k`))
      expect(lockLeft).toBeGreaterThan(0)
      const start = Date.now()
      const value = yield* local.getOrCompute("k", Effect.succeed("computed here"))
      const waited = Date.now() - start
      expect(value).toBe("computed here")
      // It waited for the dead holder's lock to expire, and not much longer.
      expect(waited).toBeGreaterThanOrEqual(lockLeft - 50)
      expect(waited).toBeLessThan(lockLeft + 1000)
    })
  )

  live("waits at most lockWait for a live holder, then computes itself", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix("lockWait")
      const holder = yield* make<string, string>(prefix)
      const waiter = yield* make<string, string>(prefix, { lockWait: Duration.millis(200) })
      const slow = yield* Effect.fork(holder.getOrCompute("k", Effect.as(millis(3000), "slow")))
      const raw = server.client()
      // Once the holder has the lock, the waiter can only wait for it.
      yield* eventually(
        Effect.promise(() => raw.exists(`${keyPrefix(prefix)}\u0000lock:k`)),
        (n) => n === 1
      )
      const start = Date.now()
      expect(yield* waiter.getOrCompute("k", Effect.succeed("fast"))).toBe("fast")
      expect(Date.now() - start).toBeLessThan(1500)
      yield* Fiber.interrupt(slow)
      expectWarnings(
        /RedisCache\.getOrCompute: waited 200 ms for another instance to compute .*; computing here/
      )
    })
  )

  live("getOrCompute shares a failure with the callers waiting, and stores nothing", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix("failure")
      const cache = yield* make<string, string>(prefix)
      let runs = 0
      const failing = Effect.suspend(() => {
        runs++
        return Effect.fail("boom" as const)
      }).pipe(Effect.delay(Duration.millis(50)))
      const exits = yield* Effect.all(
        Array.from({ length: 5 }, () => Effect.exit(cache.getOrCompute("k", failing))),
        { concurrency: "unbounded" }
      )
      expect(runs).toBe(1)
      for (const exit of exits) expect(exit).toEqual(Exit.fail("boom"))
      expect(yield* cache.get("k")).toEqual(Option.none())
      expect((yield* cache.stats).loadFailures).toBe(1)
    })
  )

  live("getOrCompute fails a recursive call with RecursiveComputation instead of waiting for itself", () =>
    Effect.gen(function* () {
      const cache = yield* make<string, string>(freshPrefix("recursive"))
      const inner = Effect.suspend(() => cache.getOrCompute("k", Effect.succeed("inner")))
      const exit = yield* Effect.exit(cache.getOrCompute("k", inner))
      const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
      expect(Option.map(error, (e) => [e._tag, e.method])).toEqual(
        Option.some(["RecursiveComputation", "RedisCache.getOrCompute"])
      )
      expect(yield* cache.get("k")).toEqual(Option.none())
      expect((yield* cache.stats).loadFailures).toBe(1)
    })
  )

  live("memoization works over it unchanged, across instances", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix("memo")
      const a = yield* make<string, MemoCache.Entry>(prefix)
      const b = yield* make<string, MemoCache.Entry>(prefix)
      let calls = 0
      const square = (n: number) =>
        Effect.sync(() => {
          calls++
          return n * n
        })
      const viaA = MemoCache.cachedWith(a, square, { name: "square" })
      const viaB = MemoCache.cachedWith(b, square, { name: "square" })
      expect(yield* viaA(12)).toBe(144)
      expect(yield* viaB(12)).toBe(144)
      expect(yield* viaA(12)).toBe(144)
      expect(calls).toBe(1)
    })
  )

  live("make fails with RedisError when Redis is unreachable and whenUnavailable is fail", () =>
    Effect.gen(function* () {
      const connection = { path: `${server.socket}.missing` }
      const exit = yield* Effect.exit(
        Effect.scoped(RedisCache.make({ capacity: 10, connection, whenUnavailable: "fail" }))
      )
      expect(Exit.isFailure(exit) && Cause.squash(exit.cause)).toMatchObject({ _tag: "RedisError" })
      expectWarnings()
      const degraded = yield* Effect.scoped(
        Effect.gen(function* () {
          const cache = yield* RedisCache.make<string, number>({ capacity: 10, connection })
          yield* cache.set("k", 1)
          return yield* cache.get("k")
        })
      )
      expect(degraded).toEqual(Option.some(1))
      expectWarnings(
        // One outage, logged once.
        /RedisCache\.make: cannot connect to Redis at .*missing.*; serving from this process's cache \(L1\) until Redis is reachable/
      )
    })
  )

  live("takes the policy of L1: W-TinyLFU keeps part of a loop that LRU keeps none of", () =>
    Effect.gen(function* () {
      // A loop over more keys than L1 holds: under LRU each key is evicted just before it comes back.
      const localHits = (policy: "lru" | "w-tinylfu") =>
        Effect.gen(function* () {
          const cache = yield* make<number, number>(`policy-${policy}:`, { capacity: 10, policy })
          for (let round = 0; round < 20; round++) {
            for (let key = 0; key < 15; key++) {
              const found = yield* cache.get(key)
              if (Option.isNone(found)) yield* cache.set(key, key)
              else expect(found.value).toBe(key)
            }
          }
          return (yield* cache.stats).localHits
        }).pipe(Effect.scoped)
      expect(yield* localHits("lru")).toBe(0)
      expect(yield* localHits("w-tinylfu")).toBeGreaterThan(0)
    })
  )

  live("layerConfig reads its options, the URL as a redacted secret, from the ConfigProvider", () =>
    Effect.gen(function* () {
      class Prices extends Context.Tag("test/Prices")<
        Prices,
        LruCache.LruCache<string, number, RedisError>
      >() {}
      const live = RedisCache.layerConfig(Prices, {
        capacity: Config.integer("PRICES_CAPACITY"),
        timeToLive: Config.duration("PRICES_TTL"),
        policy: Config.literal("lru", "w-tinylfu")("PRICES_POLICY"),
        connection: Config.redacted("REDIS_URL"),
        prefix: Config.succeed("config:")
      })
      const settings = (env: Record<string, string>) => ConfigProvider.fromMap(new Map(Object.entries(env)))
      const env = {
        PRICES_CAPACITY: "10",
        PRICES_TTL: "1 minute",
        PRICES_POLICY: "w-tinylfu",
        REDIS_URL: server.socket
      }
      const remaining = yield* Effect.gen(function* () {
        const prices = yield* Prices
        yield* prices.set("apple", 3)
        expect(yield* prices.get("apple")).toEqual(Option.some(3))
        return yield* prices.remainingTtl("apple")
      }).pipe(Effect.provide(live), Effect.withConfigProvider(settings(env)))
      expect(Option.map(remaining, Duration.toMillis)).toEqual(Option.some(expect.any(Number)))
      expect(Duration.lessThanOrEqualTo(Option.getOrThrow(remaining), Duration.minutes(1))).toBe(true)
      const { REDIS_URL: _, ...withoutUrl } = env
      const missing = yield* Effect.flip(
        Effect.provide(Effect.asVoid(Prices), live).pipe(Effect.withConfigProvider(settings(withoutUrl)))
      )
      expect(ConfigError.isConfigError(missing)).toBe(true)
      expect(String(missing)).toContain("REDIS_URL")
    })
  )

  live("rejects an unknown policy with InvalidOption", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Effect.scoped(make("policy:", { policy: "lfu" as "lru" })))
      expect(error).toMatchObject({ _tag: "InvalidOption", option: "policy", value: "lfu" })
      expect(error.message).toContain('must be "lru" or "w-tinylfu"')
    })
  )

  live("rejects invalid options with InvalidOption naming the option", () =>
    Effect.gen(function* () {
      const cases: Array<[Partial<RedisCache.Options<unknown>>, string]> = [
        [{ capacity: 0 }, "capacity"],
        [{ prefix: "" }, "prefix"],
        [{ prefix: "a\u0000b" }, "prefix"],
        [{ timeToLive: -1 }, "timeToLive"],
        [{ lockTimeToLive: Duration.infinity }, "lockTimeToLive"],
        [{ whenUnavailable: "maybe" as any }, "whenUnavailable"],
        [{ policy: "lfu" as any }, "policy"]
      ]
      for (const [options, option] of cases) {
        const exit = yield* Effect.exit(Effect.scoped(make("invalid:", options)))
        expect(Exit.isFailure(exit) && Cause.squash(exit.cause)).toMatchObject({
          _tag: "InvalidOption",
          option
        })
      }
    })
  )

  live("closes its connections with the scope", () =>
    Effect.gen(function* () {
      const raw = server.client()
      const names = Effect.promise(() => raw.client("LIST")).pipe(
        Effect.map((list) => String(list).match(/name=effect-lru-cache:\S+/g) ?? [])
      )
      const before = (yield* names).length
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* make(freshPrefix("close"))
          expect((yield* names).length).toBe(before + 2)
        })
      )
      expect((yield* eventually(names, (list) => list.length === before)).length).toBe(before)
    })
  )

  describe("credentials", () => {
    // Every character that ends a part of a URL, unencoded.
    const SECRET = "s3cr@t:pa/ss#w?rd"
    const WRONG = `wr@ng:${SECRET}`
    const fragments = [SECRET, "s3cr", "pa/ss", "w?rd", "wr@ng"]
    let guarded: RedisServer
    let tcp: RedisProxy
    beforeAll(async () => {
      guarded = await startServer({ requirepass: SECRET })
      tcp = await startProxy(guarded.socket)
    })
    afterAll(async () => {
      await tcp?.close()
      await guarded?.stop()
    })

    /** Everything a program could print of an error: message, JSON, `Cause.pretty`, `Logger.json`. */
    const printed = (error: unknown) =>
      Effect.gen(function* () {
        const lines: Array<string> = []
        const json = Logger.replace(
          Logger.defaultLogger,
          Logger.map(Logger.jsonLogger, (line) => {
            lines.push(line)
          })
        )
        yield* Effect.provide(Effect.logError("failed", Cause.fail(error)), json)
        yield* Effect.provide(Effect.logError(error), json)
        // The same lines went to the test's own logger too.
        const captured = takeLogs().map((log) => log.message)
        expect(captured).toHaveLength(2)
        return [
          String(error),
          JSON.stringify(error),
          Cause.pretty(Cause.fail(error)),
          ...lines,
          ...captured
        ].join("\n")
      })

    const expectNoSecret = (text: string) => {
      for (const fragment of fragments) expect(text).not.toContain(fragment)
    }

    const failedMake = (connection: string | RedisCache.Options<unknown>["connection"]) =>
      Effect.flip(
        Effect.scoped(
          RedisCache.make({ capacity: 10, connection, whenUnavailable: "fail", prefix: "secret:" })
        )
      )

    live("a wrong password in ioredis options reaches no error and no log", () =>
      Effect.gen(function* () {
        const error = yield* failedMake({ path: guarded.socket, password: WRONG })
        expect(error).toMatchObject({ _tag: "RedisError", message: expect.stringMatching(/WRONGPASS/) })
        const text = yield* printed(error)
        expect(text).toMatch(/WRONGPASS/)
        expectNoSecret(text)
      })
    )

    live("a wrong password written unencoded in a URL reaches no error and no log", () =>
      Effect.gen(function* () {
        const error = yield* failedMake(`redis://default:${WRONG}@127.0.0.1:${tcp.port}/0`)
        expect(error.message).toContain(`redis://***@127.0.0.1:${tcp.port}/0`)
        expect(error.message).toMatch(/WRONGPASS/)
        expectNoSecret(yield* printed(error))
      })
    )

    live("nor in the warning of a cache that starts anyway", () =>
      Effect.gen(function* () {
        const cache = yield* RedisCache.make<string, string>({
          capacity: 10,
          connection: `redis://default:${WRONG}@127.0.0.1:${tcp.port}?db=0`,
          prefix: freshPrefix("secret")
        })
        yield* cache.set("k", "v")
        const logs = takeLogs()
        expect(warnings(logs)).toHaveLength(1)
        expectNoSecret(JSON.stringify(logs))
      })
    )

    live("an unencoded password in a URL connects", () =>
      Effect.gen(function* () {
        const prefix = freshPrefix("secret")
        const cache = yield* make<string, string>(prefix, {
          connection: `redis://default:${SECRET}@127.0.0.1:${tcp.port}`
        })
        yield* cache.set("k", "v")
        expect(yield* Effect.promise(() => guarded.client().get(`${keyPrefix(prefix)}k`))).not.toBeNull()
      })
    )

    it("redacts credentials and query strings from any URL, and scrubs causes", () => {
      const cases: Array<[string, string]> = [
        [`redis://default:${SECRET}@host:6379/0`, "redis://***@host:6379/0"],
        [`rediss://${SECRET}@host`, "rediss://***@host"],
        [`redis://:${encodeURIComponent(SECRET)}@host:1`, "redis://***@host:1"],
        [`redis://host:1?password=${encodeURIComponent(SECRET)}`, "redis://host:1?***"],
        [`default:${SECRET}@host:6379`, "***@host:6379"],
        ["redis://host:6379", "redis://host:6379"],
        ["/run/redis.sock", "/run/redis.sock"]
      ]
      for (const [url, described] of cases) {
        expect(describeConnection(url)).toBe(described)
        expect(describeConnection(normalizeUrl(url))).toBe(described)
      }
      expect(new URL(normalizeUrl(`redis://default:${SECRET}@host:6379/0`)).password).toBe(
        encodeURIComponent(SECRET)
      )
      const raw = Object.assign(new Error(`ERR for ${SECRET} and ${encodeURIComponent(SECRET)}`), {
        code: "ERR",
        command: { name: "auth", args: ["default", SECRET] }
      })
      const safe = sanitizeCause(raw, [SECRET, encodeURIComponent(SECRET)])
      expect(safe).toMatchObject({ message: "ERR for *** and ***", code: "ERR" })
      expect(JSON.stringify(safe)).not.toContain(SECRET)
      expect("command" in safe).toBe(false)
    })
  })

  describe("when a connection stalls (the socket stays open, nothing arrives)", () => {
    const withProxy = Effect.acquireRelease(
      Effect.promise(() => startProxy(server.socket)),
      (proxy) => Effect.promise(() => proxy.close())
    )
    const stall = (proxy: RedisProxy, which?: Parameters<RedisProxy["stall"]>[0]) =>
      Effect.acquireRelease(
        Effect.sync(() => proxy.stall(which)),
        () => Effect.sync(() => proxy.resume())
      )

    live('"fail" stops serving L1 at the first command that times out', () =>
      Effect.gen(function* () {
        const prefix = freshPrefix("stall-fail")
        const proxy = yield* withProxy
        const cache = yield* make<string, string>(prefix, {
          whenUnavailable: "fail",
          connection: { path: proxy.socket, commandTimeout: 500 },
          // Only the commands are under test here.
          heartbeatInterval: Duration.minutes(10)
        })
        const other = yield* make<string, string>(prefix)
        yield* cache.set("k", "old")
        expect(yield* cache.get("k")).toEqual(Option.some("old"))
        yield* stall(proxy)
        yield* other.set("k", "new")
        const write = yield* Effect.exit(cache.set("unrelated", "x"))
        expect(Exit.isFailure(write) && Cause.squash(write.cause)).toMatchObject({ _tag: "RedisError" })
        // The stale copy is gone: an empty cache's answer, not "old".
        // Each of these times out in turn: together, so that the test waits for one timeout.
        const [got, peeked, has] = yield* Effect.all([cache.get("k"), cache.peek("k"), cache.has("k")], {
          concurrency: "unbounded"
        })
        expect(got).toEqual(Option.none())
        expect(peeked).toEqual(Option.none())
        expect(has).toBe(false)
        expectWarnings(
          /RedisCache\.(set|heartbeat): Redis command failed: Command timed out; failing until Redis is back/
        )
        proxy.resume()
        expect(yield* eventually(cache.get("k"), Option.isSome)).toEqual(Option.some("new"))
        expect(takeLogs()).toContainEqual({
          level: "INFO",
          message: expect.stringMatching(/Redis answers again/)
        })
        // A later stall is logged again.
        yield* stall(proxy)
        yield* Effect.exit(cache.set("unrelated", "y"))
        expectWarnings(/RedisCache\.set: Redis command failed: Command timed out/)
        proxy.resume()
        yield* eventually(Effect.exit(cache.set("unrelated", "z")), Exit.isSuccess)
        takeLogs()
      })
    )

    live("a stalled subscription is noticed: L1 is dropped and bypassed until invalidations arrive", () =>
      Effect.gen(function* () {
        const prefix = freshPrefix("stall-invalidations")
        const proxy = yield* withProxy
        const cache = yield* make<string, string>(prefix, {
          connection: { path: proxy.socket },
          heartbeatInterval: Duration.millis(100)
        })
        const other = yield* make<string, string>(prefix)
        yield* cache.set("k", "old")
        expect(yield* cache.get("k")).toEqual(Option.some("old"))
        expect((yield* cache.stats).localHits).toBe(1)
        yield* stall(proxy, subscriber)
        yield* other.set("k", "new")
        // Bounded: the heartbeat that does not come back is noticed within two intervals.
        const noticed = yield* eventually(
          Effect.sync(() => takeLogs()),
          (logs) => warnings(logs).length > 0,
          10_000
        )
        expect(warnings(noticed).map((log) => log.message)).toEqual([
          expect.stringMatching(/invalidations .* did not arrive within 100 ms; L1 dropped and bypassed/)
        ])
        // Redis answers; L1, which missed the invalidation, is not used.
        expect(yield* cache.get("k")).toEqual(Option.some("new"))
        expect(yield* cache.get("k")).toEqual(Option.some("new"))
        yield* other.set("k", "newer")
        expect(yield* cache.get("k")).toEqual(Option.some("newer"))
        expect((yield* cache.stats).localHits).toBe(1)
        proxy.resume()
        const restored = yield* eventually(
          Effect.sync(() => takeLogs()),
          (logs) => logs.some((log) => /invalidations arrive again/.test(log.message)),
          10_000
        )
        expect(warnings(restored)).toEqual([])
        // L1 serves again, and invalidations reach it.
        expect(yield* cache.get("k")).toEqual(Option.some("newer"))
        expect(yield* cache.get("k")).toEqual(Option.some("newer"))
        expect((yield* cache.stats).localHits).toBe(2)
        yield* other.set("k", "newest")
        expect(yield* eventually(cache.get("k"), (v) => Equal.equals(v, Option.some("newest")))).toEqual(
          Option.some("newest")
        )
      })
    )

    live("a write interrupted while Redis takes it leaves no stale copy in L1", () =>
      Effect.gen(function* () {
        const prefix = freshPrefix("stall-interrupted-write")
        const proxy = yield* withProxy
        const cache = yield* make<string, string>(prefix, {
          connection: { path: proxy.socket },
          heartbeatInterval: Duration.minutes(10)
        })
        const other = yield* make<string, string>(prefix)
        for (const [write, label] of [
          [(key: string) => cache.set(key, "new"), "set"],
          [(key: string) => Effect.asVoid(cache.delete(key)), "delete"]
        ] as const) {
          const key = `k-${label}`
          yield* cache.set(key, "old")
          expect(yield* cache.get(key)).toEqual(Option.some("old"))
          // The commands held on their way: the caller gives up while Redis has yet to take them.
          yield* stall(proxy, (connection) => !subscriber(connection))
          const interrupted = yield* Effect.exit(Effect.timeout(write(key), Duration.millis(100)))
          expect(Exit.isFailure(interrupted), label).toBe(true)
          proxy.resume()
          const expected = label === "set" ? Option.some("new") : Option.none()
          expect(yield* eventually(other.get(key), (v) => Equal.equals(v, expected)), label).toEqual(expected)
          // This instance's own invalidation never reaches its L1: the write must not leave "old" there.
          expect(yield* cache.get(key), label).toEqual(expected)
        }
      })
    )
  })

  describe("when Redis goes away", () => {
    let own: RedisServer
    beforeAll(async () => {
      own = await startServer()
    })
    afterAll(async () => {
      await own?.stop()
    })
    // A test that failed during its outage must not leave the next one without Redis.
    beforeEach(() => own.ensureStarted())

    const makeOwn = <V>(prefix: string, options: Partial<RedisCache.Options<V>> = {}) =>
      RedisCache.make<string, V>({
        capacity: 100,
        connection: { path: own.socket },
        prefix,
        heartbeatInterval: QUIET_HEARTBEAT,
        ...options
      })

    /** Waits until the cache writes to Redis again (bounded), checking behind its back. */
    const recovered = (cache: RedisCache.RedisCache<string, string>, prefix: string) =>
      Effect.gen(function* () {
        const raw = own.client()
        const landed = yield* eventually(
          Effect.flatMap(Effect.either(cache.set("probe", "p")), () =>
            Effect.promise(() => raw.get(`${keyPrefix(prefix)}probe`).catch(() => null))
          ),
          (value) => value !== null,
          10_000
        )
        expect(landed).not.toBeNull()
      })

    live("serves from L1 meanwhile, then recovers by itself and drops L1", () =>
      Effect.gen(function* () {
        const prefix = freshPrefix("outage")
        const cache = yield* makeOwn<string>(prefix)
        yield* cache.set("a", "before")
        expect(yield* cache.get("a")).toEqual(Option.some("before"))
        yield* Effect.promise(() => own.kill())
        expect(yield* cache.get("a")).toEqual(Option.some("before"))
        yield* cache.set("b", "during")
        expect(yield* cache.get("b")).toEqual(Option.some("during"))
        expect(yield* cache.getOrCompute("c", Effect.succeed("computed"))).toBe("computed")
        expect(yield* cache.get("missing")).toEqual(Option.none())
        expect((yield* cache.stats).unavailable).toBeGreaterThan(0)
        expectWarnings(
          // Whether the client has seen the connection close yet decides which of the two it says.
          /RedisCache\.(set|heartbeat): Redis (is unreachable|command failed).*; serving from this process's cache \(L1\) until Redis is back/
        )
        yield* Effect.promise(() => own.restart())
        yield* recovered(cache, prefix)
        expect(takeLogs()).toContainEqual({
          level: "INFO",
          message: "RedisCache: Redis is reachable again; L1 dropped"
        })
        // The new server is empty, and L1 was dropped on reconnection.
        expect(yield* cache.get("a")).toEqual(Option.none())
        expect(yield* cache.get("b")).toEqual(Option.none())
        yield* cache.set("a", "after")
        expect(yield* Effect.promise(() => own.client().get(`${keyPrefix(prefix)}a`))).not.toBeNull()
        // Subscribed again: another instance's write drops this one's L1 copy.
        const other = yield* makeOwn<string>(prefix)
        expect(yield* cache.get("a")).toEqual(Option.some("after"))
        yield* other.set("a", "again")
        expect(yield* eventually(cache.get("a"), (v) => Equal.equals(v, Option.some("again")))).toEqual(
          Option.some("again")
        )
      })
    )

    live("notices an outage by its heartbeat while no operation runs, and logs it once", () =>
      Effect.gen(function* () {
        const prefix = freshPrefix("outage-heartbeat")
        const cache = yield* makeOwn<string>(prefix, { heartbeatInterval: Duration.seconds(1) })
        yield* cache.set("a", "before")
        yield* Effect.promise(() => own.kill())
        // Bounded: the next heartbeat, within one interval, fails.
        const noticed = yield* eventually(
          Effect.sync(() => takeLogs()),
          (logs) => warnings(logs).length > 0,
          10_000
        )
        expect(warnings(noticed).map((log) => log.message)).toEqual([
          expect.stringMatching(
            /^RedisCache\.heartbeat: Redis (is unreachable|command failed).*; serving from this process's cache \(L1\) until Redis is back$/
          )
        ])
        // The operations that meet the same outage add no warning.
        yield* cache.set("b", "during")
        expect(yield* cache.get("a")).toEqual(Option.some("before"))
        expect(yield* cache.get("b")).toEqual(Option.some("during"))
        expectWarnings()
        yield* Effect.promise(() => own.restart())
        yield* recovered(cache, prefix)
        expect(takeLogs()).toContainEqual({
          level: "INFO",
          message: "RedisCache: Redis is reachable again; L1 dropped"
        })
      })
    )

    live("one outage is one warning, also when the subscription comes back before the commands", () =>
      Effect.gen(function* () {
        const prefix = freshPrefix("outage-order")
        const proxy = yield* Effect.acquireRelease(
          Effect.promise(() => startProxy(own.socket)),
          (proxy) => Effect.promise(() => proxy.close())
        )
        const cache = yield* makeOwn<string>(prefix, { connection: { path: proxy.socket } })
        yield* cache.set("a", "before")
        yield* Effect.promise(() => own.kill())
        yield* cache.set("b", "during")
        expectWarnings(
          /RedisCache\.(set|heartbeat): Redis (is unreachable|command failed).*; serving from this process's cache/
        )
        // The commands' connection (named by the cache) is held; the subscription's gets through.
        yield* Effect.acquireRelease(
          Effect.sync(() =>
            proxy.stall((connection) => connection.sent.includes("effect-lru-cache:commands"))
          ),
          () => Effect.sync(() => proxy.resume())
        )
        yield* Effect.promise(() => own.restart())
        const raw = own.client()
        const subscribers = yield* eventually(
          Effect.promise(() => raw.pubsub("NUMSUB", `${prefix}invalidations`)),
          (reply) => reply[1] === 1,
          10_000
        )
        expect(subscribers).toEqual([`${prefix}invalidations`, 1])
        // Commands still cannot reach Redis: the same outage, not a new one, nor its end.
        yield* cache.set("c", "still during")
        expect(yield* cache.get("c")).toEqual(Option.some("still during"))
        const meanwhile = takeLogs()
        expect(warnings(meanwhile)).toEqual([])
        expect(meanwhile.map((log) => log.message)).not.toContainEqual(
          expect.stringMatching(/reachable again/)
        )
        proxy.resume()
        yield* recovered(cache, prefix)
        expect(takeLogs()).toContainEqual({
          level: "INFO",
          message: "RedisCache: Redis is reachable again; L1 dropped"
        })
      })
    )

    live("a key of another Redis type is a bad value, not an outage, and a later outage is logged", () =>
      Effect.gen(function* () {
        const prefix = freshPrefix("wrongtype")
        const cache = yield* makeOwn<string>(prefix)
        const raw = own.client()
        yield* Effect.promise(() => raw.hset(`${keyPrefix(prefix)}hash`, "field", "v"))
        yield* Effect.promise(() => raw.rpush(`${keyPrefix(prefix)}list`, "v"))
        expect(yield* cache.get("hash")).toEqual(Option.none())
        expect(yield* cache.getOrCompute("list", Effect.succeed("fresh"))).toBe("fresh")
        // The computed value replaced the list.
        expect(yield* Effect.promise(() => raw.type(`${keyPrefix(prefix)}list`))).toBe("string")
        expect(yield* cache.get("list")).toEqual(Option.some("fresh"))
        expect(yield* cache.stats).toMatchObject({ decodeFailures: 2, misses: 2, unavailable: 0 })
        expectWarnings(
          /RedisCache\.get: the value of .*hash.* cannot be decoded \(it is a Redis hash, not a string\)/,
          /RedisCache\.getOrCompute: the value of .*list.* cannot be decoded \(it is a Redis list, not a string\)/
        )
        yield* Effect.promise(() => own.kill())
        yield* Effect.either(cache.set("a", "during"))
        expectWarnings(
          /RedisCache\.(set|heartbeat): Redis (is unreachable|command failed).*; serving from this process's cache/
        )
        yield* Effect.promise(() => own.restart())
        yield* recovered(cache, prefix)
        takeLogs()
      })
    )

    live("starts without Redis when serving from L1, and connects when it comes", () =>
      Effect.gen(function* () {
        const prefix = freshPrefix("late")
        yield* Effect.promise(() => own.kill())
        const cache = yield* makeOwn<string>(prefix)
        yield* cache.set("a", "local")
        expect(yield* cache.get("a")).toEqual(Option.some("local"))
        expectWarnings(/RedisCache\.make: cannot connect to Redis/)
        yield* Effect.promise(() => own.restart())
        yield* recovered(cache, prefix)
        expect(yield* cache.get("a")).toEqual(Option.none())
        const other = yield* makeOwn<string>(prefix)
        yield* other.set("a", "shared")
        expect(yield* cache.get("a")).toEqual(Option.some("shared"))
        yield* other.set("a", "changed")
        expect(yield* eventually(cache.get("a"), (v) => Equal.equals(v, Option.some("changed")))).toEqual(
          Option.some("changed")
        )
      })
    )

    live("fails with RedisError meanwhile when asked to, then recovers by itself", () =>
      Effect.gen(function* () {
        const prefix = freshPrefix("outage-fail")
        const cache = yield* makeOwn<string>(prefix, { whenUnavailable: "fail" })
        yield* cache.set("a", "before")
        yield* Effect.promise(() => own.kill())
        const failed = (exit: Exit.Exit<unknown, unknown>) =>
          Exit.isFailure(exit) && (Cause.squash(exit.cause) as RedisError)._tag === "RedisError"
        expect(failed(yield* Effect.exit(cache.set("b", "during")))).toBe(true)
        expect(failed(yield* Effect.exit(cache.getOrCompute("c", Effect.succeed("x"))))).toBe(true)
        expect(failed(yield* Effect.exit(cache.delete("a")))).toBe(true)
        // Reads have no error channel: they answer as an empty cache, not from a possibly stale L1.
        expect(yield* cache.get("a")).toEqual(Option.none())
        expectWarnings(
          /RedisCache\.(set|heartbeat): Redis (is unreachable|command failed).*; failing until Redis is back/
        )
        yield* Effect.promise(() => own.restart())
        yield* recovered(cache, prefix)
        yield* cache.set("b", "after")
        expect(yield* cache.get("b")).toEqual(Option.some("after"))
      })
    )
  })

  live("invalidateWhen deletes the matches in Redis and in every instance's L1, one event per key", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix("invalidate-when")
      const a = yield* make<string, number>(prefix)
      const b = yield* make<string, number>(prefix)
      for (const [i, key] of ["k0", "k1", "k2", "k3"].entries()) yield* a.set(key, i)
      yield* eventually(b.stats, (stats) => stats.invalidations >= 4)
      // b holds every entry in its L1; a holds them too, as their writer.
      for (const key of ["k0", "k1", "k2", "k3"]) yield* b.get(key)
      const aEvents = yield* a.subscribe
      const bEvents = yield* b.subscribe
      expect(yield* a.invalidateWhen((key, value) => key === "k0" || value === 3)).toBe(2)
      const removed = (events: ReadonlyArray<{ readonly key: string; readonly cause: string }>) =>
        events.map((event) => `${event.cause} ${event.key}`).sort()
      expect(removed(Array.from(yield* aEvents.takeAll))).toEqual(["deleted k0", "deleted k3"])
      yield* eventually(bEvents.size, (size) => size >= 2)
      expect(removed(Array.from(yield* bEvents.takeAll))).toEqual(["deleted k0", "deleted k3"])
      expect([...(yield* b.keys)].sort()).toEqual(["k1", "k2"])
      expect(yield* b.get("k0")).toEqual(Option.none())
      expect(yield* a.invalidateWhen(() => false)).toBe(0)
    })
  )

  live("refresh serves the old value until the new one is stored; a failure keeps it", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix("refresh")
      const a = yield* make<string, string>(prefix)
      const b = yield* make<string, string>(prefix)
      yield* a.set("k", "old")
      const started = yield* Deferred.make<void>()
      const gate = yield* Deferred.make<void>()
      const refreshing = yield* Effect.fork(
        a.refresh(
          "k",
          Effect.zipRight(Deferred.succeed(started, undefined), Effect.as(Deferred.await(gate), "new"))
        )
      )
      yield* Deferred.await(started)
      expect(yield* a.get("k")).toEqual(Option.some("old"))
      expect(yield* b.get("k")).toEqual(Option.some("old"))
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(refreshing)
      expect(yield* a.get("k")).toEqual(Option.some("new"))
      expect(yield* eventually(b.get("k"), (found) => Option.getOrNull(found) === "new")).toEqual(
        Option.some("new")
      )
      expect(yield* Effect.flip(a.refresh("k", Effect.fail("down" as const)))).toBe("down")
      expect(yield* a.get("k")).toEqual(Option.some("new"))
      expect(yield* b.get("k")).toEqual(Option.some("new"))
      expect(yield* a.stats).toMatchObject({ loadSuccesses: 1, loadFailures: 1 })
    })
  )

  live("invalidateWhen's compare-and-delete keeps a value written after the scan read the key", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix("compare-and-delete")
      const cache = yield* make<string, string>(prefix)
      const connection = { connection: { path: server.socket }, secrets: [] }
      const open = (role: string) =>
        Effect.flatMap(connect(connection, role), (client) =>
          Effect.as(firstConnect(client, connection), client)
        )
      const client = yield* open("test")
      const commands: Commands = { client, command: (_method, run) => Effect.promise(run) }
      const redisKey = keyPrefix(prefix) + Either.getOrThrow(encodeKey("k"))
      const read = Effect.promise(() => client.getBuffer(redisKey))
      yield* cache.set("k", "old")
      const old = (yield* read)!
      yield* cache.set("k", "new")
      const listener = yield* open("listener")
      const heard: Array<string> = []
      listener.on("message", (_channel: string, message: string) => heard.push(message))
      yield* Effect.promise(() => listener.subscribe(`${prefix}invalidations`))
      const deleteIfStill = (bytes: Buffer, message: string) =>
        scan.deleteUnchanged(commands, "test", [[redisKey, bytes]], `${prefix}invalidations`, () => message)
      expect(yield* deleteIfStill(old, "first")).toEqual([])
      expect(yield* cache.get("k")).toEqual(Option.some("new"))
      expect(yield* deleteIfStill((yield* read)!, "second")).toEqual([redisKey])
      expect(yield* read).toBe(null)
      // The invalidation goes out with a deletion only: messages arrive in order, "first" would be first.
      expect(
        yield* eventually(
          Effect.sync(() => [...heard]),
          (messages) => messages.length > 0
        )
      ).toEqual(["second"])
    })
  )
})
