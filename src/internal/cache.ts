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
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { pipeArguments } from "effect/Pipeable"
import { hasProperty } from "effect/Predicate"
import * as PubSub from "effect/PubSub"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { InvalidOption, type PersistenceError, RecursiveComputation } from "../CacheError.js"
import type { Backend } from "../CachePersistence.js"
import type { Lru, Removal } from "../Lru.js"
import type * as LruCache from "../LruCache.js"
import * as lru from "./lru.js"
import { positiveDuration, positiveInteger } from "./options.js"

/** @internal */
export const TypeId: typeof LruCache.TypeId = Symbol.for(
  "effect-lru-cache/LruCache"
) as typeof LruCache.TypeId

/** @internal */
export const isLruCache = (u: unknown): u is LruCache.LruCache<unknown, unknown, unknown> =>
  hasProperty(u, TypeId)

const DEFAULT_SWEEP_INTERVAL = Duration.minutes(1)

const noRemovals: ReadonlyArray<never> = []

/** A list of the computations a fiber is part of, innermost first. */
interface Computing {
  readonly deferred: Deferred.Deferred<any, any>
  readonly outer: Computing | undefined
}

/**
 * The computations of `getOrCompute` that the current fiber runs: set in each computation's fiber,
 * and so inherited by the computations it starts and the fibers it forks. A call that would join
 * one of them would wait for itself. Joining a fiber keeps the joiner's own list.
 */
const computing = FiberRef.unsafeMake<Computing | undefined>(undefined, { join: (parent) => parent })

const isComputing = (list: Computing | undefined, deferred: Deferred.Deferred<any, any>): boolean => {
  for (let node = list; node !== undefined; node = node.outer) if (node.deferred === deferred) return true
  return false
}

/** The outcome of the atomic step of `getOrCompute`. */
type Lookup<V, E> =
  | { readonly _tag: "Hit"; readonly value: V }
  | { readonly _tag: "Join"; readonly deferred: Deferred.Deferred<V, E> }
  | { readonly _tag: "Start"; readonly deferred: Deferred.Deferred<V, E> }

class CacheImpl<K, V, E> implements LruCache.LruCache<K, V, E> {
  readonly [TypeId]: typeof TypeId = TypeId
  /** Computations of `getOrCompute` running now, by key (with the index's key identity). */
  private readonly running = new lru.KeyMap<K, Deferred.Deferred<V, unknown>>()
  // Counters, changed only inside the atomic step of an operation.
  private hits = 0
  private misses = 0
  private evictions = 0
  private expirations = 0
  private loadSuccesses = 0
  private loadFailures = 0
  private droppedEvents = 0

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
      this.publishRemoval(removal)
    }
    return removed
  }

  /**
   * Offers a removal to the subscribers. The `PubSub` is bounded: once the slowest subscriber is
   * `eventsCapacity` events behind, the offer fails, and the event slides out the oldest one (which
   * that subscriber then never sees) and is counted as dropped. Sliding is synchronous, so it keeps
   * its place in the atomic step, and only ever runs for a subscriber that lags that far behind.
   */
  private publishRemoval(removal: Removal<K, V>): void {
    if (this.removals.unsafeOffer(removal) || !this.removals.isActive()) return
    this.droppedEvents++
    Effect.runSync(PubSub.publish(this.removals, removal))
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
      const next = lru.setExpiresAtNext(state, key, value, now, expiresAt)
      this.publish(state, next)
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
        const next = lru.setExpiresAtNext(state, key, value, now, now + timeToLive)
        this.publish(state, next)
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
          const running = this.running.get(key)
          if (running !== undefined) {
            return [{ _tag: "Join", deferred: running as Deferred.Deferred<V, E | E2> }, next]
          }
          const deferred = Deferred.unsafeMake<V, E | E2>(FiberId.none)
          this.running.set(key, deferred as Deferred.Deferred<V, unknown>)
          return [{ _tag: "Start", deferred }, next]
        }),
        (lookup) => {
          switch (lookup._tag) {
            case "Hit":
              return Effect.succeed(lookup.value)
            case "Join": {
              const deferred = lookup.deferred
              return Effect.flatMap(
                FiberRef.get(computing),
                (list): Effect.Effect<V, E | E2 | RecursiveComputation> =>
                  isComputing(list, deferred)
                    ? Effect.fail(new RecursiveComputation({ method: "LruCache.getOrCompute", key }))
                    : restore(Deferred.await(deferred))
              )
            }
            case "Start": {
              const deferred = lookup.deferred
              // Forked from an uninterruptible region, the fiber would inherit it: the computation
              // must stay interruptible by the cache's scope.
              const load = Effect.interruptible(
                Effect.locallyWith(this.load(key, compute, deferred, options), computing, (outer) => ({
                  deferred,
                  outer
                }))
              )
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
    options: LruCache.ComputeOptions<V, E2> | undefined
  ): Effect.Effect<void, never, R> {
    return Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(Effect.exit(restore(compute)), (exit) => this.settle(key, exit, deferred, options))
    )
  }

  /** Whether `deferred` is the computation of `key` still running (no write has superseded it). */
  private isRunning(key: K, deferred: Deferred.Deferred<V, any>): boolean {
    return this.running.get(key) === deferred
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
        millis = typeof ttl === "function" ? lru.timeToLiveMillis(ttl(exit)) : this.millisOf(ttl)
      } catch (defect) {
        // A throwing time-to-live function is a defect of this computation, not of the cache.
        exit = Exit.die(defect)
      }
    }
    const stored = this.modify((state, now): readonly [Effect.Effect<void, E>, Lru<K, V>] => {
      const current = this.isRunning(key, deferred)
      if (current) this.running.delete(key)
      if (Exit.isFailure(exit)) {
        this.loadFailures++
        return [Effect.void, state]
      }
      this.loadSuccesses++
      if (!current) return [Effect.void, state]
      return this.write(state, key, exit.value, now, now + millis)
    }, millis)
    // The waiters get the value only once it is as durable as a `set` of it would be, and a write
    // that fails (unencodable, refused by the disk) fails them as it would fail that `set`.
    return Effect.flatMap(Effect.exit(Effect.flatten(stored)), (durable) =>
      Deferred.done(deferred, (Exit.isFailure(durable) ? durable : exit) as Exit.Exit<V, E | E2>)
    )
  }

  /** Releases a computation whose fiber ended without settling it. */
  private abandon(key: K, deferred: Deferred.Deferred<V, any>, exit: Exit.Exit<void, never>): void {
    if (this.isRunning(key, deferred)) {
      this.running.delete(key)
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
    return this.sweep((state) => ({
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      expirations: this.expirations,
      size: lru.storedCount(state),
      loadSuccesses: this.loadSuccesses,
      loadFailures: this.loadFailures,
      droppedEvents: this.droppedEvents
    }))
  }

  get events(): Stream.Stream<Removal<K, V>> {
    return Stream.fromPubSub(this.removals)
  }

  get subscribe() {
    return PubSub.subscribe(this.removals)
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

interface Decoded {
  readonly capacity: number
  readonly timeToLive: Duration.Duration
  readonly sweepInterval: Duration.Duration
  readonly eventsCapacity: number
  readonly policy: "lru" | "w-tinylfu"
}

const DEFAULT_EVENTS_CAPACITY = 1024

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
    const eventsCapacity =
      options.eventsCapacity === undefined
        ? DEFAULT_EVENTS_CAPACITY
        : yield* positiveInteger(METHOD, "eventsCapacity", options.eventsCapacity)
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
    return { capacity, timeToLive, sweepInterval, eventsCapacity, policy }
  })

// --- constructors ----------------------------------------------------------------------------------

/** @internal */
export const make = <K, V, E = never, R = never>(
  options: LruCache.Options<K, V, E, R>
): Effect.Effect<LruCache.LruCache<K, V, E>, InvalidOption | PersistenceError, Scope.Scope | R> =>
  Effect.gen(function* () {
    const { capacity, eventsCapacity, policy, sweepInterval, timeToLive } = yield* decodeOptions(options)
    const scope = yield* Effect.scope
    const clock = yield* Effect.clock
    const removals = yield* Effect.acquireRelease(
      PubSub.sliding<Removal<K, V>>(eventsCapacity),
      PubSub.shutdown
    )
    const state = yield* Ref.make(lru.empty<K, V>(capacity, { policy }))
    let backend: Backend<K, V, E> | undefined
    if (options.persistence !== undefined) {
      backend = yield* options.persistence.open({
        capacity,
        // `Ref` has no synchronous read; `Ref.get` is one synchronous step, which runSync completes
        // at once, so the caller's step around this call stays atomic.
        entries: () => lru.toPersisted(Effect.runSync(Ref.get(state)), clock.unsafeCurrentTimeMillis())
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
      yield* Effect.forkIn(cache.sweepUntilExpiries(Duration.toMillis(sweepInterval)), scope)
    }
    return cache
  })

/** @internal */
export const layer = <I, K, V, E = never, R = never>(
  tag: Context.Tag<I, LruCache.LruCache<K, V, E>>,
  options: LruCache.Options<K, V, E, R>
): Layer.Layer<I, InvalidOption | PersistenceError, R> => Layer.scoped(tag, make(options))
