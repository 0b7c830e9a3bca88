/**
 * The cache service: the shell of internal/shell.ts around the immutable `Lru`, with the
 * persistence backend's journal written in the same atomic step as the state change.
 */
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import type * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type { InvalidOption, PersistenceError, RecursiveComputation } from "../CacheError.js"
import type { Backend } from "../CachePersistence.js"
import type { Lru, Options as LruOptions, Removal } from "../Lru.js"
import type * as LruCache from "../LruCache.js"
import * as lru from "./lru.js"
import { currentCacheName, DEFAULT_NAME, spanOptions } from "./metrics.js"
import {
  decode,
  durationMillis,
  NonEmptyString,
  Policy,
  PositiveDuration,
  PositiveInteger,
  pairedWeigher,
  required,
  Weigher
} from "./options.js"
import { columnsOf } from "./persistence/loadedColumns.js"
import { makeParts, type Parts, Shell } from "./shell.js"

/** @internal */
export { isLruCache, TypeId } from "./shell.js"

const DEFAULT_SWEEP_INTERVAL = Duration.minutes(1)

class CacheImpl<K, V, E> extends Shell<K, V, K, V> implements LruCache.LruCache<K, V, E> {
  constructor(
    capacity: number,
    parts: Parts<K, V, K, V>,
    /** The default time to live in milliseconds, `Infinity` for none. */
    private readonly defaultMillis: number,
    private readonly backend: Backend<K, V, E> | undefined,
    /** Whether the cache has a `maxSize`, which `stats` reports the summed weight against. */
    private readonly weighted: boolean
  ) {
    super(capacity, parts)
  }

  get timeToLive(): Duration.Duration {
    return Duration.millis(this.defaultMillis)
  }

  protected event(removal: Removal<K, V>): Removal<K, V> {
    return removal
  }

  /**
   * Journals the removals that the backend must replay: evictions, and the entry replaced by a set
   * that stores nothing (a replacement that stores is superseded by the set's own record).
   * Expirations need no record: the persisted expiry says it all.
   */
  private journalRemovals(removed: ReadonlyArray<Removal<K, V>>, stores: boolean): Effect.Effect<void, E> {
    let commit: Effect.Effect<void, E> = Effect.void
    for (let i = 0; i < removed.length; i++) {
      const removal = removed[i]!
      if (removal.cause === "evicted" || (removal.cause === "replaced" && !stores)) {
        commit = this.backend!.recordDelete(removal.key)
      }
    }
    return commit
  }

  private millisOf(timeToLive: Duration.DurationInput | undefined): number {
    return timeToLive === undefined ? this.defaultMillis : durationMillis(timeToLive)
  }

  get(key: K): Effect.Effect<Option.Option<V>> {
    // The hot path: one closure, one atomic step.
    return Ref.modify(this.state, (state) => {
      const result = lru.get(state, key, this.now(state))
      this.publish(state, result[1])
      if (Option.isSome(result[0])) this.hit()
      else this.miss()
      return result
    })
  }

  /**
   * The atomic step of every write: changes the state, publishes, and journals. Returns the effect
   * that completes once the write is as durable as the backend promises.
   */
  private write(state: Lru<K, V>, key: K, value: V, now: number, expiresAt: number) {
    const backend = this.backend
    if (backend === undefined) {
      this.supersede(key)
      const next = lru.setExpiresAtNext(state, key, value, now, expiresAt)
      this.publish(state, next)
      this.sized(next)
      this.rearm(expiresAt)
      return [Effect.void as Effect.Effect<void, E>, next] as const
    }
    let prepared: unknown
    if (expiresAt > now) {
      const encoded = backend.prepareSet(key, value, expiresAt)
      if (Either.isLeft(encoded)) return [Effect.fail(encoded.left), state] as const
      prepared = encoded.right
    }
    this.supersede(key)
    const next = lru.setExpiresAtNext(state, key, value, now, expiresAt)
    this.rearm(expiresAt)
    // A value heavier than `maxSize` is not stored: the set is then recorded as what it did, the
    // removal of the key's old entry if it had one (an eviction, journaled as a delete).
    const stores = expiresAt > now && (!this.weighted || lru.has(next, key, now))
    const removals = this.journalRemovals(this.publish(state, next), stores)
    this.sized(next)
    return [stores ? backend.recordSet(prepared) : removals, next] as const
  }

  set(key: K, value: V, options?: LruCache.SetOptions): Effect.Effect<void, E> {
    const timeToLive = this.millisOf(options?.timeToLive)
    if (this.backend === undefined) {
      return Ref.modify(this.state, (state) => {
        const now = this.now(state, timeToLive)
        this.supersede(key)
        const next = lru.setExpiresAtNext(state, key, value, now, now + timeToLive)
        this.publish(state, next)
        this.sized(next)
        this.rearm(now + timeToLive)
        return [undefined, next]
      })
    }
    return Effect.flatten(
      this.modify((state, now) => this.write(state, key, value, now, now + timeToLive), timeToLive)
    )
  }

  getOrCompute<E2, R>(
    key: K,
    compute: Effect.Effect<V, E2, R>,
    options?: LruCache.ComputeOptions<V, E2>
  ): Effect.Effect<V, E | E2 | RecursiveComputation, R> {
    return this.singleFlight(
      "LruCache.getOrCompute",
      key,
      key,
      (state, now) => lru.get(state, key, now),
      "always",
      compute,
      (exit, deferred: Deferred.Deferred<V, E | E2>) => this.settle(key, exit, deferred, options)
    )
  }

  refresh<E2, R>(key: K, compute: Effect.Effect<V, E2, R>, options?: LruCache.ComputeOptions<V, E2>) {
    // The single flight of getOrCompute with a lookup that never hits: the old value stays in the
    // state, served to readers, until `settle` replaces it in one step; a failure leaves it there.
    return Effect.asVoid(
      this.singleFlight(
        "LruCache.refresh",
        key,
        key,
        (state) => [Option.none(), state],
        "never",
        compute,
        (exit, deferred: Deferred.Deferred<V, E | E2>) => this.settle(key, exit, deferred, options)
      )
    )
  }

  /** Forgets the computations of `key`: a write supersedes what they would store. */
  private supersede(key: K): void {
    if (this.running.size > 0) this.running.delete(key)
  }

  /**
   * Stores a computation's success, unless a write of the key came meanwhile (the write is newer),
   * and hands its result to the waiters. The key leaves `running` in the same step that stores the
   * value, so no caller can miss both.
   */
  private settle<E2>(
    key: K,
    result: Exit.Exit<V, E2>,
    deferred: Deferred.Deferred<V, E | E2>,
    options: LruCache.ComputeOptions<V, E2> | undefined
  ): Effect.Effect<void> {
    let exit: Exit.Exit<V, E2> = result
    let millis = 0
    if (Exit.isSuccess(exit)) {
      const ttl = options?.timeToLive
      try {
        millis = typeof ttl === "function" ? durationMillis(ttl(exit)) : this.millisOf(ttl)
      } catch (defect) {
        // A throwing time-to-live function is a defect of this computation, not of the cache.
        exit = Exit.die(defect)
      }
    }
    const stored = this.modify((state, now): readonly [Effect.Effect<void, E>, Lru<K, V>] => {
      const current = this.unregister(key, deferred)
      this.loaded(Exit.isSuccess(exit))
      if (Exit.isFailure(exit)) return [Effect.void, state]
      if (!current) return [Effect.void, state]
      return this.write(state, key, exit.value, now, now + millis)
    }, millis)
    // The waiters get the value only once it is as durable as a `set` of it would be, and a write
    // that fails (unencodable, refused by the disk) fails them as it would fail that `set`.
    return Effect.flatMap(Effect.exit(Effect.flatten(stored)), (durable) =>
      Deferred.done(deferred, (Exit.isFailure(durable) ? durable : exit) as Exit.Exit<V, E | E2>)
    )
  }

  has(key: K): Effect.Effect<boolean> {
    return this.read((state, now) => lru.has(state, key, now))
  }

  peek(key: K): Effect.Effect<Option.Option<V>> {
    return this.read((state, now) => lru.peek(state, key, now))
  }

  delete(key: K): Effect.Effect<boolean, E> {
    return Effect.flatten(
      this.modify((state, now): readonly [Effect.Effect<boolean, E>, Lru<K, V>] => {
        this.supersede(key)
        const [removed, next] = lru.remove(state, key, now)
        this.publish(state, next)
        const deleted = removed.length > 0 && removed[0]!.cause === "deleted"
        if (!deleted || this.backend === undefined) return [Effect.succeed(deleted), next]
        return [Effect.as(this.backend.recordDelete(key), true), next]
      })
    )
  }

  invalidateWhen(predicate: (key: K, value: V) => boolean): Effect.Effect<number, E> {
    return Effect.flatten(
      this.modify((state, now): readonly [Effect.Effect<number, E>, Lru<K, V>] => {
        // The predicate sees every live entry before anything changes, so that one that throws
        // leaves the cache as it was.
        const matching: Array<K> = []
        for (const [key, value] of lru.entries(state, now)) if (predicate(key, value)) matching.push(key)
        let next = state
        for (let i = 0; i < matching.length; i++) {
          const key = matching[i]!
          this.supersede(key)
          const before = next
          next = lru.remove(before, key, now)[1]
          this.publish(before, next)
        }
        const count = matching.length
        const backend = this.backend
        if (count === 0 || backend === undefined) return [Effect.succeed(count), next]
        if (backend.recordDeleteMany !== undefined) {
          return [Effect.as(backend.recordDeleteMany(matching), count), next]
        }
        // Each call records its key; the effect of the last one waits for all of them.
        let commit: Effect.Effect<void, E> = Effect.void
        for (let i = 0; i < count; i++) commit = backend.recordDelete(matching[i]!)
        return [Effect.as(commit, count), next]
      })
    )
  }

  get clear(): Effect.Effect<void, E> {
    return Effect.flatten(
      this.modify((state, now): readonly [Effect.Effect<void, E>, Lru<K, V>] => {
        this.running.clear()
        const next = lru.clear(state, now)[1]
        this.publish(state, next)
        return [this.backend === undefined ? Effect.void : this.backend.recordClear(), next]
      })
    )
  }

  /** Removes expired entries, so that what follows reads live entries only in O(1) or O(size). */
  private sweep<A>(f: (state: Lru<K, V>, now: number) => A): Effect.Effect<A> {
    return this.modify((state, now) => {
      const next = lru.removeExpired(state, now)[1]
      this.publish(state, next)
      return [f(next, now), next]
    })
  }

  get size(): Effect.Effect<number> {
    return this.sweep((state) => lru.storedCount(state))
  }

  get keys(): Effect.Effect<ReadonlyArray<K>> {
    return this.sweep(lru.keys)
  }

  get values(): Effect.Effect<ReadonlyArray<V>> {
    return this.sweep(lru.values)
  }

  get entries(): Effect.Effect<ReadonlyArray<readonly [K, V]>> {
    return this.sweep(lru.entries)
  }

  remainingTtl(key: K): Effect.Effect<Option.Option<Duration.Duration>> {
    return this.read((state, now) => lru.remainingTtl(state, key, now))
  }

  get stats(): Effect.Effect<LruCache.CacheStats> {
    return this.sweep((state, now) =>
      this.weighted
        ? { ...this.counters(lru.storedCount(state)), totalSize: lru.totalSize(state, now) }
        : this.counters(lru.storedCount(state))
    )
  }

  /**
   * A write whose expiry comes before this wakes the sweep early (see `sweepUntilExpiries`);
   * `-Infinity` while no write needs to.
   */
  private rearmBelow = Number.NEGATIVE_INFINITY
  private wake: Deferred.Deferred<void> = Deferred.unsafeMake(FiberId.none)

  /** Called in the atomic step of every write that brings an expiry. */
  private rearm(expiresAt: number): void {
    if (expiresAt < this.rearmBelow) {
      this.rearmBelow = Number.NEGATIVE_INFINITY
      Deferred.unsafeDone(this.wake, Exit.void)
    }
  }

  /**
   * The sweep that removes expired entries nobody touches. Rather than waking every interval, it
   * sleeps until the earliest expiry (the heap's minimum), but no sooner than `interval` after its
   * last wake-up, so that expiries closer together than that are swept in one batch; and it sleeps
   * without a timer while nothing can expire. A write that brings an earlier expiry wakes it to
   * sleep less. So an expired entry is swept at the latest `interval` after its expiry, and a jump
   * of a `TestClock` costs one wake-up per batch of expiries, not one per interval.
   */
  sweepUntilExpiries(interval: number): Effect.Effect<never> {
    const loop: Effect.Effect<never> = Effect.suspend(() => {
      const wake = Deferred.unsafeMake<void>(FiberId.none)
      this.wake = wake
      return Effect.flatMap(
        this.sweep((state, now) => {
          const earliest = now + interval
          const wakeAt = Math.max(lru.nextExpiry(state), earliest)
          this.rearmBelow = wakeAt > earliest ? wakeAt : Number.NEGATIVE_INFINITY
          return wakeAt - now
        }),
        (delay) =>
          Effect.zipRight(
            delay === Number.POSITIVE_INFINITY
              ? Deferred.await(wake)
              : Effect.race(Effect.sleep(delay), Deferred.await(wake)),
            loop
          )
      )
    })
    return loop
  }
}

// --- options ---------------------------------------------------------------------------------------

const DEFAULT_EVENTS_CAPACITY = 1024

/** The options `make` reads; `persistence` is the backend's to check, when it opens. */
const OptionsSchema = Schema.Struct({
  name: Schema.optionalWith(NonEmptyString, { default: () => DEFAULT_NAME }),
  capacity: required(PositiveInteger),
  timeToLive: Schema.optionalWith(PositiveDuration, { default: () => Duration.infinity }),
  sweepInterval: Schema.optionalWith(PositiveDuration, { default: () => DEFAULT_SWEEP_INTERVAL }),
  eventsCapacity: Schema.optionalWith(PositiveInteger, { default: () => DEFAULT_EVENTS_CAPACITY }),
  policy: Schema.optionalWith(Policy, { default: () => "lru" as const }),
  maxSize: Schema.optional(PositiveInteger),
  sizeOf: Schema.optional(Weigher)
})

const decodeSchema = decode("LruCache.make", OptionsSchema)

/** The schema's fields, and the one rule across two of them: a weight bound needs its weigher. */
const decodeOptions = (options: unknown) =>
  Either.flatMap(decodeSchema(options), pairedWeigher("LruCache.make"))

// --- constructors ----------------------------------------------------------------------------------

const makeCache = <K, V, E, R>(
  options: LruCache.Options<K, V, E, R>
): Effect.Effect<LruCache.LruCache<K, V, E>, InvalidOption | PersistenceError, Scope.Scope | R> =>
  Effect.gen(function* () {
    const { capacity, eventsCapacity, maxSize, name, policy, sweepInterval, timeToLive } =
      yield* decodeOptions(options)
    // The decoder checked that `sizeOf` is a function given with `maxSize`; this is its typed reference.
    const sizeOf = options.sizeOf
    const lruOptions: LruOptions<K, V> =
      maxSize === undefined || sizeOf === undefined ? { policy } : { policy, maxSize, sizeOf }
    const parts = yield* makeParts<K, V, K, V>(capacity, eventsCapacity, name, lruOptions)
    let backend: Backend<K, V, E> | undefined
    if (options.persistence !== undefined) {
      const { clock, state } = parts
      backend = yield* Effect.withSpan(
        Effect.locally(
          options.persistence.open({
            capacity,
            // A `Ref` has no synchronous read; `Ref.get` is one synchronous step, which runSync completes
            // at once, so the backend's step around this call stays atomic.
            entries: () => lru.toPersisted(Effect.runSync(Ref.get(state)), clock.unsafeCurrentTimeMillis())
          }),
          currentCacheName,
          name
        ),
        "LruCache.load",
        spanOptions(name)
      )
      yield* Ref.set(
        state,
        lru.restoreColumns(capacity, columnsOf(backend), clock.unsafeCurrentTimeMillis(), lruOptions)
      )
    }
    const cache = new CacheImpl<K, V, E>(
      capacity,
      parts,
      Duration.toMillis(timeToLive),
      backend,
      maxSize !== undefined
    )
    if (Duration.isFinite(sweepInterval)) {
      yield* Effect.forkIn(cache.sweepUntilExpiries(Duration.toMillis(sweepInterval)), parts.scope)
    }
    return cache
  })

/**
 * Only a persistence backend fails with `PersistenceError` (when it opens), so without one `make`
 * fails with `InvalidOption` alone: the overloads say so, which one implementation cannot.
 *
 * @internal
 */
export const make = makeCache as typeof LruCache.make

/** @internal */
export const layer = (<I, K, V, E, R>(
  tag: Context.Tag<I, LruCache.LruCache<K, V, E>>,
  options: LruCache.Options<K, V, E, R>
): Layer.Layer<I, InvalidOption | PersistenceError, R> =>
  Layer.scoped(tag, makeCache(options))) as typeof LruCache.layer

/** @internal */
export const layerConfig = <I, K, V, E = never, R = never>(
  tag: Context.Tag<I, LruCache.LruCache<K, V, E>>,
  config: Config.Config.Wrap<LruCache.Options<K, V, E, R>>
): Layer.Layer<I, ConfigError.ConfigError | InvalidOption | PersistenceError, R> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), (options) => Layer.scoped(tag, makeCache(options))))
