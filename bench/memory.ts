/**
 * Memory per entry of a full cache, against `lru-cache` and effect's `Cache`: heap used after a full
 * garbage collection, before and after filling each with the same entries. Needs `--expose-gc`
 * (`npm run bench` passes it).
 */
import * as Cache from "effect/Cache"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { LRUCache } from "lru-cache"
import * as Lru from "../src/Lru.js"
import * as LruCache from "../src/LruCache.js"
import { median } from "./harness.js"

const entries = 200_000

const collect = (): number => {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error("run with node --expose-gc")
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

/**
 * Bytes per entry that `fill` holds on to: the heap after minus the heap before. A small fill
 * first, so that what the first run of code leaves on the heap once (compiled code, feedback,
 * module state) is not counted per entry.
 */
const measureOnce = async (fill: (entries: number) => Promise<unknown>): Promise<number> => {
  await fill(1000)
  const before = collect()
  const held = await fill(entries)
  const after = collect()
  // Keep `held` reachable until the second measurement.
  if (held === undefined) throw new Error("nothing held")
  return (after - before) / entries
}

/** The median of three measurements: one alone moves by a few bytes with the heap's layout. */
const measure = async (fill: (entries: number) => Promise<unknown>): Promise<number> =>
  median([await measureOnce(fill), await measureOnce(fill), await measureOnce(fill)])

const value = (i: number) => `value-${i}`

export const run = async (): Promise<void> => {
  if ((globalThis as { gc?: unknown }).gc === undefined) {
    console.log("\n## memory per entry: skipped (run with node --expose-gc, as npm run bench does)")
    return
  }
  // Each structure, its bytes per entry, and the peer it is compared with.
  const results: Array<[string, number, string]> = []
  results.push([
    "Lru (pure)",
    await measure(async (entries) => {
      let lru = Lru.empty<number, string>(entries)
      for (let i = 0; i < entries; i++) lru = Lru.set(lru, i, value(i), 0)[1]
      return lru
    }),
    "lru-cache"
  ])
  results.push([
    "Lru (pure, w-tinylfu)",
    await measure(async (entries) => {
      let lru = Lru.empty<number, string>(entries, { policy: "w-tinylfu" })
      for (let i = 0; i < entries; i++) lru = Lru.set(lru, i, value(i), 0)[1]
      return lru
    }),
    "lru-cache"
  ])
  results.push([
    "LruCache",
    await measure((entries) =>
      Effect.runPromise(
        Effect.gen(function* () {
          const cache = yield* LruCache.make<number, string>({ capacity: entries })
          for (let i = 0; i < entries; i++) yield* cache.set(i, value(i))
          return cache
        }).pipe(Effect.scoped)
      )
    ),
    "lru-cache"
  ])
  results.push([
    "LruCache (w-tinylfu)",
    await measure((entries) =>
      Effect.runPromise(
        Effect.gen(function* () {
          const cache = yield* LruCache.make<number, string>({ capacity: entries, policy: "w-tinylfu" })
          for (let i = 0; i < entries; i++) yield* cache.set(i, value(i))
          return cache
        }).pipe(Effect.scoped)
      )
    ),
    "lru-cache"
  ])
  // Entries with a time to live: each then also has a place in the expiry heap, as in lru-cache
  // each has a start and a time to live in its typed arrays.
  results.push([
    "Lru (pure, every entry with a time to live)",
    await measure(async (entries) => {
      let lru = Lru.empty<number, string>(entries)
      for (let i = 0; i < entries; i++) lru = Lru.set(lru, i, value(i), 0, "1 hour")[1]
      return lru
    }),
    "lru-cache (every entry with a time to live)"
  ])
  results.push([
    "lru-cache (every entry with a time to live)",
    await measure(async (entries) => {
      const cache = new LRUCache<number, string>({ max: entries, ttl: 3_600_000 })
      for (let i = 0; i < entries; i++) cache.set(i, value(i))
      return cache
    }),
    "lru-cache (every entry with a time to live)"
  ])
  results.push([
    "lru-cache",
    await measure(async (entries) => {
      const cache = new LRUCache<number, string>({ max: entries })
      for (let i = 0; i < entries; i++) cache.set(i, value(i))
      return cache
    }),
    "lru-cache"
  ])
  results.push([
    "effect Cache",
    await measure((entries) =>
      Effect.runPromise(
        Effect.gen(function* () {
          const cache = yield* Cache.make({
            capacity: entries,
            timeToLive: Duration.infinity,
            lookup: (i: number) => Effect.succeed(value(i))
          })
          for (let i = 0; i < entries; i++) yield* cache.set(i, value(i))
          return cache
        })
      )
    ),
    "lru-cache"
  ])

  console.log(
    `\n## memory per entry (${entries.toLocaleString("en")} entries, number keys, short string values)`
  )
  console.log("| structure | bytes per entry | vs its lru-cache peer |")
  console.log("|---|---|---|")
  for (const [name, bytes, peer] of results) {
    const base = results.find(([other]) => other === peer)![1]
    console.log(`| ${name} | ${bytes.toFixed(0)} | ${(bytes / base).toFixed(2)}x (${peer}) |`)
  }
}
