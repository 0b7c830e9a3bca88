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
const measure = async (fill: (entries: number) => Promise<unknown>): Promise<number> => {
  await fill(1000)
  const before = collect()
  const held = await fill(entries)
  const after = collect()
  // Keep `held` reachable until the second measurement.
  if (held === undefined) throw new Error("nothing held")
  return (after - before) / entries
}

const value = (i: number) => `value-${i}`

export const run = async (): Promise<void> => {
  if ((globalThis as { gc?: unknown }).gc === undefined) {
    console.log("\n## memory per entry: skipped (run with node --expose-gc, as npm run bench does)")
    return
  }
  const results: Array<[string, number]> = []
  results.push([
    "Lru (pure)",
    await measure(async (entries) => {
      let lru = Lru.empty<number, string>(entries)
      for (let i = 0; i < entries; i++) lru = Lru.set(lru, i, value(i), 0)[1]
      return lru
    })
  ])
  results.push([
    "Lru (pure, w-tinylfu)",
    await measure(async (entries) => {
      let lru = Lru.empty<number, string>(entries, { policy: "w-tinylfu" })
      for (let i = 0; i < entries; i++) lru = Lru.set(lru, i, value(i), 0)[1]
      return lru
    })
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
    )
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
    )
  ])
  results.push([
    "lru-cache",
    await measure(async (entries) => {
      const cache = new LRUCache<number, string>({ max: entries })
      for (let i = 0; i < entries; i++) cache.set(i, value(i))
      return cache
    })
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
    )
  ])
  const base = results.find(([name]) => name === "lru-cache")![1]
  console.log(
    `\n## memory per entry (${entries.toLocaleString("en")} entries, number keys, short string values)`
  )
  console.log("| structure | bytes per entry | vs lru-cache |")
  console.log("|---|---|---|")
  for (const [name, bytes] of results)
    console.log(`| ${name} | ${bytes.toFixed(0)} | ${(bytes / base).toFixed(2)}x |`)
}
