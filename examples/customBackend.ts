/**
 * A persistence backend of your own: examples/mapBackend.ts implements the public contract of
 * `CachePersistence` (`Persistence`, `Backend`, `OpenContext`) over a `Map`. A cache persists
 * through it and closes; a second cache opened on the same store finds the entries again, in the
 * same recency order, with what is left of their time to live.
 *
 *   npx tsx examples/customBackend.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Duration, Effect, Option } from "effect"
import { LruCache } from "../src/index.js"
import { type MapStore, mapBackend } from "./mapBackend.js"

const store: MapStore = new Map()

const firstRun = Effect.gen(function* () {
  const cache = yield* LruCache.make({ capacity: 3, persistence: mapBackend<string, unknown>(store) })
  yield* cache.set("a", 1)
  yield* cache.set("b", { tags: new Set(["x", "y"]) })
  yield* cache.set("c", new Date(0), { timeToLive: Duration.minutes(5) })
  yield* cache.get("a") // a hit: "a" becomes the most recently used
  // A function has no encoding: the set fails with a typed error and the cache is unchanged.
  const refused = yield* Effect.flip(cache.set("d", () => "code"))
  yield* Console.log(`set "d" failed: ${refused.reason} (${refused.description})`)
  yield* Console.log(`first cache:  ${(yield* cache.keys).join(", ")} (most recently used first)`)
})

const secondRun = Effect.gen(function* () {
  const cache = yield* LruCache.make({ capacity: 3, persistence: mapBackend<string, unknown>(store) })
  yield* Console.log(`second cache: ${(yield* cache.keys).join(", ")}`)
  yield* Console.log(`  "b" =`, Option.getOrUndefined(yield* cache.get("b")))
  const ttl = yield* cache.remainingTtl("c")
  const seconds = Option.map(ttl, (left) => `${Math.round(Duration.toSeconds(left))} s`)
  yield* Console.log(`  "c" expires in ${Option.getOrElse(seconds, () => "-")}`)
})

const program = Effect.gen(function* () {
  yield* Effect.scoped(firstRun)
  yield* Console.log(`store after the first cache closed: ${store.size} entries`)
  yield* Effect.scoped(secondRun)
})

NodeRuntime.runMain(program)
