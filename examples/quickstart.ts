/**
 * A tour of effect-lru-cache: LRU eviction, time to live, stats, removal events and a cache that
 * persists to a file, so that a second run shows what the first one stored.
 *
 * Run it with `npm start` (twice!).
 */
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Console, Duration, Effect, Option, Queue } from "effect"
import { CachePersistence, LruCache } from "../src/index.js"

const show = (value: unknown) => JSON.stringify(value)

const evictionTour = Effect.gen(function* () {
  yield* Console.log("1. LRU eviction: a cache of capacity 3")
  const cache = yield* LruCache.make<string, string>({ capacity: 3 })
  const removals = yield* cache.subscribe

  yield* cache.set("a", "apple")
  yield* cache.set("b", "banana")
  yield* cache.set("c", "cherry")
  yield* Console.log(`   set a, b, c            -> keys, most recent first: ${show(yield* cache.keys)}`)

  yield* cache.get("a")
  yield* Console.log(`   get a (a hit)          -> a is now the most recent: ${show(yield* cache.keys)}`)

  yield* cache.set("d", "date")
  const [evicted] = yield* Queue.takeAll(removals)
  yield* Console.log(
    `   set d into a full cache -> evicts the least recently used, ${show(evicted?.key)} (cause: ${evicted?.cause})`
  )
  yield* Console.log(`   keys now: ${show(yield* cache.keys)}`)

  const peeked = yield* cache.peek("c")
  yield* Console.log(
    `   peek c -> ${show(Option.getOrNull(peeked))}, and peek does not touch recency: ${show(yield* cache.keys)}`
  )

  const stats = yield* cache.stats
  yield* Console.log(
    `   stats: ${stats.hits} hit, ${stats.misses} misses, ${stats.evictions} eviction, size ${stats.size}/${cache.capacity}`
  )
})

const timeToLiveTour = Effect.gen(function* () {
  yield* Console.log("\n2. Time to live: entries expire by the Clock")
  const cache = yield* LruCache.make<string, string>({ capacity: 100, timeToLive: Duration.millis(300) })
  yield* cache.set("session", "alice")
  yield* cache.set("pinned", "forever", { timeToLive: Duration.infinity })
  const remaining = yield* cache.remainingTtl("session")
  yield* Console.log(
    `   set session (default TTL 300 ms) and pinned (no expiry); session has ${Option.match(remaining, {
      onNone: () => "nothing",
      onSome: Duration.format
    })} left`
  )
  yield* Effect.sleep(Duration.millis(350))
  const session = yield* cache.get("session")
  const pinned = yield* cache.get("pinned")
  yield* Console.log(
    `   350 ms later: get session -> ${show(Option.getOrNull(session))} (expired), get pinned -> ${show(Option.getOrNull(pinned))}`
  )
  const stats = yield* cache.stats
  yield* Console.log(`   stats: ${stats.expirations} expiration, ${stats.hits} hit, ${stats.misses} miss`)
})

const computeTour = Effect.gen(function* () {
  yield* Console.log("\n3. getOrCompute: many callers, one computation")
  const cache = yield* LruCache.make<string, number>({ capacity: 10 })
  let runs = 0
  const slowSquare = Effect.sleep(Duration.millis(50)).pipe(
    Effect.as(12 * 12),
    Effect.tap(() => runs++)
  )
  const answers = yield* Effect.all(
    Array.from({ length: 5 }, () => cache.getOrCompute("12^2", slowSquare)),
    { concurrency: "unbounded" }
  )
  yield* Console.log(`   5 concurrent callers got ${show(answers)}; the computation ran ${runs} time`)
})

const persistenceTour = Effect.gen(function* () {
  yield* Console.log("\n4. Persistence: a cache that survives restarts")
  const path = ".quickstart-cache/visits.bin"
  // The key and value types go on the backend; `make` infers them, and the write error it adds.
  const cache = yield* LruCache.make({
    capacity: 100,
    persistence: CachePersistence.file<string, number | string>({ path, durability: "always" })
  })
  const previous = yield* cache.get("runs")
  const lastRun = yield* cache.get("last run")
  if (Option.isNone(previous)) {
    yield* Console.log(`   ${path} was empty: this is the first run. Run \`npm start\` again!`)
  } else {
    yield* Console.log(
      `   loaded from ${path}: this demo ran ${previous.value} time(s) before, last at ${Option.getOrElse(lastRun, () => "?")}`
    )
  }
  const runs = Option.match(previous, { onNone: () => 1, onSome: (n) => Number(n) + 1 })
  yield* cache.set("runs", runs)
  yield* cache.set("last run", new Date().toISOString())
  yield* Console.log(`   stored runs = ${runs}: each set completed once its journal record was fsynced`)
})

const program = Effect.gen(function* () {
  yield* Effect.scoped(evictionTour)
  yield* Effect.scoped(timeToLiveTour)
  yield* Effect.scoped(computeTour)
  yield* Effect.scoped(persistenceTour)
})

program.pipe(Effect.provide(NodeContext.layer), NodeRuntime.runMain)
