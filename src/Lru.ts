/**
 * The pure, immutable LRU + TTL data type behind the cache service.
 *
 * Every operation returns a new `Lru` and leaves its input untouched: each version, once made,
 * answers the same forever. Time is a parameter (`now`, epoch milliseconds), never read. Operations
 * that remove entries return what they removed with the next version (`[removed, next]`, the shape
 * `Ref.modify` takes).
 *
 * Versions are persistent by rerooting (Baker's "shallow binding"; Conchon & Filliâtre's persistent
 * arrays): the newest version owns a mutable hash map + doubly linked recency list + expiry heap,
 * and every older version keeps the undo log that leads back to it. Working on the newest version
 * costs what a mutable LRU costs; reading an old version first replays the logs back to it.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import { dual } from "effect/Function"
import type { Inspectable } from "effect/Inspectable"
import type * as Option from "effect/Option"
import type { Pipeable } from "effect/Pipeable"
import type * as Types from "effect/Types"
import * as internal from "./internal/lru.js"

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
 * An immutable LRU cache value with per-entry time to live. Its `toJSON` (and so `toString` and
 * Node's `inspect`) shows `{ _id: "Lru", capacity, policy, entries }`, the stored entries most
 * recently used first, each `{ key, value }` plus `expiresAt` (epoch milliseconds) when it has an
 * expiry. A value has no clock: an entry past its expiry is shown until an operation removes it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Lru<in out K, in out V> extends Pipeable, Inspectable {
  readonly [TypeId]: {
    readonly _K: Types.Invariant<K>
    readonly _V: Types.Invariant<V>
  }
  /** The most live entries this value holds. */
  readonly capacity: number
}

/**
 * Why an entry left the cache.
 *
 * @since 0.1.0
 * @category models
 */
export type RemovalCause =
  /**
   * Removed to make room for a new key, or, with a `maxSize`, for a heavier value: the least
   * recently used live entry under LRU; under W-TinyLFU the victim or the candidate the policy
   * rejected (which may be the key just set, when the admission window is empty). Also the stored
   * entry of a key set to a value heavier than `maxSize` on its own, which is not stored.
   */
  | "evicted"
  /** Its time to live ran out. */
  | "expired"
  /** Removed by `delete`. */
  | "deleted"
  /** Overwritten by a `set` of the same key (also one with no time to live left, which stores nothing). */
  | "replaced"
  /** Removed by `clear`. */
  | "cleared"

/**
 * An entry that left the cache, and why.
 *
 * @since 0.1.0
 * @category models
 */
export interface Removal<K, V> {
  readonly key: K
  readonly value: V
  readonly cause: RemovalCause
}

/**
 * How an `Lru` chooses the entry to evict.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<K = never, V = never> {
  /**
   * `"lru"` (default): exact LRU, the least recently used live entry goes.
   *
   * `"w-tinylfu"`: Caffeine's W-TinyLFU. A new key enters a small LRU admission window; the key it
   * pushes out joins the main space (a segmented LRU) only if a frequency sketch of recent accesses
   * rates it above the main space's victim, else the newcomer itself is evicted. Much better than LRU
   * where LRU fails (loops, scans, one-hit wonders), at most a few percent worse on recency-heavy
   * traffic. Costs a 4-bit counter per entry of capacity (rounded up to a power of two) and some
   * work per hit. Iteration order and persistence still go by recency; the sketch is not persisted
   * (a restored cache starts with no frequency history) and `clear` resets it.
   */
  readonly policy?: "lru" | "w-tinylfu" | undefined
  /**
   * W-TinyLFU only: `"adaptive"` (default) lets a hill climber resize the admission window to the
   * workload, from 1 % of the capacity; `"fixed"` keeps it at 1 %.
   */
  readonly window?: "adaptive" | "fixed" | undefined
  /**
   * A second bound, on the summed weight of the stored entries (lru-cache's `maxSize`, Caffeine's
   * `maximumWeight`): a positive integer, given with `sizeOf`. Default: none, only `capacity` bounds.
   * Both bounds hold after every operation. A set first removes expired entries, then evicts live
   * ones (the policy's victims: under LRU the least recently used) until both hold. An entry
   * heavier than `maxSize` on its own is not stored, and its key's stored entry is removed as
   * `"evicted"` (an expired one as `"expired"`).
   */
  readonly maxSize?: number | undefined
  /**
   * The weight of an entry (its size in bytes, say), called once per set with the value and the
   * key, and again for each entry when a persisted cache loads. Must return a non-negative integer: otherwise the set
   * throws a `RangeError` and leaves the value as it was. Required with `maxSize`.
   */
  readonly sizeOf?: ((value: V, key: K) => number) | undefined
}

/**
 * An empty `Lru` holding at most `capacity` live entries, evicting by `options.policy` (default:
 * exact LRU). Throws a `RangeError` unless `capacity` is a positive safe integer and the options
 * are known values (`LruCache.make` validates its options into a typed error first).
 *
 * @example
 * ```ts
 * import * as Lru from "effect-lru-cache/Lru"
 *
 * const lru = Lru.empty<string, number>(1000, { policy: "w-tinylfu" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const empty: <K, V>(capacity: number, options?: Options<K, V>) => Lru<K, V> = internal.empty

/**
 * Looks `key` up at time `now`. A hit makes the key the most recently used; an expired entry is
 * removed (a removal with cause `"expired"`). When nothing changes (a miss, or a hit on the most
 * recently used key), the returned version is `self`.
 *
 * @since 0.1.0
 * @category getters
 */
export const get: {
  <K>(key: K, now: number): <V>(self: Lru<K, V>) => readonly [Option.Option<V>, Lru<K, V>]
  <K, V>(self: Lru<K, V>, key: K, now: number): readonly [Option.Option<V>, Lru<K, V>]
} = dual(3, internal.get)

/**
 * Inserts or replaces `key` at time `now`; the key becomes the most recently used and its time to
 * live (default: none) restarts. A time to live of zero or less stores nothing and removes the key's
 * entry. Inserting a new key into a full value first removes expired entries, then, if still full,
 * evicts the least recently used live entry (with a `maxSize`: live entries until the summed weight
 * fits too; see `Options.maxSize`).
 *
 * @since 0.1.0
 * @category combinators
 */
export const set: {
  // Data-first first, unlike the other duals: `set(lru, key, value, now)` also fits the data-last
  // form (with `K` the `Lru` type and `now` the time to live), and TypeScript takes the first fit.
  <K, V>(
    self: Lru<K, V>,
    key: K,
    value: V,
    now: number,
    timeToLive?: Duration.DurationInput
  ): readonly [ReadonlyArray<Removal<K, V>>, Lru<K, V>]
  <K, V>(
    key: K,
    value: V,
    now: number,
    timeToLive?: Duration.DurationInput
  ): (self: Lru<K, V>) => readonly [ReadonlyArray<Removal<K, V>>, Lru<K, V>]
} = (<K, V>(
  first: Lru<K, V> | K,
  key: K | V,
  value: V | number,
  now?: number | Duration.DurationInput,
  timeToLive?: Duration.DurationInput
) => {
  // `dual` with a predicate passes `arguments` on through `apply`: measured, a tenth of a set's
  // time on the pure Lru, so the two forms are told apart here. A call whose fourth argument is not
  // a number (none, or a time to live such as "1 hour") is data-last even when the key is itself an
  // `Lru`, as the overloads resolve it; `set(lru, key, value, 5)` is data-first for both.
  return internal.isLru(first) && typeof now === "number"
    ? internal.set(first, key as K, value as V, now as number, timeToLive)
    : (self: Lru<K, V>) =>
        internal.set(self, first as K, key as V, value as number, now as Duration.DurationInput | undefined)
}) as typeof set

/**
 * Like {@link set}, with the expiry given as an absolute time in epoch milliseconds (`Infinity`:
 * never). Used to restore persisted entries.
 *
 * @since 0.1.0
 * @category combinators
 */
export const setExpiresAt: {
  <K, V>(
    key: K,
    value: V,
    now: number,
    expiresAt: number
  ): (self: Lru<K, V>) => readonly [ReadonlyArray<Removal<K, V>>, Lru<K, V>]
  <K, V>(
    self: Lru<K, V>,
    key: K,
    value: V,
    now: number,
    expiresAt: number
  ): readonly [ReadonlyArray<Removal<K, V>>, Lru<K, V>]
} = dual(5, internal.setExpiresAt)

/**
 * Removes `key`. The removal has cause `"deleted"` when the entry was live, `"expired"` when it had
 * expired (and then `delete` reports that nothing live was removed).
 *
 * @since 0.1.0
 * @category combinators
 */
export const remove: {
  <K>(key: K, now: number): <V>(self: Lru<K, V>) => readonly [ReadonlyArray<Removal<K, V>>, Lru<K, V>]
  <K, V>(self: Lru<K, V>, key: K, now: number): readonly [ReadonlyArray<Removal<K, V>>, Lru<K, V>]
} = dual(3, internal.remove)

/**
 * Removes every entry: live ones with cause `"cleared"`, expired ones with cause `"expired"`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const clear: {
  (now: number): <K, V>(self: Lru<K, V>) => readonly [ReadonlyArray<Removal<K, V>>, Lru<K, V>]
  <K, V>(self: Lru<K, V>, now: number): readonly [ReadonlyArray<Removal<K, V>>, Lru<K, V>]
} = dual(2, internal.clear)

/**
 * Removes every entry expired at `now`, soonest expiry first.
 *
 * @since 0.1.0
 * @category combinators
 */
export const removeExpired: {
  (now: number): <K, V>(self: Lru<K, V>) => readonly [ReadonlyArray<Removal<K, V>>, Lru<K, V>]
  <K, V>(self: Lru<K, V>, now: number): readonly [ReadonlyArray<Removal<K, V>>, Lru<K, V>]
} = dual(2, internal.removeExpired)

/**
 * The live value of `key`, touching neither recency nor counters.
 *
 * @since 0.1.0
 * @category getters
 */
export const peek: {
  <K>(key: K, now: number): <V>(self: Lru<K, V>) => Option.Option<V>
  <K, V>(self: Lru<K, V>, key: K, now: number): Option.Option<V>
} = dual(3, internal.peek)

/**
 * Whether `key` has a live entry, touching neither recency nor counters.
 *
 * @since 0.1.0
 * @category getters
 */
export const has: {
  <K>(key: K, now: number): <V>(self: Lru<K, V>) => boolean
  <K, V>(self: Lru<K, V>, key: K, now: number): boolean
} = dual(3, internal.has)

/**
 * Time left before `key` expires: `Duration.infinity` for an entry without expiry, `None` when
 * there is no live entry.
 *
 * @since 0.1.0
 * @category getters
 */
export const remainingTtl: {
  <K>(key: K, now: number): <V>(self: Lru<K, V>) => Option.Option<Duration.Duration>
  <K, V>(self: Lru<K, V>, key: K, now: number): Option.Option<Duration.Duration>
} = dual(3, internal.remainingTtl)

/**
 * The number of live entries at `now`.
 *
 * @since 0.1.0
 * @category getters
 */
export const size: {
  (now: number): <K, V>(self: Lru<K, V>) => number
  <K, V>(self: Lru<K, V>, now: number): number
} = dual(2, internal.size)

/**
 * The summed weight (`sizeOf`) of the live entries at `now`; 0 without a `maxSize`.
 *
 * @since 0.1.0
 * @category getters
 */
export const totalSize: {
  (now: number): <K, V>(self: Lru<K, V>) => number
  <K, V>(self: Lru<K, V>, now: number): number
} = dual(2, internal.totalSize)

/**
 * Live keys at `now`, most recently used first.
 *
 * @since 0.1.0
 * @category getters
 */
export const keys: {
  (now: number): <K, V>(self: Lru<K, V>) => Array<K>
  <K, V>(self: Lru<K, V>, now: number): Array<K>
} = dual(2, internal.keys)

/**
 * Live values at `now`, most recently used first.
 *
 * @since 0.1.0
 * @category getters
 */
export const values: {
  (now: number): <K, V>(self: Lru<K, V>) => Array<V>
  <K, V>(self: Lru<K, V>, now: number): Array<V>
} = dual(2, internal.values)

/**
 * Live entries at `now`, most recently used first.
 *
 * @since 0.1.0
 * @category getters
 */
export const entries: {
  (now: number): <K, V>(self: Lru<K, V>) => Array<readonly [K, V]>
  <K, V>(self: Lru<K, V>, now: number): Array<readonly [K, V]>
} = dual(2, internal.entries)

/**
 * Live entries at `now` with their absolute expiry (`Infinity`: never), least recently used first:
 * the order in which {@link setExpiresAt} rebuilds the same recency.
 *
 * @since 0.1.0
 * @category getters
 */
export const toPersisted: {
  (
    now: number
  ): <K, V>(self: Lru<K, V>) => Array<{ readonly key: K; readonly value: V; readonly expiresAt: number }>
  <K, V>(
    self: Lru<K, V>,
    now: number
  ): Array<{ readonly key: K; readonly value: V; readonly expiresAt: number }>
} = dual(2, internal.toPersisted)

/**
 * Checks the invariants of a version: the hash index, the recency list and the expiry heap agree,
 * sizes match, the heap is ordered, and no more than `capacity` entries are stored. For tests.
 *
 * @since 0.1.0
 * @category utils
 */
export const isValid: <K, V>(self: Lru<K, V>) => boolean = internal.isValid

/**
 * @since 0.1.0
 * @category guards
 */
export const isLru: (u: unknown) => u is Lru<unknown, unknown> = internal.isLru
