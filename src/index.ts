/**
 * effect-lru-cache: an Effect-native LRU cache with time to live, persistence and memoization.
 *
 * @since 0.1.0
 */

/**
 * Typed errors.
 *
 * @since 0.1.0
 */
export * as CacheError from "./CacheError.js"

/**
 * Persistence backends for `LruCache.make`.
 *
 * @since 0.1.0
 */
export * as CachePersistence from "./CachePersistence.js"

/**
 * The pure, immutable LRU + TTL data type.
 *
 * @since 0.1.0
 */
export * as Lru from "./Lru.js"

/**
 * The cache service.
 *
 * @since 0.1.0
 */
export * as LruCache from "./LruCache.js"

/**
 * Memoization of effectful functions: the `MemoCache` service and its layer.
 *
 * @since 0.1.0
 */
export * as MemoCache from "./MemoCache.js"

/**
 * Wraps an effectful function so that its results live in the `MemoCache` service.
 *
 * @since 0.1.0
 */
export { cached } from "./MemoCache.js"

// `RedisCache` is not re-exported here: it loads `ioredis`, an optional peer dependency. Import it
// from "effect-lru-cache/RedisCache".
