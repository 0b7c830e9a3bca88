/**
 * Ported from node-lru-cache: https://github.com/isaacs/node-lru-cache
 *   test/basic.ts, test/ttl.ts, test/dispose.ts, test/map-like.ts, test/fetch.ts, with the expected
 *   values of their snapshots (tap-snapshots/test/*.ts.test.cjs),
 *   at commit c6eafb2e1b3c78651dc425c28bf6ef9cd2574ec5.
 *   Licence: Blue Oak Model License 1.0.0 (BlueOak-1.0.0); author Isaac Z. Schlueter.
 *
 * Each test keeps the original's name and its assertions in order, through ./adapter.ts: `max` is
 * `capacity`, `ttl` a `timeToLive` in milliseconds, the injected clock is the `TestClock`, `fetch`
 * with a `fetchMethod` is `getOrCompute` with the effect the method would run, `dispose` callbacks
 * are the removal events of `subscribe`. Where this library differs on purpose the assertion states
 * our documented behaviour next to a quote of the README; assertions on peer features with no
 * counterpart are left out with a comment, and tests made only of them are `it.skip` with the reason
 * (docs/differences.md). Status objects (`{ status }` and their snapshots) have no counterpart: the
 * `stats` counters are what this library reports.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Deferred, Duration, Effect, Exit, Fiber } from "effect"
import * as LruCache from "../../src/LruCache.js"
import { advance, disposed, js, make } from "./adapter.js"

/** Lets forked fibers run as far as they can without time passing (a `queueMicrotask` or two). */
const settle = Effect.repeatN(Effect.yieldNow(), 20)

/** `{ ttl }` of a `set`. */
const ttl = (millis: number): LruCache.SetOptions => ({ timeToLive: Duration.millis(millis) })

describe("node-lru-cache test/basic.ts", () => {
  it.skip("verify require works as expected: no counterpart (lru-cache's CommonJS/ESM/minified builds)", () => {})

  it.scoped("basic operation", () =>
    Effect.gen(function* () {
      // `perf` must have a now() method: no counterpart, time comes from `Clock`.
      const c = yield* make<number | string | boolean, number | string | undefined>(10)
      // `c.perf === Date` and `c.set(...) === c` (chaining): no counterpart.
      for (let i = 0; i < 5; i++) {
        yield* c.set(i, i)
      }
      for (let i = 0; i < 5; i++) {
        expect(yield* js.get(c, i)).toBe(i)
      }
      expect(yield* c.size).toBe(5)
      expect(yield* js.entries(c)).toStrictEqual([
        [4, 4],
        [3, 3],
        [2, 2],
        [1, 1],
        [0, 0]
      ])
      expect(yield* js.getRemainingTTL(c, 1)).toBe(Number.POSITIVE_INFINITY) // no ttl, so returns Infinity
      expect(yield* js.getRemainingTTL(c, "not in cache")).toBe(0) // not in cache, no ttl

      for (let i = 5; i < 10; i++) {
        yield* c.set(i, i)
      }
      // second time to get the update statuses
      for (let i = 5; i < 10; i++) {
        yield* c.set(i, i)
      }
      expect(yield* c.size).toBe(10)
      expect(yield* js.entries(c)).toStrictEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0].map((i) => [i, i]))

      for (let i = 0; i < 5; i++) {
        // this doesn't do anything, but shouldn't be a problem. (updateAgeOnGet: no counterpart)
        yield* js.get(c, i)
      }
      expect(yield* c.size).toBe(10)
      expect(yield* js.entries(c)).toStrictEqual([4, 3, 2, 1, 0, 9, 8, 7, 6, 5].map((i) => [i, i]))

      for (let i = 5; i < 10; i++) {
        yield* js.get(c, i)
      }
      for (let i = 10; i < 15; i++) {
        yield* c.set(i, i)
      }
      expect(yield* c.size).toBe(10)
      expect(yield* js.entries(c)).toStrictEqual([14, 13, 12, 11, 10, 9, 8, 7, 6, 5].map((i) => [i, i]))

      for (let i = 15; i < 20; i++) {
        yield* c.set(i, i)
      }
      // got pruned and replaced
      expect(yield* c.size).toBe(10)
      expect(yield* js.entries(c)).toStrictEqual([19, 18, 17, 16, 15, 14, 13, 12, 11, 10].map((i) => [i, i]))

      for (let i = 0; i < 10; i++) {
        expect(yield* js.get(c, i)).toBe(undefined)
      }
      expect(yield* js.entries(c)).toStrictEqual([19, 18, 17, 16, 15, 14, 13, 12, 11, 10].map((i) => [i, i]))

      for (let i = 0; i < 9; i++) {
        yield* c.set(i, i)
      }
      expect(yield* c.size).toBe(10)
      expect(yield* c.delete(19)).toBe(true)
      expect(yield* c.delete(19)).toBe(false)
      expect(yield* c.size).toBe(9)
      yield* c.set(10, 10)
      expect(yield* c.size).toBe(10)

      yield* c.clear
      expect(yield* c.size).toBe(0)
      for (let i = 0; i < 10; i++) {
        yield* c.set(i, i)
      }
      expect(yield* c.size).toBe(10)
      expect(yield* c.has(0)).toBe(true)
      expect(yield* c.size).toBe(10)
      yield* c.set(true, "true")
      expect(yield* c.has(true)).toBe(true)
      expect(yield* js.get(c, true)).toBe("true")
      yield* c.set(true, undefined)
      // Difference: lru-cache's set(k, undefined) deletes k; here `undefined` is a value like any
      // other, stored for a cache whose value type admits it (README: "`set(key, value, ...)` |
      // insert or replace").
      expect(yield* c.has(true)).toBe(true) // lru-cache: false
    })
  )

  it.effect("bad max values", () =>
    Effect.gen(function* () {
      const throws = (options: unknown) =>
        Effect.map(
          Effect.exit(Effect.scoped(LruCache.make(options as LruCache.Options<unknown, unknown>))),
          (exit) => expect(Exit.isFailure(exit)).toBe(true)
        )
      const invalidCapacity = (capacity: number) =>
        Effect.map(Effect.flip(Effect.scoped(LruCache.make({ capacity }))), (error) =>
          expect(error).toMatchObject({ _tag: "InvalidOption", option: "capacity" })
        )
      yield* throws(undefined)
      yield* throws(123)
      yield* throws({})
      yield* throws(null)
      yield* invalidCapacity(-123)
      yield* invalidCapacity(0)
      yield* invalidCapacity(2.5)
      yield* invalidCapacity(Number.POSITIVE_INFINITY)
      yield* invalidCapacity(Number.MAX_SAFE_INTEGER * 2)

      // ok to have a max of 0 if maxSize or ttl are set. Documented difference: README: "`capacity`
      // (required: the most live entries, a positive integer)", with a time to live too.
      expect(
        yield* Effect.flip(Effect.scoped(LruCache.make({ capacity: 0, timeToLive: Duration.millis(1000) })))
      ).toMatchObject({ _tag: "InvalidOption", option: "capacity" })

      // setting the size to invalid values: a per-set `size` has no counterpart (the weight is
      // always `sizeOf`'s answer); a sizeCalculation answering -1 is a `sizeOf` answering -1.
      // README: "an answer other than a non-negative integer makes the write die with a
      // `RangeError` naming the key, the cache unchanged".
      const setDies = (answer: number) =>
        Effect.scoped(
          Effect.gen(function* () {
            const sizeOnly = yield* LruCache.make<string, string>({
              capacity: 100,
              maxSize: 100,
              sizeOf: () => answer
            })
            const exit = yield* Effect.exit(sizeOnly.set("foo", "bar"))
            return [exit, yield* sizeOnly.size] as const
          })
        )
      const [negative, sizeAfterNegative] = yield* setDies(-1)
      expect(Exit.isFailure(negative) && Cause.isDie(negative.cause)).toBe(true)
      expect(Exit.isFailure(negative) && Cause.squash(negative.cause)).toBeInstanceOf(RangeError)
      expect(sizeAfterNegative).toBe(0)
      // Difference: a weight of 0 is accepted (README: "a non-negative integer per entry").
      const [zero, sizeAfterZero] = yield* setDies(0)
      expect(Exit.isSuccess(zero)).toBe(true) // lru-cache: TypeError
      expect(sizeAfterZero).toBe(1)
      // cannot set size when not tracking size: a per-set `size` has no counterpart.
    })
  )

  it.effect("setting ttl with non-integer values", () =>
    Effect.gen(function* () {
      const made = (timeToLive: unknown) =>
        Effect.exit(
          Effect.scoped(LruCache.make({ capacity: 10, timeToLive: timeToLive as Duration.DurationInput }))
        )
      // Difference: a time to live is any positive duration, fractions of a millisecond included
      // (README: "`timeToLive` and `sweepInterval` positive durations").
      expect(Exit.isSuccess(yield* made(10.5))).toBe(true) // lru-cache: TypeError
      expect(yield* Effect.flip(Effect.flatten(made(-10)))).toMatchObject({ option: "timeToLive" })
      expect(yield* Effect.flip(Effect.flatten(made("banana")))).toMatchObject({ option: "timeToLive" })
      // Difference: an infinite time to live is no expiry (README: "`Duration.infinity` never expires").
      expect(Exit.isSuccess(yield* made(Number.POSITIVE_INFINITY))).toBe(true) // lru-cache: TypeError
    })
  )

  it.effect("setting maxSize with non-integer values", () =>
    Effect.gen(function* () {
      // lru-cache's TypeError is `InvalidOption` from `make`; `sizeOf` is given so that the check
      // is on `maxSize` itself (README: "`maxSize` a positive integer, given together with a
      // `sizeOf` function").
      const invalidMaxSize = (maxSize: unknown) =>
        Effect.map(
          Effect.flip(
            Effect.scoped(LruCache.make({ capacity: 10, maxSize: maxSize as number, sizeOf: () => 1 }))
          ),
          (error) => expect(error).toMatchObject({ _tag: "InvalidOption", option: "maxSize" })
        )
      yield* invalidMaxSize(10.5)
      yield* invalidMaxSize(-10)
      // maxEntrySize (10.5, -10, 'banana', Infinity): no counterpart (the only per-entry bound is
      // `maxSize` itself).
      yield* invalidMaxSize("banana")
      yield* invalidMaxSize(Number.POSITIVE_INFINITY)
    })
  )

  it.effect("bad sizeCalculation", () =>
    Effect.gen(function* () {
      // A `sizeOf` that is not a function is `InvalidOption` from `make`, with or without `maxSize`.
      const invalidSizeOf = (options: object) =>
        Effect.map(
          Effect.flip(Effect.scoped(LruCache.make(options as LruCache.Options<unknown, unknown>))),
          (error) => expect(error).toMatchObject({ _tag: "InvalidOption", option: "sizeOf" })
        )
      yield* invalidSizeOf({ capacity: 1, sizeOf: true })
      yield* invalidSizeOf({ capacity: 1, maxSize: 1, sizeOf: true })
    })
  )
  it.skip("delete from middle, reuses that index: no counterpart (lru-cache's internal slot arrays)", () => {})

  it.scoped("peek does not disturb order", () =>
    Effect.gen(function* () {
      const c = yield* make<number, number>(5)
      for (let i = 0; i < 5; i++) {
        yield* c.set(i, i)
      }
      expect(yield* js.peek(c, 2)).toBe(2)
      expect(yield* c.values).toStrictEqual([4, 3, 2, 1, 0])
    })
  )

  it.scoped("re-use key before initial fill completed", () =>
    Effect.gen(function* () {
      const c = yield* make<number, number>(5)
      yield* c.set(0, 0)
      yield* c.set(1, 1)
      yield* c.set(2, 2)
      yield* c.set(1, 2)
      yield* c.set(3, 3)
      expect(yield* js.entries(c)).toStrictEqual([
        [3, 3],
        [1, 2],
        [2, 2],
        [0, 0]
      ])
    })
  )

  it.scoped("peek tests", () =>
    Effect.gen(function* () {
      const c = yield* make<number, number>(10, 100)
      const fetchMethod = (k: number) => Effect.as(Effect.sleep(Duration.millis(10)), k * 1000)
      yield* c.set(1, 10)
      yield* advance(20)
      yield* c.set(2, 20)
      yield* advance(30)
      yield* c.set(3, 30)
      yield* advance(40)
      yield* c.set(4, 40)
      yield* advance(50)
      yield* c.set(4, 50)
      expect(yield* js.peek(c, 1)).toBe(undefined) // status: 'stale'

      expect(yield* js.peek(c, 999)).toBe(undefined) // status: 'miss'

      // peek(1, { allowStale: true }) === 10: no counterpart (allowStale).

      const p = yield* Effect.fork(js.fetch(c, 5, fetchMethod(5)))
      yield* settle

      expect(yield* js.peek(c, 5)).toBe(undefined) // status: 'miss'

      yield* advance(20)
      expect(yield* Fiber.join(p)).toBe(5000)
      yield* advance(200)
      const p2 = yield* Effect.fork(js.fetch(c, 5, fetchMethod(5)))
      yield* settle
      expect(yield* js.peek(c, 5)).toBe(undefined) // status: 'stale'
      // peek(5, { allowStale: true }) === 5000: no counterpart (allowStale).
      yield* advance(100)
      expect(yield* Fiber.join(p2)).toBe(5000)
    })
  )
})

describe("node-lru-cache test/ttl.ts", () => {
  // The original runs this suite twice, with lru-cache reading performance.now() and Date.now();
  // here time has one source, the Clock, so it runs once.

  it.scoped("ttl tests defaults", () =>
    Effect.gen(function* () {
      // have to advance it 1 so we don't start with 0 (lru-cache's known bug at time 0)
      yield* advance(1)
      const c = yield* make<number | string, number | boolean>(5, 10)
      yield* c.set(1, 1)
      expect(yield* js.get(c, 1)).toBe(1) // 1 get not stale
      yield* advance(5)
      expect(yield* js.get(c, 1)).toBe(1) // 1 get not stale
      expect(yield* js.getRemainingTTL(c, 1)).toBe(5) // 5ms left to live
      expect(yield* js.getRemainingTTL(c, "not in cache")).toBe(0) // thing doesnt exist
      yield* advance(5)
      // Documented difference: at exactly t + d the entry is gone. README: "An entry set at `t` with time to live `d` is live while `now < t + d`" (lru-cache: until `now > t + d`)
      expect(yield* js.get(c, 1)).toBe(undefined) // lru-cache: 1, not stale
      expect(yield* js.getRemainingTTL(c, 1)).toBe(0) // almost stale (here: no entry)
      yield* advance(1)
      // Difference: an expired entry is no entry (README: "`remainingTtl(key)` → `Option<Duration>`
      // | ... `None` without a live entry"); lru-cache answers how long ago it went stale.
      expect(yield* js.getRemainingTTL(c, 1)).toBe(0) // lru-cache: -1, gone stale
      yield* advance(1)
      expect(yield* js.getRemainingTTL(c, 1)).toBe(0) // lru-cache: -2, even more stale
      // Difference: README: "`size`, `keys`, `values`, `entries` | live entries only".
      expect(yield* c.size).toBe(0) // lru-cache: 1, still there though
      expect(yield* c.has(1)).toBe(false) // 1 has stale
      expect(yield* js.get(c, 1)).toBe(undefined)
      expect(yield* c.size).toBe(0)

      yield* c.set(2, 2, ttl(100))
      yield* advance(50)
      expect(yield* c.has(2)).toBe(true)
      expect(yield* js.get(c, 2)).toBe(2)
      yield* advance(51)
      expect(yield* c.has(2)).toBe(false)
      expect(yield* js.get(c, 2)).toBe(undefined)

      yield* c.clear
      for (let i = 0; i < 9; i++) {
        yield* c.set(i, i)
      }
      // now we have 9 items
      // get an expired item from old set
      yield* advance(11)
      expect(yield* js.peek(c, 4)).toBe(undefined)
      expect(yield* c.has(4)).toBe(false)
      expect(yield* js.get(c, 4)).toBe(undefined)

      // set an item WITHOUT a ttl on it. Documented difference: README: "A time to live of zero or
      // less stores nothing and removes an existing entry for the key"; no expiry is
      // `Duration.infinity` (lru-cache: `ttl: 0` means no TTL).
      yield* c.set("immortal", true, ttl(0))
      yield* advance(100)
      expect(yield* js.getRemainingTTL(c, "immortal")).toBe(0) // lru-cache: Infinity
      expect(yield* js.get(c, "immortal")).toBe(undefined) // lru-cache: true
      yield* js.get(c, "immortal") // { updateAgeOnGet: true }: no counterpart
      yield* advance(100)
      expect(yield* js.get(c, "immortal")).toBe(undefined) // lru-cache: true
      // the same with `Duration.infinity`, this library's "no TTL":
      yield* c.set("immortal", true, { timeToLive: Duration.infinity })
      yield* advance(100)
      expect(yield* js.getRemainingTTL(c, "immortal")).toBe(Number.POSITIVE_INFINITY)
      expect(yield* js.get(c, "immortal")).toBe(true)
    })
  )

  it.skip("ttl tests with ttlResolution=100: no counterpart (ttlResolution: the Clock is read once per operation)", () => {})
  it.skip("ttlResolution only respected if non-negative integer: no counterpart (ttlResolution)", () => {})

  it.scoped("ttlAutopurge", () =>
    Effect.gen(function* () {
      // ttlAutopurge is the background sweep, here every millisecond. No `max` in the original:
      // README: "`capacity` (required ...)".
      const c = yield* LruCache.make<number, number>({
        capacity: 10,
        timeToLive: Duration.millis(10),
        sweepInterval: Duration.millis(1)
      })
      yield* c.set(1, 1)
      yield* c.set(2, 2)
      expect(yield* c.size).toBe(2)
      yield* c.set(2, 3, ttl(11))
      yield* advance(11)
      // Documented difference at t + d: README: "An entry set at `t` with time to live `d` is live while `now < t + d`" (lru-cache: until `now > t + d`)
      expect(yield* c.size).toBe(0) // lru-cache: 1
      yield* advance(1)
      expect(yield* c.size).toBe(0)
    })
  )

  it.scoped("ttl on set, not on cache", () =>
    Effect.gen(function* () {
      const c = yield* make<number, number>(5)
      yield* c.set(1, 1, ttl(10))
      expect(yield* js.get(c, 1)).toBe(1)
      yield* advance(5)
      expect(yield* js.get(c, 1)).toBe(1)
      yield* advance(5)
      // Documented difference at t + d: README: "An entry set at `t` with time to live `d` is live while `now < t + d`" (lru-cache: until `now > t + d`)
      expect(yield* js.get(c, 1)).toBe(undefined) // lru-cache: 1
      yield* advance(1)
      expect(yield* c.has(1)).toBe(false)
      expect(yield* js.get(c, 1)).toBe(undefined)
      expect(yield* c.size).toBe(0)

      yield* c.set(2, 2, ttl(100))
      yield* advance(50)
      expect(yield* c.has(2)).toBe(true)
      expect(yield* js.get(c, 2)).toBe(2)
      yield* advance(51)
      expect(yield* c.has(2)).toBe(false)
      expect(yield* js.get(c, 2)).toBe(undefined)

      yield* c.clear
      for (let i = 0; i < 9; i++) {
        yield* c.set(i, i, ttl(10))
      }
      // now we have 9 items
      // get an expired item from old set
      yield* advance(11)
      expect(yield* c.has(4)).toBe(false)
      expect(yield* js.get(c, 4)).toBe(undefined)
    })
  )

  it.skip("ttl with allowStale: no counterpart (allowStale, noDeleteOnStaleGet)", () => {})
  it.skip("ttl with updateAgeOnGet/updateAgeOnHas: no counterpart (a hit does not restart the TTL)", () => {})

  it.scoped("purge stale items", () =>
    Effect.gen(function* () {
      // purgeStale() has no counterpart: expired entries are removed lazily and by the sweep
      // (README: "removed lazily (on `get`, before an eviction, before `size`/`keys`/`stats`) and
      // by the background sweep"); its return values are left out, the sizes kept.
      const c = yield* make<number, number>(10)
      for (let i = 0; i < 10; i++) {
        yield* c.set(i, i, ttl(i + 1))
      }
      yield* advance(3)
      // Differences: README: "`size` ... live entries only" (lru-cache: 10 before purgeStale, 8
      // after), and the boundary, README: "An entry set at `t` with time to live `d` is live while `now < t + d`" (lru-cache: until `now > t + d`): the entry with ttl 3 is gone at 3 too.
      expect(yield* c.size).toBe(7)

      yield* advance(100)
      expect(yield* c.size).toBe(0) // lru-cache: 8 before purgeStale, 0 after
      expect(yield* c.size).toBe(0)
    })
  )

  it.skip("no update ttl: no counterpart (noUpdateTTL: a set always restarts the TTL)", () => {})

  it.scoped("indexes/rindexes can walk over stale entries", () =>
    Effect.gen(function* () {
      // Key i sits in lru-cache's slot i here, so `indexes()` (live, most recent first) is `keys`.
      // rindexes and the allowStale walks have no counterpart.
      const c = yield* make<number, number>(10, 10)
      for (let i = 0; i < 3; i++) {
        yield* c.set(i, i)
      }
      yield* advance(9)
      for (let i = 3; i < 10; i++) {
        yield* c.set(i, i)
      }
      yield* js.get(c, 1)
      yield* js.get(c, 3)
      yield* advance(9)
      expect(yield* c.keys).toStrictEqual([3, 9, 8, 7, 6, 5, 4])
    })
  )

  it.scoped("clear() disposes stale entries", () =>
    Effect.gen(function* () {
      const c = yield* make<number, number>(3, 10)
      const removals = yield* c.subscribe
      const seen: Array<[number, number]> = []
      const pairs = Effect.map(disposed(removals), (batch) => {
        seen.push(...batch.map(([v, k]): [number, number] => [v, k]))
        return seen
      })
      for (let i = 0; i < 4; i++) {
        yield* c.set(i, i)
      }
      expect(yield* pairs).toStrictEqual([[0, 0]])
      yield* advance(20)
      yield* c.clear
      // Difference: `clear` reports its removals most recently used first, the order of `keys`
      // (README: "live entries only, most recently used first"); lru-cache, least recent first.
      // The stale ones are reported with cause `expired`, not `cleared`.
      expect(yield* pairs).toStrictEqual([
        [0, 0],
        [3, 3],
        [2, 2],
        [1, 1]
      ]) // lru-cache: [0, 0], [1, 1], [2, 2], [3, 3]
    })
  )

  it.skip("purgeStale() lockup: no counterpart (purgeStale, updateAgeOnGet)", () => {})
  it.skip("set item pre-stale: no counterpart (start option, allowStale, dump/load)", () => {})
  it.skip("no delete on stale get: no counterpart (noDeleteOnStaleGet, allowStale)", () => {})
  it.skip("updateAgeOnGet reschedules ttlAutopurge timer: no counterpart (updateAgeOnGet)", () => {})
  it.skip("updateAgeOnGet + ttlAutopurge: entry eventually purged if not re-accessed: no counterpart (updateAgeOnGet)", () => {})
})

describe("node-lru-cache test/dispose.ts", () => {
  it.scoped("disposal", () =>
    Effect.gen(function* () {
      const c = yield* make<number | string, number | string>(5)
      const q = yield* c.subscribe
      for (let i = 0; i < 9; i++) {
        yield* c.set(i, i)
      }
      expect(yield* disposed(q)).toStrictEqual([
        [0, 0, "evicted"],
        [1, 1, "evicted"],
        [2, 2, "evicted"],
        [3, 3, "evicted"]
      ])
      expect(yield* c.size).toBe(5)

      yield* c.set(9, 9)
      expect(yield* disposed(q)).toStrictEqual([[4, 4, "evicted"]])

      yield* c.set("asdf", "foo")
      yield* c.set("asdf", "asdf")
      expect(yield* disposed(q)).toStrictEqual([
        [5, 5, "evicted"],
        ["foo", "asdf", "replaced"]
      ])

      for (let i = 0; i < 5; i++) {
        yield* c.set(i, i)
      }
      expect(yield* disposed(q)).toStrictEqual([
        [6, 6, "evicted"],
        [7, 7, "evicted"],
        [8, 8, "evicted"],
        [9, 9, "evicted"],
        ["asdf", "asdf", "evicted"]
      ])

      // dispose both old and current
      yield* c.set("asdf", "foo")
      yield* c.delete("asdf")
      expect(yield* disposed(q)).toStrictEqual([
        [0, 0, "evicted"],
        ["foo", "asdf", "deleted"]
      ])

      // delete non-existing key, no disposal
      yield* c.delete("asdf")
      expect(yield* disposed(q)).toStrictEqual([])

      // delete via clear(): lru-cache's reason 'delete' is `cleared` here
      yield* c.clear
      // Difference: `clear` reports its removals most recently used first, the order of `keys`
      // (README: "live entries only, most recently used first"); lru-cache, least recent first.
      expect(yield* disposed(q)).toStrictEqual([
        [4, 4, "cleared"],
        [3, 3, "cleared"],
        [2, 2, "cleared"],
        [1, 1, "cleared"]
      ]) // lru-cache: 1, 2, 3, 4

      yield* c.set(3, 3)
      expect(yield* js.get(c, 3)).toBe(3)
      yield* c.delete(3)
      expect(yield* disposed(q)).toStrictEqual([[3, 3, "deleted"]])

      // disposed because of being overwritten
      yield* c.clear
      yield* disposed(q)
      for (let i = 0; i < 5; i++) {
        yield* c.set(i, i)
      }
      yield* c.set(2, "two")
      expect(yield* disposed(q)).toStrictEqual([[2, 2, "replaced"]])
      for (let i = 0; i < 5; i++) {
        expect(yield* js.get(c, i)).toBe(i === 2 ? "two" : i)
      }
      expect(yield* disposed(q)).toStrictEqual([])

      // c.noDisposeOnSet = true and what follows: no counterpart (every replacement is published).
    })
  )

  it.scoped("noDisposeOnSet with delete()", () =>
    Effect.gen(function* () {
      // The first cache, with noDisposeOnSet, has no counterpart; the second one is ported.
      const d = yield* make<number, number | string>(5)
      const q = yield* d.subscribe
      const seen: Array<[number | string, number]> = []
      const pairs = Effect.map(disposed(q), (batch) => {
        seen.push(...batch.map(([v, k]): [number | string, number] => [v, k]))
        return seen
      })
      for (let i = 0; i < 5; i++) {
        yield* d.set(i, i)
      }
      for (let i = 0; i < 4; i++) {
        yield* d.set(i, `new ${i}`)
      }
      expect(yield* pairs).toStrictEqual([
        [0, 0],
        [1, 1],
        [2, 2],
        [3, 3]
      ])
      yield* d.delete(0)
      yield* d.delete(4)
      expect(yield* pairs).toStrictEqual([
        [0, 0],
        [1, 1],
        [2, 2],
        [3, 3],
        ["new 0", 0],
        [4, 4]
      ])
    })
  )

  it.skip("disposeAfter: no counterpart (a callback that writes back into the cache during the removal)", () => {})

  it.scoped("expiration reflected in dispose reason", () =>
    Effect.gen(function* () {
      yield* advance(1)
      const c = yield* make<number, number>(5, 100)
      const q = yield* c.subscribe
      // dispose: (v, k, r) => disposes.push([k, v, r])
      const disposes: Array<[number, number, string]> = []
      const all = Effect.map(disposed(q), (batch) => {
        disposes.push(...batch.map(([v, k, r]): [number, number, string] => [k, v, r]))
        return disposes
      })
      yield* c.set(1, 1)
      yield* c.set(2, 2, ttl(10))
      yield* c.set(3, 3)
      yield* c.set(4, 4)
      yield* c.set(5, 5)
      expect(yield* all).toStrictEqual([])
      yield* c.set(6, 6)
      expect(yield* all).toStrictEqual([[1, 1, "evicted"]])
      yield* c.delete(6)
      yield* c.delete(5)
      yield* c.delete(4)
      // test when it's the last one, and when it's not, because we
      // delete with cache.clear() when it's the only entry.
      expect(yield* all).toStrictEqual([
        [1, 1, "evicted"],
        [6, 6, "deleted"],
        [5, 5, "deleted"],
        [4, 4, "deleted"]
      ])
      yield* advance(20)
      expect(yield* js.get(c, 2)).toBe(undefined)
      expect(yield* all).toStrictEqual([
        [1, 1, "evicted"],
        [6, 6, "deleted"],
        [5, 5, "deleted"],
        [4, 4, "deleted"],
        [2, 2, "expired"]
      ])
      yield* advance(200)
      expect(yield* js.get(c, 3)).toBe(undefined)
      expect(yield* all).toStrictEqual([
        [1, 1, "evicted"],
        [6, 6, "deleted"],
        [5, 5, "deleted"],
        [4, 4, "deleted"],
        [2, 2, "expired"],
        [3, 3, "expired"]
      ])
    })
  )
})

describe("node-lru-cache test/map-like.ts", () => {
  it.scoped("bunch of iteration things", () =>
    Effect.gen(function* () {
      // max 5 with maxSize 5 and a size of 1 per entry: capacity 5. The fetchMethod resolves when
      // the test says so. rkeys/rvalues/rentries, forEach/rforEach and dump have no counterpart:
      // their assertions are left out; keys/values/entries are kept with the snapshots' values.
      const resolves = new Map<number, Deferred.Deferred<string>>()
      const fetchMethod = (k: number) =>
        Effect.flatMap(
          Effect.sync(() => resolves.get(k)!),
          (d) => Deferred.await(d)
        )
      const c = yield* make<number, string>(5)
      for (const k of [99, 123]) resolves.set(k, yield* Deferred.make<string>())
      const all = Effect.all([c.keys, c.values, js.entries(c)])

      expect(yield* all).toStrictEqual([[], [], []]) // empty

      const p99 = yield* Effect.fork(js.fetch(c, 99, fetchMethod(99)))
      const p123 = yield* Effect.fork(js.fetch(c, 123, fetchMethod(123)))
      yield* settle

      expect(yield* all).toStrictEqual([[], [], []]) // pending fetch

      for (let i = 0; i < 3; i++) {
        yield* c.set(i, String(i))
      }

      yield* Deferred.succeed(resolves.get(123)!, "123")
      expect(yield* Fiber.join(p123)).toBe("123")
      expect(yield* all).toStrictEqual([
        [123, 2, 1, 0],
        ["123", "2", "1", "0"],
        [
          [123, "123"],
          [2, "2"],
          [1, "1"],
          [0, "0"]
        ]
      ]) // fetch 123 resolved

      for (let i = 3; i < 8; i++) {
        yield* c.set(i, String(i))
      }

      expect(yield* all).toStrictEqual([
        [7, 6, 5, 4, 3],
        ["7", "6", "5", "4", "3"],
        [
          [7, "7"],
          [6, "6"],
          [5, "5"],
          [4, "4"],
          [3, "3"]
        ]
      ])

      yield* c.set(4, "new value 4")
      expect(yield* all).toStrictEqual([
        [4, 7, 6, 5, 3],
        ["new value 4", "7", "6", "5", "3"],
        [
          [4, "new value 4"],
          [7, "7"],
          [6, "6"],
          [5, "5"],
          [3, "3"]
        ]
      ]) // new value 4

      yield* Deferred.succeed(resolves.get(99)!, "99")
      // Documented difference: a running computation is not an entry, so no eviction aborts it;
      // when it succeeds it is stored (README: "a miss runs `effect` once ..., stores a success and
      // returns it to all"). lru-cache rejects p99 ('aborted by eviction') and stores nothing.
      expect(yield* Fiber.join(p99)).toBe("99")
      expect(yield* all).toStrictEqual([
        [99, 4, 7, 6, 5], // lru-cache: [4, 7, 6, 5, 3]
        ["99", "new value 4", "7", "6", "5"],
        [
          [99, "99"],
          [4, "new value 4"],
          [7, "7"],
          [6, "6"],
          [5, "5"]
        ]
      ]) // resolved fetch 99 too late

      // pretend an entry is stale for some reason: lru-cache sets 7 with ttl 1 and moves its start
      // back; here 7 gets a ttl of 1 and the clock moves on by 1.
      yield* c.set(7, "stale", ttl(1))
      yield* advance(1)
      expect(yield* all).toStrictEqual([
        [99, 4, 6, 5], // lru-cache: [4, 6, 5, 3]
        ["99", "new value 4", "6", "5"],
        [
          [99, "99"],
          [4, "new value 4"],
          [6, "6"],
          [5, "5"]
        ]
      ]) // 7 stale
    })
  )
})

describe("node-lru-cache test/fetch.ts", () => {
  // const fn = async (_, v) => new Promise(res => queueMicrotask(() => res(v === undefined ? 0 : v + 1)))
  // A getOrCompute effect is not given the stale value: every fetch here computes 0.
  const fn = Effect.zipRight(Effect.yieldNow(), Effect.succeed(0))
  /**
   * lru-cache starts a fetch synchronously and settles it in a later microtask, after the
   * statement that follows `fetch()`. Here: the fetch is forked and let run until it waits on
   * `gate`, which the test opens after that statement.
   */
  const started = <A, E>(fetch: (gate: Effect.Effect<void>) => Effect.Effect<A, E>) =>
    Effect.gen(function* () {
      const gate = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(fetch(Deferred.await(gate)))
      yield* settle
      return { open: Deferred.succeed(gate, undefined), join: Fiber.join(fiber) }
    })

  it.scoped("asynchronous fetching", () =>
    Effect.gen(function* () {
      // The parts of this test made of allowStale, the stale value given to fetchMethod, dump and
      // lru-cache's internals have no counterpart and are left out; the rest is kept in order.
      yield* advance(1)
      const c = yield* make<string, number>(5, 5)
      const v1 = yield* js.fetch(c, "key", fn)
      expect(v1).toBe(0) // first fetch, no stale data, wait for initial value
      const v2 = yield* js.fetch(c, "key", Effect.die("not called: the value is cached"))
      expect(v2).toBe(0) // got same cached value

      const v10 = yield* Effect.fork(js.fetch(c, "key2", fn))
      const v11 = yield* js.get(c, "key2")
      expect(v11).toBe(undefined) // get while fetching but not yet returned
      expect(yield* Fiber.join(v10)).toBe(0) // eventually 0 is returned
      const v12 = yield* js.get(c, "key2")
      expect(v12).toBe(0) // get cached value after fetch

      const v13 = yield* started((gate) => js.fetch(c, "key3", Effect.zipRight(gate, fn)))
      yield* c.delete("key3")
      yield* v13.open
      // Documented difference: README: "A `set`, `delete` or `clear` during a `getOrCompute`
      // computation of the same key supersedes it: its callers still get its result, the cache
      // keeps the newer write." lru-cache rejects v13 ('rejects, because it was deleted').
      expect(yield* v13.join).toBe(0)
      expect(yield* c.has("key3")).toBe(false) // not inserted into cache
    })
  )

  it.skip("fetchMethod must be a function: no counterpart (the type of getOrCompute requires an Effect)", () => {})

  it.scoped("fetch without fetch method", () =>
    Effect.gen(function* () {
      // With no fetchMethod, fetch() answers what is cached: getOrCompute of a hit never runs its effect.
      const c = yield* make<number, number>(3)
      yield* c.set(0, 0)
      yield* c.set(1, 1)
      const none = Effect.die("no fetchMethod")
      expect(
        yield* Effect.all([js.fetch(c, 0, none), js.fetch(c, 1, none)], { concurrency: "unbounded" })
      ).toStrictEqual([0, 1])
    })
  )

  it.scoped("fetch options, signal", () =>
    Effect.gen(function* () {
      // The AbortSignal given to fetchMethod has no counterpart; `aborted` records whether the
      // computation was interrupted. Documented difference throughout: README: "A `set`, `delete` or
      // `clear` during a `getOrCompute` computation of the same key supersedes it: its callers
      // still get its result, the cache keeps the newer write", and a running computation is not an
      // entry, so eviction does not abort it.
      let aborted = false
      const c = yield* make<number, number>(3, 100)
      const q = yield* c.subscribe
      const fetchMethod = (gate: Effect.Effect<void>) =>
        Effect.zipRight(gate, Effect.succeed(1)).pipe(
          Effect.onInterrupt(() =>
            Effect.sync(() => {
              aborted = true
            })
          )
        )

      const v1 = yield* started((gate) => js.fetch(c, 2, fetchMethod(gate)))
      yield* c.delete(2)
      yield* v1.open
      expect(yield* v1.join).toBe(1) // lru-cache: rejects, aborted by clearing the cache
      expect(aborted).toBe(false) // lru-cache: true
      expect(yield* disposed(q)).toStrictEqual([]) // no disposals for aborted promises
      expect(yield* c.has(2)).toBe(false)

      aborted = false
      const v2 = yield* started((gate) => js.fetch(c, 2, fetchMethod(gate)))
      yield* c.set(2, 2)
      yield* v2.open
      expect(yield* v2.join).toBe(1) // lru-cache: rejects, replaced
      expect(aborted).toBe(false) // lru-cache: true
      expect(yield* disposed(q)).toStrictEqual([]) // no disposals for aborted promises
      expect(yield* js.get(c, 2)).toBe(2) // the newer write is kept
      yield* c.delete(2)
      yield* disposed(q)

      aborted = false
      const v3 = yield* started((gate) => js.fetch(c, 2, fetchMethod(gate)))
      yield* c.set(3, 3)
      yield* c.set(4, 4)
      yield* c.set(5, 5)
      yield* v3.open
      expect(yield* v3.join).toBe(1) // lru-cache: rejects, aborted by evict
      expect(aborted).toBe(false) // lru-cache: true
      // The result is stored on success and makes room the usual way (lru-cache: no disposals).
      expect(yield* disposed(q)).toStrictEqual([[3, 3, "evicted"]])

      yield* js.fetch(c, 6, fetchMethod(Effect.void), { timeToLive: Duration.millis(1000) })
      expect(yield* js.getRemainingTTL(c, 6)).toBe(1000) // overridden ttl in fetch() opts
      // fetchMethod setting options.ttl = 25 for key 2: no counterpart (the time to live may be a
      // function of the value, not set from inside the computation).
    })
  )

  it.scoped("fetchMethod throws", () =>
    Effect.gen(function* () {
      // The stale-value parts (allowStale) have no counterpart and are left out; the end is kept.
      const cache = yield* make<string, number>(10, 10)
      const fetchMethod = Effect.zipRight(Effect.yieldNow(), Effect.fail(new Error("fetch failure")))
      const ap = yield* started((gate) => js.fetch(cache, "a", Effect.zipRight(gate, fetchMethod)))
      yield* cache.set("a", 99)
      yield* ap.open
      // Documented difference: the computation is not aborted by the set; its failure reaches its
      // caller (README: "A failure (or defect) is not stored and reaches every waiter").
      expect(yield* Effect.flip(ap.join)).toMatchObject({ message: "fetch failure" }) // lru-cache: aborted by replace
      expect(yield* js.get(cache, "a")).toBe(99) // did not delete new value
      expect(yield* Effect.flip(js.fetch(cache, "b", fetchMethod))).toMatchObject({
        message: "fetch failure"
      })
    })
  )

  it.skip("fetchMethod throws, noDeleteOnFetchRejection option: no counterpart (noDeleteOnFetchRejection, allowStale)", () => {})
  it.skip("fetch context: no counterpart (context: the effect closes over what it needs)", () => {})
  it.skip("forceRefresh: no counterpart (forceRefresh, allowStale)", () => {})
  it.skip("allowStaleOnFetchRejection: no counterpart (allowStaleOnFetchRejection)", () => {})
  it.scoped("placeholder promise is not removed when resolving", () =>
    Effect.gen(function* () {
      // lru-cache has no `max` here; `capacity` is required, and 10 never binds before `maxSize`
      // does (every weight is at least 3).
      const c = yield* LruCache.make<number, number>({ capacity: 10, maxSize: 10, sizeOf: (v) => v })
      const resolves = new Map<number, Deferred.Deferred<number>>()
      for (const k of [3, 4, 5]) resolves.set(k, yield* Deferred.make<number>())
      const fetchMethod = (k: number) => Deferred.await(resolves.get(k)!)
      const p3 = yield* Effect.fork(js.fetch(c, 3, fetchMethod(3)))
      const p4 = yield* Effect.fork(js.fetch(c, 4, fetchMethod(4)))
      const p5 = yield* Effect.fork(js.fetch(c, 5, fetchMethod(5)))

      yield* Deferred.succeed(resolves.get(4)!, 4)
      yield* Fiber.join(p4)

      expect(yield* js.entries(c)).toStrictEqual([[4, 4]])
      yield* Deferred.succeed(resolves.get(5)!, 5)
      yield* Fiber.join(p5)
      expect(yield* js.entries(c)).toStrictEqual([
        [5, 5],
        [4, 4]
      ])

      yield* Deferred.succeed(resolves.get(3)!, 3)
      yield* Fiber.join(p3)
      expect(yield* js.entries(c)).toStrictEqual([
        [3, 3],
        [5, 5]
      ])

      expect(yield* c.size).toBe(2)
      expect((yield* js.entries(c)).length).toBe(2)
    })
  )

  it.scoped("send a signal", () =>
    Effect.gen(function* () {
      // The caller's AbortSignal is interrupting the calling fiber. Documented difference: README:
      // "Interrupting one waiter does not interrupt the computation the others wait on (it runs in
      // the cache's scope ...)".
      let resolved = false
      const c = yield* make<number, number>(10)
      const fetchMethod = (k: number) =>
        Effect.as(
          Effect.zipRight(
            Effect.sleep(Duration.millis(100)),
            Effect.sync(() => {
              resolved = true
            })
          ),
          k
        )
      const p = yield* Effect.fork(js.fetch(c, 1, fetchMethod(1)))
      yield* settle
      const exit = yield* Fiber.interrupt(p) // ac.abort(er)
      expect(Exit.isInterrupted(exit)).toBe(true) // rejects
      expect(resolved).toBe(false) // should have aborted before fetchMethod resolved
      expect(yield* js.get(c, 1)).toBe(undefined)
      yield* advance(100)
      expect(resolved).toBe(true) // lru-cache: the fetch stays aborted
      expect(yield* js.get(c, 1)).toBe(1) // lru-cache: undefined
    })
  )

  it.scoped("verify inflight works as expected", () =>
    Effect.gen(function* () {
      let called = 0
      const c = yield* make<number, object>(5)
      const fetchMethod = Effect.zipRight(
        Effect.sync(() => {
          called++
        }),
        Effect.zipRight(
          Effect.yieldNow(),
          Effect.sync(() => ({}))
        )
      )
      const first = yield* Effect.fork(js.fetch(c, 1, fetchMethod))
      const promises = yield* Effect.forEach([0, 1, 2, 3], () => Effect.fork(js.fetch(c, 1, fetchMethod)))
      // t.match(e.valList, [Promise, ...]) and isBackgroundFetch: lru-cache's internals, left out.
      expect(yield* js.get(c, 1)).toBe(undefined) // get while fetching
      const a = yield* Effect.forEach(promises, Fiber.join)
      for (let i = 1; i < a.length; i++) {
        expect(a[i]).toBe(a[0]) // index i equal to first returned value
      }
      expect(yield* Fiber.join(first)).toBe(a[0])
      expect(called).toBe(1) // called one time
    })
  )

  it.scoped("abort, but then keep on fetching anyway", () =>
    Effect.gen(function* () {
      // ignoreFetchAbort is how this library always behaves: interrupting a caller does not stop
      // the computation (README: "Interrupting one waiter does not interrupt the computation").
      // The interrupted caller itself gets no value, though (lru-cache resolves p with 1).
      // forceFetch, and fetch resolving `undefined`, have no counterpart and are left out.
      let resolved = false
      const cache = yield* make<number, number>(10)
      const fetchMethod = (k: number) =>
        Effect.zipRight(
          Effect.sleep(Duration.millis(100)),
          Effect.sync(() => {
            resolved = true
            return k
          })
        )
      const p = yield* Effect.fork(js.fetch(cache, 1, fetchMethod(1)))
      yield* settle
      yield* Fiber.interrupt(p) // ac.abort(er)
      yield* advance(100)
      expect(resolved).toBe(true) // aborted, but resolved anyway
      expect(yield* js.get(cache, 1)).toBe(1)

      // if aborted for cause, we don't save the fetched value
      const p3 = yield* Effect.fork(js.fetch(cache, 3, fetchMethod(3)))
      yield* settle
      expect(yield* js.get(cache, 3)).toBe(undefined)
      yield* cache.set(3, 33)
      expect(yield* js.get(cache, 3)).toBe(33)
      yield* advance(100)
      expect(yield* Fiber.join(p3)).toBe(3)
      expect(yield* js.get(cache, 3)).toBe(33)
    })
  )

  it.skip("allowStaleOnFetchAbort: no counterpart (allowStaleOnFetchAbort)", () => {})
  it.skip("background update on timeout, return stale: no counterpart (allowStaleOnFetchAbort, ignoreFetchAbort)", () => {})
  it.skip("fetch context required if set in ctor type: no counterpart (fetch context types)", () => {})

  it.scoped("has false for pending fetch without stale val", () =>
    Effect.gen(function* () {
      // The second block (forceRefresh with a stale value) has no counterpart and is left out.
      const c = yield* make<number, number>(10)
      const fetchMethod = (key: number) => Effect.as(Effect.sleep(Duration.millis(10)), key)
      const p = yield* Effect.fork(js.fetch(c, 1, fetchMethod(1)))
      yield* settle
      expect(yield* c.has(1)).toBe(false)
      yield* advance(10)
      const res = yield* Fiber.join(p)
      expect(res).toBe(1)
      expect(yield* c.has(1)).toBe(true)
    })
  )

  it.scoped("properly dispose when using fetch", () =>
    Effect.gen(function* () {
      let i = 0
      const c = yield* make<number, number>(3, 10)
      const q = yield* c.subscribe
      const fetchMethod = Effect.sync(() => i++)
      expect(yield* js.fetch(c, 1, fetchMethod)).toBe(0)
      yield* advance(20)
      expect(yield* js.fetch(c, 1, fetchMethod)).toBe(1)
      // Difference: the old value had expired, and is reported so (README: "`events` | removals
      // with their cause: `evicted`, `expired`, ..."); lru-cache reports it replaced ('set').
      expect(yield* disposed(q)).toStrictEqual([[0, 1, "expired"]])
    })
  )

  it.skip("allowStaleOnFetchAbort and ignoreFetchAbort: no counterpart (allowStaleOnFetchAbort)", () => {})
})
