/**
 * Two cache instances sharing Redis, as two processes behind a load balancer would: what one
 * writes the other reads, a change made by one drops the other's in-process copy, and a value that
 * both ask for at once is computed once.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/redis.ts
 *   REDIS_SOCKET=/run/redis/redis.sock npx tsx examples/redis.ts
 *
 * Without either, it tries redis://127.0.0.1:6379. No Redis reachable: it says so and exits.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Duration, Effect, Option } from "effect"
import type { RedisOptions } from "ioredis"
import * as MemoCache from "../src/MemoCache.js"
import * as RedisCache from "../src/RedisCache.js"

const connection: string | RedisOptions =
  process.env.REDIS_SOCKET !== undefined
    ? { path: process.env.REDIS_SOCKET }
    : (process.env.REDIS_URL ?? "redis://127.0.0.1:6379")

const options = {
  capacity: 1_000,
  timeToLive: Duration.minutes(5),
  connection,
  // One prefix per run: the example never touches anything else in your Redis.
  prefix: `example:${process.pid}:`,
  whenUnavailable: "fail"
} as const

/** Stands for a slow query that every instance may need at once. */
let queries = 0
const loadPrice = (product: string) =>
  Effect.sync(() => {
    queries++
    return { product, price: 42 }
  }).pipe(Effect.delay("200 millis"))

const program = Effect.gen(function* () {
  const a = yield* RedisCache.make<string, { product: string; price: number }>(options)
  const b = yield* RedisCache.make<string, { product: string; price: number }>(options)
  yield* Console.log(
    `Connected; instances ${a.instanceId.slice(0, 8)} (A) and ${b.instanceId.slice(0, 8)} (B)\n`
  )

  yield* a.set("apple", { product: "apple", price: 3 })
  yield* Console.log("A sets apple = 3")
  yield* Console.log(`B gets apple: ${JSON.stringify(Option.getOrNull(yield* b.get("apple")))} (from Redis)`)
  yield* Console.log(`B gets apple: ${JSON.stringify(Option.getOrNull(yield* b.get("apple")))} (from its L1)`)

  yield* a.set("apple", { product: "apple", price: 4 })
  // The invalidation travels through Redis pub/sub; give it a moment.
  yield* Effect.sleep("20 millis")
  yield* Console.log("A sets apple = 4, which drops B's copy")
  yield* Console.log(`B gets apple: ${JSON.stringify(Option.getOrNull(yield* b.get("apple")))}\n`)

  const everyone = [a, b].flatMap((cache) =>
    Array.from({ length: 5 }, () => cache.getOrCompute("pear", loadPrice("pear")))
  )
  yield* Effect.all(everyone, { concurrency: "unbounded" })
  yield* Console.log(`10 concurrent getOrCompute("pear") over A and B: ${queries} query\n`)

  yield* a.set("flash-sale", { product: "kiwi", price: 1 }, { timeToLive: Duration.millis(100) })
  yield* Console.log(
    `flash-sale lives ${Duration.format(Option.getOrThrow(yield* b.remainingTtl("flash-sale")))}`
  )
  yield* Effect.sleep("150 millis")
  yield* Console.log(
    `after 150 ms, B gets flash-sale: ${Option.getOrNull(yield* b.get("flash-sale"))} (Redis expired it)\n`
  )

  // Memoization works over a Redis cache as over any other.
  const memo = yield* RedisCache.make<string, MemoCache.Entry>({
    ...options,
    prefix: `${options.prefix}memo:`
  })
  const square = MemoCache.cachedWith(memo, (n: number) => Effect.succeed(n * n), { name: "square" })
  yield* Console.log(`memoized square(12) = ${yield* square(12)}`)

  const stats = yield* b.stats
  yield* Console.log(
    `B: ${stats.localHits} L1 hits, ${stats.remoteHits} Redis hits, ${stats.misses} misses, ${stats.invalidations} invalidations received`
  )
  yield* a.clear
  yield* memo.clear
  yield* Console.log("Cleared this run's keys (its prefix only).")
})

const main = Effect.scoped(program).pipe(
  Effect.catchTag("RedisError", (error) =>
    Console.log(
      `No Redis reachable (${error.message}).\nStart one (e.g. \`redis-server --port 6379 --save ""\`), or set REDIS_URL or REDIS_SOCKET.`
    )
  )
)

NodeRuntime.runMain(main)
