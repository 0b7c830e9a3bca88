import * as FileSystem from "@effect/platform/FileSystem"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Equal from "effect/Equal"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Hash from "effect/Hash"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Ref from "effect/Ref"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as TestContext from "effect/TestContext"
import fc from "fast-check"
import { InvalidOption, PersistenceError, RecursiveComputation } from "../src/CacheError.js"
import * as CachePersistence from "../src/CachePersistence.js"
import * as records from "../src/internal/persistence/records.js"
import * as LruCache from "../src/LruCache.js"
import * as MemoCache from "../src/MemoCache.js"
import { provide } from "./conformance/persistence.js"
import { instrument, withFile } from "./fixtures/persistence/fileSystem.js"
import { pollUntil } from "./fixtures/poll.js"
import * as M from "./model.js"
import { stress } from "./soak/stress.js"

const show = <A>(option: Option.Option<A>): { readonly some: A } | "none" =>
  Option.isSome(option) ? { some: option.value } : "none"

const millis = (option: Option.Option<Duration.Duration>): { readonly some: number } | "none" =>
  show(Option.map(option, Duration.toMillis))

const drain = <A>(queue: Queue.Dequeue<A>): Effect.Effect<Array<A>> =>
  Effect.map(Queue.takeAll(queue), Chunk.toArray)

const quiet = Logger.withMinimumLogLevel(LogLevel.None)

/** Lets forked fibers run up to their next suspension. */
const settle = Effect.repeatN(Effect.yieldNow(), 20)

/** Waits, without real time, until `condition` holds (fibers get to run in between). */
/** Waits until `condition` holds, as real I/O makes it do (see test/fixtures/poll.ts). */
const eventually = <E, R>(condition: Effect.Effect<boolean, E, R>) =>
  pollUntil(condition, "the condition held")

/**
 * A computation that signals when it has started, then holds until released, and gives `value`:
 * for what must be seen while a computation runs.
 */
const heldComputation = <A>(value: A) =>
  Effect.map(Effect.all([Deferred.make<void>(), Deferred.make<void>()]), ([started, gate]) => ({
    computation: Effect.zipRight(
      Deferred.succeed(started, undefined),
      Effect.as(Deferred.await(gate), value)
    ),
    started: Deferred.await(started),
    release: Deferred.succeed(gate, undefined)
  }))

/**
 * A key whose `Equal` reads the cache it is a key of: asking the cache about itself from inside a
 * comparison recurses for ever, unless identical keys are never compared.
 */
class Reentrant implements Equal.Equal {
  comparisons = 0
  constructor(
    readonly id: number,
    readonly cache: LruCache.LruCache<Reentrant, string>
  ) {}
  [Equal.symbol](that: Equal.Equal): boolean {
    this.comparisons++
    if (that === this) Effect.runSync(this.cache.getOrCompute(this, Effect.succeed("from Equal")))
    return that instanceof Reentrant && that.id === this.id
  }
  [Hash.symbol](): number {
    return this.id
  }
}

describe("LruCache", () => {
  describe("basics", () => {
    it.scoped("get, set, has, peek, delete, size, keys, values, entries", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<string, number>({ capacity: 3 })
        expect(LruCache.isLruCache(cache)).toBe(true)
        expect(LruCache.isLruCache({})).toBe(false)
        expect(cache.capacity).toBe(3)
        expect(show(yield* cache.get("a"))).toEqual("none")
        yield* cache.set("a", 1)
        yield* cache.set("b", 2)
        expect(show(yield* cache.get("a"))).toEqual({ some: 1 })
        expect(yield* cache.has("b")).toBe(true)
        expect(show(yield* cache.peek("b"))).toEqual({ some: 2 })
        expect(yield* cache.size).toBe(2)
        expect(yield* cache.keys).toEqual(["a", "b"])
        expect(yield* cache.values).toEqual([1, 2])
        expect(yield* cache.entries).toEqual([
          ["a", 1],
          ["b", 2]
        ])
        expect(yield* cache.delete("a")).toBe(true)
        expect(yield* cache.delete("a")).toBe(false)
        expect(yield* cache.keys).toEqual(["b"])
        yield* cache.clear
        expect(yield* cache.size).toBe(0)
        const stats = yield* cache.stats
        expect(stats).toMatchObject({ hits: 1, misses: 1, evictions: 0, expirations: 0, size: 0 })
      })
    )

    it.scoped("evicts exactly the least recently used live entry", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<string, number>({ capacity: 3 })
        yield* cache.set("a", 1)
        yield* cache.set("b", 2)
        yield* cache.set("c", 3)
        yield* cache.get("a")
        yield* cache.peek("b")
        yield* cache.has("b")
        yield* cache.remainingTtl("b")
        yield* cache.set("d", 4)
        expect(yield* cache.keys).toEqual(["d", "a", "c"])
        yield* cache.set("c", 30)
        yield* cache.set("e", 5)
        expect(yield* cache.keys).toEqual(["e", "c", "d"])
        expect((yield* cache.stats).evictions).toBe(2)
      })
    )

    it.scoped("a getOrCompute hit returns the stored value and makes the key most recent", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<string, number>({ capacity: 2 })
        const runs = yield* Ref.make(0)
        const compute = Effect.as(
          Ref.update(runs, (n) => n + 1),
          99
        )
        yield* cache.set("a", 1)
        yield* cache.set("b", 2)
        expect(yield* cache.getOrCompute("a", compute)).toBe(1)
        expect(yield* Ref.get(runs)).toBe(0)
        yield* cache.set("c", 3)
        expect(yield* cache.keys).toEqual(["c", "a"])
        expect(yield* cache.getOrCompute("b", compute)).toBe(99)
        expect(yield* Ref.get(runs)).toBe(1)
        expect(show(yield* cache.peek("b"))).toEqual({ some: 99 })
        expect(yield* cache.stats).toMatchObject({ hits: 1, misses: 1, loadSuccesses: 1, loadFailures: 0 })
      })
    )

    it.scoped("getOrCompute stores with the given time to live, also one computed from the value", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<string, number>({ capacity: 4, timeToLive: "1 minute" })
        yield* cache.getOrCompute("fixed", Effect.succeed(1), { timeToLive: "10 millis" })
        yield* cache.getOrCompute("small", Effect.succeed(2), {
          timeToLive: (exit) =>
            Exit.isSuccess(exit) && exit.value < 10 ? Duration.millis(20) : Duration.infinity
        })
        yield* cache.getOrCompute("large", Effect.succeed(20), {
          timeToLive: (exit) =>
            Exit.isSuccess(exit) && exit.value < 10 ? Duration.millis(20) : Duration.infinity
        })
        yield* cache.getOrCompute("default", Effect.succeed(3))
        expect(millis(yield* cache.remainingTtl("fixed"))).toEqual({ some: 10 })
        expect(millis(yield* cache.remainingTtl("small"))).toEqual({ some: 20 })
        expect(millis(yield* cache.remainingTtl("large"))).toEqual({ some: Number.POSITIVE_INFINITY })
        expect(millis(yield* cache.remainingTtl("default"))).toEqual({ some: 60_000 })
        expect(yield* cache.getOrCompute("none", Effect.succeed(4), { timeToLive: 0 })).toBe(4)
        expect(yield* cache.has("none")).toBe(false)
      })
    )
  })

  describe("time to live", () => {
    it.scoped("an entry set at t with ttl d is live at t + d - 1 ms and gone at t + d", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<string, number>({ capacity: 4, timeToLive: "100 millis" })
        const events = yield* cache.subscribe
        yield* TestClock.adjust("5 millis")
        yield* cache.set("a", 1)
        yield* TestClock.adjust("99 millis")
        expect(yield* cache.has("a")).toBe(true)
        expect(show(yield* cache.get("a"))).toEqual({ some: 1 })
        yield* TestClock.adjust("1 millis")
        expect(yield* cache.has("a")).toBe(false)
        expect(show(yield* cache.peek("a"))).toEqual("none")
        expect(yield* cache.size).toBe(0)
        expect(show(yield* cache.get("a"))).toEqual("none")
        expect(yield* cache.stats).toMatchObject({ hits: 1, misses: 1, expirations: 1, size: 0 })
        expect(yield* drain(events)).toEqual([{ key: "a", value: 1, cause: "expired" }])
      })
    )

    it.scoped("a per-entry ttl overrides the default one", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<string, number>({ capacity: 4, timeToLive: "100 millis" })
        yield* cache.set("default", 1)
        yield* cache.set("short", 2, { timeToLive: "10 millis" })
        yield* cache.set("long", 3, { timeToLive: Duration.seconds(1) })
        yield* cache.set("forever", 4, { timeToLive: Duration.infinity })
        yield* TestClock.adjust("10 millis")
        expect(yield* cache.keys).toEqual(["forever", "long", "default"])
        yield* TestClock.adjust("90 millis")
        expect(yield* cache.keys).toEqual(["forever", "long"])
        yield* TestClock.adjust("900 millis")
        expect(yield* cache.keys).toEqual(["forever"])
        yield* TestClock.adjust(Duration.hours(1))
        expect(yield* cache.keys).toEqual(["forever"])
      })
    )

    it.scoped("remainingTtl counts down; infinity without expiry; none without a live entry", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<string, number>({ capacity: 4 })
        yield* cache.set("a", 1, { timeToLive: "1 second" })
        yield* cache.set("b", 2)
        expect(millis(yield* cache.remainingTtl("a"))).toEqual({ some: 1_000 })
        yield* TestClock.adjust("300 millis")
        expect(millis(yield* cache.remainingTtl("a"))).toEqual({ some: 700 })
        const b = yield* cache.remainingTtl("b")
        expect(Option.map(b, (d) => Duration.equals(d, Duration.infinity))).toEqual(Option.some(true))
        expect(millis(yield* cache.remainingTtl("zz"))).toEqual("none")
        yield* TestClock.adjust("700 millis")
        expect(millis(yield* cache.remainingTtl("a"))).toEqual("none")
        yield* cache.set("a", 1, { timeToLive: "1 second" })
        expect(millis(yield* cache.remainingTtl("a"))).toEqual({ some: 1_000 })
      })
    )

    it.scoped("a set with a ttl of zero or less stores nothing and removes the entry", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<string, number>({ capacity: 4 })
        const events = yield* cache.subscribe
        yield* cache.set("a", 1)
        yield* cache.set("a", 2, { timeToLive: 0 })
        expect(yield* cache.has("a")).toBe(false)
        yield* cache.set("b", 3, { timeToLive: -10 })
        expect(yield* cache.size).toBe(0)
        expect(yield* drain(events)).toEqual([{ key: "a", value: 1, cause: "replaced" }])
      })
    )

    it.scoped("an expired entry never causes a live one to be evicted", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<string, number>({ capacity: 2, sweepInterval: Duration.infinity })
        const events = yield* cache.subscribe
        yield* cache.set("a", 1, { timeToLive: "10 millis" })
        yield* cache.set("b", 2)
        yield* TestClock.adjust("10 millis")
        yield* cache.set("c", 3)
        expect(yield* cache.keys).toEqual(["c", "b"])
        expect(yield* cache.stats).toMatchObject({ evictions: 0, expirations: 1, size: 2 })
        expect(yield* drain(events)).toEqual([{ key: "a", value: 1, cause: "expired" }])
      })
    )

    it.scoped("the background sweep removes expired entries without any access", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<string, number>({
          capacity: 4,
          timeToLive: "100 millis",
          sweepInterval: "1 second"
        })
        const events = yield* cache.subscribe
        yield* cache.set("a", 1)
        yield* cache.set("b", 2, { timeToLive: Duration.infinity })
        yield* TestClock.adjust("1 second")
        const event = yield* Queue.take(events)
        expect(event).toEqual({ key: "a", value: 1, cause: "expired" })
        expect(yield* cache.stats).toMatchObject({ expirations: 1, size: 1, hits: 0, misses: 0 })
        yield* cache.set("c", 3)
        yield* TestClock.adjust("1 second")
        expect(yield* Queue.take(events)).toEqual({ key: "c", value: 3, cause: "expired" })
        expect((yield* cache.stats).expirations).toBe(2)
        expect(yield* cache.keys).toEqual(["b"])
      })
    )

    it.scoped(
      "the sweep sleeps until the next expiry: two days of TestClock time travel take well under a second",
      () =>
        Effect.gen(function* () {
          const cache = yield* LruCache.make<string, number>({ capacity: 8, timeToLive: "5 hours" })
          const events = yield* cache.subscribe
          yield* settle
          // Nothing can expire: no wake-up is pending at all.
          expect(Chunk.toArray(yield* TestClock.sleeps())).toEqual([])
          yield* cache.set("a", 1)
          yield* cache.set("forever", 0, { timeToLive: Duration.infinity })
          yield* settle
          // One wake-up, at the expiry of "a".
          expect(Chunk.toArray(yield* TestClock.sleeps())).toEqual([Duration.toMillis("5 hours")])
          // An earlier expiry re-arms it.
          yield* cache.set("b", 2, { timeToLive: "2 hours" })
          yield* settle
          expect(Math.min(...Chunk.toArray(yield* TestClock.sleeps()))).toBe(Duration.toMillis("2 hours"))
          const started = performance.now()
          yield* TestClock.adjust("2 days")
          const elapsed = performance.now() - started
          expect(elapsed).toBeLessThan(1_000)
          expect((yield* drain(events)).map((event) => [event.key, event.cause])).toEqual([
            ["b", "expired"],
            ["a", "expired"]
          ])
          expect(yield* cache.keys).toEqual(["forever"])
        })
    )

    it.scoped("expiries closer than the sweep interval are swept together, once per interval", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<number, number>({ capacity: 100, sweepInterval: "1 minute" })
        const events = yield* cache.subscribe
        for (let i = 1; i <= 90; i++) yield* cache.set(i, i, { timeToLive: Duration.seconds(i) })
        yield* settle
        // Each expiry is removed at the latest one interval after it, in one sweep per interval.
        yield* TestClock.adjust("1 minute")
        expect((yield* drain(events)).length).toBe(60)
        yield* TestClock.adjust("59 seconds")
        yield* settle
        expect(yield* Queue.size(events)).toBe(0)
        yield* TestClock.adjust("1 second")
        expect((yield* drain(events)).length).toBe(30)
      })
    )

    it.scoped("with the sweep turned off, nothing is removed until touched", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<string, number>({
          capacity: 4,
          timeToLive: "100 millis",
          sweepInterval: Duration.infinity
        })
        const events = yield* cache.subscribe
        yield* cache.set("a", 1)
        yield* TestClock.adjust("1 hour")
        yield* settle
        expect(yield* Queue.size(events)).toBe(0)
        expect(yield* cache.delete("a")).toBe(false)
        expect(yield* drain(events)).toEqual([{ key: "a", value: 1, cause: "expired" }])
        expect((yield* cache.stats).expirations).toBe(1)
      })
    )
  })

  describe("events", () => {
    it.scoped("subscribe sees every removal with its cause", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<string, number>({ capacity: 2 })
        const events = yield* cache.subscribe
        yield* cache.set("a", 1)
        yield* cache.set("b", 2)
        yield* cache.set("c", 3)
        expect(yield* drain(events)).toEqual([{ key: "a", value: 1, cause: "evicted" }])
        yield* cache.set("b", 20)
        expect(yield* drain(events)).toEqual([{ key: "b", value: 2, cause: "replaced" }])
        yield* cache.set("b", 200, { timeToLive: Duration.zero })
        expect(yield* drain(events)).toEqual([{ key: "b", value: 20, cause: "replaced" }])
        expect(yield* cache.delete("c")).toBe(true)
        expect(yield* drain(events)).toEqual([{ key: "c", value: 3, cause: "deleted" }])
        expect(yield* cache.delete("c")).toBe(false)
        yield* cache.set("d", 4, { timeToLive: "10 millis" })
        yield* TestClock.adjust("10 millis")
        expect(show(yield* cache.get("d"))).toEqual("none")
        expect(yield* drain(events)).toEqual([{ key: "d", value: 4, cause: "expired" }])
        yield* cache.set("e", 5)
        yield* cache.set("f", 6)
        yield* cache.clear
        const cleared = yield* drain(events)
        expect(M.canonicalRemovals(cleared)).toEqual(
          M.canonicalRemovals([
            { key: "e", value: 5, cause: "cleared" },
            { key: "f", value: 6, cause: "cleared" }
          ])
        )
        yield* cache.get("nothing")
        yield* cache.peek("e")
        expect(yield* drain(events)).toEqual([])
      })
    )

    it.scoped("the events stream delivers removals from the moment it runs", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<string, number>({ capacity: 1 })
        yield* cache.set("before", 0)
        yield* cache.delete("before")
        const collected = yield* cache.events.pipe(Stream.take(2), Stream.runCollect, Effect.fork)
        yield* settle
        yield* cache.set("a", 1)
        yield* cache.set("b", 2)
        yield* cache.delete("b")
        expect(Chunk.toArray(yield* Fiber.join(collected))).toEqual([
          { key: "a", value: 1, cause: "evicted" },
          { key: "b", value: 2, cause: "deleted" }
        ])
      })
    )

    it.scoped(
      "a subscriber that never reads holds the newest eventsCapacity events; the others are counted",
      () =>
        Effect.gen(function* () {
          const cache = yield* LruCache.make<number, number>({ capacity: 1, eventsCapacity: 4 })
          const idle = yield* cache.subscribe
          const reader = yield* cache.subscribe
          const read: Array<number> = []
          for (let i = 0; i <= 10; i++) {
            yield* cache.set(i, i)
            read.push(...(yield* drain(reader)).map((event) => event.key))
          }
          // The reader that keeps up loses nothing; the idle one keeps the last four of ten evictions.
          expect(read).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
          expect((yield* drain(idle)).map((event) => event.key)).toEqual([6, 7, 8, 9])
          expect((yield* cache.stats).droppedEvents).toBe(6)
        })
    )

    it.scoped("by default a subscriber lags at most 1024 events behind", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<number, number>({ capacity: 1 })
        const idle = yield* cache.subscribe
        for (let i = 0; i <= 5_000; i++) yield* cache.set(i, i)
        expect(yield* Queue.size(idle)).toBe(1024)
        expect((yield* cache.stats).droppedEvents).toBe(5_000 - 1024)
        const events = yield* drain(idle)
        expect(events[0]!.key).toBe(5_000 - 1024)
        expect(events.at(-1)!.key).toBe(4_999)
      })
    )
  })

  describe("options", () => {
    const invalid: Array<readonly [string, LruCache.Options<string, number>]> = [
      ["capacity", { capacity: 0 }],
      ["capacity", { capacity: -1 }],
      ["capacity", { capacity: 1.5 }],
      ["capacity", { capacity: Number.NaN }],
      ["capacity", { capacity: Number.POSITIVE_INFINITY }],
      ["capacity", { capacity: "3" as unknown as number }],
      ["capacity", {} as unknown as LruCache.Options<string, number>],
      ["options", null as unknown as LruCache.Options<string, number>],
      ["timeToLive", { capacity: 3, timeToLive: -1 }],
      ["timeToLive", { capacity: 3, timeToLive: "-5 seconds" }],
      ["timeToLive", { capacity: 3, timeToLive: "soon" as unknown as Duration.DurationInput }],
      ["sweepInterval", { capacity: 3, sweepInterval: 0 }],
      ["sweepInterval", { capacity: 3, sweepInterval: -1 }],
      ["sweepInterval", { capacity: 3, sweepInterval: Duration.zero }],
      ["eventsCapacity", { capacity: 3, eventsCapacity: 0 }],
      ["eventsCapacity", { capacity: 3, eventsCapacity: 2.5 }],
      ["maxSize", { capacity: 3, maxSize: 0, sizeOf: () => 1 }],
      ["maxSize", { capacity: 3, maxSize: 1.5, sizeOf: () => 1 }],
      ["maxSize", { capacity: 3, maxSize: 10 }],
      ["sizeOf", { capacity: 3, sizeOf: () => 1 }],
      ["sizeOf", { capacity: 3, maxSize: 10, sizeOf: 1 as unknown as () => number }]
    ]

    it.scoped.each(invalid)("make rejects an invalid %s: %o", ([option, options]) =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(LruCache.make(options))
        expect(error).toBeInstanceOf(InvalidOption)
        expect(error._tag).toBe("InvalidOption")
        const invalidOption = error as InvalidOption
        expect(invalidOption.option).toBe(option)
        expect(invalidOption.message).toContain(option)
        expect(invalidOption.message).not.toContain("[object Object]")
        expect(invalidOption.reason.length).toBeGreaterThan(0)
      })
    )

    it.scoped("make accepts infinite durations and the largest capacities", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<string, number>({
          capacity: Number.MAX_SAFE_INTEGER,
          timeToLive: Duration.infinity,
          sweepInterval: Duration.infinity
        })
        yield* cache.set("a", 1)
        expect(yield* cache.size).toBe(1)
      })
    )

    class Sessions extends Context.Tag("test/Sessions")<Sessions, LruCache.LruCache<string, string>>() {}

    it.effect("layer provides a working cache under the user's tag", () =>
      Effect.gen(function* () {
        const sessions = yield* Sessions
        yield* sessions.set("user", "token")
        expect(show(yield* sessions.get("user"))).toEqual({ some: "token" })
        yield* TestClock.adjust("1 second")
        expect(yield* sessions.keys).toEqual([])
      }).pipe(Effect.provide(LruCache.layer(Sessions, { capacity: 10, timeToLive: "1 second" })))
    )

    it.effect("layer fails with InvalidOption on invalid options", () =>
      Effect.gen(function* () {
        const exit = yield* Effect.exit(
          Effect.provide(Effect.asVoid(Sessions), LruCache.layer(Sessions, { capacity: 0 }))
        )
        expect(Exit.isFailure(exit)).toBe(true)
        const error = yield* Effect.flip(exit)
        expect(error).toBeInstanceOf(InvalidOption)
        expect((error as InvalidOption).option).toBe("capacity")
      })
    )
  })

  describe("keys", () => {
    it.scoped("names of Object.prototype members are ordinary keys", () =>
      Effect.gen(function* () {
        const names = ["__proto__", "constructor", "toString", "hasOwnProperty"]
        const cache = yield* LruCache.make<string, number>({ capacity: 4 })
        for (const name of names) expect(yield* cache.has(name)).toBe(false)
        for (const name of names) expect(show(yield* cache.get(name))).toEqual("none")
        for (const [i, name] of names.entries()) yield* cache.set(name, i)
        for (const [i, name] of names.entries()) expect(show(yield* cache.get(name))).toEqual({ some: i })
        expect(yield* cache.keys).toEqual([...names].reverse())
        expect(yield* cache.getOrCompute("constructor", Effect.succeed(-1))).toBe(1)
        expect(yield* cache.delete("__proto__")).toBe(true)
        expect(yield* cache.has("__proto__")).toBe(false)
        expect(yield* cache.size).toBe(3)
      })
    )

    it.scoped("Data.struct keys are found by equal, distinct structs", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<{ readonly a: number }, string>({ capacity: 4 })
        yield* cache.set(Data.struct({ a: 1 }), "one")
        expect(show(yield* cache.get(Data.struct({ a: 1 })))).toEqual({ some: "one" })
        expect(yield* cache.has(Data.struct({ a: 2 }))).toBe(false)
        yield* cache.set(Data.struct({ a: 1 }), "uno")
        expect(yield* cache.size).toBe(1)
        expect(yield* cache.getOrCompute(Data.struct({ a: 1 }), Effect.succeed("x"))).toBe("uno")
        expect(yield* cache.delete(Data.struct({ a: 1 }))).toBe(true)
        expect(yield* cache.size).toBe(0)
      })
    )

    it.scoped("0 and -0 are one key; 1 and '1' are two; plain objects compare by reference", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<unknown, string>({ capacity: 8 })
        yield* cache.set(0, "zero")
        yield* cache.set(-0, "minus zero")
        expect(yield* cache.size).toBe(1)
        expect(show(yield* cache.get(0))).toEqual({ some: "minus zero" })
        yield* cache.set(1, "number")
        yield* cache.set("1", "string")
        expect(show(yield* cache.get(1))).toEqual({ some: "number" })
        expect(show(yield* cache.get("1"))).toEqual({ some: "string" })
        const a = { id: 1 }
        const b = { id: 1 }
        yield* cache.set(a, "a")
        expect(yield* cache.has(b)).toBe(false)
        yield* cache.set(b, "b")
        expect(show(yield* cache.get(a))).toEqual({ some: "a" })
        expect(show(yield* cache.get(b))).toEqual({ some: "b" })
        expect(yield* cache.size).toBe(5)
      })
    )
  })

  describe("single-flight getOrCompute", () => {
    const N = 50

    /** Pairs of distinct values that are one key. */
    const oneKey: ReadonlyArray<readonly [string, () => unknown, () => unknown]> = [
      ["Date", () => new Date(0), () => new Date(0)],
      ["URL", () => new URL("https://example.com/a?b"), () => new URL("https://example.com/a?b")],
      ["NaN", () => Number.NaN, () => 0 / 0],
      ["-0 and 0", () => -0, () => 0],
      [
        "Data.struct",
        () => Data.struct({ id: 1, tags: Data.array(["a"]) }),
        () => Data.struct({ id: 1, tags: Data.array(["a"]) })
      ]
    ]

    it.scoped.each(oneKey)("%s: the running computations know a key as the index does", ([, first, second]) =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<unknown, string>({ capacity: 4 })
        const runs = yield* Ref.make(0)
        const gate = yield* Deferred.make<void>()
        const slow = Ref.update(runs, (n) => n + 1).pipe(
          Effect.zipRight(Deferred.await(gate)),
          Effect.as("computed")
        )
        const a = yield* Effect.fork(cache.getOrCompute(first(), slow))
        yield* eventually(Effect.map(Ref.get(runs), (n) => n === 1))
        const b = yield* Effect.fork(cache.getOrCompute(second(), slow))
        yield* eventually(Effect.map(cache.stats, (s) => s.misses === 2))
        // A write of the key during the computation is newer than what the computation brings.
        yield* cache.set(second(), "newer")
        yield* Deferred.succeed(gate, undefined)
        expect(yield* Fiber.join(a)).toBe("computed")
        expect(yield* Fiber.join(b)).toBe("computed")
        expect(yield* Ref.get(runs)).toBe(1)
        expect(show(yield* cache.get(first()))).toEqual({ some: "newer" })
        expect(yield* cache.size).toBe(1)
      })
    )

    it.scoped("a key is compared by identity first: its Equal is not called on itself", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<Reentrant, string>({ capacity: 4 })
        const key = new Reentrant(1, cache)
        const gate = yield* Deferred.make<void>()
        const slow = Effect.as(Deferred.await(gate), "computed")
        const fibers = yield* Effect.forEach(
          Array.from({ length: 3 }),
          () => Effect.fork(cache.getOrCompute(key, slow)),
          { concurrency: "unbounded" }
        )
        yield* eventually(Effect.map(cache.stats, (s) => s.misses === 3))
        yield* cache.delete(key)
        yield* Deferred.succeed(gate, undefined)
        expect(yield* Fiber.joinAll(fibers)).toEqual(["computed", "computed", "computed"])
        expect(yield* cache.getOrCompute(key, Effect.succeed("again"))).toBe("again")
        expect(key.comparisons).toBe(0)
        // A distinct, equal key still finds it, through its Equal.
        expect(show(yield* cache.get(new Reentrant(1, cache)))).toEqual({ some: "again" })
      })
    )

    it.scoped("concurrent callers of a missing key run the computation once and all get its value", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<string, number>({ capacity: 4 })
        const runs = yield* Ref.make(0)
        const gate = yield* Deferred.make<void>()
        const compute = Ref.update(runs, (n) => n + 1).pipe(
          Effect.zipRight(Deferred.await(gate)),
          Effect.as(42)
        )
        const fibers = yield* Effect.forEach(
          Array.from({ length: N }),
          () => Effect.fork(cache.getOrCompute("k", compute)),
          { concurrency: "unbounded" }
        )
        yield* eventually(Effect.map(cache.stats, (s) => s.misses === N))
        expect(yield* cache.has("k")).toBe(false)
        yield* Deferred.succeed(gate, undefined)
        const results = yield* Fiber.joinAll(fibers)
        expect(results).toEqual(Array.from({ length: N }, () => 42))
        expect(yield* Ref.get(runs)).toBe(1)
        expect(show(yield* cache.peek("k"))).toEqual({ some: 42 })
        expect(yield* cache.stats).toMatchObject({ hits: 0, misses: N, loadSuccesses: 1, loadFailures: 0 })
        expect(yield* cache.getOrCompute("k", compute)).toBe(42)
        expect(yield* Ref.get(runs)).toBe(1)
      })
    )

    it.scoped("a failure reaches every waiter, is not stored, and a later call computes again", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<string, number>({ capacity: 4 })
        const runs = yield* Ref.make(0)
        const gate = yield* Deferred.make<void>()
        const failing = Ref.update(runs, (n) => n + 1).pipe(
          Effect.zipRight(Deferred.await(gate)),
          Effect.zipRight(Effect.fail("boom" as const))
        )
        const fibers = yield* Effect.forEach(
          Array.from({ length: N }),
          () => Effect.fork(Effect.either(cache.getOrCompute("k", failing))),
          { concurrency: "unbounded" }
        )
        yield* eventually(Effect.map(cache.stats, (s) => s.misses === N))
        yield* Deferred.succeed(gate, undefined)
        const results = yield* Fiber.joinAll(fibers)
        expect(results).toEqual(Array.from({ length: N }, () => Either.left("boom")))
        expect(yield* Ref.get(runs)).toBe(1)
        expect(yield* cache.has("k")).toBe(false)
        expect(yield* cache.stats).toMatchObject({ loadSuccesses: 0, loadFailures: 1, size: 0 })
        const again = Effect.as(
          Ref.update(runs, (n) => n + 1),
          7
        )
        expect(yield* cache.getOrCompute("k", again)).toBe(7)
        expect(yield* Ref.get(runs)).toBe(2)
        expect(show(yield* cache.peek("k"))).toEqual({ some: 7 })
      })
    )

    it.scoped("a defect reaches every waiter and is not stored", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<string, number>({ capacity: 4 })
        const gate = yield* Deferred.make<void>()
        const dying = Effect.zipRight(Deferred.await(gate), Effect.die("broken"))
        const fibers = yield* Effect.forEach(
          Array.from({ length: 5 }),
          () => Effect.fork(Effect.exit(cache.getOrCompute("k", dying))),
          { concurrency: "unbounded" }
        )
        yield* eventually(Effect.map(cache.stats, (s) => s.misses === 5))
        yield* Deferred.succeed(gate, undefined)
        for (const exit of yield* Fiber.joinAll(fibers)) expect(Exit.isFailure(exit)).toBe(true)
        expect(yield* cache.has("k")).toBe(false)
        expect(yield* cache.getOrCompute("k", Effect.succeed(1))).toBe(1)
      })
    )

    it.scoped(
      "interrupting one waiter, even the first, does not interrupt the computation others wait on",
      () =>
        Effect.gen(function* () {
          const cache = yield* LruCache.make<string, number>({ capacity: 4 })
          const runs = yield* Ref.make(0)
          const started = yield* Deferred.make<void>()
          const gate = yield* Deferred.make<void>()
          const compute = Ref.update(runs, (n) => n + 1).pipe(
            Effect.zipRight(Deferred.succeed(started, undefined)),
            Effect.zipRight(Deferred.await(gate)),
            Effect.as(42)
          )
          const first = yield* Effect.fork(cache.getOrCompute("k", compute))
          yield* Deferred.await(started)
          const others = yield* Effect.forEach(
            Array.from({ length: 10 }),
            () => Effect.fork(cache.getOrCompute("k", compute)),
            { concurrency: "unbounded" }
          )
          yield* eventually(Effect.map(cache.stats, (s) => s.misses === 11))
          yield* Fiber.interrupt(first)
          yield* Fiber.interrupt(others[3]!)
          yield* Deferred.succeed(gate, undefined)
          const survivors = others.filter((_, i) => i !== 3)
          expect(yield* Fiber.joinAll(survivors)).toEqual(Array.from({ length: 9 }, () => 42))
          expect(yield* Ref.get(runs)).toBe(1)
          expect(show(yield* cache.peek("k"))).toEqual({ some: 42 })
          expect((yield* cache.stats).loadSuccesses).toBe(1)
        })
    )

    it.scoped("a waiter interrupted alone leaves the cache usable", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<string, number>({ capacity: 4 })
        const started = yield* Deferred.make<void>()
        const never = Effect.zipRight(Deferred.succeed(started, undefined), Effect.never)
        const fiber = yield* Effect.fork(cache.getOrCompute("k", never))
        yield* Deferred.await(started)
        yield* Fiber.interrupt(fiber)
        yield* settle
        expect(yield* cache.has("k")).toBe(false)
        yield* cache.set("k", 1)
        expect(show(yield* cache.get("k"))).toEqual({ some: 1 })
      })
    )

    it.scoped("computations of distinct keys run independently", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<number, number>({ capacity: 200 })
        const runs = yield* Ref.make(0)
        const results = yield* Effect.forEach(
          Array.from({ length: 400 }, (_, i) => i % 100),
          (key) =>
            cache.getOrCompute(
              key,
              Effect.yieldNow().pipe(Effect.zipRight(Ref.update(runs, (n) => n + 1)), Effect.as(key * 10))
            ),
          { concurrency: "unbounded" }
        )
        expect(results).toEqual(Array.from({ length: 400 }, (_, i) => (i % 100) * 10))
        expect(yield* Ref.get(runs)).toBe(100)
        expect(yield* cache.size).toBe(100)
        const stats = yield* cache.stats
        expect(stats.hits + stats.misses).toBe(400)
        expect(stats.loadSuccesses).toBe(100)
      })
    )

    it.effect("closing the cache's scope interrupts a computation and releases its waiters", () =>
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        const cache = yield* LruCache.make<string, number>({ capacity: 10 }).pipe(Scope.extend(scope))
        const started = yield* Deferred.make<void>()
        const waiter = yield* Effect.fork(
          cache.getOrCompute("k", Effect.zipRight(Deferred.succeed(started, undefined), Effect.never))
        )
        yield* Deferred.await(started)
        yield* Scope.close(scope, Exit.void)
        const exit = yield* Fiber.await(waiter)
        expect(Exit.isInterrupted(exit)).toBe(true)
        // Nothing is left registered: a later call on the closed cache ends too, instead of waiting
        // for a computation that will never come.
        const later = yield* Effect.exit(cache.getOrCompute("k", Effect.succeed(1)))
        expect(Exit.isSuccess(later) || Exit.isInterrupted(later)).toBe(true)
      })
    )

    it.scoped("a time-to-live function that throws is a defect of that call, and the key is released", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<string, number>({ capacity: 10 })
        const broken = yield* Effect.exit(
          cache.getOrCompute("k", Effect.succeed(1), {
            timeToLive: () => {
              throw new Error("no time to live")
            }
          })
        )
        expect(Exit.isFailure(broken) && Cause.isDie(broken.cause)).toBe(true)
        expect(yield* cache.has("k")).toBe(false)
        expect(yield* cache.getOrCompute("k", Effect.succeed(2))).toBe(2)
      })
    )

    it.scoped("a set or delete during a computation wins over what the computation would store", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<string, string>({ capacity: 10 })
        const gate = yield* Deferred.make<void>()
        const slow = Effect.as(Deferred.await(gate), "computed")

        const overwritten = yield* Effect.fork(cache.getOrCompute("set", slow))
        yield* Effect.yieldNow()
        yield* cache.set("set", "newer")
        const deleted = yield* Effect.fork(cache.getOrCompute("deleted", slow))
        yield* Effect.yieldNow()
        yield* cache.delete("deleted")
        yield* Deferred.succeed(gate, undefined)

        // The callers still get what they waited for; the cache keeps the newer write.
        expect(yield* Fiber.join(overwritten)).toBe("computed")
        expect(yield* Fiber.join(deleted)).toBe("computed")
        expect(yield* cache.get("set")).toEqual(Option.some("newer"))
        expect(yield* cache.has("deleted")).toBe(false)
      })
    )
  })

  describe("recursion on a key", () => {
    /** Turns a hang into a failure: the calls under test end at once, or never. */
    const noHang = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.timeoutFail(effect, { duration: "10 seconds", onTimeout: () => new Error("the call hung") })

    it.scopedLive("a computation that asks for its own key fails with RecursiveComputation naming it", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<string, number>({ capacity: 4 })
        const recursive = Effect.map(cache.getOrCompute("k", Effect.succeed(1)), (n) => n + 1)
        const error = yield* noHang(Effect.flip(cache.getOrCompute("k", recursive)))
        expect(error).toBeInstanceOf(RecursiveComputation)
        expect((error as RecursiveComputation).key).toBe("k")
        expect((error as RecursiveComputation).message).toContain('"k"')
        expect(yield* cache.has("k")).toBe(false)
        expect(yield* cache.getOrCompute("k", Effect.succeed(3))).toBe(3)
      })
    )

    it.scopedLive("so does a cycle through other keys, and through fibers the computation forks", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<string, number>({ capacity: 4 })
        const a: Effect.Effect<number, unknown> = Effect.suspend(() => cache.getOrCompute("a", b))
        const b: Effect.Effect<number, unknown> = Effect.suspend(() =>
          cache.getOrCompute("b", Effect.flatMap(Effect.fork(a), Fiber.join))
        )
        const error = yield* noHang(Effect.flip(a))
        expect(error).toBeInstanceOf(RecursiveComputation)
        expect((error as RecursiveComputation).key).toBe("a")
        expect(yield* cache.size).toBe(0)
      })
    )

    it.scopedLive(
      "a computation may wait for the same key computed elsewhere, and compute it again later",
      () =>
        Effect.gen(function* () {
          const cache = yield* LruCache.make<string, number>({ capacity: 4 })
          const started = yield* Deferred.make<void>()
          const gate = yield* Deferred.make<void>()
          // Another fiber, outside any computation, computes "shared".
          const other = yield* Effect.fork(
            cache.getOrCompute(
              "shared",
              Effect.zipRight(Deferred.succeed(started, undefined), Effect.as(Deferred.await(gate), 1))
            )
          )
          yield* Deferred.await(started)
          const waiting = yield* Effect.fork(
            cache.getOrCompute(
              "mine",
              Effect.map(cache.getOrCompute("shared", Effect.succeed(-1)), (n) => n + 10)
            )
          )
          yield* Deferred.succeed(gate, undefined)
          expect(yield* noHang(Fiber.join(waiting))).toBe(11)
          expect(yield* Fiber.join(other)).toBe(1)
          // A computation that runs the same key again once its first computation is over is no cycle.
          yield* cache.delete("mine")
          const again = cache.getOrCompute(
            "mine",
            Effect.flatMap(cache.delete("shared"), () => cache.getOrCompute("shared", Effect.succeed(2)))
          )
          expect(yield* noHang(again)).toBe(2)
        })
    )
  })

  describe("concurrency", () => {
    // npm test runs a thousand fibers under one seed; npm run test:soak five thousand under several.
    it.scoped("thousands of fibers mixing every operation keep the invariants", () =>
      stress({ fibers: 1_000, seed: 12345 })
    )

    it.scoped("concurrent sets of distinct keys fill the cache and evict the rest, one each", () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<number, number>({ capacity: 100 })
        yield* Effect.forEach(
          Array.from({ length: 3_000 }, (_, i) => i),
          (i) => cache.set(i, i),
          { concurrency: "unbounded", discard: true }
        )
        expect(yield* cache.size).toBe(100)
        expect((yield* cache.stats).evictions).toBe(2_900)
        yield* Effect.forEach(
          Array.from({ length: 2_000 }, (_, i) => i % 100),
          (i) => cache.get(i),
          { concurrency: "unbounded", discard: true }
        )
        const stats = yield* cache.stats
        expect(stats.hits + stats.misses).toBe(2_000)
      })
    )
  })
})

// ---------------------------------------------------------------------------------------------------
// Model-based test of the service

const makeKey = (code: number): unknown =>
  code === 6 ? "__proto__" : code === 7 ? "constructor" : code === 8 ? Data.struct({ id: 1 }) : code
const KEYS = [0, 1, 2, 3, 4, 5, 6, 7, 8]

const ttlArb: fc.Arbitrary<Duration.DurationInput | undefined> = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 3 },
  { arbitrary: fc.integer({ min: 1, max: 20 }), weight: 5 },
  {
    arbitrary: fc.constantFrom<Duration.DurationInput>(0, -3, Duration.zero, Duration.infinity, "3 millis"),
    weight: 2
  }
)

type Op =
  | { readonly op: "set"; readonly key: number; readonly ttl: Duration.DurationInput | undefined }
  | {
      readonly op: "getOrCompute"
      readonly key: number
      readonly ttl: Duration.DurationInput | undefined
      readonly fails: boolean
      readonly ttlFromValue: boolean
    }
  | { readonly op: "get" | "peek" | "has" | "delete" | "remainingTtl"; readonly key: number }
  | { readonly op: "clear" | "keys" | "values" | "entries" | "size" | "stats" }
  | { readonly op: "advance"; readonly ms: number }
  | {
      readonly op: "refresh"
      readonly key: number
      readonly ttl: Duration.DurationInput | undefined
      readonly fails: boolean
    }
  | { readonly op: "invalidateWhen"; readonly keys: ReadonlyArray<number>; readonly odd: boolean }

const keyArb = fc.integer({ min: 0, max: KEYS.length - 1 })

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant("set" as const), key: keyArb, ttl: ttlArb }), weight: 8 },
  {
    arbitrary: fc.record({
      op: fc.constant("getOrCompute" as const),
      key: keyArb,
      ttl: ttlArb,
      fails: fc.boolean(),
      ttlFromValue: fc.boolean()
    }),
    weight: 4
  },
  {
    arbitrary: fc.record({
      op: fc.constantFrom(
        "get" as const,
        "peek" as const,
        "has" as const,
        "delete" as const,
        "remainingTtl" as const
      ),
      key: keyArb
    }),
    weight: 10
  },
  {
    arbitrary: fc.record({
      op: fc.constantFrom(
        "clear" as const,
        "keys" as const,
        "values" as const,
        "entries" as const,
        "size" as const,
        "stats" as const
      )
    }),
    weight: 2
  },
  {
    arbitrary: fc.record({
      op: fc.constant("advance" as const),
      ms: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 6 }), weight: 4 }, fc.constantFrom(15, 1_000))
    }),
    weight: 4
  },
  {
    arbitrary: fc.record({
      op: fc.constant("refresh" as const),
      key: keyArb,
      ttl: ttlArb,
      fails: fc.boolean()
    }),
    weight: 3
  },
  {
    // Removes the entries of some keys, and those of odd values if `odd`.
    arbitrary: fc.record({
      op: fc.constant("invalidateWhen" as const),
      keys: fc.uniqueArray(keyArb, { maxLength: 4 }),
      odd: fc.boolean()
    }),
    weight: 2
  }
)

interface Loads {
  readonly successes: number
  readonly failures: number
}

/** The weigher of the bounded runs: 0 to 6, so that some entries are too heavy for a small maxSize. */
const sizeOf = (value: number, key: unknown): number => (value % 5) + (M.showKey(key).length % 3)

const runScenario = (
  capacity: number,
  defaultTtl: Duration.DurationInput | undefined,
  ops: ReadonlyArray<Op>,
  maxSize?: number
) =>
  Effect.gen(function* () {
    const cache = yield* LruCache.make<unknown, number>({
      capacity,
      timeToLive: defaultTtl,
      sweepInterval: Duration.infinity,
      ...(maxSize === undefined ? {} : { maxSize, sizeOf })
    })
    const events = yield* cache.subscribe
    const fallback = M.ttlMillis(defaultTtl)
    let model = M.empty<unknown, number>(capacity, maxSize === undefined ? undefined : { maxSize, sizeOf })
    let loads: Loads = { successes: 0, failures: 0 }
    let now = yield* Clock.currentTimeMillis
    for (const [value, op] of ops.entries()) {
      let expected: ReadonlyArray<M.Removal<unknown, number>> = []
      switch (op.op) {
        case "set": {
          yield* cache.set(makeKey(op.key), value, { timeToLive: op.ttl })
          ;[expected, model] = M.set(model, makeKey(op.key), value, now, M.ttlMillis(op.ttl, fallback))
          break
        }
        case "getOrCompute": {
          const key = makeKey(op.key)
          const ttl = op.ttl
          const options: LruCache.ComputeOptions<number> = {
            timeToLive: op.ttlFromValue
              ? (exit: Exit.Exit<number, unknown>) =>
                  Exit.isSuccess(exit) && exit.value % 2 === 0 ? (ttl ?? fallback) : 5
              : ttl
          }
          const result = yield* Effect.either(
            cache.getOrCompute(
              key,
              op.fails ? Effect.fail("failed" as const) : Effect.succeed(value),
              options
            )
          )
          const [found, removed, afterGet] = M.getWithRemovals(model, key, now)
          model = afterGet
          expected = removed
          if (Option.isSome(found)) {
            expect(result).toEqual(Either.right(found.value))
          } else if (op.fails) {
            expect(result).toEqual(Either.left("failed"))
            loads = { ...loads, failures: loads.failures + 1 }
          } else {
            expect(result).toEqual(Either.right(value))
            loads = { ...loads, successes: loads.successes + 1 }
            const input = op.ttlFromValue ? (value % 2 === 0 ? (ttl ?? fallback) : 5) : ttl
            const [stored, afterSet] = M.set(model, key, value, now, M.ttlMillis(input, fallback))
            expected = [...removed, ...stored]
            model = afterSet
          }
          break
        }
        case "get": {
          const result = yield* cache.get(makeKey(op.key))
          const [found, removed, next] = M.getWithRemovals(model, makeKey(op.key), now)
          expect(show(result)).toEqual(show(found))
          expected = removed
          model = next
          break
        }
        case "peek":
          expect(show(yield* cache.peek(makeKey(op.key)))).toEqual(show(M.peek(model, makeKey(op.key), now)))
          break
        case "has":
          expect(yield* cache.has(makeKey(op.key))).toBe(M.has(model, makeKey(op.key), now))
          break
        case "remainingTtl":
          expect(millis(yield* cache.remainingTtl(makeKey(op.key)))).toEqual(
            show(M.remainingTtl(model, makeKey(op.key), now))
          )
          break
        case "delete": {
          const deleted = yield* cache.delete(makeKey(op.key))
          ;[expected, model] = M.remove(model, makeKey(op.key), now)
          expect(deleted).toBe(expected.some((r) => r.cause === "deleted"))
          break
        }
        case "clear":
          yield* cache.clear
          ;[expected, model] = M.clear(model, now)
          break
        case "keys":
        case "values":
        case "entries":
        case "size":
        case "stats": {
          // Reads of the whole cache first sweep out expired entries (counted as expirations).
          ;[expected, model] = M.removeExpired(model, now)
          if (op.op === "keys") {
            expect((yield* cache.keys).map(M.showKey)).toEqual(M.keys(model, now).map(M.showKey))
          } else if (op.op === "values") {
            expect(yield* cache.values).toEqual(M.values(model, now))
          } else if (op.op === "entries") {
            expect((yield* cache.entries).map(([k, v]) => [M.showKey(k), v])).toEqual(
              M.entries(model, now).map(([k, v]) => [M.showKey(k), v])
            )
          } else if (op.op === "size") {
            expect(yield* cache.size).toBe(M.size(model, now))
          } else {
            const { evictions, expirations, hits, loadFailures, loadSuccesses, misses, size } =
              yield* cache.stats
            expect({ hits, misses, evictions, expirations, size, loadSuccesses, loadFailures }).toEqual({
              ...model.counters,
              size: M.size(model, now),
              loadSuccesses: loads.successes,
              loadFailures: loads.failures
            })
          }
          break
        }
        case "refresh": {
          const key = makeKey(op.key)
          const result = yield* Effect.either(
            cache.refresh(key, op.fails ? Effect.fail("failed" as const) : Effect.succeed(value), {
              timeToLive: op.ttl
            })
          )
          expect(result).toEqual(op.fails ? Either.left("failed") : Either.right(undefined))
          loads = op.fails
            ? { ...loads, failures: loads.failures + 1 }
            : { ...loads, successes: loads.successes + 1 }
          ;[expected, model] = M.refresh(
            model,
            key,
            op.fails ? Option.none() : Option.some(value),
            now,
            M.ttlMillis(op.ttl, fallback)
          )
          break
        }
        case "invalidateWhen": {
          const chosen = op.keys.map(makeKey)
          const predicate = (key: unknown, v: number) =>
            chosen.some((c) => M.sameKey(c, key)) || (op.odd && v % 2 === 1)
          const count = yield* cache.invalidateWhen(predicate)
          ;[expected, model] = M.invalidateWhen(model, predicate, now)
          expect(count).toBe(expected.length)
          break
        }
        case "advance":
          yield* TestClock.adjust(op.ms)
          now += op.ms
          expect(yield* Clock.currentTimeMillis).toBe(now)
          break
      }
      expect(M.canonicalRemovals(yield* drain(events))).toEqual(M.canonicalRemovals(expected))
    }
    // The totals once more, after the last step.
    const [swept, last] = M.removeExpired(model, now)
    const { evictions, expirations, hits, loadFailures, loadSuccesses, misses, size, totalSize } =
      yield* cache.stats
    expect({ hits, misses, evictions, expirations, size, loadSuccesses, loadFailures, totalSize }).toEqual({
      ...last.counters,
      size: M.size(last, now),
      loadSuccesses: loads.successes,
      loadFailures: loads.failures,
      totalSize: maxSize === undefined ? undefined : M.totalSize(last, now)
    })
    expect(M.canonicalRemovals(yield* drain(events))).toEqual(M.canonicalRemovals(swept))
  })

describe("LruCache against the reference model", () => {
  it("answers every operation of random sequences as the model does", async () => {
    // One test environment for all runs: each run makes its own cache and reads the clock it starts at.
    const runtime = ManagedRuntime.make(TestContext.TestContext)
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.oneof(
          fc.constant(undefined),
          fc.integer({ min: 1, max: 20 }),
          fc.constant<Duration.DurationInput>(Duration.infinity)
        ),
        fc.array(opArb, { minLength: 1, maxLength: 50 }),
        (capacity, defaultTtl, ops) =>
          runtime.runPromise(Effect.scoped(runScenario(capacity, defaultTtl, ops)))
      ),
      { numRuns: process.env.CI ? 200 : 400 }
    )
    await runtime.dispose()
  })

  it("with maxSize and sizeOf, answers every operation of random sequences as the model does", async () => {
    const runtime = ManagedRuntime.make(TestContext.TestContext)
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 10 }),
        fc.oneof(fc.constant(undefined), fc.integer({ min: 1, max: 20 })),
        fc.array(opArb, { minLength: 1, maxLength: 50 }),
        (capacity, maxSize, defaultTtl, ops) =>
          runtime.runPromise(Effect.scoped(runScenario(capacity, defaultTtl, ops, maxSize)))
      ),
      { numRuns: process.env.CI ? 200 : 400 }
    )
    await runtime.dispose()
  })
})

// ---------------------------------------------------------------------------------------------------
// Persistence through every door: set, getOrCompute and cached keep the same durability promise.

const entry = (value: number): MemoCache.Entry => ({ _tag: "Success", value })

const onDisk = Effect.gen(function* () {
  const context = yield* Layer.build(NodeContext.layer)
  const fs = Context.get(context, FileSystem.FileSystem)
  const directory = yield* Effect.orDie(fs.makeTempDirectoryScoped())
  const path = `${directory}/cache.bin`
  const open = (durability: CachePersistence.Durability, over: FileSystem.FileSystem = fs) =>
    LruCache.make<string, MemoCache.Entry, PersistenceError, never>({
      capacity: 10,
      persistence: provide(
        CachePersistence.file<string, MemoCache.Entry>({ path, durability }),
        Context.add(context, FileSystem.FileSystem, over)
      )
    })
  return { fs, path, open }
})

/** Opens a cache on a copy of the files as they are now: what a crash at this moment would leave. */
const afterCrash = (fs: FileSystem.FileSystem, path: string) =>
  Effect.gen(function* () {
    const copy = yield* onDisk
    for (const suffix of ["", ".journal"]) {
      const bytes = yield* Effect.option(fs.readFile(`${path}${suffix}`))
      if (Option.isSome(bytes)) yield* fs.writeFile(`${copy.path}${suffix}`, bytes.value)
    }
    return yield* copy.open("always")
  })

/**
 * A `FileSystem` whose file fsyncs, once `hold` is set, wait until `gate` opens: an fsync as slow as
 * the test wants. `held` counts the fsyncs waiting.
 */
const slowSyncs = (fs: FileSystem.FileSystem, gate: Deferred.Deferred<void>) => {
  const control = { hold: false, held: 0 }
  const wrap = (file: FileSystem.File): FileSystem.File =>
    withFile(file, {
      sync: Effect.suspend(() => {
        if (!control.hold) return file.sync
        control.held++
        return Effect.zipRight(Deferred.await(gate), file.sync)
      })
    })
  const slow: FileSystem.FileSystem = {
    ...fs,
    open: (path, options) => Effect.map(fs.open(path, options), wrap)
  }
  return { fs: slow, control }
}

/** The three ways to store a value; each stores one entry under a key of its own. */
const doors: ReadonlyArray<
  readonly [
    string,
    (
      cache: LruCache.LruCache<string, MemoCache.Entry, PersistenceError>,
      value: unknown
    ) => Effect.Effect<unknown, unknown>
  ]
> = [
  ["set", (cache, value) => cache.set("set", { _tag: "Success", value })],
  [
    "getOrCompute",
    (cache, value) => cache.getOrCompute("computed", Effect.succeed({ _tag: "Success", value }))
  ],
  ["cached", (cache, value) => MemoCache.cachedWith(cache, () => Effect.succeed(value), { name: "f" })()]
]

describe("persistence through every door", () => {
  describe.each(doors)("%s", (_, store) => {
    it.scoped('"always": completes only once the record is fsynced; a crash then keeps it', () =>
      Effect.gen(function* () {
        const place = yield* onDisk
        const gate = yield* Deferred.make<void>()
        const slow = slowSyncs(place.fs, gate)
        const cache = yield* place.open("always", slow.fs)
        // Added after the cache, so run before it closes: its final fsyncs must pass, whatever happened.
        yield* Effect.addFinalizer(() => Deferred.succeed(gate, undefined))
        slow.control.hold = true
        const fiber = yield* Effect.fork(store(cache, 1))
        yield* eventually(Effect.sync(() => slow.control.held > 0))
        yield* settle
        expect(fiber.unsafePoll()).toBe(null)
        yield* Deferred.succeed(gate, undefined)
        yield* Fiber.join(fiber)
        const recovered = yield* afterCrash(place.fs, place.path)
        expect(yield* recovered.values).toEqual([entry(1)])
      })
    )

    it.scoped('"interval": the record reaches the disk within the interval', () =>
      Effect.gen(function* () {
        const place = yield* onDisk
        const cache = yield* place.open("interval")
        // A first flush, so that the next one appends to the journal rather than snapshotting memory.
        yield* cache.set("first", entry(0))
        yield* TestClock.adjust("1 second")
        yield* eventually(
          Effect.map(
            Effect.flatMap(afterCrash(place.fs, place.path), (recovered) => recovered.size),
            (size) => size === 1
          )
        )
        yield* store(cache, 1)
        yield* TestClock.adjust("1 second")
        yield* eventually(
          Effect.map(
            Effect.flatMap(afterCrash(place.fs, place.path), (recovered) => recovered.size),
            (size) => size === 2
          )
        )
      })
    )

    it.scoped('"close": the value is in the snapshot written when the scope closes', () =>
      Effect.gen(function* () {
        const place = yield* onDisk
        yield* Effect.scoped(Effect.flatMap(place.open("close"), (cache) => store(cache, 1)))
        const reopened = yield* place.open("close")
        expect(yield* reopened.values).toEqual([entry(1)])
      })
    )

    it.scoped("a refused write fails with WriteFailed and keeps the value in memory", () =>
      Effect.gen(function* () {
        const place = yield* onDisk
        let broken = false
        const faulty = instrument(place.fs, (operation) => broken && operation === "write" && "EACCES")
        const cache = yield* place.open("always", faulty.fs)
        broken = true
        const error = yield* Effect.flip(store(cache, 1))
        expect(error).toBeInstanceOf(PersistenceError)
        expect((error as PersistenceError).reason).toBe("WriteFailed")
        expect((error as PersistenceError).message).toContain("EACCES")
        expect(yield* cache.values).toEqual([entry(1)])
      }).pipe(quiet)
    )

    it.scoped("a value the codec cannot encode fails with Unencodable and stores nothing", () =>
      Effect.gen(function* () {
        const place = yield* onDisk
        const cache = yield* place.open("always")
        const error = yield* Effect.flip(store(cache, () => "a function has no structured clone"))
        expect(error).toBeInstanceOf(PersistenceError)
        expect((error as PersistenceError).reason).toBe("Unencodable")
        expect(yield* cache.size).toBe(0)
      })
    )
  })

  it.scoped("every waiter of a computation gets the persistence error", () =>
    Effect.gen(function* () {
      const place = yield* onDisk
      const cache = yield* place.open("always")
      const gate = yield* Deferred.make<void>()
      const unencodable = Effect.as(Deferred.await(gate), { _tag: "Success" as const, value: Symbol("no") })
      const fibers = yield* Effect.forEach(
        Array.from({ length: 5 }),
        () => Effect.fork(Effect.flip(cache.getOrCompute("k", unencodable))),
        { concurrency: "unbounded" }
      )
      yield* eventually(Effect.map(cache.stats, (s) => s.misses === 5))
      yield* Deferred.succeed(gate, undefined)
      for (const error of yield* Fiber.joinAll(fibers)) {
        expect(error).toMatchObject({ _tag: "PersistenceError", reason: "Unencodable" })
      }
      expect(yield* cache.has("k")).toBe(false)
    })
  )
})

// ---------------------------------------------------------------------------------------------------
// invalidateWhen and refresh

describe("invalidateWhen", () => {
  it.scoped("removes the matching live entries in one step, one deleted event each, and counts them", () =>
    Effect.gen(function* () {
      const cache = yield* LruCache.make<string, number>({ capacity: 10, sweepInterval: Duration.infinity })
      const events = yield* cache.subscribe
      yield* cache.set("a", 1)
      yield* cache.set("b", 2)
      yield* cache.set("c", 3)
      yield* cache.set("gone", 5, { timeToLive: "10 millis" })
      yield* TestClock.adjust("10 millis")
      const seen: Array<string> = []
      const removed = yield* cache.invalidateWhen((key, value) => {
        seen.push(key)
        return value % 2 === 1
      })
      expect(removed).toBe(2)
      // The predicate sees live entries only; the expired one is left to the sweep.
      expect(seen.sort()).toEqual(["a", "b", "c"])
      expect(M.canonicalRemovals(yield* drain(events))).toEqual(
        M.canonicalRemovals([
          { key: "a", value: 1, cause: "deleted" },
          { key: "c", value: 3, cause: "deleted" }
        ])
      )
      expect(yield* cache.keys).toEqual(["b"])
      expect(yield* cache.invalidateWhen(() => false)).toBe(0)
      const { hits, misses } = yield* cache.stats
      expect({ hits, misses }).toEqual({ hits: 0, misses: 0 })
    })
  )

  it.scoped("a predicate that throws removes nothing, and the call dies with what it threw", () =>
    Effect.gen(function* () {
      const cache = yield* LruCache.make<string, number>({ capacity: 10 })
      yield* cache.set("a", 1)
      yield* cache.set("b", 2)
      const boom = new Error("boom")
      const exit = yield* Effect.exit(
        cache.invalidateWhen((key) => {
          if (key === "b") throw boom
          return true
        })
      )
      expect(exit).toEqual(Exit.die(boom))
      expect(yield* cache.keys).toEqual(["b", "a"])
    })
  )

  it.scoped("a refresh running for a removed key stores nothing, as after a delete", () =>
    Effect.gen(function* () {
      const cache = yield* LruCache.make<string, string>({ capacity: 10 })
      yield* cache.set("k", "old")
      const held = yield* heldComputation("new")
      const refreshing = yield* Effect.fork(cache.refresh("k", held.computation))
      yield* held.started
      expect(yield* cache.invalidateWhen((key) => key === "k")).toBe(1)
      yield* held.release
      yield* Fiber.join(refreshing)
      expect(yield* cache.has("k")).toBe(false)
    })
  )

  /** What the journal's records do, one item per key deleted; and how many records there are. */
  const journalRecords = (fs: FileSystem.FileSystem, path: string) =>
    Effect.map(
      Effect.orElseSucceed(fs.readFile(`${path}.journal`), () => new Uint8Array()),
      (bytes) => {
        const visited: Array<string> = []
        const result = records.scan(bytes, records.JOURNAL_MAGIC, {
          set: () => visited.push("set"),
          delete: () => visited.push("delete"),
          clear: () => visited.push("clear")
        })
        return { visited, records: result.records }
      }
    )

  describe.each(["always", "interval", "close"] as const)("with a %s file", (durability) => {
    it.scoped("is journaled as one record, which a reopen and a crash both replay", () =>
      Effect.gen(function* () {
        const place = yield* onDisk
        const scope = yield* Scope.make()
        const cache = yield* Scope.extend(place.open(durability), scope)
        for (const [i, key] of ["a", "b", "c", "d"].entries()) yield* cache.set(key, entry(i))
        if (durability === "interval") {
          // A first flush, so that the next one appends to the journal rather than snapshotting memory.
          yield* TestClock.adjust("1 second")
          yield* eventually(
            Effect.map(
              Effect.flatMap(afterCrash(place.fs, place.path), (recovered) => recovered.size),
              (size) => size === 4
            )
          )
        }
        const before = yield* journalRecords(place.fs, place.path)
        expect(yield* cache.invalidateWhen((key) => key === "a" || key === "c")).toBe(2)
        if (durability !== "close") {
          if (durability === "interval") yield* TestClock.adjust("1 second")
          yield* eventually(
            Effect.map(journalRecords(place.fs, place.path), (after) => after.records > before.records)
          )
          const after = yield* journalRecords(place.fs, place.path)
          // One more record, which deletes both keys.
          expect(after.records).toBe(before.records + 1)
          expect(after.visited.slice(before.visited.length)).toEqual(["delete", "delete"])
          const crashed = yield* afterCrash(place.fs, place.path)
          expect(yield* crashed.keys).toEqual(["d", "b"])
        }
        yield* Scope.close(scope, Exit.void)
        const reopened = yield* place.open(durability)
        expect(yield* reopened.keys).toEqual(["d", "b"])
      }).pipe(quiet)
    )
  })
})

describe("refresh", () => {
  it.scoped("serves the old value until the new one lands, counting no hit or miss", () =>
    Effect.gen(function* () {
      const cache = yield* LruCache.make<string, string>({ capacity: 10 })
      yield* cache.set("k", "old")
      const held = yield* heldComputation("new")
      const refreshing = yield* Effect.fork(cache.refresh("k", held.computation))
      yield* held.started
      expect(yield* cache.get("k")).toEqual(Option.some("old"))
      expect(yield* cache.getOrCompute("k", Effect.succeed("computed"))).toBe("old")
      expect(refreshing.unsafePoll()).toBe(null)
      yield* held.release
      yield* Fiber.join(refreshing)
      expect(yield* cache.get("k")).toEqual(Option.some("new"))
      const { hits, loadFailures, loadSuccesses, misses } = yield* cache.stats
      expect({ hits, misses, loadSuccesses, loadFailures }).toEqual({
        hits: 3,
        misses: 0,
        loadSuccesses: 1,
        loadFailures: 0
      })
    })
  )

  it.scoped("a failure keeps the old value, reaches the caller, and counts a load failure", () =>
    Effect.gen(function* () {
      const cache = yield* LruCache.make<string, string>({ capacity: 10 })
      const events = yield* cache.subscribe
      yield* cache.set("k", "old")
      expect(yield* Effect.flip(cache.refresh("k", Effect.fail("down" as const)))).toBe("down")
      expect(yield* cache.get("k")).toEqual(Option.some("old"))
      expect(yield* drain(events)).toEqual([])
      expect((yield* cache.stats).loadFailures).toBe(1)
    })
  )

  it.scoped("a success replaces the old value with the time to live given", () =>
    Effect.gen(function* () {
      const cache = yield* LruCache.make<string, string>({ capacity: 10 })
      const events = yield* cache.subscribe
      yield* cache.set("k", "old")
      yield* cache.refresh("k", Effect.succeed("new"), { timeToLive: "5 millis" })
      expect(yield* drain(events)).toEqual([{ key: "k", value: "old", cause: "replaced" }])
      expect(millis(yield* cache.remainingTtl("k"))).toEqual({ some: 5 })
      // A key without a value gets one.
      yield* cache.refresh("fresh", Effect.succeed("first"))
      expect(yield* cache.get("fresh")).toEqual(Option.some("first"))
    })
  )

  it.scoped("joins a computation of the key already running rather than starting another", () =>
    Effect.gen(function* () {
      const cache = yield* LruCache.make<string, string>({ capacity: 10 })
      const runs = yield* Ref.make(0)
      const started = yield* Deferred.make<void>()
      const gate = yield* Deferred.make<void>()
      const compute = (value: string) =>
        Effect.zipRight(
          Effect.zipRight(
            Ref.update(runs, (n) => n + 1),
            Deferred.succeed(started, undefined)
          ),
          Effect.as(Deferred.await(gate), value)
        )
      const loading = yield* Effect.fork(cache.getOrCompute("k", compute("loaded")))
      yield* Deferred.await(started)
      const refreshing = yield* Effect.fork(cache.refresh("k", compute("refreshed")))
      const again = yield* Effect.fork(cache.refresh("k", compute("again")))
      yield* settle
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Fiber.join(loading)).toBe("loaded")
      yield* Fiber.join(refreshing)
      yield* Fiber.join(again)
      expect(yield* Ref.get(runs)).toBe(1)
      expect(yield* cache.get("k")).toEqual(Option.some("loaded"))
    })
  )

  it.scoped("goes on in the cache's scope when the caller is interrupted", () =>
    Effect.gen(function* () {
      const cache = yield* LruCache.make<string, string>({ capacity: 10 })
      yield* cache.set("k", "old")
      const held = yield* heldComputation("new")
      const refreshing = yield* Effect.fork(cache.refresh("k", held.computation))
      yield* held.started
      yield* Fiber.interrupt(refreshing)
      yield* held.release
      yield* eventually(Effect.map(cache.peek("k"), (value) => Option.getOrNull(value) === "new"))
    })
  )
})

describe("layerConfig", () => {
  class Scores extends Context.Tag("test/Scores")<Scores, LruCache.LruCache<string, number>>() {}

  const config = {
    capacity: Config.integer("CACHE_CAPACITY"),
    timeToLive: Config.duration("CACHE_TTL").pipe(Config.withDefault(Duration.infinity))
  }

  /** Builds the layer of `config` with settings `env`, and runs `use` with its cache. */
  const withSettings = <A, E>(
    env: Record<string, string>,
    use: (cache: LruCache.LruCache<string, number>) => Effect.Effect<A, E>
  ) =>
    Effect.flatMap(Scores, use).pipe(
      Effect.provide(LruCache.layerConfig(Scores, config)),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
    )

  it.effect("reads the capacity and the time to live from the ConfigProvider", () =>
    withSettings({ CACHE_CAPACITY: "2", CACHE_TTL: "1 second" }, (cache) =>
      Effect.gen(function* () {
        yield* Effect.forEach(["a", "b", "c"], (key, i) => cache.set(key, i), { discard: true })
        expect(yield* cache.keys).toEqual(["c", "b"])
        yield* TestClock.adjust("1 second")
        expect(yield* cache.size).toBe(0)
      })
    )
  )

  it.effect("takes the defaults the config gives for settings that are absent", () =>
    withSettings({ CACHE_CAPACITY: "5" }, (cache) =>
      Effect.map(cache.set("a", 1), () => expect(Duration.isFinite(cache.timeToLive)).toBe(false))
    )
  )

  it.effect("fails with a ConfigError naming the key when a setting is missing or malformed", () =>
    Effect.gen(function* () {
      const missing = yield* Effect.flip(withSettings({}, () => Effect.void))
      expect(ConfigError.isConfigError(missing)).toBe(true)
      expect(String(missing)).toContain("CACHE_CAPACITY")
      const malformed = yield* Effect.flip(withSettings({ CACHE_CAPACITY: "many" }, () => Effect.void))
      expect(ConfigError.isConfigError(malformed)).toBe(true)
      expect(String(malformed)).toContain("CACHE_CAPACITY")
      const duration = yield* Effect.flip(
        withSettings({ CACHE_CAPACITY: "2", CACHE_TTL: "soon" }, () => Effect.void)
      )
      expect(String(duration)).toContain("CACHE_TTL")
    })
  )

  it.effect("fails with InvalidOption when a setting reads but is not a valid option", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(withSettings({ CACHE_CAPACITY: "0" }, () => Effect.void))
      expect(error).toBeInstanceOf(InvalidOption)
      expect(error).toMatchObject({ option: "capacity", value: 0 })
    })
  )

  it.scoped("reads the persistence path and durability from the ConfigProvider", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const directory = yield* fs.makeTempDirectoryScoped()
      class Persisted extends Context.Tag("test/Persisted")<
        Persisted,
        LruCache.LruCache<string, number, PersistenceError>
      >() {}
      const live = LruCache.layerConfig(Persisted, {
        capacity: Config.integer("CACHE_CAPACITY"),
        persistence: Config.map(
          Config.all({
            path: Config.string("CACHE_PATH"),
            durability: Config.literal("always", "interval", "close")("CACHE_DURABILITY")
          }),
          (options) => CachePersistence.file<string, number>(options)
        )
      })
      const provider = ConfigProvider.fromMap(
        new Map([
          ["CACHE_CAPACITY", "10"],
          ["CACHE_PATH", `${directory}/scores.bin`],
          ["CACHE_DURABILITY", "always"]
        ])
      )
      const run = <A, E>(
        use: (cache: LruCache.LruCache<string, number, PersistenceError>) => Effect.Effect<A, E>
      ) => Effect.flatMap(Persisted, use).pipe(Effect.provide(live), Effect.withConfigProvider(provider))
      yield* run((cache) => cache.set("a", 1))
      expect(yield* fs.exists(`${directory}/scores.bin`)).toBe(true)
      expect(yield* run((cache) => cache.get("a"))).toEqual(Option.some(1))
      const wrong = yield* Effect.flip(
        Effect.provide(Effect.asVoid(Persisted), live).pipe(
          Effect.withConfigProvider(
            ConfigProvider.fromMap(
              new Map([
                ["CACHE_CAPACITY", "10"],
                ["CACHE_PATH", `${directory}/scores.bin`],
                ["CACHE_DURABILITY", "sometimes"]
              ])
            )
          )
        )
      )
      expect(String(wrong)).toContain("CACHE_DURABILITY")
    }).pipe(Effect.provide(NodeContext.layer))
  )
})

describe("maxSize", () => {
  const bySize = { maxSize: 10, sizeOf: (value: string) => value.length }

  it.scoped(
    "evicts until both bounds hold, refuses an entry heavier than maxSize, and reports the weight",
    () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<string, string>({ capacity: 3, ...bySize })
        const events = yield* cache.subscribe
        yield* cache.set("a", "xxxx")
        yield* cache.set("b", "xxxx")
        yield* cache.set("c", "xx")
        expect((yield* cache.stats).totalSize).toBe(10)
        yield* cache.set("d", "xxxxx")
        expect(yield* drain(events)).toEqual([
          { key: "a", value: "xxxx", cause: "evicted" },
          { key: "b", value: "xxxx", cause: "evicted" }
        ])
        yield* cache.set("big", "x".repeat(11))
        expect(yield* cache.has("big")).toBe(false)
        yield* cache.set("c", "x".repeat(11))
        expect(yield* drain(events)).toEqual([{ key: "c", value: "xx", cause: "evicted" }])
        expect(yield* cache.entries).toEqual([["d", "xxxxx"]])
        const { evictions, size, totalSize } = yield* cache.stats
        expect({ evictions, size, totalSize }).toEqual({ evictions: 3, size: 1, totalSize: 5 })
      })
  )

  it.scoped.each([
    {
      door: "set",
      write: (cache: LruCache.LruCache<string, string, never>, key: string, value: string) =>
        cache.set(key, value)
    },
    {
      // A new key through getOrCompute, a stored one through refresh: the doors that compute.
      door: "getOrCompute and refresh",
      write: (cache: LruCache.LruCache<string, string, never>, key: string, value: string) =>
        Effect.flatMap(cache.has(key), (stored) =>
          stored
            ? cache.refresh(key, Effect.succeed(value))
            : Effect.asVoid(cache.getOrCompute(key, Effect.succeed(value)))
        )
    }
  ])(
    "$door: an entry too heavy to store is not journaled as stored; the key's record is a delete",
    ({ write }) =>
      Effect.gen(function* () {
        // What a backend is asked to record, in order: as the contract says, the call itself records.
        const records: Array<string> = []
        const record = (line: string) => {
          records.push(line)
          return Effect.void
        }
        const recording: CachePersistence.Persistence<string, string, never, never> = {
          [CachePersistence.PersistenceTypeId]: CachePersistence.PersistenceTypeId,
          open: () =>
            Effect.succeed({
              loaded: [],
              prepareSet: (key, value) => Either.right(`set ${key}=${value.length}`),
              recordSet: (prepared) => record(prepared as string),
              recordDelete: (key) => record(`delete ${key}`),
              recordClear: () => record("clear")
            })
        }
        const cache = yield* LruCache.make<string, string, never>({
          capacity: 3,
          ...bySize,
          persistence: recording
        })
        yield* write(cache, "a", "xxxx")
        yield* write(cache, "big", "x".repeat(11))
        yield* write(cache, "a", "x".repeat(11))
        expect(yield* cache.entries).toEqual([])
        expect(records).toEqual(["set a=4", "delete a"])
      })
  )

  it.scoped(
    "a weigher answering other than a non-negative integer is a defect, and the cache stays as it was",
    () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<string, number>({
          capacity: 3,
          maxSize: 10,
          sizeOf: (value) => value
        })
        yield* cache.set("a", 1)
        const exit = yield* Effect.exit(cache.set("b", -1))
        expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
        expect(String(Cause.squash((exit as Exit.Failure<void, never>).cause))).toMatch(
          /sizeOf must return a non-negative integer, got -1 for the key "b"/
        )
        expect(yield* cache.entries).toEqual([["a", 1]])
        expect((yield* cache.stats).totalSize).toBe(1)
      })
  )

  it.scoped(
    "a cache loaded from persistence weighs its entries again and keeps the most recent that fit",
    () =>
      Effect.gen(function* () {
        const context = yield* Layer.build(NodeContext.layer)
        const fs = Context.get(context, FileSystem.FileSystem)
        const directory = yield* Effect.orDie(fs.makeTempDirectoryScoped())
        const persistence = provide(
          CachePersistence.file<string, string>({ path: `${directory}/cache.bin`, durability: "always" }),
          context
        )
        yield* Effect.scoped(
          Effect.gen(function* () {
            const cache = yield* LruCache.make<string, string, PersistenceError>({
              capacity: 10,
              persistence
            })
            for (const [key, value] of [
              ["a", "xxxx"],
              ["b", "xxxx"],
              ["huge", "x".repeat(11)],
              ["c", "xxxxx"]
            ]) {
              yield* cache.set(key!, value!)
            }
          })
        )
        const reopened = yield* LruCache.make<string, string, PersistenceError>({
          capacity: 10,
          persistence,
          ...bySize
        })
        expect(yield* reopened.keys).toEqual(["c", "b"])
        expect((yield* reopened.stats).totalSize).toBe(9)
      })
  )
})
