/**
 * Hit ratios of the eviction policies on the real traces of test/fixtures/traces (see its README
 * for their origin), at the capacities of that README: each request is a get, and on a miss a set.
 *
 * Contenders: exact LRU (the default policy), W-TinyLFU with a fixed 1 % window and with the
 * adaptive window (the policy's default), the reference port of Caffeine's simulator that the
 * adaptive policy is held to (within 2 %), and effect's `Cache` (capacity as given, infinite TTL)
 * for contrast. Hit counts do not depend on the machine: one run each is enough.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as zlib from "node:zlib"
import * as Cache from "effect/Cache"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Lru from "../src/Lru.js"
import { longHashCode } from "../test/policy/tinyLfu.js"
import { HillClimberWindowTinyLfu, type Policy } from "../test/policy/windowTinyLfu.js"

const directory = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "test", "fixtures", "traces")

const load = (name: string): Array<number> => {
  const lines = zlib
    .gunzipSync(fs.readFileSync(path.join(directory, `${name}.keys.gz`)))
    .toString()
    .split("\n")
  if (lines[lines.length - 1] === "") lines.pop()
  return lines.map(Number)
}

const traces: ReadonlyArray<readonly [string, ReadonlyArray<number>]> = [
  ["web12", [500, 1000, 2000, 4000]],
  ["sprite", [100, 250, 500, 1000]],
  ["gli", [250, 500, 1000, 2000]],
  ["cloudphysics", [1000, 5000, 10000, 20000]]
]

const replayLru = (keys: ReadonlyArray<number>, empty: Lru.Lru<number, number>): number => {
  let lru = empty
  let hits = 0
  for (const key of keys) {
    const [found, next] = Lru.get(lru, key, 0)
    lru = next
    if (Option.isSome(found)) hits++
    else lru = Lru.set(lru, key, key, 0)[1]
  }
  return hits
}

const replayPolicy = (keys: ReadonlyArray<number>, policy: Policy<number>): number => {
  let hits = 0
  for (const key of keys) if (policy.record(key).hit) hits++
  return hits
}

const replayEffectCache = (keys: ReadonlyArray<number>, capacity: number): number =>
  Effect.runSync(
    Effect.gen(function* () {
      const cache = yield* Cache.make({
        capacity,
        timeToLive: Duration.infinity,
        lookup: (key: number) => Effect.succeed(key)
      })
      for (const key of keys) yield* cache.get(key)
      return (yield* cache.cacheStats).hits
    })
  )

interface Row {
  readonly capacity: number
  readonly hits: ReadonlyArray<number>
}

const contenders: ReadonlyArray<{
  readonly name: string
  readonly replay: (keys: ReadonlyArray<number>, capacity: number) => number
}> = [
  { name: "LRU", replay: (keys, capacity) => replayLru(keys, Lru.empty(capacity)) },
  {
    name: "W-TinyLFU fixed",
    replay: (keys, capacity) => replayLru(keys, Lru.empty(capacity, { policy: "w-tinylfu", window: "fixed" }))
  },
  {
    name: "W-TinyLFU adaptive",
    replay: (keys, capacity) => replayLru(keys, Lru.empty(capacity, { policy: "w-tinylfu" }))
  },
  {
    name: "Caffeine sim. adaptive",
    replay: (keys, capacity) => replayPolicy(keys, new HillClimberWindowTinyLfu(capacity, longHashCode))
  },
  { name: "effect Cache", replay: replayEffectCache }
]

const cell = (hits: number, lru: number): string =>
  `${hits.toLocaleString("en-US")} (${(hits / lru).toFixed(2)}x)`

export const run = async (): Promise<void> => {
  for (const [trace, capacities] of traces) {
    const keys = load(trace)
    const rows: Array<Row> = capacities.map((capacity) => ({
      capacity,
      hits: contenders.map((contender) => contender.replay(keys, capacity))
    }))
    console.log(`\n## hits on ${trace} (${keys.length.toLocaleString("en-US")} requests), ratio vs LRU`)
    const header = ["capacity", ...contenders.map((c) => c.name), "adaptive vs sim."]
    const body = rows.map((row) => [
      String(row.capacity),
      ...row.hits.map((hits, i) => (i === 0 ? hits.toLocaleString("en-US") : cell(hits, row.hits[0]!))),
      `${(((row.hits[2]! - row.hits[3]!) / row.hits[3]!) * 100).toFixed(1)} %`
    ])
    const widths = header.map((_, column) =>
      Math.max(...[header, ...body].map((line) => line[column]!.length))
    )
    const line = (cells: ReadonlyArray<string>) =>
      `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`
    console.log(line(header))
    console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`)
    for (const row of body) console.log(line(row))
  }
}
