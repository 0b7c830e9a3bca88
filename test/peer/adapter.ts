/**
 * The thin adapter the ported peer suites run through: each peer operation is one call of this
 * library, so that a ported assertion tests this library and nothing the adapter adds.
 *
 * Time: cachetools' injected `Timer` and lru-cache's injected clock both become `TestClock`; one
 * tick of cachetools' timer and one millisecond of lru-cache's clock are one millisecond here.
 */
import { Chunk, Clock, Data, Duration, Effect, Either, Option, Queue, TestClock } from "effect"
import type { RemovalCause } from "../../src/Lru.js"
import * as LruCache from "../../src/LruCache.js"
import * as MemoCache from "../../src/MemoCache.js"

type Cache<K, V> = LruCache.LruCache<K, V>

/**
 * A cache of `capacity` entries; `ttl` in milliseconds of the `TestClock`, none when omitted.
 * cachetools' `getsizeof` becomes `sizeOf` with `maxSize` equal to `capacity`: every weight the
 * ported tests use is at least 1, so the entry count never binds before the weight does.
 */
export const make = <K, V>(capacity: number, ttl?: number, getsizeof?: (value: V) => number) =>
  LruCache.make<K, V>({
    capacity,
    ...(ttl === undefined ? {} : { timeToLive: Duration.millis(ttl) }),
    ...(getsizeof === undefined ? {} : { maxSize: capacity, sizeOf: (value: V) => getsizeof(value) })
  })

/** Moves the `TestClock` on by `millis`: cachetools' `timer.tick()`, lru-cache's `clock.advance`. */
export const advance = (millis: number) => TestClock.adjust(Duration.millis(millis))

/** cachetools' `timer()`. */
export const now = Clock.currentTimeMillis

// ---------------------------------------------------------------------------------------------
// cachetools (a `MutableMapping`): Python's `KeyError` becomes a typed failure.

/** What Python raises as `KeyError`. */
export class KeyError extends Data.TaggedError("KeyError")<{ readonly key: unknown }> {}

export const py = {
  /** `cache[key]`: the value, or `KeyError`. */
  getitem: <K, V>(cache: Cache<K, V>, key: K) =>
    Effect.flatMap(
      cache.get(key),
      Option.match({ onNone: () => Effect.fail(new KeyError({ key })), onSome: Effect.succeed })
    ),
  /** `cache[key] = value`. */
  setitem: <K, V>(cache: Cache<K, V>, key: K, value: V) => cache.set(key, value),
  /** `key in cache`. */
  contains: <K, V>(cache: Cache<K, V>, key: K) => cache.has(key),
  /** `len(cache)`. */
  len: <K, V>(cache: Cache<K, V>) => cache.size,
  /** `del cache[key]`: `KeyError` when there was no live entry. */
  delitem: <K, V>(cache: Cache<K, V>, key: K) =>
    Effect.flatMap(cache.delete(key), (removed) =>
      removed ? Effect.void : Effect.fail(new KeyError({ key }))
    ),
  /**
   * `cache.pop(key)`: `delete` answers whether it removed a live entry, not the value (the value
   * is in the `deleted` removal event). `KeyError` when there was none, as in Python.
   */
  pop: <K, V>(cache: Cache<K, V>, key: K) =>
    Effect.flatMap(cache.delete(key), (removed) =>
      removed ? Effect.succeed(true) : Effect.fail(new KeyError({ key }))
    ),
  /** `cache.pop(key, default)`: `delete`, answering `default` when there was no live entry. */
  popDefault: <K, V, D>(cache: Cache<K, V>, key: K, fallback: D) =>
    Effect.map(cache.delete(key), (removed): true | D => (removed ? true : fallback)),
  /** `cache.get(key, default=None)`; Python's `None` is `null`. */
  get: <K, V, D = null>(cache: Cache<K, V>, key: K, fallback: D = null as D) =>
    Effect.map(
      cache.get(key),
      Option.getOrElse((): V | D => fallback)
    ),
  /** `cache.setdefault(key, default=None)`: the live value, or `default` stored and returned. */
  setdefault: <K, V>(cache: Cache<K, V>, key: K, fallback: V) =>
    cache.getOrCompute(key, Effect.succeed(fallback)),
  /**
   * `cache[key]` on a subclass whose `__missing__(key)` stores and returns `key`: a miss computes
   * the value and stores it, which is what `getOrCompute` does.
   */
  getitemMissing: <K>(cache: Cache<K, K>, key: K) => cache.getOrCompute(key, Effect.succeed(key)),
  /** `cache.update(mapping)`: one `set` per item, in order. */
  update: <K, V>(cache: Cache<K, V>, items: ReadonlyArray<readonly [K, V]>) =>
    Effect.forEach(items, ([key, value]) => cache.set(key, value), { discard: true }),
  /** `set(cache)`: the live keys. */
  keySet: <K, V>(cache: Cache<K, V>) => Effect.map(cache.keys, (keys) => new Set(keys)),
  /** `cache.clear()`. */
  clear: <K, V>(cache: Cache<K, V>) => cache.clear
}

// ---------------------------------------------------------------------------------------------
// node-lru-cache: `undefined` for a miss, lru-cache's argument order for disposals.

export const js = {
  /** `c.get(key)`: the value or `undefined`. */
  get: <K, V>(cache: Cache<K, V>, key: K) => Effect.map(cache.get(key), Option.getOrUndefined),
  /** `c.peek(key)`: the value or `undefined`, touching nothing. */
  peek: <K, V>(cache: Cache<K, V>, key: K) => Effect.map(cache.peek(key), Option.getOrUndefined),
  /**
   * `c.getRemainingTTL(key)`: milliseconds left, `Infinity` without expiry, `0` for a key with no
   * entry (lru-cache's answer for a missing key; here an expired entry has no entry either).
   */
  getRemainingTTL: <K, V>(cache: Cache<K, V>, key: K) =>
    Effect.map(
      cache.remainingTtl(key),
      Option.match({ onNone: () => 0, onSome: (left) => Duration.toMillis(left) })
    ),
  /** `[...c.entries()]`, most recently used first in both libraries. */
  entries: <K, V>(cache: Cache<K, V>) =>
    Effect.map(cache.entries, (entries) => entries.map(([k, v]) => [k, v])),
  /** `c.fetch(key)` with `fetchMethod` given as the effect that computes the value. */
  fetch: <K, V, E, R>(
    cache: Cache<K, V>,
    key: K,
    fetchMethod: Effect.Effect<V, E, R>,
    options?: LruCache.ComputeOptions<V>
  ) => cache.getOrCompute(key, fetchMethod, options)
}

/**
 * lru-cache's `dispose(value, key, reason)` callbacks become the removal events of `subscribe`;
 * this drains what was published so far as `[value, key, cause]`, lru-cache's argument order.
 * Reasons map as: `evict` → `evicted`, `set` → `replaced`, `delete` → `deleted` (by `delete`) or
 * `cleared` (by `clear`), `expire` → `expired`.
 */
export const disposed = <K, V>(queue: Queue.Dequeue<LruCache.RemovalEvent<K, V>>) =>
  Effect.map(Queue.takeAll(queue), (removals) =>
    Chunk.toArray(Chunk.map(removals, (r): [V, K, RemovalCause] => [r.value, r.key, r.cause]))
  )

// ---------------------------------------------------------------------------------------------
// Memoization: `cachetools.cached(cache)` and `functools.lru_cache(maxsize)`.

/** Gives `fn` a name, as a Python `def` has: `cached` keys a function's entries by its name. */
export const named = <F extends (...args: ReadonlyArray<any>) => any>(name: string, fn: F): F =>
  Object.defineProperty(fn, "name", { value: name })

/** `cachetools.keys.hashkey(*args)` of a function called `name`: the key `cached` stores a call under. */
export const hashkey = (name: string, ...args: ReadonlyArray<unknown>) =>
  Either.getOrThrow(MemoCache.key(name, args))

/**
 * `f.cache_info()` of a function memoized alone in the `MemoCache`: `(hits, misses, maxsize,
 * currsize)`, from the stats and capacity of the cache behind it.
 */
export const cacheInfo = Effect.flatMap(MemoCache.MemoCache, (memo) =>
  Effect.map(memo.cache.stats, (s) => [s.hits, s.misses, memo.cache.capacity, s.size] as const)
)

/** `f.cache_clear()` of a function memoized alone in the `MemoCache`. */
export const cacheClear = Effect.flatMap(MemoCache.MemoCache, (memo) => memo.cache.clear)

/** The second half of `f.cache_clear()`: zeroing the counters `cache_info()` reports. */
export const cacheResetStats = Effect.flatMap(MemoCache.MemoCache, (memo) => memo.cache.resetStats)

/** A small deterministic generator for the peers' `random.choice`, so that a run can be replayed. */
export const seeded = (seed: number) => {
  let state = seed >>> 0
  return <A>(domain: ReadonlyArray<A>): A => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296
    return domain[Math.floor(r * domain.length)]!
  }
}
