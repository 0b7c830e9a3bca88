/**
 * Get/set throughput through the service on skewed workloads, against effect's `Cache` and against
 * `lru-cache` called inside `Effect.sync`, all driven by the same Effect loop.
 */
import * as Cache from "effect/Cache"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { LRUCache } from "lru-cache"
import * as Lru from "../src/Lru.js"
import * as LruCache from "../src/LruCache.js"
import { compare, report } from "./harness.js"

/** A Zipf-like key sequence: key i is drawn with probability proportional to 1 / (i + 1)^skew. */
const zipfKeys = (count: number, keySpace: number, skew: number, seed: number): Array<number> => {
  const weights = Array.from({ length: keySpace }, (_, i) => 1 / (i + 1) ** skew)
  const cumulative: Array<number> = []
  let total = 0
  for (const w of weights) cumulative.push((total += w))
  let state = seed
  const random = () => {
    // mulberry32: a seeded generator, so every contender sees the same sequence in every round
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const keys: Array<number> = []
  for (let i = 0; i < count; i++) {
    const target = random() * total
    let low = 0
    let high = keySpace - 1
    while (low < high) {
      const mid = (low + high) >> 1
      if (cumulative[mid]! < target) low = mid + 1
      else high = mid
    }
    keys.push(low)
  }
  return keys
}

export interface Workload {
  readonly name: string
  readonly keys: ReadonlyArray<number>
  /** Whether operation i is a read (get, and set on a miss) rather than a plain set. */
  readonly reads: ReadonlyArray<boolean>
  readonly capacity: number
}

export const workload = (
  name: string,
  keySpace: number,
  skew: number,
  readShare: number,
  capacity: number
): Workload => {
  const operations = 200_000
  const keys = zipfKeys(operations, keySpace, skew, 42)
  const reads = zipfKeys(operations, 100, 0, 7).map((r) => r < readShare * 100)
  return { name, keys, reads, capacity }
}

/** The same loop for every contender: a read is get, then set on a miss; a write is set. */
export const loop = (
  w: Workload,
  get: (key: number) => Effect.Effect<Option.Option<number>>,
  set: (key: number, value: number) => Effect.Effect<void>
) =>
  Effect.gen(function* () {
    for (let i = 0; i < w.keys.length; i++) {
      const key = w.keys[i]!
      if (w.reads[i]) {
        const found = yield* get(key)
        if (Option.isNone(found)) yield* set(key, key)
      } else {
        yield* set(key, key)
      }
    }
    return w.keys.length
  })

const effectCache = (w: Workload) =>
  Cache.make({
    capacity: w.capacity,
    timeToLive: Duration.infinity,
    lookup: (key: number) => Effect.succeed(key)
  })

const service = (w: Workload, policy: "lru" | "w-tinylfu") => () =>
  Effect.runPromise(
    Effect.scoped(
      Effect.flatMap(LruCache.make<number, number>({ capacity: w.capacity, policy }), (cache) =>
        loop(
          w,
          (key) => cache.get(key),
          (key, value) => cache.set(key, value)
        )
      )
    )
  )

const pure = (w: Workload, policy: "lru" | "w-tinylfu") => async () => {
  let lru = Lru.empty<number, number>(w.capacity, { policy })
  for (let i = 0; i < w.keys.length; i++) {
    const key = w.keys[i]!
    if (w.reads[i]) {
      const [found, next] = Lru.get(lru, key, 0)
      lru = next
      if (Option.isNone(found)) lru = Lru.set(lru, key, key, 0)[1]
    } else {
      lru = Lru.set(lru, key, key, 0)[1]
    }
  }
  return w.keys.length
}

/** The peer every ratio is against: `lru-cache`, each operation in an `Effect.sync`. */
export const lruCacheInEffect = (w: Workload) => ({
  name: "lru-cache in Effect.sync",
  run: () => {
    const cache = new LRUCache<number, number>({ max: w.capacity })
    return Effect.runPromise(
      loop(
        w,
        (key) => Effect.sync(() => Option.fromNullable(cache.get(key))),
        (key, value) => Effect.sync(() => void cache.set(key, value))
      )
    )
  }
})

const someZero = Option.some(0)

/**
 * Which operations of `w` are reads that hit under exact LRU, indexed by operation (a read that
 * misses is followed by its set, which takes the next index), as lru-cache answers them.
 */
const hitsOf = (w: Workload): Array<boolean> => {
  const cache = new LRUCache<number, number>({ max: w.capacity })
  const hits: Array<boolean> = []
  for (let i = 0; i < w.keys.length; i++) {
    const key = w.keys[i]!
    if (w.reads[i]) {
      const hit = cache.get(key) !== undefined
      hits.push(hit)
      if (!hit) {
        cache.set(key, key)
        hits.push(false)
      }
    } else {
      cache.set(key, key)
      hits.push(false)
    }
  }
  return hits
}

const contenders = (w: Workload, hit = hitsOf(w)) => [
  { name: "LruCache", run: service(w, "lru") },
  { name: "LruCache (w-tinylfu)", run: service(w, "w-tinylfu") },
  lruCacheInEffect(w),
  {
    // The idiomatic get-or-set of effect's Cache: `get` runs the lookup on a miss and stores it.
    name: "effect Cache (get + lookup)",
    run: () =>
      Effect.runPromise(
        Effect.flatMap(effectCache(w), (cache) =>
          loop(
            w,
            (key) => Effect.asSome(cache.get(key)),
            (key, value) => cache.set(key, value)
          )
        )
      )
  },
  {
    name: "effect Cache (getOption + set)",
    run: () =>
      Effect.runPromise(
        Effect.flatMap(effectCache(w), (cache) =>
          loop(
            w,
            (key) => cache.getOption(key),
            (key, value) => cache.set(key, value)
          )
        )
      )
  },
  {
    // The floor: the same loop and the same effects, each answering from a precomputed table with
    // no cache behind it. What a contender costs above this is the work of its cache.
    name: "the loop alone (no cache)",
    run: () => {
      let i = 0
      return Effect.runPromise(
        loop(
          w,
          () => Effect.sync(() => (hit[i++] ? someZero : Option.none())),
          () =>
            Effect.sync(() => {
              i++
            })
        )
      )
    }
  },
  { name: "Lru (pure, no Effect)", run: pure(w, "lru") },
  { name: "Lru (pure, no Effect, w-tinylfu)", run: pure(w, "w-tinylfu") }
]

/** The two loads of this benchmark, which bench/layout.ts replays too. */
export const workloads = (): Array<Workload> => [
  workload("read-heavy: 90% reads, Zipf 1.0 over 100k keys, capacity 10k", 100_000, 1.0, 0.9, 10_000),
  workload("miss-heavy: 90% reads, Zipf 0.6 over 1M keys, capacity 10k", 1_000_000, 0.6, 0.9, 10_000)
]

export const run = async (): Promise<void> => {
  for (const w of workloads()) {
    const results = await compare(contenders(w), { rounds: 7, warmup: 2 })
    report(`get/set, ${w.name}`, results, [
      "lru-cache in Effect.sync",
      "effect Cache (get + lookup)",
      "effect Cache (getOption + set)"
    ])
    // Where the time goes: each contender's time per operation, less the loop's own.
    const nanos = (name: string) => 1e9 / results.find((result) => result.name === name)!.opsPerSecond
    const floor = nanos("the loop alone (no cache)")
    const peer = nanos("lru-cache in Effect.sync") - floor
    console.log(`\nthe loop alone: ${floor.toFixed(0)} ns an operation; above it:`)
    console.log("| contender | ns an operation above the loop | vs lru-cache's |")
    console.log("|---|---|---|")
    for (const name of ["lru-cache in Effect.sync", "LruCache", "LruCache (w-tinylfu)"]) {
      const above = nanos(name) - floor
      console.log(`| ${name} | ${above.toFixed(0)} | ${(above / peer).toFixed(2)}x |`)
    }
  }
}
