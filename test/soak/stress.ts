/**
 * Many fibers at once, mixing every operation on one small cache with short lifetimes, then the
 * invariants a user can see: the bound, distinct keys, values that belong to their keys, stats that
 * add up, and one event per eviction and expiration. `npm test` runs it small (test/LruCache.test.ts),
 * `npm run test:soak` large under several seeds (stress.soak.ts).
 */
import { expect } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as TestClock from "effect/TestClock"
import * as LruCache from "../../src/LruCache.js"

const drain = <A>(queue: Queue.Dequeue<A>): Effect.Effect<Array<A>> =>
  Effect.map(Queue.takeAll(queue), Chunk.toArray)

export interface StressOptions {
  /** Operations, each in a fiber of its own, all started at once. */
  readonly fibers: number
  /** The seed of the operation mix, so that a failure replays. */
  readonly seed: number
}

/** Runs in a scope, with a `TestClock` (`it.scoped`). */
export const stress = (options: StressOptions) =>
  Effect.gen(function* () {
    const capacity = 16
    // Room for every event: the subscriber reads them all at the end, and must find them all.
    const cache = yield* LruCache.make<number, number>({
      capacity,
      timeToLive: "40 millis",
      eventsCapacity: 1 << 20
    })
    const events = yield* cache.subscribe
    let lookups = 0
    let getHits = 0
    // mulberry32: a small seeded generator, so that a failure replays.
    let seed = options.seed
    const random = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
      return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n)
    }
    const checkView = Effect.gen(function* () {
      const keys = yield* cache.keys
      expect(keys.length).toBeLessThanOrEqual(capacity)
      expect(new Set(keys).size).toBe(keys.length)
      const entries = yield* cache.entries
      expect(entries.length).toBeLessThanOrEqual(capacity)
      expect(new Set(entries.map(([k]) => k)).size).toBe(entries.length)
      for (const [k, v] of entries) expect(v % 1000).toBe(k)
      expect(yield* cache.size).toBeLessThanOrEqual(capacity)
    })
    const operation = (i: number): Effect.Effect<void, string> => {
      const key = random(48)
      const value = i * 1000 + key
      switch (random(14)) {
        case 0:
        case 1:
          return cache.set(key, value)
        case 2:
          return cache.set(key, value, { timeToLive: random(30) })
        case 3:
        case 4:
          lookups++
          return Effect.map(cache.get(key), (o) => {
            if (Option.isSome(o)) {
              getHits++
              expect(o.value % 1000).toBe(key)
            }
          })
        case 5:
          lookups++
          // It may join a failing computation started by the next case.
          return cache.getOrCompute(key, Effect.as(Effect.yieldNow(), value)).pipe(
            Effect.tap((v) => {
              expect(v % 1000).toBe(key)
            }),
            Effect.asVoid,
            Effect.catchAll(() => Effect.void)
          )
        case 6: {
          lookups++
          const fail = random(2) === 0
          return cache
            .getOrCompute(key, fail ? Effect.fail("no") : Effect.as(Effect.yieldNow(), value))
            .pipe(Effect.catchAll(() => Effect.void))
        }
        case 7:
          return Effect.asVoid(cache.peek(key))
        case 8:
          return Effect.asVoid(cache.has(key))
        case 9:
          return Effect.asVoid(cache.delete(key))
        case 10:
          return random(40) === 0 ? cache.clear : Effect.asVoid(cache.remainingTtl(key))
        case 11:
          return checkView
        case 12:
          return Effect.asVoid(cache.stats)
        default:
          return random(8) === 0 ? TestClock.adjust(random(20)) : Effect.asVoid(cache.values)
      }
    }
    yield* Effect.forEach(
      Array.from({ length: options.fibers }, (_, i) => i),
      (i) => Effect.suspend(() => operation(i)),
      { concurrency: "unbounded", discard: true }
    )
    yield* checkView
    const stats = yield* cache.stats
    expect(stats.hits + stats.misses).toBe(lookups)
    expect(stats.hits).toBeGreaterThanOrEqual(getHits)
    expect(stats.size).toBe(yield* cache.size)
    expect(stats.size).toBeLessThanOrEqual(capacity)
    expect(stats.evictions).toBeGreaterThan(0)
    const removals = yield* drain(events)
    expect(stats.droppedEvents).toBe(0)
    expect(removals.filter((r) => r.cause === "evicted").length).toBe(stats.evictions)
    expect(removals.filter((r) => r.cause === "expired").length).toBe(stats.expirations)
    for (const removal of removals) expect(removal.value % 1000).toBe(removal.key)
  })
