/**
 * The doors the behaviour suite drives: the ways a value gets into a cache. One entry each.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as MemoCache from "../../src/MemoCache.js"
import { MEMO_NAME } from "./backends.js"
import type { AnyCache, Door, Key } from "./suite.js"

const identity = (a: unknown) => a

/** A refresh through the cache's own `refresh`, the door of `set` and `getOrCompute`. */
const refreshOf =
  (cache: AnyCache) =>
  (key: Key, value: number, timeToLive: Duration.DurationInput | undefined, fails: boolean) =>
    Effect.either(cache.refresh(key, fails ? Effect.fail("failed") : Effect.succeed(value), { timeToLive }))

export const set: Door = {
  name: "set",
  kind: "set",
  open: (place, settings) =>
    Effect.map(place.cache(settings), (cache) => ({
      cache,
      storedKey: identity,
      storedValue: identity,
      write: (key, value, timeToLive) => Effect.either(Effect.asVoid(cache.set(key, value, { timeToLive }))),
      refresh: refreshOf(cache)
    }))
}

export const getOrCompute: Door = {
  name: "getOrCompute",
  kind: "compute",
  open: (place, settings) =>
    Effect.map(place.cache(settings), (cache) => ({
      cache,
      storedKey: identity,
      storedValue: identity,
      write: (key, value, timeToLive, fails) =>
        Effect.either(
          cache.getOrCompute(key, fails ? Effect.fail("failed") : Effect.succeed(value), { timeToLive })
        ),
      refresh: refreshOf(cache)
    }))
}

/** A memoized function of one argument, the key, whose results live in the backend's cache. */
export const cached: Door = {
  name: "cached(fn)",
  kind: "compute",
  open: (place, settings) =>
    Effect.gen(function* () {
      // What the next call computes, and how long its result lives: set by each write.
      let next: { value: number; fails: boolean; timeToLive: Duration.DurationInput | undefined } = {
        value: 0,
        fails: false,
        timeToLive: undefined
      }
      const { cache, call, refresh } = yield* place.memoize(
        settings,
        (_key: Key) => (next.fails ? Effect.fail("failed") : Effect.succeed(next.value)),
        (exit) =>
          Exit.isFailure(exit) ? Duration.zero : (next.timeToLive ?? settings.timeToLive ?? Duration.infinity)
      )
      return {
        cache,
        storedKey: (key: Key) => Either.getOrThrow(MemoCache.key(MEMO_NAME, [key])),
        storedValue: (entry: unknown) => {
          const stored = entry as MemoCache.Entry
          return stored._tag === "Success" ? stored.value : stored
        },
        write: (key: Key, value: number, timeToLive: Duration.DurationInput | undefined, fails: boolean) =>
          Effect.suspend(() => {
            next = { value, fails, timeToLive }
            return Effect.either(call(key))
          }),
        refresh: (key: Key, value: number, timeToLive: Duration.DurationInput | undefined, fails: boolean) =>
          Effect.suspend(() => {
            next = { value, fails, timeToLive }
            return Effect.either(refresh(key))
          })
      }
    })
}

/** Every door, as the behaviour suites drive them. */
export const everyDoor: ReadonlyArray<Door> = [set, getOrCompute, cached]
