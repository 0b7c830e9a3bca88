/**
 * The W-TinyLFU policy of `Lru` (`policy: "w-tinylfu"`), held to the reference port of Caffeine's
 * simulator in test/policy decision by decision, to the cache's rules under random operations, to
 * the persistence of its versions (sketch and climber included), and to exact hit counts on the
 * real traces of test/fixtures/traces.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as zlib from "node:zlib"
import { describe, expect, it } from "@effect/vitest"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Hash from "effect/Hash"
import * as Option from "effect/Option"
import fc from "fast-check"
import { InvalidOption } from "../src/CacheError.js"
import { FrequencySketch, integerHash, spread } from "../src/internal/frequencySketch.js"
import * as internal from "../src/internal/lru.js"
import { TinyLfu } from "../src/internal/tinyLfu.js"
import * as Lru from "../src/Lru.js"
import * as LruCache from "../src/LruCache.js"
import * as MemoCache from "../src/MemoCache.js"
import { CountMin4, JavaRandom, longHashCode, RANDOM_SEED } from "./policy/tinyLfu.js"
import { HillClimberWindowTinyLfu, type Policy, WindowTinyLfu } from "./policy/windowTinyLfu.js"

type Window = "adaptive" | "fixed"

const reference = <K>(window: Window, capacity: number, hash: (key: K) => number): Policy<K> =>
  window === "fixed" ? new WindowTinyLfu(capacity, hash) : new HillClimberWindowTinyLfu(capacity, hash)

const tinyLfu = <K>(capacity: number, window: Window): Lru.Lru<K, K> =>
  Lru.empty<K, K>(capacity, { policy: "w-tinylfu", window })

/** One request of a trace: get, and on a miss set. Returns the hit and the evicted keys. */
const request = <K>(lru: Lru.Lru<K, K>, key: K): readonly [boolean, ReadonlyArray<K>, Lru.Lru<K, K>] => {
  const [found, next] = Lru.get(lru, key, 0)
  if (Option.isSome(found)) return [true, [], next]
  const [removed, after] = Lru.set(next, key, key, 0)
  return [false, removed.map((removal) => removal.key), after]
}

/** Replays `keys` on both; fails at the first request where they differ. Returns the hits. */
const compareDecisions = <K>(
  keys: ReadonlyArray<K>,
  capacity: number,
  window: Window,
  hash: (key: K) => number
): number => {
  const model = reference(window, capacity, hash)
  let lru = tinyLfu<K>(capacity, window)
  let hits = 0
  keys.forEach((key, i) => {
    const expected = model.record(key)
    const [hit, evicted, next] = request(lru, key)
    lru = next
    if (hit !== expected.hit || evicted.length !== expected.evicted.length) {
      expect({ request: i, key, hit, evicted }).toEqual({ request: i, key, ...expected })
    }
    evicted.forEach((k, j) => {
      if (k !== expected.evicted[j])
        expect({ request: i, key, hit, evicted }).toEqual({ request: i, key, ...expected })
    })
    if (hit) hits++
  })
  expect(Lru.isValid(lru)).toBe(true)
  expect(Lru.size(lru, 0)).toBeLessThanOrEqual(capacity)
  return hits
}

// ---------------------------------------------------------------------------------------------------

describe("the frequency sketch's arithmetic", () => {
  it("spreads, hashes integers and indexes the table as the simulator's Java does", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.maxSafeInteger(), fc.maxSafeNat()),
        fc.integer({ min: 1, max: 1 << 22 }),
        (n, capacity) => {
          const model = new CountMin4(capacity)
          const sketch = new FrequencySketch(capacity)
          expect(integerHash(n)).toBe(longHashCode(n))
          const hash = spread(longHashCode(n))
          expect(hash).toBe(model.spread(longHashCode(n)))
          for (let i = 0; i < 4; i++) expect(sketch.indexOf(hash, i)).toBe(model.indexOf(hash, i))
        }
      )
    )
  })

  it("draws the random admissions from java.util.Random's sequence, seeded as the simulator", () => {
    const policy = new TinyLfu(100, "adaptive", () => {})
    const random = new JavaRandom(RANDOM_SEED)
    for (let i = 0; i < 10_000; i++) expect(policy.nextFloat()).toBe(random.nextFloat())
  })

  it("counts, saturates at 15 and halves as the simulator's sketch does", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 2000 }),
        (capacity, keys) => {
          const model = new CountMin4(capacity)
          const sketch = new FrequencySketch(capacity)
          let additions = 0
          for (const key of keys) {
            const hash = spread(longHashCode(key))
            model.increment(longHashCode(key))
            if (sketch.increment(hash) !== 0 && ++additions === sketch.period) {
              additions = (additions - (sketch.halve() >>> 2)) >>> 1
            }
            expect(additions).toBe(model.additions)
            expect(sketch.frequency(hash)).toBe(model.frequency(longHashCode(key)))
          }
        }
      ),
      { numRuns: 50 }
    )
  })
})

describe("W-TinyLFU against the reference port of Caffeine's simulator", () => {
  /** Skewed requests over a small key space, so that there are hits, admissions and rejections. */
  const requestsArb = (keySpace: number) =>
    fc.array(
      fc.oneof(
        { arbitrary: fc.integer({ min: 0, max: 4 }), weight: 3 },
        { arbitrary: fc.integer({ min: 0, max: keySpace }), weight: 2 }
      ),
      { minLength: 1, maxLength: 3000, size: "max" }
    )

  it.each(["adaptive", "fixed"] as const)(
    "makes the same decisions (%s window) on random integer traces: same hits, same evicted keys",
    (window) => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 40 }), requestsArb(120), (capacity, keys) => {
          compareDecisions(keys, capacity, window, longHashCode)
        }),
        { numRuns: 60 }
      )
    }
  )

  it("makes the same decisions on string and Data keys, through their effect Hash", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.constantFrom<Window>("adaptive", "fixed"),
        requestsArb(80),
        (capacity, window, codes) => {
          const strings = codes.map((code) => `key ${code}`)
          compareDecisions(strings, capacity, window, (key) => Hash.string(key))
          // A fresh struct per request: equal structs are one key, hashed by their content.
          const model = reference<number>(window, capacity, (code) => Hash.hash(Data.struct({ code })))
          let lru = tinyLfu<{ readonly code: number }>(capacity, window)
          for (const code of codes) {
            const expected = model.record(code)
            const [hit, evicted, next] = request(lru, Data.struct({ code }))
            lru = next
            expect(hit).toBe(expected.hit)
            expect(evicted.map((key) => key.code)).toEqual(expected.evicted)
          }
        }
      ),
      { numRuns: 30 }
    )
  })
})

// ---------------------------------------------------------------------------------------------------

/** Random operations with time and time to live (ttl 0 or less: nothing stored). */
type Op =
  | { readonly op: "set"; readonly key: number; readonly ttl: number | undefined }
  | { readonly op: "get" | "delete" | "peek"; readonly key: number }
  | { readonly op: "removeExpired" | "clear" }
  | { readonly op: "advance"; readonly ms: number }

const keyArb = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 5 }), weight: 3 },
  fc.integer({ min: 0, max: 30 })
)
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant("set" as const),
      key: keyArb,
      ttl: fc.option(fc.integer({ min: -2, max: 30 }), { nil: undefined })
    }),
    weight: 8
  },
  {
    arbitrary: fc.record({
      op: fc.constantFrom("get" as const, "delete" as const, "peek" as const),
      key: keyArb
    }),
    weight: 8
  },
  { arbitrary: fc.record({ op: fc.constantFrom("removeExpired" as const, "clear" as const) }), weight: 1 },
  {
    arbitrary: fc.record({ op: fc.constant("advance" as const), ms: fc.integer({ min: 1, max: 10 }) }),
    weight: 3
  }
)

describe("W-TinyLFU keeps the cache's rules", () => {
  /** What is stored (live or expired), as the contract says, the victims taken from the policy. */
  interface Stored {
    readonly value: number
    readonly expiresAt: number
  }

  it("live count within capacity, expired entries before live ones, evictions as 'evicted', answers as stored", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom<Window>("adaptive", "fixed"),
        fc.array(opArb, { minLength: 1, maxLength: 400, size: "max" }),
        (capacity, window, ops) => {
          let lru = Lru.empty<number, number>(capacity, { policy: "w-tinylfu", window })
          const stored = new Map<number, Stored>()
          let now = 0
          let value = 0
          const expiredAt = (at: number) =>
            [...stored].filter(([, entry]) => entry.expiresAt <= at).map(([key]) => key)
          for (const op of ops) {
            switch (op.op) {
              case "advance":
                now += op.ms
                break
              case "peek":
                expect(Option.getOrUndefined(Lru.peek(lru, op.key, now))).toBe(
                  expiredAt(now).includes(op.key) ? undefined : stored.get(op.key)?.value
                )
                break
              case "get": {
                const entry = stored.get(op.key)
                const [found, next] = Lru.get(lru, op.key, now)
                if (entry !== undefined && entry.expiresAt <= now) {
                  expect(internal.lastRemoved(next)).toEqual([
                    { key: op.key, value: entry.value, cause: "expired" }
                  ])
                  stored.delete(op.key)
                }
                expect(Option.getOrUndefined(found)).toBe(
                  entry !== undefined && now < entry.expiresAt ? entry.value : undefined
                )
                lru = next
                break
              }
              case "delete": {
                const entry = stored.get(op.key)
                const [removed, next] = Lru.remove(lru, op.key, now)
                expect(removed).toEqual(
                  entry === undefined
                    ? []
                    : [
                        {
                          key: op.key,
                          value: entry.value,
                          cause: now < entry.expiresAt ? "deleted" : "expired"
                        }
                      ]
                )
                stored.delete(op.key)
                lru = next
                break
              }
              case "removeExpired": {
                const expired = expiredAt(now)
                const [removed, next] = Lru.removeExpired(lru, now)
                expect(removed.map((r) => [r.key, r.cause]).sort()).toEqual(
                  expired.map((k) => [k, "expired"]).sort()
                )
                for (const key of expired) stored.delete(key)
                lru = next
                break
              }
              case "clear": {
                const [removed, next] = Lru.clear(lru, now)
                expect(removed.length).toBe(stored.size)
                stored.clear()
                lru = next
                break
              }
              case "set": {
                const v = value++
                const expiresAt = op.ttl === undefined ? Number.POSITIVE_INFINITY : now + op.ttl
                const entry = stored.get(op.key)
                const [removed, next] = Lru.set(lru, op.key, v, now, op.ttl)
                lru = next
                if (entry !== undefined) {
                  const cause = now < entry.expiresAt ? "replaced" : "expired"
                  expect(removed).toEqual([{ key: op.key, value: entry.value, cause }])
                  if (expiresAt > now) stored.set(op.key, { value: v, expiresAt })
                  else stored.delete(op.key)
                  break
                }
                if (expiresAt <= now) {
                  expect(removed).toEqual([])
                  break
                }
                // A new key: when full, every expired entry goes, and a live one only if still full.
                const expired = stored.size >= capacity ? expiredAt(now) : []
                const expiredRemovals = removed.filter((r) => r.cause === "expired")
                expect(expiredRemovals.map((r) => r.key).sort()).toEqual([...expired].sort())
                for (const key of expired) stored.delete(key)
                const evicted = removed.filter((r) => r.cause === "evicted")
                expect(evicted.length + expiredRemovals.length).toBe(removed.length)
                expect(evicted.length).toBe(stored.size >= capacity ? 1 : 0)
                stored.set(op.key, { value: v, expiresAt })
                for (const removal of evicted) {
                  expect(stored.get(removal.key)?.value).toBe(removal.value)
                  stored.delete(removal.key)
                }
                break
              }
            }
            expect(Lru.isValid(lru)).toBe(true)
            expect(Lru.size(lru, now)).toBeLessThanOrEqual(capacity)
            expect(internal.storedCount(lru)).toBe(stored.size)
            expect(new Set(Lru.keys(lru, now))).toEqual(
              new Set([...stored].filter(([, entry]) => now < entry.expiresAt).map(([key]) => key))
            )
          }
        }
      ),
      { numRuns: 150 }
    )
  })
})

// ---------------------------------------------------------------------------------------------------

describe("W-TinyLFU persistence of versions", () => {
  /** Removals in a canonical order: entries expiring at the same time may leave in any order. */
  const canonical = (removed: ReadonlyArray<Lru.Removal<number, number>>) =>
    [...removed].sort((a, b) => a.cause.localeCompare(b.cause) || a.key - b.key)

  /** Applies `op` at `now`; returns what a user sees of it, the next version, and the next time. */
  const apply = (
    lru: Lru.Lru<number, number>,
    op: Op,
    now: number,
    value: number
  ): readonly [unknown, Lru.Lru<number, number>, number] => {
    switch (op.op) {
      case "advance":
        return [null, lru, now + op.ms]
      case "peek":
        return [Option.getOrUndefined(Lru.peek(lru, op.key, now)), lru, now]
      case "get": {
        const [found, next] = Lru.get(lru, op.key, now)
        return [
          [Option.getOrUndefined(found), next === lru ? [] : canonical(internal.lastRemoved(next))],
          next,
          now
        ]
      }
      case "set": {
        const [removed, next] = Lru.set(lru, op.key, value, now, op.ttl)
        return [canonical(removed), next, now]
      }
      case "delete": {
        const [removed, next] = Lru.remove(lru, op.key, now)
        return [canonical(removed), next, now]
      }
      case "removeExpired": {
        const [removed, next] = Lru.removeExpired(lru, now)
        return [canonical(removed), next, now]
      }
      case "clear": {
        const [removed, next] = Lru.clear(lru, now)
        return [canonical(removed), next, now]
      }
    }
  }

  const observe = (lru: Lru.Lru<number, number>, now: number) => ({
    entries: Lru.entries(lru, now),
    persisted: Lru.toPersisted(lru, now),
    size: Lru.size(lru, now)
  })

  it("every version answers and decides forever as when it was made: sketch, window and generator included", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.constantFrom<Window>("adaptive", "fixed"),
        fc.array(
          opArb.filter((op) => op.op !== "clear"),
          { minLength: 20, maxLength: 400, size: "max" }
        ),
        fc.array(fc.record({ version: fc.nat(), steps: fc.integer({ min: 0, max: 40 }) }), {
          minLength: 5,
          maxLength: 25
        }),
        (capacity, window, ops, revisits) => {
          // The family under test: every version kept.
          const versions: Array<Lru.Lru<number, number>> = [
            Lru.empty(capacity, { policy: "w-tinylfu", window })
          ]
          const times = [0]
          const answers: Array<unknown> = []
          const observed = [observe(versions[0]!, 0)]
          ops.forEach((op, i) => {
            const [answer, next, now] = apply(versions[i]!, op, times[i]!, i)
            answers.push(answer)
            versions.push(next)
            times.push(now)
            observed.push(observe(next, now))
          })
          for (const revisit of revisits) {
            const i = revisit.version % ops.length
            expect(observe(versions[i]!, times[i]!)).toEqual(observed[i])
            // Going on from an old version (a branch) decides as the first time, step after step.
            let lru = versions[i]!
            for (let j = i; j < Math.min(ops.length, i + 1 + revisit.steps); j++) {
              const [answer, next] = apply(lru, ops[j]!, times[j]!, j)
              expect({ step: j, answer }).toEqual({ step: j, answer: answers[j] })
              expect(observe(next, times[j + 1]!)).toEqual(observed[j + 1])
              lru = next
            }
            expect(observe(versions[i]!, times[i]!)).toEqual(observed[i])
          }
          // Back and forth over every version, then onwards from the newest: as a family never read back.
          for (let i = versions.length - 1; i >= 0; i -= 3) {
            expect(Lru.isValid(versions[i]!)).toBe(true)
            expect(observe(versions[i]!, times[i]!)).toEqual(observed[i])
          }
          let control = versions[0]!
          let controlNow = 0
          ops.forEach((op, i) => {
            control = apply(control, op, controlNow, i)[1]
            controlNow = times[i + 1]!
          })
          let lru = versions[ops.length]!
          let now = times[ops.length]!
          ops.forEach((op, i) => {
            const [answer, next, after] = apply(lru, op, now, i)
            const [expected, controlNext] = apply(control, op, now, i)
            expect({ step: i, answer }).toEqual({ step: i, answer: expected })
            lru = next
            control = controlNext
            now = after
          })
        }
      ),
      { numRuns: 60 }
    )
  })
})

// ---------------------------------------------------------------------------------------------------

const directory = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "traces")

const load = (name: string): Array<number> => {
  const text = zlib.gunzipSync(fs.readFileSync(path.join(directory, `${name}.keys.gz`))).toString()
  const lines = text.split("\n")
  if (lines[lines.length - 1] === "") lines.pop()
  return lines.map(Number)
}

describe("W-TinyLFU on the real traces", () => {
  const traces = new Map(["gli", "web12", "sprite", "cloudphysics"].map((name) => [name, load(name)]))

  it.each([250, 500, 1000, 2000])(
    "decides as the reference on every request of gli with capacity %i, both windows",
    (capacity) => {
      const keys = traces.get("gli")!
      compareDecisions(keys, capacity, "adaptive", longHashCode)
      compareDecisions(keys, capacity, "fixed", longHashCode)
    }
  )

  /** Hits measured with the reference port (the same with the production policy); the LRU column is the README's oracle. */
  const counts: ReadonlyArray<readonly [string, number, Window, number, number]> = [
    ["gli", 250, "adaptive", 931, 55],
    ["gli", 500, "adaptive", 1_993, 57],
    ["gli", 1000, "adaptive", 3_015, 674],
    ["gli", 2000, "adaptive", 3_486, 3_453],
    ["gli", 250, "fixed", 970, 55],
    ["gli", 2000, "fixed", 3_486, 3_453],
    ["web12", 500, "adaptive", 56_931, 53_329],
    ["web12", 4000, "adaptive", 74_320, 75_504],
    ["web12", 2000, "fixed", 70_364, 69_371],
    ["sprite", 100, "adaptive", 37_159, 28_917],
    ["sprite", 1000, "adaptive", 112_598, 121_452],
    ["sprite", 100, "fixed", 42_472, 28_917],
    ["cloudphysics", 10000, "adaptive", 32_141, 34_434],
    ["cloudphysics", 20000, "adaptive", 53_127, 41_819]
  ]

  it.each(counts)(
    "%s with capacity %i, %s window, scores exactly %i hits (LRU: %i)",
    (trace, capacity, window, expected, lru) => {
      let cache = tinyLfu<number>(capacity, window)
      let hits = 0
      let evictions = 0
      for (const key of traces.get(trace)!) {
        const [hit, evicted, next] = request(cache, key)
        cache = next
        if (hit) hits++
        evictions += evicted.length
      }
      expect(hits).toBe(expected)
      expect(evictions).toBe(traces.get(trace)!.length - hits - Lru.size(cache, 0))
      expect(hits).toBeGreaterThanOrEqual(0.9 * lru)
      expect(Lru.isValid(cache)).toBe(true)
    }
  )
})

// ---------------------------------------------------------------------------------------------------

describe("W-TinyLFU through LruCache and restore", () => {
  it.scoped("LruCache with policy w-tinylfu scores the policy's hits on gli with capacity 500", () =>
    Effect.gen(function* () {
      const cache = yield* LruCache.make<number, number>({ capacity: 500, policy: "w-tinylfu" })
      const keys = load("gli")
      yield* Effect.forEach(
        keys,
        (key) =>
          Effect.flatMap(cache.get(key), (value) =>
            Option.isNone(value) ? cache.set(key, key) : Effect.void
          ),
        { discard: true }
      )
      const stats = yield* cache.stats
      expect(stats.hits).toBe(1_993)
      expect(stats.evictions).toBe(keys.length - 1_993 - stats.size)
      expect(stats.size).toBe(500)
    })
  )

  it.effect("MemoCache takes the policy too: cached results are served from a W-TinyLFU cache", () =>
    Effect.gen(function* () {
      let runs = 0
      const square = MemoCache.cached(
        (n: number) =>
          Effect.sync(() => {
            runs++
            return n * n
          }),
        { name: "square" }
      )
      for (const n of [1, 2, 1, 2, 1]) expect(yield* square(n)).toBe(n * n)
      expect(runs).toBe(2)
    }).pipe(Effect.provide(MemoCache.layer({ capacity: 100, policy: "w-tinylfu" })))
  )

  it.scoped("LruCache.make rejects an unknown policy with a typed error naming the option", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        LruCache.make<number, number>({ capacity: 3, policy: "lfu" as unknown as "lru" })
      )
      expect(error).toBeInstanceOf(InvalidOption)
      expect((error as InvalidOption).option).toBe("policy")
      expect(error.message).toContain("w-tinylfu")
    })
  )

  it("Lru.empty rejects unknown policy and window values", () => {
    expect(() => Lru.empty(3, { policy: "lfu" as unknown as "lru" })).toThrow(/policy/)
    expect(() => Lru.empty(3, { policy: "w-tinylfu", window: "wide" as unknown as "fixed" })).toThrow(
      /window/
    )
  })

  it("restore keeps the entries and their recency, and the restored value goes on under the policy", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 200 }),
        fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 200 }),
        (capacity, before, after) => {
          let lru = tinyLfu<number>(capacity, "adaptive")
          for (const key of before) lru = request(lru, key)[2]
          let restored = internal.restore(capacity, Lru.toPersisted(lru, 0), 0, { policy: "w-tinylfu" })
          expect(Lru.entries(restored, 0)).toEqual(Lru.entries(lru, 0))
          expect(Lru.isValid(restored)).toBe(true)
          for (const key of after) {
            restored = request(restored, key)[2]
            expect(Lru.isValid(restored)).toBe(true)
            expect(Lru.size(restored, 0)).toBeLessThanOrEqual(capacity)
          }
        }
      ),
      { numRuns: 60 }
    )
  })
})
