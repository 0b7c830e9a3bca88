/**
 * The service shell that both caches (the in-memory one, internal/cache.ts, and the Redis tier's
 * L1, internal/redis/tier.ts) are built on: an `Lru` changed by one atomic step, the counters, the
 * removal events, and the single flight of `getOrCompute`.
 *
 * Every change of the state is one synchronous step (`modify`, or `unsafeModify` where no fiber
 * runs: in the Redis client's event handlers), which also does what must be ordered with it:
 * counting, publishing removals, registering a computation. Nothing in it yields, so no other
 * fiber sees or makes a state in between. The state is one immutable `Lru` in a `Ref`; the event
 * handlers, which must change it at once, run that same step with `Effect.runSync` (a `Ref.modify`
 * completes in one synchronous step).
 */
import type * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import { pipeArguments } from "effect/Pipeable"
import { hasProperty } from "effect/Predicate"
import * as PubSub from "effect/PubSub"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { RecursiveComputation } from "../CacheError.js"
import type { Lru, Options as LruOptions, Removal, RemovalCause } from "../Lru.js"
import type * as LruCache from "../LruCache.js"
import * as lru from "./lru.js"
import * as metrics from "./metrics.js"

/** @internal */
export const TypeId: typeof LruCache.TypeId = Symbol.for(
  "effect-lru-cache/LruCache"
) as typeof LruCache.TypeId

/** @internal */
export const isLruCache = (u: unknown): u is LruCache.LruCache<unknown, unknown, unknown> =>
  hasProperty(u, TypeId)

const noRemovals: ReadonlyArray<never> = []

/** A list of the computations a fiber is part of, innermost first. */
interface Computing {
  readonly deferred: object
  readonly outer: Computing | undefined
}

/**
 * The computations of `getOrCompute` that the current fiber runs: set in each computation's fiber,
 * and so inherited by the computations it starts and the fibers it forks. A call that would join
 * one of them would wait for itself. Joining a fiber keeps the joiner's own list.
 */
const computing = FiberRef.unsafeMake<Computing | undefined>(undefined, { join: (parent) => parent })

const isComputing = (list: Computing | undefined, deferred: object): boolean => {
  for (let node = list; node !== undefined; node = node.outer) if (node.deferred === deferred) return true
  return false
}

/** The outcome of the atomic step of `getOrCompute`. */
type Lookup<V, E> =
  | { readonly _tag: "Hit"; readonly value: V }
  | { readonly _tag: "Join"; readonly deferred: Deferred.Deferred<V, E> }
  | { readonly _tag: "Start"; readonly deferred: Deferred.Deferred<V, E> }

/** What a shell is made of, made in the scope of the cache. */
export interface Parts<SK, SV, K, V> {
  readonly state: Ref.Ref<Lru<SK, SV>>
  /**
   * The `Clock` of the fiber that made the cache (a `TestClock` in tests), read once per
   * operation: looking it up in every caller's fiber would cost more than the operation itself.
   */
  readonly clock: Clock.Clock
  /** Bounded and sliding; shut down when the scope closes. */
  readonly removals: PubSub.PubSub<Removal<K, V>>
  /** Where computations of `getOrCompute` run, so that no caller's interruption stops them. */
  readonly scope: Scope.Scope
  /** The cache's name, the tag of its metrics and an attribute of its spans. */
  readonly name: string
  readonly metrics: metrics.CacheMetrics
}

/** @internal */
export const makeParts = <SK, SV, K, V>(
  capacity: number,
  eventsCapacity: number,
  name: string,
  options: LruOptions<SK, SV>
): Effect.Effect<Parts<SK, SV, K, V>, never, Scope.Scope> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const clock = yield* Effect.clock
    const removals = yield* Effect.acquireRelease(
      PubSub.sliding<Removal<K, V>>(eventsCapacity),
      PubSub.shutdown
    )
    return {
      state: Ref.unsafeMake(lru.empty<SK, SV>(capacity, options)),
      clock,
      removals,
      scope,
      name,
      metrics: metrics.make(name)
    }
  })

/**
 * The shell of a cache whose state is an `Lru<SK, SV>` and whose events are `Removal<K, V>`: the
 * in-memory cache stores its keys and values as they are, the Redis tier's L1 stores them under
 * their encoded keys.
 *
 * @internal
 */
export abstract class Shell<SK, SV, K, V> {
  readonly [TypeId]: typeof TypeId = TypeId
  /** Computations of `getOrCompute` running now, by key (with the index's key identity). */
  protected readonly running = new lru.KeyMap<SK, Deferred.Deferred<V, unknown>>()
  // Counters, changed only inside the atomic step of an operation (or in an event handler, which
  // runs between steps), each with its metric: the counters are what `stats` reports and
  // `resetStats` zeroes, the metrics only ever grow (as exporters expect of a counter).
  protected hits = 0
  protected misses = 0
  protected evictions = 0
  protected expirations = 0
  protected loadSuccesses = 0
  protected loadFailures = 0
  protected droppedEvents = 0
  protected readonly state: Ref.Ref<Lru<SK, SV>>
  protected readonly clock: Clock.Clock
  protected readonly removals: PubSub.PubSub<Removal<K, V>>
  protected readonly scope: Scope.Scope
  readonly name: string
  protected readonly metrics: metrics.CacheMetrics

  constructor(
    readonly capacity: number,
    parts: Parts<SK, SV, K, V>
  ) {
    this.state = parts.state
    this.clock = parts.clock
    this.removals = parts.removals
    this.scope = parts.scope
    this.name = parts.name
    this.metrics = parts.metrics
    this.sized(Effect.runSync(Ref.get(this.state)))
  }

  protected hit(): void {
    this.hits++
    this.metrics.hits.update(1)
  }

  protected miss(): void {
    this.misses++
    this.metrics.misses.update(1)
  }

  protected loaded(success: boolean): void {
    if (success) {
      this.loadSuccesses++
      this.metrics.loadSuccesses.update(1)
    } else {
      this.loadFailures++
      this.metrics.loadFailures.update(1)
    }
  }

  /** Reports the number of entries `state` holds; called in the atomic step of every change of it. */
  protected sized(state: Lru<SK, SV>): void {
    this.metrics.size.update(lru.storedCount(state))
  }

  /**
   * Zeroes the counters of `stats` (not `size`, and not the metrics, which only ever grow). Runs as
   * one atomic step, so no operation's count is half in and half out.
   */
  get resetStats(): Effect.Effect<void> {
    return this.modify((state) => {
      this.zeroCounters()
      return [undefined, state]
    })
  }

  /** Zeroes the counters; a cache with counters of its own zeroes those too. */
  protected zeroCounters(): void {
    this.hits = 0
    this.misses = 0
    this.evictions = 0
    this.expirations = 0
    this.loadSuccesses = 0
    this.loadFailures = 0
    this.droppedEvents = 0
  }

  pipe() {
    // biome-ignore lint/complexity/noArguments: the pipe protocol passes its functions as arguments
    return pipeArguments(this, arguments)
  }

  /** The event a removal from the state is published as, with the cause it is published under. */
  protected abstract event(removal: Removal<SK, SV>, cause: RemovalCause): Removal<K, V>

  /**
   * The time for an operation on `state`, from the cache's `Clock`. When no entry can expire and
   * the operation brings no expiry (`timeToLive` infinite), no answer depends on the time and the
   * clock is not read: on some machines reading it costs more than the operation itself.
   */
  protected now(state: Lru<SK, SV>, timeToLive = Number.POSITIVE_INFINITY): number {
    return timeToLive === Number.POSITIVE_INFINITY && !lru.hasExpiringEntries(state)
      ? 0
      : this.clock.unsafeCurrentTimeMillis()
  }

  /** Runs `f` on the state atomically; `timeToLive` is the expiry the operation brings. */
  protected modify<A>(
    f: (state: Lru<SK, SV>, now: number) => readonly [A, Lru<SK, SV>],
    timeToLive = Number.POSITIVE_INFINITY
  ): Effect.Effect<A> {
    return Ref.modify(this.state, (state) => f(state, this.now(state, timeToLive)))
  }

  /** `modify`, run at once: for callers that are no fiber. */
  protected unsafeModify<A>(
    f: (state: Lru<SK, SV>, now: number) => readonly [A, Lru<SK, SV>],
    timeToLive = Number.POSITIVE_INFINITY
  ): A {
    return Effect.runSync(this.modify(f, timeToLive))
  }

  protected read<A>(f: (state: Lru<SK, SV>, now: number) => A): Effect.Effect<A> {
    return this.modify((state, now) => [f(state, now), state])
  }

  /**
   * Counts and publishes what the operation that turned `state` into `next` removed, a deletion
   * under the cause `deleted` (another instance's write calls it otherwise). Called inside the
   * atomic step.
   */
  protected publish(
    state: Lru<SK, SV>,
    next: Lru<SK, SV>,
    deleted: RemovalCause = "deleted"
  ): ReadonlyArray<Removal<SK, SV>> {
    if (next === state) return noRemovals
    const removed = lru.lastRemoved(next)
    if (removed.length === 0) return removed
    for (let i = 0; i < removed.length; i++) {
      const removal = removed[i]!
      const cause = removal.cause === "deleted" ? deleted : removal.cause
      if (cause === "evicted") {
        this.evictions++
        this.metrics.evictions.update(1)
      } else if (cause === "expired") {
        this.expirations++
        this.metrics.expirations.update(1)
      }
      this.offer(this.event(removal, cause))
    }
    this.sized(next)
    return removed
  }

  /**
   * Offers a removal to the subscribers. The `PubSub` is bounded: once the slowest subscriber is
   * that many events behind, the offer fails, and the event slides out the oldest one (which that
   * subscriber then never sees) and is counted as dropped. Sliding is synchronous, so it keeps its
   * place in the atomic step, and only ever runs for a subscriber that lags that far behind.
   */
  private offer(event: Removal<K, V>): void {
    if (this.removals.unsafeOffer(event) || !this.removals.isActive()) return
    this.droppedEvents++
    Effect.runSync(PubSub.publish(this.removals, event))
  }

  /** The counters every cache has, with the size it reports. */
  protected counters(size: number): LruCache.CacheStats {
    return {
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      expirations: this.expirations,
      size,
      loadSuccesses: this.loadSuccesses,
      loadFailures: this.loadFailures,
      droppedEvents: this.droppedEvents
    }
  }

  get events(): Stream.Stream<Removal<K, V>> {
    return Stream.fromPubSub(this.removals)
  }

  get subscribe() {
    return PubSub.subscribe(this.removals)
  }

  /**
   * The single flight of `getOrCompute`. In one atomic step, `lookup` looks for a live value (a
   * hit), or else the call joins the computation of `id` already running, or registers one. A
   * registered computation runs `compute` in a fiber of the cache's scope and ends with `settle`,
   * which must hand the result to `deferred` (and `unregister` the key, in the step that stores the
   * value, so that no caller can miss both); callers wait for it interruptibly. `misses` says which
   * calls count a miss: `"always"` both those that join and those that start a computation,
   * `"onJoin"` those that join (the computation counts its own), `"never"` none (a refresh).
   */
  protected singleFlight<E1, E2, R>(
    method: string,
    key: unknown,
    id: SK,
    lookup: (state: Lru<SK, SV>, now: number) => readonly [Option.Option<V>, Lru<SK, SV>],
    misses: "always" | "onJoin" | "never",
    compute: Effect.Effect<V, E1, R>,
    settle: (exit: Exit.Exit<V, E1>, deferred: Deferred.Deferred<V, E2>) => Effect.Effect<void>
  ): Effect.Effect<V, E2 | RecursiveComputation, R> {
    // Uninterruptible from the registration of a computation to its fork, so that no registered
    // computation is left without a fiber.
    return Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(
        this.modify((state, now): readonly [Lookup<V, E2>, Lru<SK, SV>] => {
          const [found, next] = lookup(state, now)
          this.publish(state, next)
          if (Option.isSome(found)) {
            this.hit()
            return [{ _tag: "Hit", value: found.value }, next]
          }
          const running = this.running.get(id)
          if (running !== undefined) {
            if (misses !== "never") this.miss()
            return [{ _tag: "Join", deferred: running as Deferred.Deferred<V, E2> }, next]
          }
          if (misses === "always") this.miss()
          const deferred = Deferred.unsafeMake<V, E2>(FiberId.none)
          this.running.set(id, deferred as Deferred.Deferred<V, unknown>)
          return [{ _tag: "Start", deferred }, next]
        }),
        (found) => {
          switch (found._tag) {
            case "Hit":
              return Effect.succeed(found.value)
            case "Join": {
              const deferred = found.deferred
              return Effect.flatMap(
                FiberRef.get(computing),
                (list): Effect.Effect<V, E2 | RecursiveComputation> =>
                  isComputing(list, deferred)
                    ? Effect.fail(new RecursiveComputation({ method, key }))
                    : restore(Deferred.await(deferred))
              )
            }
            case "Start": {
              const deferred = found.deferred
              const traced = Effect.withSpan(this.timed(compute), method, metrics.spanOptions(this.name))
              const run = Effect.uninterruptibleMask((restoreRun) =>
                Effect.flatMap(Effect.exit(restoreRun(traced)), (exit) => settle(exit, deferred))
              )
              // Forked from an uninterruptible region, the fiber would inherit it: the computation
              // must stay interruptible by the cache's scope.
              const load = Effect.interruptible(
                Effect.locallyWith(run, computing, (outer) => ({ deferred, outer }))
              )
              return Effect.flatMap(Effect.forkIn(load, this.scope), (fiber) => {
                // A fiber interrupted before its first step (the cache's scope closing) never
                // settles: its end releases the key and the waiters instead.
                fiber.addObserver((exit) => this.abandon(id, deferred, exit))
                return restore(Deferred.await(deferred))
              })
            }
          }
        }
      )
    )
  }

  /** `effect`, with the time it takes (by the cache's `Clock`) recorded as a load duration. */
  private timed<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Effect.suspend(() => {
      const start = this.clock.unsafeCurrentTimeNanos()
      return Effect.ensuring(
        effect,
        Effect.sync(() =>
          this.metrics.loadDuration.update(Number(this.clock.unsafeCurrentTimeNanos() - start) / 1e9)
        )
      )
    })
  }

  /** Whether `deferred` is the computation of `id` still running (no write has superseded it). */
  protected isRunning(id: SK, deferred: object): boolean {
    return this.running.get(id) === deferred
  }

  /** Ends the registration of a computation; whether it was still the one running for `id`. */
  protected unregister(id: SK, deferred: object): boolean {
    if (!this.isRunning(id, deferred)) return false
    this.running.delete(id)
    return true
  }

  /** Releases a computation whose fiber ended without settling it. */
  private abandon<E>(id: SK, deferred: Deferred.Deferred<V, E>, exit: Exit.Exit<void, never>): void {
    if (this.unregister(id, deferred)) this.loaded(false)
    Deferred.unsafeDone(deferred, exit as Exit.Exit<never, never>)
  }
}
