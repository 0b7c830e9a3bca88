/**
 * Memoization of effectful functions: `cached(fn)` keeps the results of `fn` in the `MemoCache`
 * service, keyed by the function's name and a canonical encoding of its arguments.
 *
 * @since 0.1.0
 */
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import type * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import type * as Exit from "effect/Exit"
import type * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type { InvalidOption, KeyEncodingError, PersistenceError, RecursiveComputation } from "./CacheError.js"
import type { Persistence } from "./CachePersistence.js"
import * as internal from "./internal/memo.js"
import type * as LruCache from "./LruCache.js"

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
 * What the cache stores for one call: its success, or its failure when `timeToLive` is a function
 * that asked to keep it. `freshUntil` (epoch milliseconds of the `Clock`) is set for functions with
 * `staleWhileRevalidate`: past it, the entry is stale. A plain object, so that the default codec of
 * a persistence backend can write it.
 *
 * @since 0.1.0
 * @category models
 */
export type Entry =
  | { readonly _tag: "Success"; readonly value: unknown; readonly freshUntil?: number }
  | { readonly _tag: "Failure"; readonly error: unknown; readonly freshUntil?: number }

/**
 * The memoization service: one cache shared by every function wrapped with {@link cached}.
 *
 * @since 0.1.0
 * @category models
 */
export interface MemoCache {
  readonly [TypeId]: TypeId
  /** The cache holding the results: for its `stats`, `events`, `clear`... */
  readonly cache: LruCache.LruCache<string, Entry, PersistenceError>
  /** The default time to live of a result. */
  readonly timeToLive: Duration.Duration
}

/**
 * @since 0.1.0
 * @category tags
 */
export const MemoCache: Context.Tag<MemoCache, MemoCache> = internal.tag

/**
 * Options of {@link cached} and {@link cachedWith}.
 *
 * @since 0.1.0
 * @category models
 */
export interface CachedOptions<Args extends ReadonlyArray<unknown>, A, E> {
  /**
   * The name the function's entries are keyed by. Default: the function's own `name`. The calls of
   * an anonymous function without this option fail with an `InvalidOption`, and so do those of a
   * second function that uses a name another one holds in the same cache: two functions never
   * share entries.
   */
  readonly name?: string | undefined
  /**
   * Builds the key of a call yourself, instead of the canonical encoding of the arguments: for
   * arguments that have no encoding (class instances, functions) or to leave some out. Default:
   * the canonical encoding.
   */
  readonly key?: ((...args: Args) => string) | undefined
  /**
   * How long a result lives. Default: the cache's `timeToLive`. A duration applies to successes;
   * failures are not stored. A function of the `Exit` decides for each result, failures included
   * (zero or less: not stored); keep it pure, as it may be asked more than once for one result.
   * Defects and interruptions are never stored, whatever it says.
   */
  readonly timeToLive?:
    | Duration.DurationInput
    | ((exit: Exit.Exit<A, E>) => Duration.DurationInput)
    | undefined
  /**
   * For this long after a result's time to live, a call returns the stale result at once and
   * refreshes it in the background: one refresh at a time per key, whatever the number of callers.
   * A failed refresh leaves the stale result in place until the window ends; after the window, a
   * call is a miss. Default: none.
   */
  readonly staleWhileRevalidate?: Duration.DurationInput | undefined
}

/**
 * Arguments whose canonical encoding cannot fail: a memoized function over only these never fails
 * with a `KeyEncodingError`.
 *
 * @since 0.1.0
 * @category models
 */
export type Encodable = string | number | boolean | bigint | null | undefined

/**
 * What a call fails with when its arguments have no key: `never` for arguments of
 * {@link Encodable} types, else `KeyEncodingError`.
 *
 * @since 0.1.0
 * @category models
 */
export type KeyError<Args extends ReadonlyArray<unknown>> =
  Args extends ReadonlyArray<Encodable> ? never : KeyEncodingError

/**
 * A memoized function: call it like the original, or drop the stored result of one call with
 * `invalidate`. `Env` is what finding the cache needs: the {@link MemoCache} service for
 * {@link cached}, nothing for {@link cachedWith}. `CE` is what the cache's writes fail with (a
 * `PersistenceError` with persistence): a call whose result cannot be stored as durably as the cache
 * promises fails with it, as a `set` of that result would.
 *
 * @since 0.1.0
 * @category models
 */
export interface Memoized<Args extends ReadonlyArray<unknown>, A, E, R, Env, CE = never> {
  (...args: Args): Effect.Effect<A, E | InvalidOption | KeyError<Args> | RecursiveComputation | CE, R | Env>
  /**
   * Removes the stored result of the call with these arguments, so that the next call runs the
   * function again: true iff there was a live one.
   */
  readonly invalidate: (...args: Args) => Effect.Effect<boolean, InvalidOption | KeyError<Args> | CE, Env>
  /**
   * Runs the function again for these arguments and stores its result, as `LruCache.refresh` does:
   * calls keep getting the stored result until the new one lands, in one step; a call or a refresh
   * of the same arguments already running is joined rather than run twice. Completes once the new
   * result is stored; fails with the function's failure (which leaves the stored result in place,
   * unless `timeToLive` keeps failures) or with the cache's. To not wait, fork it.
   */
  readonly refresh: (
    ...args: Args
  ) => Effect.Effect<void, E | InvalidOption | KeyError<Args> | RecursiveComputation | CE, R | Env>
}

/**
 * Makes a memoization service living in the current scope; background refreshes live there too.
 * Takes the options of `LruCache.make`; without persistence, it fails with `InvalidOption` only.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: {
  <E extends PersistenceError = never, R = never>(
    options: LruCache.Options<string, Entry, E, R> & {
      readonly persistence: Persistence<string, Entry, E, R>
    }
  ): Effect.Effect<MemoCache, InvalidOption | PersistenceError, Scope.Scope | R>
  (
    options: LruCache.Options<string, Entry> & { readonly persistence?: undefined }
  ): Effect.Effect<MemoCache, InvalidOption, Scope.Scope>
  <E extends PersistenceError = never, R = never>(
    options: LruCache.Options<string, Entry, E, R>
  ): Effect.Effect<MemoCache, InvalidOption | PersistenceError, Scope.Scope | R>
} = internal.make

/**
 * A layer providing the {@link MemoCache} service. Takes the options of `LruCache.make`.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { MemoCache } from "effect-lru-cache"
 *
 * const MemoLive = MemoCache.layer({ capacity: 10_000, timeToLive: Duration.minutes(5) })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: {
  <E extends PersistenceError = never, R = never>(
    options: LruCache.Options<string, Entry, E, R> & {
      readonly persistence: Persistence<string, Entry, E, R>
    }
  ): Layer.Layer<MemoCache, InvalidOption | PersistenceError, R>
  (
    options: LruCache.Options<string, Entry> & { readonly persistence?: undefined }
  ): Layer.Layer<MemoCache, InvalidOption>
  <E extends PersistenceError = never, R = never>(
    options: LruCache.Options<string, Entry, E, R>
  ): Layer.Layer<MemoCache, InvalidOption | PersistenceError, R>
} = internal.layer

/**
 * A layer like {@link layer}, with its options read from `Config` (see `LruCache.layerConfig`): a
 * missing or malformed setting fails it with a `ConfigError` naming its key.
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * import { MemoCache } from "effect-lru-cache"
 *
 * const MemoLive = MemoCache.layerConfig({
 *   capacity: Config.integer("MEMO_CAPACITY"),
 *   timeToLive: Config.duration("MEMO_TTL")
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: <E extends PersistenceError = never, R = never>(
  config: Config.Config.Wrap<LruCache.Options<string, Entry, E, R>>
) => Layer.Layer<MemoCache, ConfigError.ConfigError | InvalidOption | PersistenceError, R> =
  internal.layerConfig

/**
 * Memoizes an effectful function in the {@link MemoCache} service. The key of a call is the
 * function's name plus a canonical encoding of its arguments: the same arguments give the same key
 * in any process, argument objects with their properties in another order give the same key, and
 * arguments that differ in type or shape never share one. Concurrent calls with one key run `fn`
 * once; interrupting one of them leaves the others their result. `undefined` and `null` results are
 * stored like any other; failures are not, unless `timeToLive` is a function of the `Exit` that
 * asks for it; defects and interruptions never are. A call fails with a `KeyEncodingError` when an
 * argument has no encoding (a function, a symbol, a cycle, a class instance): it names where. When
 * the cache's persistence cannot store a result, the call fails with the `PersistenceError`, as a
 * `set` of that result would: `"Unencodable"` stores nothing, `"WriteFailed"` keeps the result in
 * memory only. With durability `"always"`, a call returns only once its result is on disk. A
 * function that calls itself with the same arguments (directly or through other memoized calls)
 * fails that call with `RecursiveComputation` instead of waiting for itself forever.
 *
 * Invalid options (no name, a time to live that is not a positive duration) fail every call with
 * an `InvalidOption` naming the option, as they fail `LruCache.make`; wrapping never throws.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { cached, MemoCache } from "effect-lru-cache"
 *
 * const fetchUser = (id: number) => Effect.succeed({ id, name: "Ada" }).pipe(Effect.delay("100 millis"))
 * const getUser = cached(fetchUser, { timeToLive: "1 minute" })
 *
 * const program = Effect.gen(function* () {
 *   yield* getUser(1) // runs fetchUser
 *   return yield* getUser(1) // from the cache
 * }).pipe(Effect.provide(MemoCache.layer({ capacity: 1000 })))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const cached: <Args extends ReadonlyArray<unknown>, A, E, R>(
  fn: (...args: Args) => Effect.Effect<A, E, R>,
  options?: CachedOptions<Args, A, E>
) => Memoized<Args, A, E, R, MemoCache, PersistenceError> = internal.cached

/**
 * Like {@link cached}, on a cache of your own rather than the {@link MemoCache} service. Background
 * refreshes (`staleWhileRevalidate`) run as daemon fibers, unless the cache is a `MemoCache`'s,
 * whose scope they then live in.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { LruCache, MemoCache } from "effect-lru-cache"
 *
 * const program = Effect.gen(function* () {
 *   const cache = yield* LruCache.make<string, MemoCache.Entry>({ capacity: 100 })
 *   const square = MemoCache.cachedWith(cache, (n: number) => Effect.succeed(n * n), { name: "square" })
 *   return yield* square(12)
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const cachedWith: <Args extends ReadonlyArray<unknown>, A, E, R, CE>(
  cache: LruCache.LruCache<string, Entry, CE>,
  fn: (...args: Args) => Effect.Effect<A, E, R>,
  options?: CachedOptions<Args, A, E>
) => Memoized<Args, A, E, R, never, CE> = internal.cachedWith

/**
 * The key {@link cached} gives a call of the function named `name` with `args`, or why there is none.
 *
 * @example
 * ```ts
 * import { MemoCache } from "effect-lru-cache"
 *
 * // Either.right with one and the same key:
 * MemoCache.key("search", [{ q: "lru", page: 2 }])
 * MemoCache.key("search", [{ page: 2, q: "lru" }])
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const key: (name: string, args: ReadonlyArray<unknown>) => Either.Either<string, KeyEncodingError> =
  internal.key
