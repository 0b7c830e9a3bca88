/**
 * The exact-LRU oracle: on real access traces, a get-then-set-on-miss loop must score exactly the hit
 * counts of test/fixtures/traces/README.md. Any other count is a bug in the recency order.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as zlib from "node:zlib"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Lru from "../src/Lru.js"
import * as LruCache from "../src/LruCache.js"

const directory = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "traces")

const load = (name: string): Array<number> => {
  const text = zlib.gunzipSync(fs.readFileSync(path.join(directory, `${name}.keys.gz`))).toString()
  const lines = text.split("\n")
  if (lines[lines.length - 1] === "") lines.pop()
  return lines.map(Number)
}

/** Requests, distinct keys and `capacity: hits`, as in the README's tables. */
const oracle: ReadonlyArray<{
  readonly trace: string
  readonly requests: number
  readonly distinct: number
  readonly hits: ReadonlyArray<readonly [number, number]>
}> = [
  {
    trace: "web12",
    requests: 95_607,
    distinct: 13_756,
    hits: [
      [500, 53_329],
      [1000, 61_882],
      [2000, 69_371],
      [4000, 75_504]
    ]
  },
  {
    trace: "sprite",
    requests: 133_996,
    distinct: 7_075,
    hits: [
      [100, 28_917],
      [250, 65_443],
      [500, 104_922],
      [1000, 121_452]
    ]
  },
  {
    trace: "gli",
    requests: 6_015,
    distinct: 2_529,
    hits: [
      [250, 55],
      [500, 57],
      [1000, 674],
      [2000, 3_453]
    ]
  },
  {
    trace: "cloudphysics",
    requests: 113_872,
    distinct: 48_974,
    hits: [
      [1000, 19_049],
      [5000, 22_345],
      [10000, 34_434],
      [20000, 41_819]
    ]
  }
]

const traces = new Map(oracle.map(({ trace }) => [trace, load(trace)]))

describe("exact-LRU oracle", () => {
  describe.each(oracle)("$trace", ({ distinct, hits, requests, trace }) => {
    const keys = traces.get(trace)!

    it("has the README's number of requests and distinct keys", () => {
      expect(keys.length).toBe(requests)
      expect(new Set(keys).size).toBe(distinct)
      expect(keys.every(Number.isSafeInteger)).toBe(true)
    })

    it.each(hits)("Lru with capacity %i scores exactly %i hits", (capacity, expected) => {
      let lru = Lru.empty<number, number>(capacity)
      let found = 0
      let evictions = 0
      for (const key of keys) {
        const [value, next] = Lru.get(lru, key, 0)
        lru = next
        if (Option.isSome(value)) {
          found++
        } else {
          const [removed, after] = Lru.set(lru, key, key, 0)
          lru = after
          for (const removal of removed) if (removal.cause === "evicted") evictions++
        }
      }
      expect(found).toBe(expected)
      expect(evictions).toBe(requests - expected - Math.min(capacity, distinct))
      expect(Lru.size(lru, 0)).toBe(Math.min(capacity, distinct))
      expect(Lru.isValid(lru)).toBe(true)
    })
  })

  const service: ReadonlyArray<readonly [string, number, number]> = [
    ...oracle
      .find((o) => o.trace === "gli")!
      .hits.map(([capacity, hits]) => ["gli", capacity, hits] as const),
    ["web12", 1000, 61_882]
  ]

  it.scoped.each(service)(
    "LruCache on %s with capacity %i scores exactly %i hits",
    ([trace, capacity, expected]) =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<number, number>({ capacity })
        const keys = traces.get(trace)!
        yield* Effect.forEach(
          keys,
          (key) =>
            Effect.flatMap(cache.get(key), (value) =>
              Option.isNone(value) ? cache.set(key, key) : Effect.void
            ),
          { discard: true }
        )
        const stats = yield* cache.stats
        expect(stats.hits).toBe(expected)
        expect(stats.misses).toBe(keys.length - expected)
        expect(stats.evictions).toBe(keys.length - expected - stats.size)
      })
  )

  it.scoped(
    "LruCache.getOrCompute on gli with capacity 2000 scores exactly 3453 hits and loads every miss",
    () =>
      Effect.gen(function* () {
        const cache = yield* LruCache.make<number, number>({ capacity: 2000 })
        const keys = traces.get("gli")!
        yield* Effect.forEach(keys, (key) => cache.getOrCompute(key, Effect.succeed(key)), { discard: true })
        const stats = yield* cache.stats
        expect(stats.hits).toBe(3_453)
        expect(stats.loadSuccesses).toBe(keys.length - 3_453)
      })
  )
})
