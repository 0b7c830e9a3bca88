/**
 * The distributed lock of `getOrCompute`: one instance computes a key's value while the others
 * wait for it. The lock is a Redis key holding the holder's token, with a time to live that the
 * holder renews while it computes, so that a holder that dies only delays the others.
 */
import { randomUUID } from "node:crypto"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type { RedisError } from "../../CacheError.js"
import { type Commands, pxOf } from "./client.js"

/** Waiters are woken by the holder's invalidation; polling only covers a holder that died or failed. */
const LOCK_POLL_MILLIS = 50

/** What the cross-process part of `getOrCompute` found. */
export type Claim<V> =
  | { readonly _tag: "Found"; readonly value: V }
  /** This instance holds the lock: compute, store, release. */
  | { readonly _tag: "Locked"; readonly token: string }
  /** Compute without the lock: waited too long, or Redis is unavailable and L1 serves. */
  | { readonly _tag: "Unlocked" }

/** What one attempt to take the lock (reading the value first, if asked) found. */
export type Attempt<V> =
  | { readonly _tag: "Found"; readonly value: V }
  | { readonly _tag: "Locked" }
  /** Another instance holds the lock. */
  | { readonly _tag: "Held" }
  /** The value cannot be decoded: the next attempt takes the lock regardless, to replace it. */
  | { readonly _tag: "Undecodable" }

/**
 * Finds the value in Redis, or takes the lock, or waits for the holder (until `woken` or a poll
 * interval), within `lockWait` milliseconds; then computes without the lock, with a warning.
 * `attempt(token, readValue)` makes one attempt.
 */
export const claim = <V>(
  attempt: (token: string, readValue: boolean) => Effect.Effect<Attempt<V>, RedisError>,
  woken: Effect.Effect<void>,
  lockWait: number,
  redisKey: string
): Effect.Effect<Claim<V>, RedisError> => {
  const token = randomUUID()
  const poll = Effect.race(woken, Effect.sleep(Duration.millis(LOCK_POLL_MILLIS)))
  const loop = (start: number, readValue: boolean): Effect.Effect<Claim<V>, RedisError> =>
    Effect.flatMap(attempt(token, readValue), (found): Effect.Effect<Claim<V>, RedisError> => {
      switch (found._tag) {
        case "Found":
          return Effect.succeed(found)
        case "Locked":
          return Effect.succeed({ _tag: "Locked", token })
        case "Undecodable":
          return loop(start, false)
        case "Held":
          return Effect.flatMap(
            Effect.clockWith((clock) => clock.currentTimeMillis),
            (now) =>
              now - start >= lockWait
                ? Effect.as(
                    Effect.logWarning(
                      `RedisCache.getOrCompute: waited ${lockWait} ms for another instance to compute ${JSON.stringify(redisKey)}; computing here`
                    ),
                    { _tag: "Unlocked" } as const
                  )
                : Effect.zipRight(poll, loop(start, readValue))
          )
      }
    })
  return Effect.flatMap(
    Effect.clockWith((clock) => clock.currentTimeMillis),
    (start) => loop(start, true)
  )
}

/**
 * Runs `work` holding the lock `lockKey`: renews it every third of its time to live meanwhile, and
 * releases it after, whatever way `work` ends.
 */
export const holding = <A, E, R>(
  commands: Commands,
  lockKey: string,
  token: string,
  lockTimeToLive: number,
  work: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> => {
  const every = Duration.millis(Math.max(1, lockTimeToLive / 3))
  // A renewal that fails (Redis briefly away) must not end the others: the lock would lapse.
  const renewal = Effect.ignore(
    commands.command("getOrCompute", () => commands.client.renewLock(lockKey, token, pxOf(lockTimeToLive)))
  )
  const renew = Effect.asVoid(Effect.repeat(Effect.delay(renewal, every), Schedule.forever))
  // An unreleased lock expires by itself; the others only wait longer.
  const release = Effect.ignore(
    commands.command("getOrCompute", () => commands.client.releaseLock(lockKey, token))
  )
  return Effect.scoped(Effect.zipRight(Effect.forkScoped(renew), Effect.ensuring(work, release)))
}

/** The computations waiting for another instance's value, by encoded key. */
export class Waiters {
  private readonly waiting = new Map<string, Set<() => void>>()

  /** Completes when `wake` is called for the key (or for every key). */
  woken(encoded: string): Effect.Effect<void> {
    return Effect.async<void>((resume) => {
      const wake = () => resume(Effect.void)
      let wakers = this.waiting.get(encoded)
      if (wakers === undefined) this.waiting.set(encoded, (wakers = new Set()))
      wakers.add(wake)
      return Effect.sync(() => {
        wakers.delete(wake)
        if (wakers.size === 0 && this.waiting.get(encoded) === wakers) this.waiting.delete(encoded)
      })
    })
  }

  /** Wakes the waiters of a key, or of every key (`undefined`). */
  wake(encoded: string | undefined): void {
    if (encoded === undefined) {
      for (const wakers of this.waiting.values()) for (const wake of wakers) wake()
      return
    }
    const wakers = this.waiting.get(encoded)
    if (wakers !== undefined) for (const wake of wakers) wake()
  }
}
