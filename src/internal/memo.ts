import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { KeyEncodingError, RecursiveComputation } from "../CacheError.js"
import type * as LruCache from "../LruCache.js"
import type * as MemoCache from "../MemoCache.js"
import * as cacheInternal from "./cache.js"
import * as memoKey from "./memoKey.js"

/** @internal */
export const TypeId: MemoCache.TypeId = Symbol.for("effect-lru-cache/MemoCache") as MemoCache.TypeId

/** @internal */
export const tag: Context.Tag<MemoCache.MemoCache, MemoCache.MemoCache> =
  Context.GenericTag<MemoCache.MemoCache>("effect-lru-cache/MemoCache")

/**
 * What memoization keeps per cache, beside the entries: which function owns each name, which keys
 * are being refreshed in the background, and (for a `MemoCache`) the scope background refreshes
 * live in and the cache's default time to live.
 */
interface State {
  readonly owners: Map<string, Function>
  readonly refreshing: Set<string>
  readonly scope: Scope.Scope | undefined
}

const states = new WeakMap<object, State>()

const stateOf = (cache: object): State => {
  let state = states.get(cache)
  if (state === undefined) {
    state = { owners: new Map(), refreshing: new Set(), scope: undefined }
    states.set(cache, state)
  }
  return state
}

type AnyCache = LruCache.LruCache<string, MemoCache.Entry, unknown>

/** A failure of the memoized function that is not stored: it reaches every waiter, then is raised as is. */
class Transient {
  constructor(readonly cause: Cause.Cause<unknown>) {}
}

/** The stored time to live of each freshly computed entry, read back by `getOrCompute`. */
const timeToLiveOf = new WeakMap<MemoCache.Entry, Duration.Duration>()

const storedTimeToLive = (entry: MemoCache.Entry): Duration.Duration =>
  timeToLiveOf.get(entry) ?? Duration.zero

const validDuration = (option: string, input: Duration.DurationInput): Duration.Duration => {
  const negative =
    (typeof input === "number" && !(input >= 0)) ||
    (typeof input === "bigint" && input < 0n) ||
    (typeof input === "string" && input.trim().startsWith("-"))
  const decoded = negative ? Option.none() : Duration.decodeUnknown(input)
  if (Option.isNone(decoded)) {
    throw new RangeError(
      `cached: invalid option "${option}": a non-negative duration is required (got ${String(input)})`
    )
  }
  return decoded.value
}

const toMillis = (input: Duration.DurationInput): number => Duration.toMillis(Duration.decode(input))

const fromMillis = (millis: number): Duration.Duration =>
  millis === Infinity ? Duration.infinity : Duration.millis(Math.max(0, millis))

/** The options of one wrapped function, validated once, when it is wrapped. */
interface Plan {
  readonly name: string
  readonly method: string
  readonly function: Function
  readonly prefix: string
  readonly key: ((...args: ReadonlyArray<any>) => string) | undefined
  readonly timeToLive: Duration.Duration | ((exit: Exit.Exit<any, any>) => Duration.DurationInput) | undefined
  readonly window: number | undefined
  readonly compute: (args: ReadonlyArray<any>) => Effect.Effect<any, any, any>
  /** Options for `getOrCompute`: a fixed duration when that is all it takes, else per entry. */
  readonly computeOptions: LruCache.ComputeOptions<MemoCache.Entry> | undefined
}

const plan = (
  fn: (...args: ReadonlyArray<any>) => Effect.Effect<any, any, any>,
  options: MemoCache.CachedOptions<any, any, any> | undefined
): Plan => {
  const name = options?.name ?? fn.name
  if (typeof name !== "string" || name === "") {
    throw new TypeError(
      "cached: the function has no name to key its entries by (an anonymous function?): give it a `name` option"
    )
  }
  const ttlOption = options?.timeToLive
  const timeToLive =
    ttlOption === undefined || typeof ttlOption === "function"
      ? ttlOption
      : validDuration("timeToLive", ttlOption)
  const window =
    options?.staleWhileRevalidate === undefined
      ? undefined
      : Duration.toMillis(validDuration("staleWhileRevalidate", options.staleWhileRevalidate))
  const perEntry = window !== undefined || typeof timeToLive === "function"
  return {
    name,
    method: `cached(${name})`,
    function: fn,
    prefix: options?.key === undefined ? memoKey.keyPrefix(name) : memoKey.customKeyPrefix(name),
    key: options?.key,
    timeToLive,
    window,
    compute: (args) => Effect.suspend(() => fn(...args)),
    computeOptions: perEntry
      ? { timeToLive: storedTimeToLive }
      : timeToLive === undefined
        ? undefined
        : { timeToLive: timeToLive as Duration.Duration }
  }
}

/**
 * Runs the function once and turns its exit into what the cache stores: a success, a failure when
 * the `timeToLive` function asks to keep it, or else a `Transient` failure that every waiter sees
 * and nothing stores. Defects and interruptions are always transient.
 */
const compute = (
  self: Plan,
  cache: AnyCache,
  args: ReadonlyArray<any>
): Effect.Effect<MemoCache.Entry, Transient, any> =>
  Effect.flatMap(Effect.exit(self.compute(args)), (exit) => {
    const keep =
      Exit.isSuccess(exit) || (typeof self.timeToLive === "function" && Cause.isFailType(exit.cause))
    if (!keep) return Effect.fail(new Transient(exit.cause))
    if (self.window === undefined && typeof self.timeToLive !== "function") {
      return Effect.succeed<MemoCache.Entry>({
        _tag: "Success",
        value: (exit as Exit.Success<unknown, unknown>).value
      })
    }
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const ttl =
        typeof self.timeToLive === "function"
          ? toMillis(self.timeToLive(exit))
          : Duration.toMillis(self.timeToLive ?? cache.timeToLive)
      if (!(ttl > 0)) {
        if (Exit.isFailure(exit)) return Effect.fail(new Transient(exit.cause))
        const entry: MemoCache.Entry = { _tag: "Success", value: exit.value }
        timeToLiveOf.set(entry, Duration.zero)
        return Effect.succeed(entry)
      }
      const freshUntil = self.window === undefined ? undefined : now + ttl
      const entry: MemoCache.Entry = Exit.isSuccess(exit)
        ? freshUntil === undefined
          ? { _tag: "Success", value: exit.value }
          : { _tag: "Success", value: exit.value, freshUntil }
        : freshUntil === undefined
          ? { _tag: "Failure", error: (exit.cause as Cause.Fail<unknown>).error }
          : { _tag: "Failure", error: (exit.cause as Cause.Fail<unknown>).error, freshUntil }
      timeToLiveOf.set(entry, fromMillis(ttl + (self.window ?? 0)))
      return Effect.succeed(entry)
    })
  })

const fromEntry = (entry: MemoCache.Entry): Effect.Effect<any, any> =>
  entry._tag === "Success" ? Effect.succeed(entry.value) : Effect.fail(entry.error)

/**
 * Refreshes a stale entry in the background, at most once at a time per key. Only a success
 * replaces the entry: after a failure, the stale value stays until its window ends (and the next
 * stale call tries again).
 */
const refresh = (
  self: Plan,
  cache: AnyCache,
  state: State,
  key: string,
  stale: MemoCache.Entry,
  args: ReadonlyArray<any>
): Effect.Effect<void, never, any> =>
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
                ? cache.set(key, entry, { timeToLive: storedTimeToLive(entry) })
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
const claim = (self: Plan, state: State): KeyEncodingError | undefined => {
  const owner = state.owners.get(self.name)
  if (owner === undefined) {
    state.owners.set(self.name, self.function)
    return undefined
  }
  if (owner === self.function) return undefined
  return new KeyEncodingError({
    method: self.method,
    path: "name",
    reason: `the name "${self.name}" is already used by another function in this cache; give one of them a distinct \`name\` option`
  })
}

const call = (
  self: Plan,
  cache: AnyCache,
  key: string,
  args: ReadonlyArray<any>
): Effect.Effect<any, any, any> => {
  const state = stateOf(cache)
  const taken = claim(self, state)
  if (taken !== undefined) return Effect.fail(taken)
  const lookup = cache.getOrCompute(key, compute(self, cache, args), self.computeOptions)
  // Not a `Transient` failure of the function: the cache's own (a persistence error, a recursive
  // call), which reaches the caller as a `set` of the result would.
  const failed = (error: unknown): Effect.Effect<any, any, any> =>
    error instanceof Transient
      ? Effect.failCause(error.cause)
      : Effect.fail(
          error instanceof RecursiveComputation
            ? new RecursiveComputation({ method: self.method, key })
            : error
        )
  if (self.window === undefined)
    return Effect.matchEffect(lookup, { onFailure: failed, onSuccess: fromEntry })
  return Effect.matchEffect(lookup, {
    onFailure: failed,
    onSuccess: (entry) => {
      if (entry.freshUntil === undefined) return fromEntry(entry)
      return Effect.flatMap(Clock.currentTimeMillis, (now) =>
        now < entry.freshUntil!
          ? fromEntry(entry)
          : Effect.zipRight(refresh(self, cache, state, key, entry, args), fromEntry(entry))
      )
    }
  })
}

const invalidate = (self: Plan, cache: AnyCache, key: string): Effect.Effect<boolean, unknown> => {
  const taken = claim(self, stateOf(cache))
  if (taken !== undefined) return Effect.fail(taken)
  return cache.delete(key)
}

/** Builds the key of a call (or fails with why there is none), then runs `f` with it. */
const keyed = <A, E>(
  self: Plan,
  args: ReadonlyArray<any>,
  f: (key: string) => Effect.Effect<A, E, any>
): Effect.Effect<A, E | KeyEncodingError, any> => {
  const suffix = self.key === undefined ? memoKey.encodeArguments(args) : self.key(...args)
  if (memoKey.isFailure(suffix)) return Effect.fail(memoKey.toError(self.method, suffix))
  return f(self.prefix + suffix)
}

const memoized = (
  self: Plan,
  withCache: <A, E, R>(f: (cache: AnyCache) => Effect.Effect<A, E, R>) => Effect.Effect<A, E, any>
): any =>
  Object.assign(
    (...args: ReadonlyArray<any>) =>
      withCache((cache) => keyed(self, args, (key) => call(self, cache, key, args))),
    {
      invalidate: (...args: ReadonlyArray<any>) =>
        withCache((cache) => keyed(self, args, (key) => invalidate(self, cache, key)))
    }
  )

/** @internal */
export const cached = (
  fn: (...args: ReadonlyArray<any>) => Effect.Effect<any, any, any>,
  options?: MemoCache.CachedOptions<any, any, any>
): any =>
  // The service first: one step both suspends the work and finds the cache.
  memoized(plan(fn, options), (f) => Effect.flatMap(tag, (memo) => f(memo.cache as AnyCache)))

/** @internal */
export const cachedWith = (
  cache: LruCache.LruCache<string, MemoCache.Entry, any>,
  fn: (...args: ReadonlyArray<any>) => Effect.Effect<any, any, any>,
  options?: MemoCache.CachedOptions<any, any, any>
): any => memoized(plan(fn, options), (f) => Effect.suspend(() => f(cache as AnyCache)))

/** @internal */
export const make = <E, R>(
  options: LruCache.Options<string, MemoCache.Entry, E, R>
): Effect.Effect<MemoCache.MemoCache, any, any> =>
  Effect.gen(function* () {
    const cache = yield* cacheInternal.make(options)
    const scope = yield* Effect.scope
    states.set(cache, { owners: new Map(), refreshing: new Set(), scope })
    return {
      [TypeId]: TypeId,
      cache: cache as LruCache.LruCache<string, MemoCache.Entry, any>,
      timeToLive: cache.timeToLive
    }
  })

/** @internal */
export const layer = <E, R>(
  options: LruCache.Options<string, MemoCache.Entry, E, R>
): Layer.Layer<any, any, any> => Layer.scoped(tag, make(options))

/** @internal */
export const key = memoKey.key
