/**
 * A cache shared by many processes through Redis: the in-process {@link Lru} as a first level (L1),
 * Redis as the shared second level (L2) with native expiry, and invalidation of every other
 * instance's L1 through Redis pub/sub. It is an {@link LruCache.LruCache}, so everything written
 * for the in-memory cache (memoization included) works over it unchanged.
 *
 * Needs `ioredis` 5.x, an optional peer dependency: install it to use this module.
 *
 * @since 0.1.0
 */
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import type * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type { RedisOptions } from "ioredis"
import type { InvalidOption, RedisError } from "./CacheError.js"
import type { Codec } from "./CachePersistence.js"
import * as internal from "./internal/redis/cache.js"
import type { CacheStats, LruCache } from "./LruCache.js"

/**
 * What the cache does while Redis cannot be reached (or answers a command with an error).
 *
 * - `"serveFromL1"`: keep serving from the in-process level. Reads answer from L1 (a miss there is
 *   a miss), writes change L1 only, `getOrCompute` computes without the cross-process lock. A
 *   warning is logged when the outage starts. Writes made meanwhile are local to this instance and
 *   are dropped with the rest of L1 when Redis is back.
 * - `"fail"`: writes and `getOrCompute` fail with `RedisError`, and reads answer as an empty cache
 *   would (the `LruCache` interface gives reads no error channel). L1 is dropped as soon as the
 *   connection is lost or a command (a heartbeat included) fails or times out, so nothing Redis has
 *   not confirmed is served, also while a stalled server or a partition keeps the socket open.
 *
 * @since 0.1.0
 * @category models
 */
export type WhenUnavailable = "serveFromL1" | "fail"

/**
 * Options of {@link make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<V, K = unknown> {
  /** The most live entries held in this process (L1): a positive integer. Required. Redis holds any number. */
  readonly capacity: number
  /**
   * A second bound on L1, on the summed weight of its live entries (see `LruCache.Options.maxSize`):
   * a positive integer, given with `sizeOf`. Default: none. Past it, L1 evicts (an `"evicted"`
   * event, as for `capacity`); an entry heavier than `maxSize` on its own is kept in Redis only.
   * Redis itself holds every entry, whatever its weight. `stats.totalSize` reports L1's weight.
   */
  readonly maxSize?: number | undefined
  /**
   * The weight of an entry in L1 (its size in bytes, say), called with the value and the key as
   * given. Required with `maxSize`. It must return a non-negative integer: otherwise the write dies
   * with a `RangeError` naming the key.
   */
  readonly sizeOf?: ((value: V, key: K) => number) | undefined
  /**
   * The name the cache reports under: the `cache` label of its effect `Metric`s and the
   * `cache.name` attribute of its spans, as `LruCache.Options.name`. Default: `"default"`.
   */
  readonly name?: string | undefined
  /**
   * Default time to live of an entry, enforced by Redis (`SET ... PX`) and mirrored in L1. Default:
   * `Duration.infinity`.
   */
  readonly timeToLive?: Duration.DurationInput | undefined
  /**
   * The eviction policy of L1: `"lru"` (default, exact LRU) or `"w-tinylfu"` (see
   * `LruCache.Options`). Redis itself keeps every entry until its time to live ends.
   */
  readonly policy?: "lru" | "w-tinylfu" | undefined
  /**
   * Where Redis is: a `redis://` URL, plain or `Redacted` (as `Config.redacted` reads it), or
   * `ioredis` options (`{ path: "/run/redis.sock" }`, `{ host,
   * port, password }`...). Default: `"redis://127.0.0.1:6379"`. Unless you override them, commands
   * fail fast while the connection is down (`enableOfflineQueue: false`, `maxRetriesPerRequest: 0`,
   * `connectTimeout` and `commandTimeout` of 1 second) and the client reconnects by itself, retrying
   * every 50 ms to 1 s; overriding these trades that away.
   */
  readonly connection?: string | Redacted.Redacted<string> | RedisOptions | undefined
  /**
   * Every Redis key of this cache is `<prefix>\u0000<key>`, and invalidations go to the channel
   * `<prefix>invalidations`. Caches with different prefixes never see each other's entries, even
   * when one prefix begins another, and `clear` removes this prefix only. A non-empty string without
   * `\u0000`. Default: `"effect-lru-cache:"`.
   */
  readonly prefix?: string | undefined
  /**
   * How values become bytes in Redis. Default: `CachePersistence.codec.structuredClone`. A value in
   * Redis that the codec cannot decode counts as a miss, is logged, and is counted in
   * `stats.decodeFailures`; it is left in Redis (another version of the program may read it). A key
   * of another Redis type (a hash, a list...) under the prefix is treated the same way.
   */
  readonly valueCodec?: Codec<V> | undefined
  /** See {@link WhenUnavailable}. Default: `"serveFromL1"`. */
  readonly whenUnavailable?: WhenUnavailable | undefined
  /**
   * How long the lock of a `getOrCompute` lives without renewal. The holder renews it every third of
   * this while it computes, so it only bounds how long the others wait when the holder dies. Default:
   * 10 seconds.
   */
  readonly lockTimeToLive?: Duration.DurationInput | undefined
  /**
   * The longest a `getOrCompute` waits for another instance's computation of the same key before
   * computing the value itself. Default: 30 seconds.
   */
  readonly lockWait?: Duration.DurationInput | undefined
  /**
   * How often this instance checks that invalidations still reach it: it publishes a heartbeat on a
   * channel of its own and expects it back through its subscription within this interval. When one
   * does not come back although Redis took it (the subscription stalled, the socket still open), L1
   * is dropped with a warning and bypassed (reads go to Redis) until one does. Bounds how long a
   * stalled subscription can serve stale values. Finite. Default: 1 second.
   */
  readonly heartbeatInterval?: Duration.DurationInput | undefined
}

/**
 * The counters of a Redis cache, counted in this process.
 *
 * @since 0.1.0
 * @category models
 */
export interface RedisCacheStats extends CacheStats {
  /** Hits answered from L1. `hits` is `localHits + remoteHits`. */
  readonly localHits: number
  /** Hits answered from Redis. */
  readonly remoteHits: number
  /** Values found in Redis that the codec could not decode (each also counted as a miss). */
  readonly decodeFailures: number
  /** Operations that Redis could not serve (answered from L1, or failed, as `whenUnavailable` says). */
  readonly unavailable: number
  /** Invalidations received from other instances. */
  readonly invalidations: number
  /**
   * Events that a subscriber too far behind did not get: each subscriber holds at most the larger of
   * 1024 and `capacity` events, and past that loses its oldest (see {@link RedisCache}).
   */
  readonly droppedEvents: number
}

/**
 * A two-level cache over Redis. Key identity is by contents: string keys are Redis keys as they are
 * (under the prefix); other keys (numbers, `Data` structs, plain objects and arrays...) go through a
 * canonical encoding with sorted properties.
 *
 * Which operations see what:
 * - `get`, `getOrCompute`, `has`, `peek`, `remainingTtl`: L1, then Redis.
 * - `set`, `delete`, `clear`: Redis (and an invalidation of the other instances' L1), then L1.
 * - `invalidateWhen`: scans the prefix in Redis, decodes keys and values, and deletes each match
 *   unless its value changed since it was read (a compare-and-delete, so a newer value another
 *   instance wrote in between stays) and publishes its invalidation in the same step, then removes the
 *   matches from L1. It answers how many keys it deleted in Redis. It is not atomic across
 *   instances: one reading during the scan may see some matches gone and others not yet. Values
 *   that do not decode are left alone. Linear in the size of the prefix, as `keys`.
 * - `refresh`: single flight with this instance's `getOrCompute` of the key, but takes no lock in
 *   Redis: two instances refreshing one key may both compute, the last to store wins. The old value
 *   stays in Redis and in L1 until the new one is stored.
 * - `size`, `keys`, `values`, `entries`: all of the prefix in Redis (`SCAN`, linear in its size), in
 *   Redis' order rather than by recency; a non-string key comes back rebuilt from its encoding.
 * - `stats`: counted in this process; `size`, `evictions` and `expirations` are those of L1.
 * - `events`: removals from this process's L1, including those caused by other instances'
 *   invalidations (`"replaced"`, `"deleted"`, `"cleared"`) and by reconnection (`"cleared"`). Each
 *   subscriber holds at most the larger of 1024 and `capacity` events it has not read; past that,
 *   its oldest are dropped (sliding) and counted in `stats.droppedEvents`.
 *
 * @since 0.1.0
 * @category models
 */
export interface RedisCache<in out K, in out V> extends LruCache<K, V, RedisError> {
  /** `resetStats` zeroes these counters too, `localHits` and `remoteHits` among them. */
  readonly stats: Effect.Effect<RedisCacheStats>
  /** The prefix of this cache's Redis keys. */
  readonly prefix: string
  /** A random id of this instance, carried by its invalidations so that it ignores its own. */
  readonly instanceId: string
}

/**
 * Connects to Redis and makes a cache living in the current scope; its two connections (commands,
 * invalidations) close with the scope. With `whenUnavailable: "fail"`, fails with `RedisError` when
 * Redis cannot be reached; with `"serveFromL1"`, starts anyway and connects as soon as it can.
 *
 * @example
 * ```ts
 * import { Duration, Effect } from "effect"
 * import { RedisCache } from "effect-lru-cache/RedisCache"
 *
 * const program = Effect.gen(function* () {
 *   const cache = yield* RedisCache.make<string, number>({
 *     capacity: 10_000,
 *     timeToLive: Duration.minutes(5),
 *     connection: "redis://127.0.0.1:6379",
 *     prefix: "prices:"
 *   })
 *   yield* cache.set("apple", 3)
 *   return yield* cache.get("apple") // Option.some(3), in every process using "prices:"
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: <K, V>(
  options: Options<V, K>
) => Effect.Effect<RedisCache<K, V>, InvalidOption | RedisError, Scope.Scope> = internal.make

/**
 * A layer that provides a Redis cache under a tag of your own.
 *
 * @example
 * ```ts
 * import { Context } from "effect"
 * import type { RedisError } from "effect-lru-cache/CacheError"
 * import type { LruCache } from "effect-lru-cache/LruCache"
 * import { RedisCache } from "effect-lru-cache/RedisCache"
 *
 * class Sessions extends Context.Tag("Sessions")<Sessions, LruCache<string, string, RedisError>>() {}
 * const SessionsLive = RedisCache.layer(Sessions, { capacity: 10_000, prefix: "sessions:" })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: <I, K, V>(
  tag: Context.Tag<I, LruCache<K, V, RedisError>>,
  options: Options<V, K>
) => Layer.Layer<I, InvalidOption | RedisError> = internal.layer

/**
 * A layer like {@link layer}, with its options read from `Config` (see `LruCache.layerConfig`).
 * Read the URL with `Config.redacted`, so that its password shows in no log or error: a missing or
 * malformed setting fails the layer with a `ConfigError` naming its key.
 *
 * @example
 * ```ts
 * import { Config, Context } from "effect"
 * import type { RedisError } from "effect-lru-cache/CacheError"
 * import type { LruCache } from "effect-lru-cache/LruCache"
 * import { RedisCache } from "effect-lru-cache/RedisCache"
 *
 * class Prices extends Context.Tag("Prices")<Prices, LruCache<string, number, RedisError>>() {}
 * const PricesLive = RedisCache.layerConfig(Prices, {
 *   capacity: Config.integer("PRICES_L1_CAPACITY"),
 *   timeToLive: Config.duration("PRICES_TTL"),
 *   connection: Config.redacted("REDIS_URL")
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: <I, K, V>(
  tag: Context.Tag<I, LruCache<K, V, RedisError>>,
  config: Config.Config.Wrap<Options<V, K>>
) => Layer.Layer<I, ConfigError.ConfigError | InvalidOption | RedisError> = internal.layerConfig
