/**
 * A second instance of the cache in its own process, for the Redis tests: a `RedisCache` on the
 * socket given as first argument (options as JSON in the second), driven by one JSON request per
 * line on stdin, answering one JSON line per request on stdout. Requests run concurrently.
 *
 * `getOrCompute` computes `"<pid>:<key>"` after `computeMillis`, counting its computations
 * (`computations` reports the count).
 */
import { createInterface } from "node:readline"
// Deep imports: the barrels would double this process's start-up time.
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as RedisCache from "../../src/RedisCache.js"

const [socket, options] = process.argv.slice(2)

const program = Effect.gen(function* () {
  const cache = yield* RedisCache.make<string, unknown>({
    capacity: 100,
    connection: { path: socket! },
    ...JSON.parse(options!)
  })
  let computations = 0
  const handle = (request: any): Effect.Effect<unknown, unknown> => {
    switch (request.op) {
      case "get":
        return Effect.map(cache.get(request.key), Option.getOrNull)
      case "peek":
        return Effect.map(cache.peek(request.key), Option.getOrNull)
      case "has":
        return cache.has(request.key)
      case "set":
        return cache.set(
          request.key,
          request.value,
          request.timeToLive === undefined ? undefined : { timeToLive: Duration.millis(request.timeToLive) }
        )
      case "delete":
        return cache.delete(request.key)
      case "clear":
        return cache.clear
      case "stats":
        return cache.stats
      case "computations":
        return Effect.succeed(computations)
      case "getOrCompute":
        return cache.getOrCompute(
          request.key,
          Effect.sync(() => {
            computations++
            return `${process.pid}:${request.key}`
          }).pipe(Effect.delay(Duration.millis(request.computeMillis)))
        )
      default:
        return Effect.fail(`unknown op ${request.op}`)
    }
  }
  const lines = createInterface({ input: process.stdin })
  console.log(JSON.stringify({ ready: true }))
  yield* Stream.fromAsyncIterable(lines, (error) => error).pipe(
    Stream.mapEffect(
      (line) => {
        const request = JSON.parse(line)
        return handle(request).pipe(
          Effect.match({
            onFailure: (error) => ({ id: request.id, error: String(error) }),
            onSuccess: (result) => ({ id: request.id, result: result ?? null })
          }),
          Effect.tap((response) => Effect.sync(() => console.log(JSON.stringify(response))))
        )
      },
      { concurrency: "unbounded" }
    ),
    Stream.runDrain
  )
})

NodeRuntime.runMain(Effect.scoped(program))
