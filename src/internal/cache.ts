/**
 * The cache service: a thin, atomic shell around the immutable `Lru`.
 *
 * Every operation is one `Ref.modify`, whose function also does, in the same synchronous step, what
 * must be ordered with the state change: publishing removals and journaling writes. Nothing in it
 * yields, so no other fiber sees or makes a state in between.
 */
import type * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Layer from "effect/Layer"
import * as MutableHashMap from "effect/MutableHashMap"
import * as Option from "effect/Option"
import { pipeArguments } from "effect/Pipeable"
import { hasProperty } from "effect/Predicate"
import * as PubSub from "effect/PubSub"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { InvalidOption, type PersistenceError } from "../CacheError.js"
import type { Lru, Removal } from "../Lru.js"
import type * as LruCache from "../LruCache.js"
import * as lru from "./lru.js"
import { positiveDuration, positiveInteger } from "./options.js"
import type { Backend } from "./persistence.js"

/** @internal */
export const TypeId: typeof LruCache.TypeId = Symbol.for(
  "effect-lru-cache/LruCache"
) as typeof LruCache.TypeId

/** @internal */
export const isLruCache = (u: unknown): u is LruCache.LruCache<unknown, unknown, unknown> =>
  hasProperty(u, TypeId)

const DEFAULT_SWEEP_INTERVAL = Duration.minutes(1)

const noRemovals: ReadonlyArray<never> = []

/** The outcome of the atomic step of `getOrCompute`. */
type Lookup<V, E> =
  | { readonly _tag: "Hit"; readonly value: V }
  | { readonly _tag: "Join"; readonly deferred: Deferred.Deferred<V, E> }
  | { readonly _tag: "Start"; readonly deferred: Deferred.Deferred<V, E> }

class CacheImpl<K, V, E> implements LruCache.LruCache<K, V, E> {
  readonly [TypeId]: typeof TypeId = TypeId
  /** Computations of `getOrCompute` running now, by key (compared with `Equal`, as the cache does). */
  private readonly running = MutableHashMap.empty<K, Deferred.Deferred<V, unknown>>()
  // Counters, changed only inside the atomic step of an operation.
  private hits = 0
  private misses = 0
  private evictions = 0
  private expirations = 0
  private loadSuccesses = 0
  private loadFailures = 0

  constructor(
    readonly capacity: number,
    private readonly state: Ref.Ref<Lru<K, V>>,
    /**
     * The `Clock` of the fiber that made the cache (a `TestClock` in tests), read once per
     * operation: looking it up in every caller's fiber would cost more than the operation itself.
     */
    private readonly clock: Clock.Clock,
    /** The default time to live in milliseconds, `Infinity` for none. */
    private readonly defaultMillis: number,
    private readonly removals: PubSub.PubSub<Removal<K, V>>,
    /** Where computations of `getOrCompute` run, so that no caller's interruption stops them. */
    private readonly scope: Scope.Scope,
    private readonly backend: Backend<K, V, E> | undefined
  ) {}

  pipe() {
    // biome-ignore lint/complexity/noArguments: the pipe protocol passes its functions as arguments
    return pipeArguments(this, arguments)
  }

  get timeToLive(): Duration.Duration {
    return Duration.millis(this.defaultMillis)
  }

  /**
   * The time for an operation on `state`, from the cache's `Clock`. When no entry can expire and
   * the operation brings no expiry (`timeToLive` infinite), no answer depends on the time and the
   * clock is not read: on some machines reading it costs more than the operation itself.
   */
  private now(state: Lru<K, V>, timeToLive = Number.POSITIVE_INFINITY): number {
    return timeToLive === Number.POSITIVE_INFINITY && !lru.hasExpiringEntries(state)
      ? 0
      : this.clock.unsafeCurrentTimeMillis()
  }

  /** Runs `f` on the state atomically. */
  private modify<A>(
    f: (state: Lru<K, V>, now: number) => readonly [A, Lru<K, V>],
    timeToLive = Number.POSITIVE_INFINITY
  ): Effect.Effect<A> {
    return Ref.modify(this.state, (state) => f(state, this.now(state, timeToLive)))
  }

  private read<A>(f: (state: Lru<K, V>, now: number) => A): Effect.Effect<A> {
    return this.modify((state, now) => [f(state, now), state])
  }

  /**
   * Counts and publishes what the operation that turned `state` into `next` removed. Called inside
   * the atomic step.
   */
  private publish(state: Lru<K, V>, next: Lru<K, V>): ReadonlyArray<Removal<K, V>> {
    if (next === state) return noRemovals
    const removed = lru.lastRemoved(next)
    for (let i = 0; i < removed.length; i++) {
      const removal = removed[i]!
      if (removal.cause === "evicted") this.evictions++
      else if (removal.cause === "expired") this.expirations++
      this.removals.unsafeOffer(removal)
    }
    return removed
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
    return timeToLive === undefined ? this.defaultMillis : lru.timeToLiveMillis(timeToLive)
  }

  get(key: K): Effect.Effect<Option.Option<V>> {
    // The hot path: one closure, one atomic step.
    return Ref.modify(this.state, (state) => {
      const result = lru.get(state, key, this.now(state))
      this.publish(state, result[1])
      if (Option.isSome(result[0])) this.hits++
      else this.misses++
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
      const next = lru.setAt(state, key, value, now, expiresAt)
      this.publish(state, next)
      return [Effect.void as Effect.Effect<void, E>, next] as const
    }
    let prepared: unknown
    if (expiresAt > now) {
      const encoded = backend.prepareSet(key, value, expiresAt)
      if (Either.isLeft(encoded)) return [Effect.fail(encoded.left), state] as const
      prepared = encoded.right
    }
    this.supersede(key)
    const next = lru.setAt(state, key, value, now, expiresAt)
    const stores = expiresAt > now
    const removals = this.journalRemovals(this.publish(state, next), stores)
    return [stores ? backend.recordSet(prepared) : removals, next] as const
  }

  set(key: K, value: V, options?: LruCache.SetOptions): Effect.Effect<void, E> {
    const timeToLive = this.millisOf(options?.timeToLive)
    if (this.backend === undefined) {
      return Ref.modify(this.state, (state) => {
        const now = this.now(state, timeToLive)
        this.supersede(key)
        const next = lru.setAt(state, key, value, now, now + timeToLive)
        this.publish(state, next)
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
    options?: LruCache.ComputeOptions<V>
  ): Effect.Effect<V, E | E2, R> {
    // Uninterruptible from the registration of a computation to its fork, so that no registered
    // computation is left without a fiber; callers wait for it interruptibly.
    return Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(
        this.modify((state, now): readonly [Lookup<V, E | E2>, Lru<K, V>] => {
          const [found, next] = lru.get(state, key, now)
          this.publish(state, next)
          if (Option.isSome(found)) {
            this.hits++
            return [{ _tag: "Hit", value: found.value }, next]
          }
          this.misses++
          const running = MutableHashMap.get(this.running, key)
          if (Option.isSome(running)) {
            return [{ _tag: "Join", deferred: running.value as Deferred.Deferred<V, E | E2> }, next]
          }
          const deferred = Deferred.unsafeMake<V, E | E2>(FiberId.none)
          MutableHashMap.set(this.running, key, deferred as Deferred.Deferred<V, unknown>)
          return [{ _tag: "Start", deferred }, next]
        }),
        (lookup) => {
          switch (lookup._tag) {
            case "Hit":
              return Effect.succeed(lookup.value)
            case "Join":
              return restore(Deferred.await(lookup.deferred))
            case "Start": {
              const deferred = lookup.deferred
              // Forked from an uninterruptible region, the fiber would inherit it: the computation
              // must stay interruptible by the cache's scope.
              const load = Effect.interruptible(this.load(key, compute, deferred, options))
              return Effect.flatMap(Effect.forkIn(load, this.scope), (fiber) => {
                // A fiber interrupted before its first step (the cache's scope closing) never
                // settles: its end releases the key and the waiters instead.
                fiber.addObserver((exit) => this.abandon(key, deferred, exit))
                return restore(Deferred.await(deferred))
              })
            }
          }
        }
      )
    )
  }

  /**
   * Runs a computation for `getOrCompute` and settles it whatever way it ends, interruption by
   * the cache's scope included.
   */
  private load<E2, R>(
    key: K,
    compute: Effect.Effect<V, E2, R>,
    deferred: Deferred.Deferred<V, E | E2>,
    options: LruCache.ComputeOptions<V> | undefined
  ): Effect.Effect<void, never, R> {
    return Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(Effect.exit(restore(compute)), (exit) => this.settle(key, exit, deferred, options))
    )
  }

  /** Whether `deferred` is the computation of `key` still running (no write has superseded it). */
  private isRunning(key: K, deferred: Deferred.Deferred<V, any>): boolean {
    const running = MutableHashMap.get(this.running, key)
    return Option.isSome(running) && running.value === deferred
  }

  /** Forgets the computations of `key`: a write supersedes what they would store. */
  private supersede(key: K): void {
    if (MutableHashMap.size(this.running) > 0) MutableHashMap.remove(this.running, key)
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
    options: LruCache.ComputeOptions<V> | undefined
  ): Effect.Effect<void> {
    let exit: Exit.Exit<V, E2> = result
    let millis = 0
    if (Exit.isSuccess(exit)) {
      const ttl = options?.timeToLive
      try {
        millis = typeof ttl === "function" ? lru.timeToLiveMillis(ttl(exit.value)) : this.millisOf(ttl)
      } catch (defect) {
        // A throwing time-to-live function is a defect of this computation, not of the cache.
        exit = Exit.die(defect)
      }
    }
    const stored = this.modify((state, now): readonly [Effect.Effect<void, E>, Lru<K, V>] => {
      const current = this.isRunning(key, deferred)
      if (current) MutableHashMap.remove(this.running, key)
      if (Exit.isFailure(exit)) {
        this.loadFailures++
        return [Effect.void, state]
      }
      this.loadSuccesses++
      if (!current) return [Effect.void, state]
      return this.write(state, key, exit.value, now, now + millis)
    }, millis)
    return Effect.flatMap(Effect.exit(stored), (durable) =>
      Deferred.done(deferred, (Exit.isFailure(durable) ? durable : exit) as Exit.Exit<V, E | E2>)
    )
  }

  /** Releases a computation whose fiber ended without settling it. */
  private abandon(key: K, deferred: Deferred.Deferred<V, any>, exit: Exit.Exit<void, never>): void {
    if (this.isRunning(key, deferred)) {
      MutableHashMap.remove(this.running, key)
      this.loadFailures++
    }
    Deferred.unsafeDone(deferred, exit as Exit.Exit<never, never>)
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

  get clear(): Effect.Effect<void, E> {
    return Effect.flatten(
      this.modify((state, now): readonly [Effect.Effect<void, E>, Lru<K, V>] => {
        MutableHashMap.clear(this.running)
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
    return this.sweep((state) => ({
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      expirations: this.expirations,
      size: lru.storedCount(state),
      loadSuccesses: this.loadSuccesses,
      loadFailures: this.loadFailures
    }))
  }

  get events(): Stream.Stream<Removal<K, V>> {
    return Stream.fromPubSub(this.removals)
  }

  get subscribe() {
    return PubSub.subscribe(this.removals)
  }

  /** The sweep that removes expired entries nobody touches. */
  sweepEvery(interval: Duration.Duration): Effect.Effect<void> {
    return Effect.asVoid(
      Effect.repeat(
        this.sweep(() => undefined),
        Schedule.spaced(interval)
      )
    )
  }
}

// --- options ---------------------------------------------------------------------------------------

interface Decoded {
  readonly capacity: number
  readonly timeToLive: Duration.Duration
  readonly sweepInterval: Duration.Duration
  readonly policy: "lru" | "w-tinylfu"
}

const METHOD = "LruCache.make"

const decodeOptions = <K, V, E, R>(
  options: LruCache.Options<K, V, E, R>
): Either.Either<Decoded, InvalidOption> =>
  Either.gen(function* () {
    const capacity = yield* positiveInteger(METHOD, "capacity", options.capacity)
    const timeToLive =
      options.timeToLive === undefined
        ? Duration.infinity
        : yield* positiveDuration(METHOD, "timeToLive", options.timeToLive, { finite: false })
    const sweepInterval =
      options.sweepInterval === undefined
        ? DEFAULT_SWEEP_INTERVAL
        : yield* positiveDuration(METHOD, "sweepInterval", options.sweepInterval, { finite: false })
    const policy = options.policy ?? "lru"
    if (policy !== "lru" && policy !== "w-tinylfu") {
      return yield* Either.left(
        new InvalidOption({
          method: METHOD,
          option: "policy",
          reason: 'must be "lru" or "w-tinylfu"',
          value: policy
        })
      )
    }
    return { capacity, timeToLive, sweepInterval, policy }
  })

// --- constructors ----------------------------------------------------------------------------------

/** @internal */
export const make = <K, V, E = never, R = never>(
  options: LruCache.Options<K, V, E, R>
): Effect.Effect<LruCache.LruCache<K, V, E>, InvalidOption | PersistenceError, Scope.Scope | R> =>
  Effect.gen(function* () {
    const { capacity, policy, sweepInterval, timeToLive } = yield* decodeOptions(options)
    const scope = yield* Effect.scope
    const clock = yield* Effect.clock
    const removals = yield* Effect.acquireRelease(PubSub.unbounded<Removal<K, V>>(), PubSub.shutdown)
    const state = yield* Ref.make(lru.empty<K, V>(capacity, { policy }))
    let backend: Backend<K, V, E> | undefined
    if (options.persistence !== undefined) {
      backend = yield* options.persistence.open({
        capacity,
        entries: Effect.map(Ref.get(state), (current) =>
          lru.toPersisted(current, clock.unsafeCurrentTimeMillis())
        )
      })
      yield* Ref.set(
        state,
        lru.restore(capacity, backend.loaded, clock.unsafeCurrentTimeMillis(), { policy })
      )
    }
    const cache = new CacheImpl<K, V, E>(
      capacity,
      state,
      clock,
      Duration.toMillis(timeToLive),
      removals,
      scope,
      backend
    )
    if (Duration.isFinite(sweepInterval)) {
      yield* Effect.forkIn(cache.sweepEvery(sweepInterval), scope)
    }
    return cache
  })

/** @internal */
export const layer = <I, K, V, E = never, R = never>(
  tag: Context.Tag<I, LruCache.LruCache<K, V, E>>,
  options: LruCache.Options<K, V, E, R>
): Layer.Layer<I, InvalidOption | PersistenceError, R> => Layer.scoped(tag, make(options))
