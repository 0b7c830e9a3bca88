import * as FileSystem from "@effect/platform/FileSystem"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Config,
  ConfigError,
  ConfigProvider,
  Deferred,
  Duration,
  Effect,
  Either,
  Exit,
  Fiber,
  Layer,
  Option,
  Ref,
  TestClock
} from "effect"
import { InvalidOption, PersistenceError, RecursiveComputation } from "../src/CacheError.js"
import * as CachePersistence from "../src/CachePersistence.js"
import * as LruCache from "../src/LruCache.js"
import * as MemoCache from "../src/MemoCache.js"

const { cached, cachedWith } = MemoCache

const provideMemo = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.provide(self, MemoCache.layer({ capacity: 100 }))

/** Lets forked fibers run as far as they can without time passing. */
const settle = Effect.repeatN(Effect.yieldNow(), 20)

/** A function that counts its runs and answers `answers[run]` (the last one forever after). */
const counted = <A, E = never>(
  name: string,
  answers: ReadonlyArray<Effect.Effect<A, E>>,
  delay: Duration.DurationInput = Duration.zero
) =>
  Effect.map(Ref.make(0), (runs) => {
    const fn = (_n: number) =>
      Ref.getAndUpdate(runs, (n) => n + 1).pipe(
        Effect.flatMap((run) => Effect.delay(answers[Math.min(run, answers.length - 1)]!, delay))
      )
    Object.defineProperty(fn, "name", { value: name })
    return { fn, runs: Ref.get(runs) }
  })

describe("cached", () => {
  it.effect("runs the function once per distinct arguments", () =>
    Effect.gen(function* () {
      const { fn, runs } = yield* counted("square", [Effect.succeed(1)])
      const square = cached(fn)
      expect(yield* square(1)).toBe(1)
      expect(yield* square(1)).toBe(1)
      expect(yield* runs).toBe(1)
      yield* square(2)
      expect(yield* runs).toBe(2)
      const { cache } = yield* MemoCache.MemoCache
      expect((yield* cache.stats).hits).toBe(1)
    }).pipe(provideMemo)
  )

  it.effect("caches undefined and null results", () =>
    Effect.gen(function* () {
      const nothing = yield* counted<undefined>("nothing", [Effect.succeed(undefined)])
      const nul = yield* counted<null>("nul", [Effect.succeed(null)])
      const cachedNothing = cached(nothing.fn)
      const cachedNull = cached(nul.fn)
      expect(yield* cachedNothing(1)).toBeUndefined()
      expect(yield* cachedNothing(1)).toBeUndefined()
      expect(yield* cachedNull(1)).toBeNull()
      expect(yield* cachedNull(1)).toBeNull()
      expect(yield* nothing.runs).toBe(1)
      expect(yield* nul.runs).toBe(1)
    }).pipe(provideMemo)
  )

  it.effect("keys argument objects by content, not by property order", () =>
    Effect.gen(function* () {
      const runs = yield* Ref.make(0)
      const search = cached(
        (query: { readonly q: string; readonly page: number }) =>
          Effect.as(
            Ref.update(runs, (n) => n + 1),
            `${query.q}#${query.page}`
          ),
        { name: "search" }
      )
      expect(yield* search({ q: "lru", page: 2 })).toBe("lru#2")
      expect(yield* search({ page: 2, q: "lru" })).toBe("lru#2")
      expect(yield* Ref.get(runs)).toBe(1)
    }).pipe(provideMemo)
  )

  it.effect("expires results after their time to live", () =>
    Effect.gen(function* () {
      const { fn, runs } = yield* counted("f", [Effect.succeed("a")])
      const f = cached(fn, { timeToLive: "10 seconds" })
      yield* f(1)
      yield* TestClock.adjust("9999 millis")
      yield* f(1)
      expect(yield* runs).toBe(1)
      yield* TestClock.adjust("1 millis")
      yield* f(1)
      expect(yield* runs).toBe(2)
    }).pipe(provideMemo)
  )

  it.effect("uses the MemoCache's time to live by default", () =>
    Effect.gen(function* () {
      const { fn, runs } = yield* counted("f", [Effect.succeed("a")])
      const f = cached(fn)
      yield* f(1)
      yield* TestClock.adjust("59 seconds")
      yield* f(1)
      expect(yield* runs).toBe(1)
      yield* TestClock.adjust("1 second")
      yield* f(1)
      expect(yield* runs).toBe(2)
    }).pipe(Effect.provide(MemoCache.layer({ capacity: 10, timeToLive: "1 minute" })))
  )

  it.effect("does not cache failures by default", () =>
    Effect.gen(function* () {
      const { fn, runs } = yield* counted("f", [Effect.fail("boom"), Effect.succeed("ok")])
      const f = cached(fn)
      expect(yield* Effect.flip(f(1))).toBe("boom")
      expect(yield* f(1)).toBe("ok")
      expect(yield* f(1)).toBe("ok")
      expect(yield* runs).toBe(2)
    }).pipe(provideMemo)
  )

  it.effect("caches failures when timeToLive is a function of the Exit that asks for it", () =>
    Effect.gen(function* () {
      const { fn, runs } = yield* counted("f", [Effect.fail("boom"), Effect.succeed("ok")])
      const f = cached(fn, {
        timeToLive: Exit.match({ onFailure: () => Duration.seconds(5), onSuccess: () => Duration.infinity })
      })
      expect(yield* Effect.flip(f(1))).toBe("boom")
      expect(yield* Effect.flip(f(1))).toBe("boom")
      expect(yield* runs).toBe(1)
      yield* TestClock.adjust("5 seconds")
      expect(yield* f(1)).toBe("ok")
      yield* TestClock.adjust("1 hour")
      expect(yield* f(1)).toBe("ok")
      expect(yield* runs).toBe(2)
    }).pipe(provideMemo)
  )

  it.effect("propagates defects and never caches them, whatever timeToLive says", () =>
    Effect.gen(function* () {
      const { fn, runs } = yield* counted("f", [Effect.die("bug"), Effect.interrupt, Effect.succeed("ok")])
      const f = cached(fn, { timeToLive: () => Duration.infinity })
      const died = yield* Effect.exit(f(1))
      expect(Exit.isFailure(died) && Cause.isDie(died.cause)).toBe(true)
      expect(Exit.isFailure(died) && Option.getOrNull(Cause.dieOption(died.cause))).toBe("bug")
      const interrupted = yield* Effect.exit(f(1))
      expect(Exit.isFailure(interrupted) && Cause.isInterruptedOnly(interrupted.cause)).toBe(true)
      expect(yield* f(1)).toBe("ok")
      expect(yield* f(1)).toBe("ok")
      expect(yield* runs).toBe(3)
    }).pipe(provideMemo)
  )

  it.effect("runs the function once for concurrent calls with one key", () =>
    Effect.gen(function* () {
      const { fn, runs } = yield* counted("slow", [Effect.succeed("v")], "1 second")
      const slow = cached(fn)
      const fibers = yield* Effect.forEach(Array.from({ length: 10 }), () => Effect.fork(slow(1)))
      yield* settle
      yield* TestClock.adjust("1 second")
      const results = yield* Effect.forEach(fibers, Fiber.join)
      expect(results).toEqual(Array.from({ length: 10 }, () => "v"))
      expect(yield* runs).toBe(1)
    }).pipe(provideMemo)
  )

  it.effect("shares a failure with every concurrent caller, and stores nothing", () =>
    Effect.gen(function* () {
      const { fn, runs } = yield* counted("slow", [Effect.fail("boom"), Effect.succeed("v")], "1 second")
      const slow = cached(fn)
      const fibers = yield* Effect.forEach(Array.from({ length: 3 }), () => Effect.fork(Effect.flip(slow(1))))
      yield* settle
      yield* TestClock.adjust("1 second")
      expect(yield* Effect.forEach(fibers, Fiber.join)).toEqual(["boom", "boom", "boom"])
      expect(yield* runs).toBe(1)
      const again = yield* Effect.fork(slow(1))
      yield* settle
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(again)).toBe("v")
      expect(yield* runs).toBe(2)
    }).pipe(provideMemo)
  )

  it.effect("leaves the other callers their result when one is interrupted", () =>
    Effect.gen(function* () {
      const { fn, runs } = yield* counted("slow", [Effect.succeed("v")], "1 second")
      const slow = cached(fn)
      const first = yield* Effect.fork(slow(1))
      const second = yield* Effect.fork(slow(1))
      yield* settle
      yield* Fiber.interrupt(first)
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(second)).toBe("v")
      expect(yield* slow(1)).toBe("v")
      expect(yield* runs).toBe(1)
    }).pipe(provideMemo)
  )

  it.effect("finishes and stores the run even when its only caller is interrupted", () =>
    Effect.gen(function* () {
      const { fn, runs } = yield* counted("slow", [Effect.succeed("v")], "1 second")
      const slow = cached(fn)
      const only = yield* Effect.fork(slow(1))
      yield* settle
      yield* Fiber.interrupt(only)
      yield* TestClock.adjust("1 second")
      expect(yield* slow(1)).toBe("v")
      expect(yield* runs).toBe(1)
    }).pipe(provideMemo)
  )
})

describe("cached names and keys", () => {
  /** What a call of `f` fails with, and the same for its `invalidate`, as InvalidOptions. */
  const rejected = <Args extends ReadonlyArray<unknown>>(
    f: MemoCache.Memoized<Args, unknown, unknown, never, MemoCache.MemoCache, unknown>,
    ...args: Args
  ) =>
    Effect.gen(function* () {
      const call = yield* Effect.flip(f(...args))
      const invalidate = yield* Effect.flip(f.invalidate(...args))
      expect(call).toBeInstanceOf(InvalidOption)
      expect(invalidate).toEqual(call)
      return call as InvalidOption
    })

  it.effect("fails the calls of an anonymous function without a name option with an InvalidOption", () =>
    Effect.gen(function* () {
      const anonymous = yield* rejected(
        cached((n: number) => Effect.succeed(n)),
        1
      )
      expect(anonymous).toMatchObject({ method: "cached", option: "name" })
      expect(anonymous.message).toMatch(/no name.*`name` option/)
      expect(
        yield* rejected(
          cached((n: number) => Effect.succeed(n), { name: "" }),
          1
        )
      ).toMatchObject({
        option: "name",
        value: ""
      })
      expect(yield* cached((n: number) => Effect.succeed(n), { name: "ok" })(1)).toBe(1)
    }).pipe(provideMemo)
  )

  it.effect(
    "fails the calls of a function wrapped with an invalid duration, as make does, not when wrapped",
    () =>
      Effect.gen(function* () {
        const f = (n: number) => Effect.succeed(n)
        const wrap = (options: MemoCache.CachedOptions<[number], number, never>) =>
          Either.try(() => cached(f, options))
        const negative = wrap({ timeToLive: -1 })
        expect(Either.isRight(negative)).toBe(true)
        const error = yield* rejected(Either.getOrThrow(negative), 1)
        expect(error).toMatchObject({ method: "cached(f)", option: "timeToLive", value: -1 })
        // The same words as the cache's own option of the same name.
        const made = yield* Effect.flip(Effect.scoped(LruCache.make({ capacity: 1, timeToLive: -1 })))
        expect(error.reason).toBe(made.reason)
        for (const [option, options] of [
          ["timeToLive", { timeToLive: "soon" as Duration.DurationInput }],
          ["timeToLive", { timeToLive: 0 }],
          ["staleWhileRevalidate", { staleWhileRevalidate: Number.NaN }],
          ["staleWhileRevalidate", { staleWhileRevalidate: -5 }],
          ["key", { key: "k" as never }]
        ] as const) {
          expect(yield* rejected(cached(f, options), 1)).toMatchObject({ option })
        }
        // A time to live that depends on the result is checked when it is asked, as the cache's own.
        expect(yield* cached(f, { timeToLive: () => 0 })(2)).toBe(2)
      }).pipe(provideMemo)
  )

  it.effect("fails the calls of cachedWith with invalid options, without the cache being touched", () =>
    Effect.gen(function* () {
      const cache = yield* LruCache.make<string, MemoCache.Entry>({ capacity: 2 })
      const f = MemoCache.cachedWith(cache, (n: number) => Effect.succeed(n), { name: "f", timeToLive: -1 })
      const error = yield* Effect.flip(f(1))
      expect(error).toMatchObject({ _tag: "InvalidOption", option: "timeToLive" })
      expect(yield* cache.size).toBe(0)
    }).pipe(Effect.scoped)
  )

  it.effect("fails the calls of a second function that takes a name already used in the cache", () =>
    Effect.gen(function* () {
      const first = cached((n: number) => Effect.succeed(n), { name: "lookup" })
      const second = cached((n: number) => Effect.succeed(-n), { name: "lookup" })
      expect(yield* first(1)).toBe(1)
      const error = yield* Effect.flip(second(1))
      expect(error).toMatchObject({ _tag: "InvalidOption", option: "name", value: "lookup" })
      expect(error.message).toMatch(/"lookup" is already used by another function/)
      expect(yield* first(1)).toBe(1)
    }).pipe(provideMemo)
  )

  it.effect("shares entries between two wrappings of one function", () =>
    Effect.gen(function* () {
      const { fn, runs } = yield* counted("f", [Effect.succeed("v")])
      const a = cached(fn)
      const b = cached(fn, { timeToLive: "1 hour" })
      yield* a(1)
      yield* b(1)
      expect(yield* runs).toBe(1)
    }).pipe(provideMemo)
  )

  it.effect("keeps apart functions with different names called with the same arguments", () =>
    Effect.gen(function* () {
      const double = cached((n: number) => Effect.succeed(n * 2), { name: "double" })
      const negate = cached((n: number) => Effect.succeed(-n), { name: "negate" })
      expect(yield* double(3)).toBe(6)
      expect(yield* negate(3)).toBe(-3)
    }).pipe(provideMemo)
  )

  it.effect("fails a call whose arguments have no encoding, naming where", () =>
    Effect.gen(function* () {
      const { fn, runs } = yield* counted("f", [Effect.succeed("v")])
      const f = cached((options: { readonly id: number; readonly onDone: () => void }) => fn(options.id), {
        name: "withCallback"
      })
      const error = yield* Effect.flip(f({ id: 1, onDone: () => {} }))
      expect(error._tag).toBe("KeyEncodingError")
      if (error._tag === "KeyEncodingError") {
        expect(error.path).toBe("args[0].onDone")
        expect(error.message).toMatch(
          /^cached\(withCallback\): cannot build a cache key at args\[0\]\.onDone/
        )
      }
      expect(yield* runs).toBe(0)
    }).pipe(provideMemo)
  )

  it.effect("builds keys with the key option when given, for arguments with no encoding", () =>
    Effect.gen(function* () {
      const { fn, runs } = yield* counted("f", [Effect.succeed("v")])
      const f = cached((options: { readonly id: number; readonly onDone: () => void }) => fn(options.id), {
        name: "withCallback",
        key: (options) => String(options.id)
      })
      yield* f({ id: 1, onDone: () => {} })
      yield* f({ id: 1, onDone: () => {} })
      expect(yield* runs).toBe(1)
      yield* f({ id: 2, onDone: () => {} })
      expect(yield* runs).toBe(2)
    }).pipe(provideMemo)
  )
})

describe("invalidate", () => {
  it.effect("drops the stored result of one call, so that the next runs the function", () =>
    Effect.gen(function* () {
      const { fn, runs } = yield* counted("f", [Effect.succeed("v")])
      const f = cached(fn)
      yield* f(1)
      yield* f(2)
      expect(yield* f.invalidate(1)).toBe(true)
      expect(yield* f.invalidate(1)).toBe(false)
      yield* f(1)
      yield* f(2)
      expect(yield* runs).toBe(3)
    }).pipe(provideMemo)
  )

  it.effect("does not touch the entries of another function with the same name", () =>
    Effect.gen(function* () {
      const first = cached((n: number) => Effect.succeed(n), { name: "lookup" })
      const second = cached((n: number) => Effect.succeed(-n), { name: "lookup" })
      yield* first(1)
      expect(yield* Effect.flip(second.invalidate(1))).toMatchObject({
        _tag: "InvalidOption",
        option: "name"
      })
      const { cache } = yield* MemoCache.MemoCache
      expect(yield* cache.size).toBe(1)
    }).pipe(provideMemo)
  )
})

describe("refresh", () => {
  /** A function whose first run answers at once and whose later runs wait for `gate`. */
  const gated = Effect.gen(function* () {
    const runs = yield* Ref.make(0)
    const started = yield* Deferred.make<void>()
    const gate = yield* Deferred.make<void>()
    const fn = (n: number) =>
      Effect.flatMap(
        Ref.updateAndGet(runs, (run) => run + 1),
        (run) =>
          run === 1
            ? Effect.succeed(`${n}:${run}`)
            : Effect.zipRight(
                Effect.zipRight(Deferred.succeed(started, undefined), Deferred.await(gate)),
                Effect.succeed(`${n}:${run}`)
              )
      )
    return { f: cached(fn, { name: "f" }), runs: Ref.get(runs), started, gate }
  })

  it.effect("runs the function again; calls get the stored result until the new one is stored", () =>
    Effect.gen(function* () {
      const { f, runs, started, gate } = yield* gated
      expect(yield* f(1)).toBe("1:1")
      const refreshing = yield* Effect.fork(f.refresh(1))
      yield* Deferred.await(started)
      expect(yield* f(1)).toBe("1:1")
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(refreshing)
      expect(yield* f(1)).toBe("1:2")
      expect(yield* runs).toBe(2)
    }).pipe(provideMemo)
  )

  it.effect("a failure leaves the stored result and fails the refresh with the function's error", () =>
    Effect.gen(function* () {
      const { fn, runs } = yield* counted<string, string>("f", [Effect.succeed("v"), Effect.fail("boom")])
      const f = cached(fn)
      expect(yield* f(1)).toBe("v")
      expect(yield* Effect.flip(f.refresh(1))).toBe("boom")
      expect(yield* f(1)).toBe("v")
      expect(yield* runs).toBe(2)
    }).pipe(provideMemo)
  )

  it.effect("a failure that timeToLive keeps is stored and fails the refresh, as it fails a call", () =>
    Effect.gen(function* () {
      const { fn, runs } = yield* counted<string, string>("f", [Effect.succeed("v"), Effect.fail("boom")])
      const f = cached(fn, { timeToLive: (exit) => (Exit.isFailure(exit) ? "1 minute" : "1 hour") })
      expect(yield* f(1)).toBe("v")
      expect(yield* Effect.flip(f.refresh(1))).toBe("boom")
      expect(yield* Effect.flip(f(1))).toBe("boom")
      expect(yield* runs).toBe(2)
    }).pipe(provideMemo)
  )

  it.effect("a refresh that joins a call whose kept failure lands fails with it, as the call does", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<void>()
      const gate = yield* Deferred.make<void>()
      const fn = (_n: number) =>
        Effect.zipRight(
          Effect.zipRight(Deferred.succeed(started, undefined), Deferred.await(gate)),
          Effect.fail("boom")
        )
      const f = cached(fn, { name: "f", timeToLive: () => "1 minute" })
      const calling = yield* Effect.fork(f(0))
      yield* Deferred.await(started)
      const refreshing = yield* Effect.fork(f.refresh(0))
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Effect.flip(Fiber.join(calling))).toBe("boom")
      expect(yield* Effect.flip(Fiber.join(refreshing))).toBe("boom")
    }).pipe(provideMemo)
  )

  it.effect("refreshing arguments never called stores their result", () =>
    Effect.gen(function* () {
      const { fn, runs } = yield* counted("f", [Effect.succeed("v")])
      const f = cached(fn)
      yield* f.refresh(7)
      expect(yield* f(7)).toBe("v")
      expect(yield* runs).toBe(1)
    }).pipe(provideMemo)
  )

  it.effect("a refresh joins a call of the same arguments that is running: one run for both", () =>
    Effect.gen(function* () {
      const { f, runs, started, gate } = yield* gated
      yield* f(0)
      yield* f.invalidate(0)
      const calling = yield* Effect.fork(f(0))
      yield* Deferred.await(started)
      const refreshing = yield* Effect.fork(f.refresh(0))
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Fiber.join(calling)).toBe("0:2")
      yield* Fiber.join(refreshing)
      expect(yield* runs).toBe(2)
    }).pipe(provideMemo)
  )

  it.effect("fails as a call does when the function's name is taken", () =>
    Effect.gen(function* () {
      const first = cached((n: number) => Effect.succeed(n), { name: "lookup" })
      const second = cached((n: number) => Effect.succeed(-n), { name: "lookup" })
      yield* first(1)
      expect(yield* Effect.flip(second.refresh(1))).toMatchObject({ _tag: "InvalidOption", option: "name" })
      expect(yield* first(1)).toBe(1)
    }).pipe(provideMemo)
  )
})

describe("staleWhileRevalidate", () => {
  const options = { timeToLive: "10 seconds", staleWhileRevalidate: "5 seconds" } as const

  /** Runs a first call of a function that takes one second, to the end. */
  const firstCall = <A, E, R>(call: Effect.Effect<A, E, R>) =>
    Effect.gen(function* () {
      const first = yield* Effect.fork(call)
      yield* settle
      yield* TestClock.adjust("1 second")
      return yield* Fiber.join(first)
    })

  it.effect("returns a stale result at once and refreshes it once in the background", () =>
    Effect.gen(function* () {
      const { fn, runs } = yield* counted("f", [Effect.succeed("v1"), Effect.succeed("v2")], "1 second")
      const f = cached(fn, options)
      expect(yield* firstCall(f(1))).toBe("v1")

      yield* TestClock.adjust("10 seconds")
      // Stale: every caller gets v1 without waiting for the clock, and one refresh starts.
      const stale = yield* Effect.forEach(Array.from({ length: 5 }), () => Effect.fork(f(1)))
      yield* settle
      const polled = yield* Effect.forEach(stale, Fiber.poll)
      expect(polled.map(Option.map(Exit.getOrElse(() => "failed")))).toEqual(
        Array.from({ length: 5 }, () => Option.some("v1"))
      )
      expect(yield* runs).toBe(2)

      yield* TestClock.adjust("1 second")
      yield* settle
      expect(yield* f(1)).toBe("v2")
      expect(yield* runs).toBe(2)
    }).pipe(provideMemo)
  )

  it.effect(
    "a stale call while a refresh of its arguments runs gets the stale result and starts no run",
    () =>
      Effect.gen(function* () {
        const { fn, runs } = yield* counted("f", [Effect.succeed("v1"), Effect.succeed("v2")], "1 second")
        const f = cached(fn, options)
        expect(yield* firstCall(f(1))).toBe("v1")
        yield* TestClock.adjust("10 seconds")
        const refreshing = yield* Effect.fork(f.refresh(1))
        yield* settle
        expect(yield* f(1)).toBe("v1")
        yield* settle
        expect(yield* runs).toBe(2)
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(refreshing)
        expect(yield* f(1)).toBe("v2")
        expect(yield* runs).toBe(2)
      }).pipe(provideMemo)
  )

  it.effect("keeps the stale result after a failed refresh until the window ends", () =>
    Effect.gen(function* () {
      const { fn, runs } = yield* counted("f", [Effect.succeed("v1"), Effect.fail("down")])
      const f = cached(fn, options)
      expect(yield* f(1)).toBe("v1")
      yield* TestClock.adjust("10 seconds")
      expect(yield* f(1)).toBe("v1")
      yield* settle
      expect(yield* runs).toBe(2)
      yield* TestClock.adjust("4999 millis")
      expect(yield* f(1)).toBe("v1")
      yield* settle
      expect(yield* runs).toBe(3)
      yield* TestClock.adjust("1 millis")
      expect(yield* Effect.flip(f(1))).toBe("down")
      expect(yield* runs).toBe(4)
    }).pipe(provideMemo)
  )

  it.effect("keeps the stale success over a refresh failure that timeToLive would store", () =>
    Effect.gen(function* () {
      const { fn, runs } = yield* counted("f", [Effect.succeed("v1"), Effect.fail("down")])
      const f = cached(fn, { timeToLive: () => "10 seconds", staleWhileRevalidate: "5 seconds" })
      expect(yield* f(1)).toBe("v1")
      yield* TestClock.adjust("10 seconds")
      expect(yield* f(1)).toBe("v1")
      yield* settle
      expect(yield* runs).toBe(2)
      expect(yield* f(1)).toBe("v1")
    }).pipe(provideMemo)
  )

  it.effect("a refresh does not store over an invalidation that came while it ran", () =>
    Effect.gen(function* () {
      const { fn, runs } = yield* counted(
        "f",
        [Effect.succeed("v1"), Effect.succeed("v2"), Effect.succeed("v3")],
        "1 second"
      )
      const f = cached(fn, options)
      yield* firstCall(f(1))
      yield* TestClock.adjust("10 seconds")
      expect(yield* f(1)).toBe("v1") // stale; the refresh (v2) starts
      expect(yield* f.invalidate(1)).toBe(true)
      yield* TestClock.adjust("1 second")
      yield* settle
      expect(yield* runs).toBe(2)
      // The refresh ended after the invalidation: the next call computes anew.
      expect(yield* firstCall(f(1))).toBe("v3")
      expect(yield* runs).toBe(3)
    }).pipe(provideMemo)
  )

  it.effect("computes again after the window, the caller waiting for it", () =>
    Effect.gen(function* () {
      const { fn, runs } = yield* counted("f", [Effect.succeed("v1"), Effect.succeed("v2")], "1 second")
      const f = cached(fn, options)
      yield* firstCall(f(1))
      yield* TestClock.adjust("15 seconds")
      const miss = yield* Effect.fork(f(1))
      yield* settle
      expect(Option.isNone(yield* Fiber.poll(miss))).toBe(true)
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(miss)).toBe("v2")
      expect(yield* runs).toBe(2)
    }).pipe(provideMemo)
  )

  it.effect("runs background refreshes in the MemoCache's scope, not the caller's", () =>
    Effect.gen(function* () {
      const { fn, runs } = yield* counted("f", [Effect.succeed("v1"), Effect.succeed("v2")], "1 second")
      const f = cached(fn, options)
      yield* firstCall(f(1))
      yield* TestClock.adjust("10 seconds")
      // The caller's fiber and scope end at once; the refresh it started goes on.
      const caller = yield* Effect.fork(Effect.scoped(f(1)))
      expect(yield* Fiber.join(caller)).toBe("v1")
      yield* TestClock.adjust("1 second")
      yield* settle
      expect(yield* f(1)).toBe("v2")
      expect(yield* runs).toBe(2)
    }).pipe(provideMemo)
  )
})

describe("cachedWith", () => {
  it.scoped("memoizes in a cache of your own", () =>
    Effect.gen(function* () {
      const cache = yield* LruCache.make<string, MemoCache.Entry>({ capacity: 10 })
      const { fn, runs } = yield* counted("f", [Effect.succeed("v")])
      const f = cachedWith(cache, fn, { timeToLive: "1 minute" })
      expect(yield* f(1)).toBe("v")
      expect(yield* f(1)).toBe("v")
      expect(yield* runs).toBe(1)
      expect(yield* cache.size).toBe(1)
      expect(Option.isSome(yield* cache.peek(Either.getOrThrow(MemoCache.key("f", [1]))))).toBe(true)
      yield* TestClock.adjust("1 minute")
      yield* f(1)
      expect(yield* runs).toBe(2)
    })
  )

  it.scoped("counts staleWhileRevalidate from the cache's own timeToLive when none is given", () =>
    Effect.gen(function* () {
      const cache = yield* LruCache.make<string, MemoCache.Entry>({ capacity: 10, timeToLive: "10 seconds" })
      const { fn, runs } = yield* counted("f", [Effect.succeed("v1"), Effect.succeed("v2")])
      const f = cachedWith(cache, fn, { staleWhileRevalidate: "5 seconds" })
      expect(yield* f(1)).toBe("v1")
      yield* TestClock.adjust("11 seconds")
      // Past the cache's 10 seconds but within the window: the stale value, and one refresh.
      expect(yield* f(1)).toBe("v1")
      yield* settle
      expect(yield* runs).toBe(2)
      expect(yield* f(1)).toBe("v2")
    })
  )
})

describe("recursion", () => {
  const noHang = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.timeoutFail(effect, { duration: "10 seconds", onTimeout: () => new Error("the call hung") })

  it.live("a function that calls itself with the same arguments fails with RecursiveComputation", () =>
    Effect.gen(function* () {
      const loop: (n: number) => Effect.Effect<number, unknown, MemoCache.MemoCache> = cached(
        (n: number) => Effect.map(loop(n), (m) => m + 1),
        { name: "loop" }
      )
      const error = yield* noHang(Effect.flip(loop(1)))
      expect(error).toBeInstanceOf(RecursiveComputation)
      expect((error as RecursiveComputation).message).toContain("loop")
      // Recursion on other arguments is fine.
      const factorial: (n: number) => Effect.Effect<number, unknown, MemoCache.MemoCache> = cached(
        (n: number) => (n <= 1 ? Effect.succeed(1) : Effect.map(factorial(n - 1), (m) => m * n)),
        { name: "factorial" }
      )
      expect(yield* noHang(factorial(5))).toBe(120)
    }).pipe(Effect.provide(MemoCache.layer({ capacity: 100 })))
  )
})

describe("persistence", () => {
  it.scoped("keeps results across a restart, keyed the same way", () =>
    Effect.gen(function* () {
      const directory = yield* FileSystem.FileSystem.pipe(
        Effect.flatMap((fs) => fs.makeTempDirectoryScoped()),
        Effect.provide(NodeContext.layer)
      )
      const memo = Layer.provide(
        MemoCache.layer({
          capacity: 10,
          persistence: CachePersistence.file({ path: `${directory}/memo.bin`, durability: "always" })
        }),
        NodeContext.layer
      )
      const runs = yield* Ref.make(0)
      const lookup = cached(
        (query: { readonly id: number; readonly tags: ReadonlyArray<string> }) =>
          Effect.as(
            Ref.update(runs, (n) => n + 1),
            { id: query.id, at: new Date(query.id), note: undefined }
          ),
        { name: "lookup" }
      )
      const first = yield* Effect.provide(lookup({ id: 1, tags: ["a"] }), memo)
      const again = yield* Effect.provide(lookup({ tags: ["a"], id: 1 }), memo)
      expect(again).toEqual(first)
      expect(again.at).toBeInstanceOf(Date)
      expect(yield* Ref.get(runs)).toBe(1)
    })
  )

  it.effect("fails with the persistence error, as a set would, and keeps the result in memory", () =>
    Effect.gen(function* () {
      const failing: CachePersistence.Persistence<string, MemoCache.Entry, PersistenceError, never> = {
        [CachePersistence.PersistenceTypeId]: CachePersistence.PersistenceTypeId,
        open: () =>
          Effect.succeed({
            loaded: [],
            prepareSet: () => Either.right(null),
            recordSet: () =>
              Effect.fail(
                new PersistenceError({ reason: "WriteFailed", method: "set", description: "disk full" })
              ),
            recordDelete: () => Effect.void,
            recordClear: () => Effect.void
          })
      }
      const { fn, runs } = yield* counted("f", [Effect.succeed("v")])
      const f = cached(fn)
      const program = Effect.gen(function* () {
        const error = yield* Effect.flip(f(1))
        expect(error).toBeInstanceOf(PersistenceError)
        expect((error as PersistenceError).reason).toBe("WriteFailed")
        // In memory, as after a failed `set`: the next call is a hit, with no second run.
        expect(yield* f(1)).toBe("v")
        expect(yield* runs).toBe(1)
      })
      yield* Effect.provide(program, MemoCache.layer({ capacity: 10, persistence: failing }))
    })
  )
})

describe("layerConfig", () => {
  const live = MemoCache.layerConfig({
    capacity: Config.integer("MEMO_CAPACITY"),
    timeToLive: Config.duration("MEMO_TTL")
  })
  const settings = (env: Record<string, string>) => ConfigProvider.fromMap(new Map(Object.entries(env)))

  it.effect("reads the capacity and the time to live from the ConfigProvider", () =>
    Effect.gen(function* () {
      const { fn, runs } = yield* counted("config", [Effect.succeed("v"), Effect.succeed("w")])
      const f = cached(fn)
      expect(yield* f(1)).toBe("v")
      expect(yield* f(1)).toBe("v")
      expect(yield* runs).toBe(1)
      const memo = yield* MemoCache.MemoCache
      expect(Duration.toMillis(memo.timeToLive)).toBe(2_000)
      yield* TestClock.adjust("2 seconds")
      expect(yield* f(1)).toBe("w")
    }).pipe(
      Effect.provide(live),
      Effect.withConfigProvider(settings({ MEMO_CAPACITY: "10", MEMO_TTL: "2 seconds" }))
    )
  )

  it.effect("fails with a ConfigError naming the missing key", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Effect.provide(Effect.asVoid(MemoCache.MemoCache), live).pipe(
          Effect.withConfigProvider(settings({ MEMO_CAPACITY: "10" }))
        )
      )
      expect(ConfigError.isConfigError(error)).toBe(true)
      expect(String(error)).toContain("MEMO_TTL")
    })
  )
})
