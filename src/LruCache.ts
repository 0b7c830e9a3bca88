/**
 * The cache service: an immutable {@link Lru} held in a `Ref`, read and written atomically by any
 * number of fibers, with time from `Clock`, a background sweep of expired entries, single-flight
 * `getOrCompute`, a stream of removals and optional persistence.
 *
 * @since 0.1.0
 */
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import type * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type { Pipeable } from "effect/Pipeable"
import type * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type { InvalidOption, PersistenceError, RecursiveComputation } from "./CacheError.js"
import type { Persistence } from "./CachePersistence.js"
import * as internal from "./internal/cache.js"
import type { Removal } from "./Lru.js"

/**
 * @since 0.1.0
 * @category symbols
 */
export const TypeId: unique symbol = internal.TypeId

/**
 * @since 0.1.0
 * @category symbols
 */
export type TypeId = typeof TypeId

/**
 * Per-write options.
 *
 * @since 0.1.0
 * @category models
 */
export interface SetOptions {
  /**
   * How long the entry lives, from now. Default: the cache's `timeToLive`. `Duration.infinity`
   * never expires; a duration of zero or less stores nothing and removes the key's entry.
   */
  readonly timeToLive?: Duration.DurationInput | undefined
}

/**
 * Options of {@link LruCache.getOrCompute}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ComputeOptions<V, E = unknown> {
  /**
   * How long a computed value lives: a duration, or a function of the computation's `Exit` (as in
   * effect's `Cache.makeWith`), so that, say, an empty answer lives shorter. It is asked for
   * successes only: a failure is never stored. Zero or less returns the value to every waiter but
   * stores nothing. Default: the cache's `timeToLive`.
   */
  readonly timeToLive?:
    | Duration.DurationInput
    | ((exit: Exit.Exit<V, E>) => Duration.DurationInput)
    | undefined
}

/**
 * Counters since the cache was made. A hit is a `get` or `getOrCompute` that found a live entry; a
 * miss is one that did not (a `getOrCompute` that joins a computation already running counts as a
 * miss, but only one load).
 *
 * @since 0.1.0
 * @category models
 */
export interface CacheStats {
  readonly hits: number
  readonly misses: number
  /**
   * Live entries removed to make room (under LRU the least recently used), with a `maxSize` also
   * the stored entry of a key set to a value too heavy to store.
   */
  readonly evictions: number
  /** Entries removed because their time to live ran out (on access, by the sweep, or to make room). */
  readonly expirations: number
  /** Live entries now. */
  readonly size: number
  /** With a `maxSize`: the summed weight (`sizeOf`) of the live entries now; absent otherwise. */
  readonly totalSize?: number
  /** `getOrCompute` computations that succeeded. */
  readonly loadSuccesses: number
  /** `getOrCompute` computations that failed, died or were interrupted. */
  readonly loadFailures: number
  /**
   * Removal events that a subscriber of `events`/`subscribe` never saw because it fell
   * `eventsCapacity` events behind (each counted once, however many subscribers missed it).
   */
  readonly droppedEvents: number
}

/**
 * A removal, as seen on {@link LruCache.events}.
 *
 * @since 0.1.0
 * @category models
 */
export type RemovalEvent<K, V> = Removal<K, V>

/**
 * An LRU cache with time to live. `E` is what a write can fail with: `never` in memory,
 * `PersistenceError` when a persistence backend cannot keep its durability promise (the write still
 * took effect in memory).
 *
 * @since 0.1.0
 * @category models
 */
export interface LruCache<in out K, in out V, out E = never> extends Pipeable {
  readonly [TypeId]: TypeId
  /** The most live entries the cache holds. */
  readonly capacity: number
  /** The default time to live of an entry: `Duration.infinity` when entries do not expire. */
  readonly timeToLive: Duration.Duration
  /** The live value of `key`; a hit makes the key the most recently used. */
  readonly get: (key: K) => Effect.Effect<Option.Option<V>>
  /** Inserts or replaces; the key becomes the most recently used and its time to live restarts. */
  readonly set: (key: K, value: V, options?: SetOptions) => Effect.Effect<void, E>
  /**
   * The live value of `key`, or else the result of `compute`, run once for all the fibers that ask
   * for `key` while it runs. A success is stored and returned to all of them; a failure reaches all
   * of them and is not stored. Interrupting one caller does not interrupt a computation that others
   * still wait for. A computation that asks for its own key (directly, or through the computations
   * of other keys it waits for, or from a fiber it forked) fails that call with
   * `RecursiveComputation` instead of waiting for itself forever.
   */
  readonly getOrCompute: <E2, R>(
    key: K,
    compute: Effect.Effect<V, E2, R>,
    options?: ComputeOptions<V, E2>
  ) => Effect.Effect<V, E | E2 | RecursiveComputation, R>
  /** Whether `key` has a live entry; touches neither recency nor stats, and removes nothing. */
  readonly has: (key: K) => Effect.Effect<boolean>
  /** The live value of `key`; touches neither recency nor stats. */
  readonly peek: (key: K) => Effect.Effect<Option.Option<V>>
  /** Removes `key`; true iff a live entry was removed. */
  readonly delete: (key: K) => Effect.Effect<boolean, E>
  /**
   * Recomputes `key` in the background of its readers: they keep getting the old value (if it is
   * live) until the new one is stored, in one step, with the time to live of `options` (as
   * `getOrCompute`'s). A failure leaves the old value in place and counts a load failure.
   *
   * The computation runs in the cache's scope, as `getOrCompute`'s do, and shares their single
   * flight: if a computation of `key` is already running (a `getOrCompute` or another `refresh`),
   * the call joins it rather than starting another. Like effect's `Cache.refresh`, the effect
   * completes once the refresh has landed, and fails with the computation's failure. To not wait,
   * fork it: interrupting the caller does not stop the computation. A write of `key` while it runs
   * (set, delete, clear, invalidateWhen) is newer, and the refresh then stores nothing. A refresh
   * counts neither a hit nor a miss, and works on a key without a value too (it then stores one).
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { LruCache } from "effect-lru-cache"
   *
   * declare const cache: LruCache.LruCache<string, number>
   * declare const fetchPrice: (symbol: string) => Effect.Effect<number>
   *
   * // Readers keep the old price until the new one lands; this fiber does not wait for it.
   * const refreshed = Effect.fork(cache.refresh("ACME", fetchPrice("ACME")))
   * ```
   */
  readonly refresh: <E2, R>(
    key: K,
    compute: Effect.Effect<V, E2, R>,
    options?: ComputeOptions<V, E2>
  ) => Effect.Effect<void, E | E2 | RecursiveComputation, R>
  /**
   * Removes, in one atomic step, every live entry for which `predicate` holds, and answers how many
   * it removed. Each removal is published as a `"deleted"` event, one per key. Computations of
   * `getOrCompute` and `refresh` running for a removed key are superseded, as a `delete` would. With
   * persistence, the removals are journaled as one record: a crash keeps all of them or none. A
   * predicate that throws removes nothing, and the call dies with what it threw.
   */
  readonly invalidateWhen: (predicate: (key: K, value: V) => boolean) => Effect.Effect<number, E>
  /** Removes every entry. */
  readonly clear: Effect.Effect<void, E>
  /**
   * The number of live entries. Like `keys`, `values`, `entries` and `stats`, it first removes the
   * expired entries (each counted as an expiration, with an `"expired"` event).
   */
  readonly size: Effect.Effect<number>
  /** Live keys, most recently used first. */
  readonly keys: Effect.Effect<ReadonlyArray<K>>
  /** Live values, most recently used first. */
  readonly values: Effect.Effect<ReadonlyArray<V>>
  /** Live entries, most recently used first. */
  readonly entries: Effect.Effect<ReadonlyArray<readonly [K, V]>>
  /** Time left before `key` expires: `Duration.infinity` without expiry, `None` without a live entry. */
  readonly remainingTtl: (key: K) => Effect.Effect<Option.Option<Duration.Duration>>
  readonly stats: Effect.Effect<CacheStats>
  /**
   * Zeroes the counters of `stats` (hits, misses, evictions, expirations, loads, dropped events),
   * in one atomic step; `size` stays what it is. The effect `Metric`s of the cache are not reset:
   * they are counters that only grow, as exporters expect.
   */
  readonly resetStats: Effect.Effect<void>
  /** The cache's name: the `cache` label of its metrics and the `cache.name` attribute of its spans. */
  readonly name: string
  /**
   * Removals with their cause, from the moment the stream is run. A subscriber that falls
   * `eventsCapacity` events behind loses the oldest ones it has not read (counted in
   * `stats.droppedEvents`): a subscriber that never reads costs bounded memory.
   */
  readonly events: Stream.Stream<RemovalEvent<K, V>>
  /** A queue of removals, subscribed when this effect runs, until the scope closes; bounded as `events`. */
  readonly subscribe: Effect.Effect<Queue.Dequeue<RemovalEvent<K, V>>, never, Scope.Scope>
}

/**
 * Options of {@link make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<K, V, E = never, R = never> {
  /** The most live entries the cache holds: a positive integer. Required. */
  readonly capacity: number
  /**
   * The name the cache reports under: the `cache` label of its effect `Metric`s
   * (`effect_lru_cache_hits_total{cache="sessions"}`...) and the `cache.name` attribute of its
   * spans. A non-empty string. Default: `"default"`. Caches with the same name add up in the same
   * counters, and their `size` gauge shows whichever changed last: give each cache its own name.
   */
  readonly name?: string | undefined
  /** Default time to live of an entry. Default: `Duration.infinity`, entries never expire. */
  readonly timeToLive?: Duration.DurationInput | undefined
  /**
   * The batching of the background sweep of expired entries (they are also removed when touched,
   * and before any eviction). The sweep sleeps until the earliest expiry, but wakes at most once per
   * interval, so an expired entry is removed at the latest this long after it expires; it costs no
   * wake-up while nothing can expire. Default: 1 minute. `Duration.infinity` turns the sweep off.
   */
  readonly sweepInterval?: Duration.DurationInput | undefined
  /**
   * How many removal events a subscriber of `events` or `subscribe` may fall behind: past that, the
   * oldest unread events slide out (the subscriber never sees them) and are counted in
   * `stats.droppedEvents`. A positive integer. Default: 1024.
   */
  readonly eventsCapacity?: number | undefined
  /**
   * A second bound, on the summed weight of the live entries (lru-cache's `maxSize`, Caffeine's
   * `maximumWeight`): a positive integer, given with `sizeOf`. Default: none. Both bounds hold after
   * every operation: a set first removes expired entries, then evicts live ones (the policy's
   * victims; under LRU the least recently used) until the count fits `capacity` and the weight
   * fits `maxSize`, each an `"evicted"` event. An entry heavier than `maxSize` on its own is not
   * stored, and its key's entry is removed as `"evicted"`. A cache loaded from persistence weighs
   * the entries again and keeps the most recent that fit. `stats.totalSize` reports the weight.
   */
  readonly maxSize?: number | undefined
  /**
   * The weight of an entry (its size in bytes, say), called once per write with the value and the
   * key. Required with `maxSize`. It must return a non-negative integer: otherwise the write dies
   * with a `RangeError` naming the key (a defect, as a weigher's answer is a programming mistake)
   * and the cache stays as it was.
   */
  readonly sizeOf?: ((value: V, key: K) => number) | undefined
  /** Where the cache persists: see `CachePersistence`. Default: memory only. */
  readonly persistence?: Persistence<K, V, E, R> | undefined
  /**
   * The eviction policy: `"lru"` (default, exact LRU) or `"w-tinylfu"` (Caffeine's W-TinyLFU with
   * an adaptive window: far more hits where LRU fails, such as loops and scans; see `Lru.Options`).
   * Persistence keeps the entries and their recency, not the policy's frequency history.
   */
  readonly policy?: "lru" | "w-tinylfu" | undefined
}

/**
 * Makes a cache living in the current scope. When the scope closes, the sweep stops and the
 * persistence backend, if any, flushes and closes its files, whatever way the scope ends. Without
 * persistence, `make` fails with `InvalidOption` only, and the cache's operations cannot fail
 * (its `E` is `never`).
 *
 * @example
 * ```ts
 * import { Duration, Effect } from "effect"
 * import { LruCache } from "effect-lru-cache"
 *
 * const program = Effect.gen(function* () {
 *   const cache = yield* LruCache.make<string, number>({ capacity: 2, timeToLive: Duration.minutes(5) })
 *   yield* cache.set("a", 1)
 *   return yield* cache.get("a") // Option.some(1)
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: {
  <K, V, E = never, R = never>(
    options: Options<K, V, E, R> & { readonly persistence: Persistence<K, V, E, R> }
  ): Effect.Effect<LruCache<K, V, E>, InvalidOption | PersistenceError, Scope.Scope | R>
  <K, V>(
    options: Options<K, V> & { readonly persistence?: undefined }
  ): Effect.Effect<LruCache<K, V>, InvalidOption, Scope.Scope>
  <K, V, E = never, R = never>(
    options: Options<K, V, E, R>
  ): Effect.Effect<LruCache<K, V, E>, InvalidOption | PersistenceError, Scope.Scope | R>
} = internal.make

/**
 * A layer that provides a cache under a tag of your own.
 *
 * @example
 * ```ts
 * import { Context } from "effect"
 * import { LruCache } from "effect-lru-cache"
 *
 * class Sessions extends Context.Tag("Sessions")<Sessions, LruCache.LruCache<string, string>>() {}
 * const SessionsLive = LruCache.layer(Sessions, { capacity: 10_000 })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: {
  <I, K, V, E = never, R = never>(
    tag: Context.Tag<I, LruCache<K, V, E>>,
    options: Options<K, V, E, R> & { readonly persistence: Persistence<K, V, E, R> }
  ): Layer.Layer<I, InvalidOption | PersistenceError, R>
  <I, K, V>(
    tag: Context.Tag<I, LruCache<K, V>>,
    options: Options<K, V> & { readonly persistence?: undefined }
  ): Layer.Layer<I, InvalidOption>
  <I, K, V, E = never, R = never>(
    tag: Context.Tag<I, LruCache<K, V, E>>,
    options: Options<K, V, E, R>
  ): Layer.Layer<I, InvalidOption | PersistenceError, R>
} = internal.layer

/**
 * A layer like {@link layer}, with its options read from `Config`: from the environment by
 * default, or from any `ConfigProvider`. Give each option as a `Config` of it (`Config.succeed` for
 * a fixed one), or the whole options as one `Config`; a missing or malformed setting fails the layer with a `ConfigError` naming its key, and a setting
 * that reads but is not a valid option (a capacity of 0) with an `InvalidOption`.
 *
 * @example
 * ```ts
 * import { Config, Context, Duration } from "effect"
 * import { LruCache } from "effect-lru-cache"
 *
 * class Sessions extends Context.Tag("Sessions")<Sessions, LruCache.LruCache<string, string>>() {}
 * const SessionsLive = LruCache.layerConfig(Sessions, {
 *   capacity: Config.integer("SESSIONS_CAPACITY").pipe(Config.withDefault(10_000)),
 *   timeToLive: Config.duration("SESSIONS_TTL").pipe(Config.withDefault(Duration.minutes(30)))
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: <I, K, V, E = never, R = never>(
  tag: Context.Tag<I, LruCache<K, V, E>>,
  config: Config.Config.Wrap<Options<K, V, E, R>>
) => Layer.Layer<I, ConfigError.ConfigError | InvalidOption | PersistenceError, R> = internal.layerConfig

/**
 * @since 0.1.0
 * @category guards
 */
export const isLruCache: (u: unknown) => u is LruCache<unknown, unknown, unknown> = internal.isLruCache
