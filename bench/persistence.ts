/**
 * Persistence: the cost of a persisted `set` per durability mode, with 10k and with 1M entries in
 * the cache (the ratio should be near 1: a write costs the same whatever the size), and the time
 * to load a 1M-entry cache against `JSON.parse` of the same data as a floor.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeContext } from "@effect/platform-node"
import { Effect, Either, Exit, Scope } from "effect"
import type { PersistenceError } from "../src/CacheError.js"
import * as CachePersistence from "../src/CachePersistence.js"
import * as journal from "../src/internal/persistence/records.js"
import * as LruCache from "../src/LruCache.js"
import { compare, median, report } from "./harness.js"

interface Value {
  readonly id: number
  readonly name: string
}

const userValue = (i: number): Value => ({ id: i, name: `user number ${i}` })
const keyOf = (i: number) => `user:${i}`

const encode = (value: unknown) => Either.getOrThrow(CachePersistence.codec.structuredClone.encode(value))

/** Writes a snapshot of `size` entries directly, in the backend's format. */
const writeSnapshot = (path: string, size: number) => {
  const parts: Array<Uint8Array> = [journal.encodeHeader(journal.SNAPSHOT_MAGIC, 1)]
  for (let i = 0; i < size; i++) {
    parts.push(journal.encodeSet(encode(keyOf(i)), encode(userValue(i)), Number.POSITIVE_INFINITY))
  }
  parts.push(journal.encodeEnd(size))
  writeFileSync(path, Buffer.concat(parts), { mode: 0o600 })
}

type Cache = LruCache.LruCache<string, Value, PersistenceError>

const open = async (path: string, size: number, durability: CachePersistence.Durability) => {
  const scope = Effect.runSync(Scope.make())
  const started = performance.now()
  const cache = await Effect.runPromise(
    LruCache.make({
      capacity: size,
      persistence: CachePersistence.file<string, Value>({ path, durability })
    }).pipe(Scope.extend(scope), Effect.provide(NodeContext.layer))
  )
  const loadMillis = performance.now() - started
  return { cache, loadMillis, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

/** Overwrites random existing keys: the cache's size stays put, so only the write's cost is measured. */
const writes = (cache: Cache, size: number, count: number, concurrency: number) => () =>
  Effect.runPromise(
    Effect.forEach(
      Array.from({ length: concurrency }, (_, fiber) => fiber),
      (fiber) =>
        Effect.gen(function* () {
          for (let n = fiber; n < count; n += concurrency) {
            const i = Math.floor(Math.random() * size)
            yield* cache.set(keyOf(i), userValue(i))
          }
        }),
      { concurrency: "unbounded", discard: true }
    )
  ).then(() => count)

const collect = (): void => (globalThis as { gc?: () => void }).gc?.()

/**
 * The load of a 1M-entry snapshot against its floor, `JSON.parse` of the same entries as one JSON
 * text, in rounds that alternate the two. Run first, and with a full garbage collection before
 * each timing (when `--expose-gc` allows it, as `npm run bench` does), so that neither pays for the
 * garbage of the other or of another benchmark.
 */
const measureLoad = async (path: string): Promise<void> => {
  const text = JSON.stringify(Array.from({ length: LARGE }, (_, i) => [keyOf(i), userValue(i), null]))
  const parse = () => {
    const started = performance.now()
    const parsed = JSON.parse(text) as Array<unknown>
    const millis = performance.now() - started
    if (parsed.length !== LARGE) throw new Error("parsed the wrong text")
    return millis
  }
  // A function of its own, so that no variable of the loop below holds a loaded cache into the next
  // round: a million live entries left over would slow every collection of the next load.
  const load = async () => {
    const cache = await open(path, LARGE, "close")
    const size = await Effect.runPromise(cache.cache.size)
    await cache.close()
    if (size !== LARGE) throw new Error(`loaded ${size} entries, not ${LARGE}`)
    return cache.loadMillis
  }
  const loads: Array<number> = []
  const parses: Array<number> = []
  for (let round = -1; round < 5; round++) {
    collect()
    const loaded = await load()
    collect()
    const parsed = parse()
    // Round -1 warms both up.
    if (round >= 0) {
      loads.push(loaded)
      parses.push(parsed)
    }
  }
  const loadMedian = median(loads)
  const parseMedian = median(parses)
  console.log(`\n## load of a ${LARGE / 1_000_000}M-entry cache`)
  console.log(`| what | median | vs JSON.parse |`)
  console.log(`|---|---|---|`)
  console.log(
    `| LruCache.make with CachePersistence.file | ${loadMedian.toFixed(0)} ms | ${(loadMedian / parseMedian).toFixed(2)}x |`
  )
  console.log(`| JSON.parse of the same entries | ${parseMedian.toFixed(0)} ms | 1.00x |`)
  console.log(
    `\nload / JSON.parse, round by round: ${loads.map((l, i) => (l / parses[i]!).toFixed(2)).join(", ")}`
  )
}

const SMALL = 10_000
const LARGE = 1_000_000

export const run = async (): Promise<void> => {
  const directory = mkdtempSync(join(tmpdir(), "effect-lru-cache-bench-"))
  try {
    const small = join(directory, "small.bin")
    const large = join(directory, "large.bin")
    writeSnapshot(small, SMALL)
    writeSnapshot(large, LARGE)
    await measureLoad(large)
    const plans: ReadonlyArray<{
      durability: CachePersistence.Durability
      count: number
      concurrency: number
    }> = [
      // "always" with 64 writers at once: the group commit is what is measured.
      { durability: "always", count: 4_000, concurrency: 64 },
      { durability: "interval", count: 50_000, concurrency: 1 },
      { durability: "close", count: 50_000, concurrency: 1 }
    ]
    // For reference: the same writes without persistence, to tell the cost of a large cache from
    // the cost of persisting into one.
    const inMemory = async (size: number) => {
      const scope = Effect.runSync(Scope.make())
      const cache = await Effect.runPromise(
        Effect.tap(LruCache.make<string, Value>({ capacity: size }), (cache) =>
          Effect.forEach(
            Array.from({ length: size }, (_, i) => i),
            (i) => cache.set(keyOf(i), userValue(i)),
            {
              discard: true
            }
          )
        ).pipe(Scope.extend(scope))
      )
      return { cache: cache as Cache, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
    }
    const smallMemory = await inMemory(SMALL)
    const largeMemory = await inMemory(LARGE)
    const memory = await compare(
      [
        { name: `${SMALL / 1000}k entries`, run: writes(smallMemory.cache, SMALL, 50_000, 1) },
        { name: `${LARGE / 1_000_000}M entries`, run: writes(largeMemory.cache, LARGE, 50_000, 1) }
      ],
      { rounds: 5, warmup: 1 }
    )
    report("in-memory set, no persistence (reference)", memory, [`${SMALL / 1000}k entries`])
    await smallMemory.close()
    await largeMemory.close()
    const costs: Array<string> = []
    for (const plan of plans) {
      const smallCache = await open(small, SMALL, plan.durability)
      const largeCache = await open(large, LARGE, plan.durability)
      const results = await compare(
        [
          {
            name: `${SMALL / 1000}k entries`,
            run: writes(smallCache.cache, SMALL, plan.count, plan.concurrency)
          },
          {
            name: `${LARGE / 1_000_000}M entries`,
            run: writes(largeCache.cache, LARGE, plan.count, plan.concurrency)
          }
        ],
        { rounds: 5, warmup: 1 }
      )
      report(`persisted set, durability "${plan.durability}"`, results, [`${SMALL / 1000}k entries`])
      // What persisting adds to a write, net of the cache itself (single writers only: "always"
      // is measured with 64 writers sharing fsyncs).
      if (plan.concurrency === 1) {
        const added = results.map((result, i) =>
          ((1 / result.opsPerSecond - 1 / memory[i]!.opsPerSecond) * 1e6).toFixed(1)
        )
        costs.push(`| "${plan.durability}" | ${added[0]} µs | ${added[1]} µs |`)
      }
      await smallCache.close()
      await largeCache.close()
    }
    console.log("\n## time persisting adds to a set (persisted minus in-memory, single writer)")
    console.log(`| durability | ${SMALL / 1000}k entries | ${LARGE / 1_000_000}M entries |`)
    console.log("|---|---|---|")
    for (const line of costs) console.log(line)
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run()
