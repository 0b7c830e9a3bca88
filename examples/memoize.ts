/**
 * Memoizing a slow effectful function with `cached`: the first call pays for the work, the second
 * is answered from the cache; argument objects with their properties in another order give the same
 * key; a refresh runs the work again while calls keep getting the stored result.
 *
 *   npx tsx examples/memoize.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Duration, Effect, Either } from "effect"
import { cached, MemoCache } from "../src/index.js"

const MemoLive = MemoCache.layer({ capacity: 1_000, timeToLive: Duration.minutes(5) })

interface Query {
  readonly city: string
  readonly units: "metric" | "imperial"
}

/** Stands for a slow remote call. */
const fetchForecast = (query: Query) =>
  Effect.sleep("300 millis").pipe(
    Effect.as(`${query.city}: 21°${query.units === "metric" ? "C" : "F"}, light wind`)
  )

const forecast = cached(fetchForecast)

const timed = <A, E, R>(label: string, self: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const start = performance.now()
    const result = yield* self
    yield* Console.log(
      `${label.padEnd(40)} ${(performance.now() - start).toFixed(1).padStart(7)} ms  ${result}`
    )
  })

const program = Effect.gen(function* () {
  yield* timed("first call (runs fetchForecast)", forecast({ city: "Lyon", units: "metric" }))
  yield* timed("second call (from the cache)", forecast({ city: "Lyon", units: "metric" }))
  yield* timed("same query, properties reordered", forecast({ units: "metric", city: "Lyon" }))
  yield* timed("another query (runs fetchForecast)", forecast({ city: "Oslo", units: "metric" }))

  // A refresh in the background: calls meanwhile get the stored forecast at once.
  const refreshing = yield* Effect.fork(forecast.refresh({ city: "Lyon", units: "metric" }))
  yield* timed("during a refresh (the stored result)", forecast({ city: "Lyon", units: "metric" }))
  yield* timed("the refresh landing (waits for it)", Effect.as(refreshing.await, "refreshed"))

  yield* Console.log("\nKeys are canonical, whatever the property order:")
  const a = MemoCache.key("fetchForecast", [{ city: "Lyon", units: "metric" }])
  const b = MemoCache.key("fetchForecast", [{ units: "metric", city: "Lyon" }])
  yield* Console.log(`  { city, units } -> ${Either.getOrThrow(a)}`)
  yield* Console.log(`  { units, city } -> ${Either.getOrThrow(b)}`)
  yield* Console.log(`  same key: ${Either.getOrThrow(a) === Either.getOrThrow(b)}`)
})

NodeRuntime.runMain(program.pipe(Effect.provide(MemoLive)))
