import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import {
  InvalidOption,
  type KeyEncodingError,
  type PersistenceError,
  RecursiveComputation
} from "../CacheError.js"
import type * as LruCache from "../LruCache.js"
import type * as MemoCache from "../MemoCache.js"
import * as cacheInternal from "./cache.js"
import * as memoKey from "./memoKey.js"
import { decode, durationMillis, NonEmptyString, PositiveDuration, required } from "./options.js"

/** @internal */
export const TypeId: MemoCache.TypeId = Symbol.for("effect-lru-cache/MemoCache") as MemoCache.TypeId

/** @internal */
export const tag: Context.Tag<MemoCache.MemoCache, MemoCache.MemoCache> =
  Context.GenericTag<MemoCache.MemoCache>("effect-lru-cache/MemoCache")

/** The cache a memoized function keeps its results in; `CE` is what its writes fail with. */
type Cache<CE> = LruCache.LruCache<string, MemoCache.Entry, CE>

/**
 * What memoization keeps per cache, beside the entries: which function owns each name, which keys
 * are being refreshed in the background, and (for a `MemoCache`) the scope background refreshes
 * live in.
 */
interface State {
  /** The function that claimed each name, compared by identity. */
  readonly owners: Map<string, object>
  readonly refreshing: Set<string>
  readonly scope: Scope.Scope | undefined
}

/**
 * Per cache, not per wrapped function: functions wrapped separately with `cachedWith` on one cache
 * must see each other's names, and a `MemoCache`'s own cache its scope.
 */
const states = new WeakMap<Cache<unknown>, State>()

const stateOf = (cache: Cache<unknown>): State => {
  let state = states.get(cache)
  if (state === undefined) {
    state = { owners: new Map(), refreshing: new Set(), scope: undefined }
    states.set(cache, state)
  }
  return state
}

/** A failure of the memoized function that is not stored: it reaches every waiter, then is raised as is. */
class Transient {
  constructor(readonly cause: Cause.Cause<unknown>) {}
}

const fromMillis = (millis: number): Duration.Duration =>
  millis === Infinity ? Duration.infinity : Duration.millis(Math.max(0, millis))

/** The options of one wrapped function, decoded once, when it is wrapped. */
interface Plan<Args extends ReadonlyArray<unknown>, A, E, R> {
  readonly name: string
  readonly method: string
  /** The wrapped function, which owns `name` in a cache. */
  readonly function: object
  readonly prefix: string
  readonly key: ((...args: Args) => string) | undefined
  readonly timeToLive: Duration.Duration | ((exit: Exit.Exit<A, E>) => Duration.DurationInput) | undefined
  readonly window: number | undefined
  readonly compute: (args: Args) => Effect.Effect<A, E, R>
}

const AFunction = Schema.declare(
  (u): u is (...args: ReadonlyArray<unknown>) => unknown => typeof u === "function",
  {
    message: () => "must be a function"
  }
)

/**
 * The options of `cached`, read as the cache's own are: a time to live that is a function of the
 * result is set apart before, and checked when it is asked, as `getOrCompute` checks it.
 */
const CachedOptionsSchema = Schema.Struct({
  name: required(
    NonEmptyString.annotations({
      message: () => ({
        message:
          "the function has no name to key its entries by (an anonymous function?); give it a `name` option",
        override: true
      })
    })
  ),
  key: Schema.optional(AFunction),
  timeToLive: Schema.optional(PositiveDuration),
  staleWhileRevalidate: Schema.optional(PositiveDuration)
})

const plan = <Args extends ReadonlyArray<unknown>, A, E, R>(
  fn: (...args: Args) => Effect.Effect<A, E, R>,
  options: MemoCache.CachedOptions<Args, A, E> | undefined
): Either.Either<Plan<Args, A, E, R>, InvalidOption> => {
  const name: unknown = options?.name ?? fn.name
  const method = typeof name === "string" && name !== "" ? `cached(${name})` : "cached"
  const ttlOption = options?.timeToLive
  const byExit = typeof ttlOption === "function" ? ttlOption : undefined
  const decoded = decode(
    method,
    CachedOptionsSchema
  )({ ...options, name, timeToLive: byExit === undefined ? ttlOption : undefined })
  return Either.map(decoded, (decoded) => ({
    name: decoded.name,
    method,
    function: fn,
    prefix:
      options?.key === undefined ? memoKey.keyPrefix(decoded.name) : memoKey.customKeyPrefix(decoded.name),
    key: options?.key,
    timeToLive: byExit ?? decoded.timeToLive,
    window:
      decoded.staleWhileRevalidate === undefined
        ? undefined
        : Duration.toMillis(decoded.staleWhileRevalidate),
    compute: (args) => Effect.suspend(() => fn(...args))
  }))
}

/** How long a result is fresh, in milliseconds: what `timeToLive` says of its exit. */
const freshMillis = <Args extends ReadonlyArray<unknown>, A, E, R>(
  self: Plan<Args, A, E, R>,
  cache: Cache<unknown>,
  exit: Exit.Exit<A, E>
): number =>
  typeof self.timeToLive === "function"
    ? durationMillis(self.timeToLive(exit))
    : Duration.toMillis(self.timeToLive ?? cache.timeToLive)

/**
 * How long the cache keeps a computed entry: while it is fresh, then for the stale window; not at
 * all when it is not fresh to begin with. A function of the entry alone, which holds the exit it
 * was made of.
 */
const storedTimeToLive = <Args extends ReadonlyArray<unknown>, A, E, R>(
  self: Plan<Args, A, E, R>,
  cache: Cache<unknown>,
  entry: MemoCache.Entry
): Duration.Duration => {
  // The entry was made from this exit, of the function that `self` wraps.
  const exit = (entry._tag === "Success" ? Exit.succeed(entry.value) : Exit.fail(entry.error)) as Exit.Exit<
    A,
    E
  >
  const fresh = freshMillis(self, cache, exit)
  return fresh > 0 ? fromMillis(fresh + (self.window ?? 0)) : Duration.zero
}

/**
 * The options of `getOrCompute` for a plan: none when the cache's own time to live applies, a fixed
 * duration when that is all it takes, else a function of each computed entry.
 */
const computeOptions = <Args extends ReadonlyArray<unknown>, A, E, R>(
  self: Plan<Args, A, E, R>,
  cache: Cache<unknown>
): LruCache.ComputeOptions<MemoCache.Entry, Transient> | undefined => {
  if (self.window !== undefined || typeof self.timeToLive === "function") {
    return {
      timeToLive: (exit) => (Exit.isSuccess(exit) ? storedTimeToLive(self, cache, exit.value) : Duration.zero)
    }
  }
  return self.timeToLive === undefined ? undefined : { timeToLive: self.timeToLive }
}

/**
 * Runs the function once and turns its exit into what the cache stores: a success, a failure when
 * the `timeToLive` function asks to keep it, or else a `Transient` failure that every waiter sees
 * and nothing stores. Defects and interruptions are always transient.
 */
const compute = <Args extends ReadonlyArray<unknown>, A, E, R>(
  self: Plan<Args, A, E, R>,
  cache: Cache<unknown>,
  args: Args
): Effect.Effect<MemoCache.Entry, Transient, R> =>
  Effect.flatMap(Effect.exit(self.compute(args)), (exit) => {
    if (Exit.isFailure(exit) && !(typeof self.timeToLive === "function" && Cause.isFailType(exit.cause))) {
      return Effect.fail(new Transient(exit.cause))
    }
    // Without a stale window, a success is the same entry however long it lives: whether it is stored
    // is for its stored time to live to say.
    if (self.window === undefined && Exit.isSuccess(exit)) {
      return Effect.succeed<MemoCache.Entry>({ _tag: "Success", value: exit.value })
    }
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const fresh = freshMillis(self, cache, exit)
      if (!(fresh > 0)) {
        // Returned to the waiters, stored by no one (its stored time to live is zero).
        return Exit.isFailure(exit)
          ? Effect.fail(new Transient(exit.cause))
          : Effect.succeed<MemoCache.Entry>({ _tag: "Success", value: exit.value })
      }
      const freshUntil = self.window === undefined ? {} : { freshUntil: now + fresh }
      return Effect.succeed<MemoCache.Entry>(
        Exit.isSuccess(exit)
          ? { _tag: "Success", value: exit.value, ...freshUntil }
          : { _tag: "Failure", error: (exit.cause as Cause.Fail<E>).error, ...freshUntil }
      )
    })
  })

/** The result an entry holds, as the function returned it. */
const fromEntry = <A, E>(entry: MemoCache.Entry): Effect.Effect<A, E> =>
  // The entry was made from a result of the function with these types.
  entry._tag === "Success" ? Effect.succeed(entry.value as A) : Effect.fail(entry.error as E)

/**
 * Refreshes a stale entry in the background, at most once at a time per key. Only a success
 * replaces the entry: after a failure, the stale value stays until its window ends (and the next
 * stale call tries again).
 */
const refresh = <Args extends ReadonlyArray<unknown>, A, E, R, CE>(
  self: Plan<Args, A, E, R>,
  cache: Cache<CE>,
  state: State,
  key: string,
  stale: MemoCache.Entry,
  args: Args
): Effect.Effect<void, never, R> =>
  Effect.suspend(() => {
    if (state.refreshing.has(key)) return Effect.void
    state.refreshing.add(key)
    const job = compute(self, cache, args).pipe(
      Effect.flatMap((entry) =>
        entry._tag === "Success"
          ? // Only over the stale entry it refreshes: an invalidation or a write that came meanwhile
            // is newer than this result.
            Effect.flatMap(cache.peek(key), (current) =>
              Option.isSome(current) && current.value === stale
                ? cache.set(key, entry, { timeToLive: storedTimeToLive(self, cache, entry) })
                : Effect.void
            )
          : Effect.void
      ),
      Effect.catchAll((error) =>
        error instanceof Transient
          ? Effect.void
          : Effect.logWarning(`${self.method}: the refreshed entry could not be stored`, error)
      )
    )
    const forked = state.scope === undefined ? Effect.forkDaemon(job) : Effect.forkIn(job, state.scope)
    // Released when the fiber ends, however it ends: even interrupted before its first step (a
    // scope closing), which an `ensuring` inside it would not see.
    return Effect.map(forked, (fiber) => fiber.addObserver(() => state.refreshing.delete(key)))
  })

/** Claims the function's name in the cache: fails if another function holds it. */
const claim = <Args extends ReadonlyArray<unknown>, A, E, R>(
  self: Plan<Args, A, E, R>,
  state: State
): InvalidOption | undefined => {
  const owner = state.owners.get(self.name)
  if (owner === undefined) {
    state.owners.set(self.name, self.function)
    return undefined
  }
  if (owner === self.function) return undefined
  return new InvalidOption({
    method: self.method,
    option: "name",
    reason: `the name "${self.name}" is already used by another function in this cache; give one of them a distinct \`name\` option`,
    value: self.name
  })
}

/** What a call fails with: the function's own failures, and the cache's. */
type CallError<E, CE> = E | InvalidOption | KeyEncodingError | RecursiveComputation | CE

/**
 * What a call or a refresh fails with, from what the cache's computation failed with: a
 * `Transient` failure is the function's own, raised as it was; anything else is the cache's (a
 * persistence error, a recursive call), which reaches the caller as a `set` of the result would.
 */
const failedWith =
  <Args extends ReadonlyArray<unknown>, A, E, R, CE>(self: Plan<Args, A, E, R>, key: string) =>
  (error: Transient | RecursiveComputation | CE): Effect.Effect<never, CallError<E, CE>> =>
    error instanceof Transient
      ? // The cause of a run of the function: its failures are `E`s.
        Effect.failCause(error.cause as Cause.Cause<E>)
      : Effect.fail(
          error instanceof RecursiveComputation
            ? new RecursiveComputation({ method: self.method, key })
            : error
        )

const call = <Args extends ReadonlyArray<unknown>, A, E, R, CE>(
  self: Plan<Args, A, E, R>,
  cache: Cache<CE>,
  key: string,
  args: Args
): Effect.Effect<A, CallError<E, CE>, R> => {
  const state = stateOf(cache)
  const taken = claim(self, state)
  if (taken !== undefined) return Effect.fail(taken)
  const lookup = cache.getOrCompute(key, compute(self, cache, args), computeOptions(self, cache))
  const failed = failedWith<Args, A, E, R, CE>(self, key)
  if (self.window === undefined) {
    return Effect.matchEffect(lookup, { onFailure: failed, onSuccess: (entry) => fromEntry<A, E>(entry) })
  }
  return Effect.matchEffect(lookup, {
    onFailure: failed,
    onSuccess: (entry) => {
      const freshUntil = entry.freshUntil
      if (freshUntil === undefined) return fromEntry<A, E>(entry)
      return Effect.flatMap(Clock.currentTimeMillis, (now) =>
        now < freshUntil
          ? fromEntry<A, E>(entry)
          : Effect.zipRight(refresh(self, cache, state, key, entry, args), fromEntry<A, E>(entry))
      )
    }
  })
}

/** Runs the function again through the cache's `refresh`, sharing the single flight of calls. */
const refreshNow = <Args extends ReadonlyArray<unknown>, A, E, R, CE>(
  self: Plan<Args, A, E, R>,
  cache: Cache<CE>,
  key: string,
  args: Args
): Effect.Effect<void, CallError<E, CE>, R> => {
  const state = stateOf(cache)
  const taken = claim(self, state)
  if (taken !== undefined) return Effect.fail(taken)
  // A failure that `timeToLive` keeps is a success of the computation (an entry to store): the
  // refresh fails with it as a call would, whether it ran the function (what it ran tells) or
  // joined a run (the cache's `refresh` gives no value: what that run stored tells).
  let ran: MemoCache.Entry | undefined
  const run = Effect.tap(compute(self, cache, args), (entry) => {
    ran = entry
  })
  const refreshed = Effect.flatMap(
    Effect.catchAll(
      cache.refresh(key, run, computeOptions(self, cache)),
      failedWith<Args, A, E, R, CE>(self, key)
    ),
    () =>
      Effect.flatMap(
        ran === undefined
          ? // A read that fails (Redis unreachable, say) leaves the refresh as it ended: a success.
            Effect.orElseSucceed(Effect.map(cache.peek(key), Option.getOrUndefined), () => undefined)
          : Effect.succeed(ran),
        (entry) => (entry?._tag === "Failure" ? Effect.fail(entry.error as E) : Effect.void)
      )
  )
  // Counted as the key's background refresh while it runs: a stale call meanwhile gets the stale
  // result and starts no second run of the function.
  return Effect.acquireUseRelease(
    Effect.sync(() => {
      if (state.refreshing.has(key)) return false
      state.refreshing.add(key)
      return true
    }),
    () => refreshed,
    (marked) =>
      marked
        ? Effect.sync(() => {
            state.refreshing.delete(key)
          })
        : Effect.void
  )
}

const invalidate = <Args extends ReadonlyArray<unknown>, A, E, R, CE>(
  self: Plan<Args, A, E, R>,
  cache: Cache<CE>,
  key: string
): Effect.Effect<boolean, InvalidOption | KeyEncodingError | CE> => {
  const taken = claim(self, stateOf(cache))
  if (taken !== undefined) return Effect.fail(taken)
  return cache.delete(key)
}

/** Builds the key of a call (or fails with why there is none), then runs `f` with it. */
const keyed = <Args extends ReadonlyArray<unknown>, A, E, R, B, E2, R2>(
  self: Plan<Args, A, E, R>,
  args: Args,
  f: (key: string) => Effect.Effect<B, E2, R2>
): Effect.Effect<B, E2 | KeyEncodingError, R2> => {
  const suffix = self.key === undefined ? memoKey.encodeArguments(args) : self.key(...args)
  if (memoKey.isFailure(suffix)) return Effect.fail(memoKey.toError(self.method, suffix))
  return f(self.prefix + suffix)
}

/** Finds the cache for a call: `Env` is what finding it needs. */
type WithCache<CE, Env> = <B, E2, R2>(
  f: (cache: Cache<CE>) => Effect.Effect<B, E2, R2>
) => Effect.Effect<B, E2, R2 | Env>

const memoized = <Args extends ReadonlyArray<unknown>, A, E, R, Env, CE>(
  plan: Either.Either<Plan<Args, A, E, R>, InvalidOption>,
  withCache: WithCache<CE, Env>
): MemoCache.Memoized<Args, A, E, R, Env, CE> => {
  // Invalid options fail every call, as they fail `make`: a typed error where the caller handles
  // the others, not a throw where the function is wrapped.
  const memoizedFn = Either.match(plan, {
    onLeft: (error) =>
      Object.assign(() => Effect.fail(error), {
        invalidate: () => Effect.fail(error),
        refresh: () => Effect.fail(error)
      }),
    onRight: (self) =>
      Object.assign(
        (...args: Args) => withCache((cache) => keyed(self, args, (key) => call(self, cache, key, args))),
        {
          invalidate: (...args: Args) =>
            withCache((cache) => keyed(self, args, (key) => invalidate(self, cache, key))),
          refresh: (...args: Args) =>
            withCache((cache) => keyed(self, args, (key) => refreshNow(self, cache, key, args)))
        }
      )
  })
  // `KeyError<Args>` is `KeyEncodingError` but for arguments whose encoding cannot fail.
  return memoizedFn as MemoCache.Memoized<Args, A, E, R, Env, CE>
}

/** @internal */
export const cached = <Args extends ReadonlyArray<unknown>, A, E, R>(
  fn: (...args: Args) => Effect.Effect<A, E, R>,
  options?: MemoCache.CachedOptions<Args, A, E>
): MemoCache.Memoized<Args, A, E, R, MemoCache.MemoCache, PersistenceError> =>
  // The service first: one step both suspends the work and finds the cache.
  memoized(plan(fn, options), (f) => Effect.flatMap(tag, (memo) => f(memo.cache)))

/** @internal */
export const cachedWith = <Args extends ReadonlyArray<unknown>, A, E, R, CE>(
  cache: Cache<CE>,
  fn: (...args: Args) => Effect.Effect<A, E, R>,
  options?: MemoCache.CachedOptions<Args, A, E>
): MemoCache.Memoized<Args, A, E, R, never, CE> =>
  memoized(plan(fn, options), (f) => Effect.suspend(() => f(cache)))

const makeMemo = <E extends PersistenceError, R>(
  options: LruCache.Options<string, MemoCache.Entry, E, R>
): Effect.Effect<MemoCache.MemoCache, InvalidOption | PersistenceError, Scope.Scope | R> =>
  Effect.gen(function* () {
    const cache: Cache<E> = yield* cacheInternal.make(options)
    const scope = yield* Effect.scope
    states.set(cache, { owners: new Map(), refreshing: new Set(), scope })
    return { [TypeId]: TypeId, cache, timeToLive: cache.timeToLive }
  })

/** As `LruCache.make`: without persistence, the overloads say it fails with `InvalidOption` alone. @internal */
export const make = makeMemo as typeof MemoCache.make

/** @internal */
export const layer = (<E extends PersistenceError, R>(
  options: LruCache.Options<string, MemoCache.Entry, E, R>
): Layer.Layer<MemoCache.MemoCache, InvalidOption | PersistenceError, R> =>
  Layer.scoped(tag, makeMemo(options))) as typeof MemoCache.layer

/** @internal */
export const layerConfig = <E extends PersistenceError = never, R = never>(
  config: Config.Config.Wrap<LruCache.Options<string, MemoCache.Entry, E, R>>
): Layer.Layer<MemoCache.MemoCache, ConfigError.ConfigError | InvalidOption | PersistenceError, R> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), (options) => Layer.scoped(tag, makeMemo(options))))

/** @internal */
export const key = memoKey.key
