/**
 * One model-based behaviour suite for every way into the cache.
 *
 * A test is a door (how a value gets in: `set`, `getOrCompute`, `cached`) crossed with a backend (how
 * the cache is made and opened again: in memory, a file, a `KeyValueStore`, Redis). Each runs random
 * operation sequences from fast-check against the reference model in `test/model.ts`; backends that
 * persist also close and reopen the cache between steps (and, where the backend promises it, reopen
 * from what a killed process would have left), and every acknowledged write must come back. A failure
 * prints fast-check's seed and shrunk counterexample; `BEHAVIOUR_SEED` (and `BEHAVIOUR_PATH`) replay it.
 *
 * Adding a door or a backend is one entry in `doors.ts` or `backends.ts`.
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import { NodeContext } from "@effect/platform-node"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as TestContext from "effect/TestContext"
import fc from "fast-check"
import type * as LruCache from "../../src/LruCache.js"
import * as M from "../model.js"

/** The keys a scenario uses: ones every codec, the memo key encoding and Redis take. */
export type Key = number | string

export interface Settings {
  readonly capacity: number
  readonly timeToLive: Duration.DurationInput | undefined
}

/** A cache as the suite sees it: whatever its key and value types, and whatever its writes fail with. */
export type AnyCache = LruCache.LruCache<any, any, unknown>

/** One place a backend keeps its caches: each cache opened on it finds what the last one left. */
export interface Place {
  /** Opens a cache here, in the given scope. */
  readonly cache: (settings: Settings) => Effect.Effect<AnyCache, unknown, Scope.Scope>
  /**
   * Memoizes `fn` in a cache opened here, the way a user of this backend does it; returns the
   * memoized function and the cache that holds its results.
   */
  readonly memoize: <A>(
    settings: Settings,
    fn: (key: Key) => Effect.Effect<A, string>,
    timeToLive: (exit: Exit.Exit<A, string>) => Duration.DurationInput
  ) => Effect.Effect<
    {
      readonly call: (key: Key) => Effect.Effect<A, unknown>
      /** The memoized function's `refresh`. */
      readonly refresh: (key: Key) => Effect.Effect<void, unknown>
      readonly cache: AnyCache
    },
    unknown,
    Scope.Scope
  >
  /**
   * What a process killed at this instant leaves behind, as a new place; only for backends that
   * promise every acknowledged write survives a kill.
   */
  readonly crashed?: Effect.Effect<Place, unknown, Scope.Scope>
}

export interface Backend {
  readonly name: string
  /** `"test"`: time is a `TestClock` the scenario moves; `"live"`: real time, so no finite TTL runs out. */
  readonly clock: "test" | "live"
  /**
   * Whether the cache is one exact LRU: `capacity` bounds what it holds and its iteration is by
   * recency (false for Redis: L1 is bounded, Redis holds any number, and scans in its own order).
   */
  readonly exactLru: boolean
  /** Whether a cache opened again on the same place finds the entries of the one before. */
  readonly persistent: boolean
  /** Whether its places are `crashed`-capable: every acknowledged write survives a kill. */
  readonly crashSafe: boolean
  /** Whether `stats` counts evictions, expirations, size and loads as one `LruCache` does. */
  readonly fullStats: boolean
  /** Why the backend cannot run here (printed, and its tests skipped), if it cannot. */
  readonly unavailable?: () => string | undefined
  /** Starts and stops what the backend needs for the whole suite (a server). */
  readonly setup?: { readonly start: () => Promise<void>; readonly stop: () => Promise<void> }
  /** A fresh place, living for one scenario. */
  readonly place: Effect.Effect<Place, unknown, Scope.Scope | FileSystem.FileSystem | Path.Path>
}

/** What a door's write answered: `getOrCompute` and `cached` return a value or fail. */
export type Answer = Either.Either<unknown, unknown>

/** A cache opened through a door. */
export interface Handle {
  /** The cache that holds the entries: read and observed directly. */
  readonly cache: AnyCache
  /** The key under which the door stores `key` in `cache`. */
  readonly storedKey: (key: Key) => unknown
  /** The value a caller wrote, from what `cache` holds. */
  readonly storedValue: (stored: unknown) => unknown
  /** Writes through the door. A `"compute"` door that `fails` computes a failure. */
  readonly write: (
    key: Key,
    value: number,
    timeToLive: Duration.DurationInput | undefined,
    fails: boolean
  ) => Effect.Effect<Answer, unknown>
  /** Refreshes through the door (the cache's `refresh`, or the memoized function's). */
  readonly refresh: (
    key: Key,
    value: number,
    timeToLive: Duration.DurationInput | undefined,
    fails: boolean
  ) => Effect.Effect<Either.Either<void, unknown>, unknown>
}

export interface Door {
  readonly name: string
  /** `"set"` replaces whatever is there; `"compute"` returns a live value, or computes and stores one. */
  readonly kind: "set" | "compute"
  readonly open: (place: Place, settings: Settings) => Effect.Effect<Handle, unknown, Scope.Scope>
}

// --- scenarios -------------------------------------------------------------------------------------

const KEYS: ReadonlyArray<Key> = [0, 1, 2, 3, 4, "__proto__", "constructor", "k"]

type Ttl = Duration.DurationInput | undefined

type Op =
  | { readonly op: "write"; readonly key: number; readonly ttl: Ttl; readonly fails: boolean }
  | { readonly op: "get" | "peek" | "has" | "remainingTtl" | "delete"; readonly key: number }
  | { readonly op: "clear" | "entries" | "size" | "stats" | "reopen" | "crash" }
  | { readonly op: "advance"; readonly ms: number }
  | { readonly op: "refresh"; readonly key: number; readonly ttl: Ttl; readonly fails: boolean }
  /** Removes the entries of `keys`, and those of odd values if `odd`. */
  | { readonly op: "invalidateWhen"; readonly keys: ReadonlyArray<number>; readonly odd: boolean }

interface Scenario {
  readonly capacity: number
  readonly timeToLive: Ttl
  readonly ops: ReadonlyArray<Op>
}

const HOUR = Duration.hours(1)

const scenarioArb = (backend: Backend, crashes: boolean, maxLength: number): fc.Arbitrary<Scenario> => {
  const key = fc.integer({ min: 0, max: KEYS.length - 1 })
  // On the live clock (Redis) only lifetimes that cannot run out during a test, and the removals.
  const ttl: fc.Arbitrary<Ttl> =
    backend.clock === "test"
      ? fc.oneof(
          { arbitrary: fc.constant(undefined), weight: 3 },
          { arbitrary: fc.integer({ min: 1, max: 20 }), weight: 5 },
          { arbitrary: fc.constantFrom<Ttl>(0, -3, Duration.infinity), weight: 2 }
        )
      : fc.oneof(
          { arbitrary: fc.constant(undefined), weight: 3 },
          { arbitrary: fc.constantFrom<Ttl>(HOUR, Duration.infinity), weight: 3 },
          { arbitrary: fc.constantFrom<Ttl>(0, -3), weight: 1 }
        )
  const ops: Array<fc.WeightedArbitrary<Op>> = [
    {
      arbitrary: fc.record({ op: fc.constant("write" as const), key, ttl, fails: fc.boolean() }),
      weight: 10
    },
    { arbitrary: fc.record({ op: fc.constant("get" as const), key }), weight: 6 },
    {
      arbitrary: fc.record({
        op: fc.constantFrom("peek" as const, "has" as const, "remainingTtl" as const),
        key
      }),
      weight: 3
    },
    { arbitrary: fc.record({ op: fc.constant("delete" as const), key }), weight: 2 },
    { arbitrary: fc.record({ op: fc.constant("clear" as const) }), weight: 1 },
    {
      arbitrary: fc.record({ op: fc.constant("refresh" as const), key, ttl, fails: fc.boolean() }),
      weight: 2
    },
    {
      arbitrary: fc.record({
        op: fc.constant("invalidateWhen" as const),
        keys: fc.uniqueArray(key, { maxLength: 3 }),
        odd: fc.boolean()
      }),
      weight: 2
    },
    {
      arbitrary: fc.record({ op: fc.constantFrom("entries" as const, "size" as const, "stats" as const) }),
      weight: 2
    }
  ]
  if (backend.clock === "test") {
    ops.push({
      arbitrary: fc.record({
        op: fc.constant("advance" as const),
        ms: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 6 }), weight: 4 }, fc.constantFrom(15, 1_000))
      }),
      weight: 4
    })
  }
  if (backend.persistent)
    ops.push({ arbitrary: fc.record({ op: fc.constant("reopen" as const) }), weight: 2 })
  // Often: a write acknowledged too early is caught only by a crash right after it.
  if (crashes) ops.push({ arbitrary: fc.record({ op: fc.constant("crash" as const) }), weight: 4 })
  return fc.record({
    capacity: fc.integer({ min: 1, max: 6 }),
    timeToLive:
      backend.clock === "test"
        ? fc.constantFrom<Ttl>(undefined, 15, Duration.infinity)
        : fc.constantFrom<Ttl>(undefined, HOUR),
    ops: fc.array(fc.oneof(...ops), { minLength: 1, maxLength })
  })
}

// --- running a scenario ----------------------------------------------------------------------------

const showOption = (option: Option.Option<unknown>) =>
  Option.isSome(option) ? { some: option.value } : "none"

/** Sorted when the backend has no recency order to compare. */
const inOrder = <A extends readonly [string, unknown]>(exact: boolean, entries: Array<A>): Array<A> =>
  exact ? entries : [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))

const run = (door: Door, backend: Backend, scenario: Scenario, logs: Array<string>) =>
  Effect.gen(function* () {
    logs.length = 0
    const settings: Settings = { capacity: scenario.capacity, timeToLive: scenario.timeToLive }
    const fallback = M.ttlMillis(scenario.timeToLive)
    // Redis holds any number of entries: only its L1 is bounded.
    let model = M.empty<Key, number>(backend.exactLru ? scenario.capacity : Number.MAX_SAFE_INTEGER)
    let loads = { successes: 0, failures: 0 }
    // Where each key was last written (for the order a crash leaves); renumbered at every open.
    let lastWrite = new Map<string, number>()
    let writes = 0
    const renumber = () => {
      lastWrite = new Map(model.entries.map((entry, i) => [M.showKey(entry.key), -i]))
    }
    const live = backend.clock === "live"
    // On the live clock the model's time stands still: no lifetime it is given can run out meanwhile.
    let now = live ? 0 : yield* Clock.currentTimeMillis

    let place = yield* backend.place
    let session = yield* Scope.make()
    let handle = yield* Scope.extend(door.open(place, settings), session)
    const reopen = (next: Place) =>
      Effect.gen(function* () {
        yield* Scope.close(session, Exit.void)
        place = next
        session = yield* Scope.make()
        handle = yield* Scope.extend(door.open(place, settings), session)
      })
    const stored = (key: Key) => handle.storedKey(key)
    const observedEntries = Effect.map(
      Effect.suspend(() => handle.cache.entries),
      (entries) =>
        inOrder(
          backend.exactLru,
          entries.map(([k, v]) => [M.showKey(k), handle.storedValue(v)] as const)
        )
    )
    const expectedEntries = () =>
      inOrder(
        backend.exactLru,
        M.entries(model, now).map(([k, v]) => [M.showKey(stored(k)), v] as const)
      )

    for (const [index, op] of scenario.ops.entries()) {
      const step = `step ${index}: ${JSON.stringify(op)}`
      switch (op.op) {
        case "write": {
          const key = KEYS[op.key]!
          const fails = door.kind === "compute" && op.fails
          const answer = yield* handle.write(key, index, op.ttl, fails)
          const millis = M.ttlMillis(op.ttl, fallback)
          let storedNow = false
          if (door.kind === "set") {
            ;[, model] = M.set(model, key, index, now, millis)
            storedNow = millis > 0
            expect(answer, step).toEqual(Either.right(undefined))
          } else {
            const [found, , afterGet] = M.getWithRemovals(model, key, now)
            model = afterGet
            if (Option.isSome(found)) {
              expect(answer, step).toEqual(Either.right(found.value))
            } else if (fails) {
              expect(answer, step).toEqual(Either.left("failed"))
              loads = { ...loads, failures: loads.failures + 1 }
            } else {
              expect(answer, step).toEqual(Either.right(index))
              loads = { ...loads, successes: loads.successes + 1 }
              ;[, model] = M.set(model, key, index, now, millis)
              storedNow = millis > 0
            }
          }
          if (storedNow) lastWrite.set(M.showKey(key), ++writes)
          break
        }
        case "get": {
          const key = KEYS[op.key]!
          const found = yield* handle.cache.get(stored(key))
          let expected: Option.Option<number>
          ;[expected, model] = M.get(model, key, now)
          expect(showOption(Option.map(found, handle.storedValue)), step).toEqual(showOption(expected))
          break
        }
        case "peek": {
          const key = KEYS[op.key]!
          const found = yield* handle.cache.peek(stored(key))
          expect(showOption(Option.map(found, handle.storedValue)), step).toEqual(
            showOption(M.peek(model, key, now))
          )
          break
        }
        case "has": {
          const key = KEYS[op.key]!
          expect(yield* handle.cache.has(stored(key)), step).toBe(M.has(model, key, now))
          break
        }
        case "remainingTtl": {
          const key = KEYS[op.key]!
          const left = Option.map(yield* handle.cache.remainingTtl(stored(key)), Duration.toMillis)
          const expected = M.remainingTtl(model, key, now)
          if (live && Option.isSome(left) && Option.isSome(expected) && Number.isFinite(expected.value)) {
            // Real time has passed since the write: a little less is left, never more.
            expect(left.value, step).toBeLessThanOrEqual(expected.value)
            expect(left.value, step).toBeGreaterThan(expected.value - 60_000)
          } else {
            expect(showOption(left), step).toEqual(showOption(expected))
          }
          break
        }
        case "delete": {
          const key = KEYS[op.key]!
          const deleted = yield* handle.cache.delete(stored(key))
          let removals: ReadonlyArray<M.Removal<Key, number>>
          ;[removals, model] = M.remove(model, key, now)
          expect(deleted, step).toBe(removals.some((removal) => removal.cause === "deleted"))
          break
        }
        case "clear":
          yield* handle.cache.clear
          ;[, model] = M.clear(model, now)
          break
        case "refresh": {
          const key = KEYS[op.key]!
          const answer = yield* handle.refresh(key, index, op.ttl, op.fails)
          expect(answer, step).toEqual(op.fails ? Either.left("failed") : Either.right(undefined))
          const millis = M.ttlMillis(op.ttl, fallback)
          ;[, model] = M.refresh(model, key, op.fails ? Option.none() : Option.some(index), now, millis)
          loads = op.fails
            ? { ...loads, failures: loads.failures + 1 }
            : { ...loads, successes: loads.successes + 1 }
          if (!op.fails && millis > 0) lastWrite.set(M.showKey(key), ++writes)
          break
        }
        case "invalidateWhen": {
          const chosen = op.keys.map((i) => KEYS[i]!)
          const storedChosen = chosen.map(stored)
          const odd = (value: number) => op.odd && value % 2 === 1
          const removed = yield* handle.cache.invalidateWhen(
            (k, v) => storedChosen.some((c) => M.sameKey(c, k)) || odd(handle.storedValue(v) as number)
          )
          let removals: ReadonlyArray<M.Removal<Key, number>>
          ;[removals, model] = M.invalidateWhen(
            model,
            (k, v) => chosen.some((c) => M.sameKey(c, k)) || odd(v),
            now
          )
          expect(removed, step).toBe(removals.length)
          break
        }
        case "entries":
          // Reads of the whole cache first remove the expired entries (counted as expirations).
          ;[, model] = M.removeExpired(model, now)
          expect(yield* observedEntries, step).toEqual(expectedEntries())
          break
        case "size":
          ;[, model] = M.removeExpired(model, now)
          expect(yield* handle.cache.size, step).toBe(M.size(model, now))
          break
        case "stats": {
          ;[, model] = M.removeExpired(model, now)
          const stats = yield* handle.cache.stats
          if (backend.fullStats) {
            const { evictions, expirations, hits, loadFailures, loadSuccesses, misses, size } = stats
            expect({ hits, misses, evictions, expirations, size, loadSuccesses, loadFailures }, step).toEqual(
              {
                ...model.counters,
                size: M.size(model, now),
                loadSuccesses: loads.successes,
                loadFailures: loads.failures
              }
            )
          } else {
            expect({ hits: stats.hits, misses: stats.misses }, step).toEqual({
              hits: model.counters.hits,
              misses: model.counters.misses
            })
          }
          break
        }
        case "advance":
          yield* TestClock.adjust(op.ms)
          now += op.ms
          break
        case "reopen":
        case "crash": {
          if (op.op === "reopen") {
            yield* reopen(place)
            model = M.reopen(model, now)
          } else {
            // Taken while the cache is open: what a SIGKILL at this instant would leave.
            const crashed = yield* place.crashed!
            yield* reopen(crashed)
            model = M.recover(model, now, (key) => lastWrite.get(M.showKey(key)) ?? Number.NEGATIVE_INFINITY)
          }
          renumber()
          loads = { successes: 0, failures: 0 }
          // Every acknowledged write is back, in the documented order.
          expect(yield* observedEntries, step).toEqual(expectedEntries())
          break
        }
      }
    }
    yield* Scope.close(session, Exit.void)
    // Nothing in a scenario is an accident worth a warning: a warning here is a bug.
    expect(logs).toEqual([])
  }).pipe(Effect.scoped)

// --- the suite -------------------------------------------------------------------------------------

export interface SuiteOptions {
  /** Scenarios per test. */
  readonly numRuns: number
  /** The longest operation sequence. */
  readonly maxLength: number
}

const replay = (): fc.Parameters<unknown> => {
  const seed = process.env.BEHAVIOUR_SEED
  const path = process.env.BEHAVIOUR_PATH
  return {
    ...(seed === undefined ? {} : { seed: Number(seed) }),
    ...(path === undefined ? {} : { path })
  }
}

/**
 * Runs the behaviour properties for every door through every backend.
 */
export const behaviourSuite = (
  doors: ReadonlyArray<Door>,
  backends: ReadonlyArray<Backend>,
  options: SuiteOptions
): void => {
  for (const backend of backends) {
    const reason = backend.unavailable?.()
    describe.skipIf(reason !== undefined)(`behaviour through the ${backend.name} backend`, () => {
      if (backend.setup !== undefined) {
        beforeAll(backend.setup.start)
        afterAll(backend.setup.stop)
      }
      for (const door of doors) {
        it(`${door.name}: random operation sequences answer as the reference model does`, async () => {
          const logs: Array<string> = []
          const capture = Logger.replace(
            Logger.defaultLogger,
            Logger.make(({ logLevel, message }) => {
              if (LogLevel.greaterThanEqual(logLevel, LogLevel.Warning)) {
                logs.push(`${logLevel.label}: ${String(message)}`)
              }
            })
          )
          const services =
            backend.clock === "test"
              ? Layer.merge(TestContext.TestContext, NodeContext.layer)
              : NodeContext.layer
          const runtime = ManagedRuntime.make(Layer.merge(services, capture))
          // Background flushers sleep on the TestClock between scenarios; moving it once tells the
          // TestClock that time is driven here (it warns about sleepers otherwise).
          if (backend.clock === "test") await runtime.runPromise(TestClock.adjust(0))
          try {
            await fc.assert(
              fc.asyncProperty(scenarioArb(backend, backend.crashSafe, options.maxLength), (scenario) =>
                runtime.runPromise(run(door, backend, scenario, logs))
              ),
              { numRuns: options.numRuns, ...replay() }
            )
          } finally {
            await runtime.dispose()
          }
        })
      }
    })
  }
}
