/**
 * The Redis tier against plain ioredis, on a redis-server of its own (unix socket, no persistence):
 * an L1 hit, an L2 hit (L1 too small to hold the working set), a miss and a set through
 * `RedisCache`, against ioredis GET (hit and miss) and SET, with 1 and 64 concurrent fibers (or
 * promises). Throughput is the median of interleaved rounds; latency percentiles come from one more
 * timed round of each. Skipped when no redis-server is installed.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { Redis } from "ioredis"
import * as RedisCache from "../src/RedisCache.js"
import { available, startServer } from "../test/redis/server.js"
import { compare, median, report } from "./harness.js"

const ROUND_MILLIS = 200
const KEYS = 1_000
const VALUE = { id: 42, name: "Ada Lovelace", tags: ["math", "engines"], updatedAt: new Date(0) }

/** One operation of a contender; `i` counts the operations of the round. */
type Operation = (i: number) => Promise<unknown>

interface Workload {
  readonly name: string
  readonly operation: Operation
}

/** Runs `operation` from `concurrency` loops for one round; returns the operations done. */
const round = async (
  operation: Operation,
  concurrency: number,
  latencies?: Array<number>
): Promise<number> => {
  const end = performance.now() + ROUND_MILLIS
  let count = 0
  const worker = async () => {
    while (performance.now() < end) {
      const i = count++
      if (latencies === undefined) {
        await operation(i)
      } else {
        const start = performance.now()
        await operation(i)
        latencies.push(performance.now() - start)
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return count
}

/** Runs `concurrency` fibers in one Effect program for one round, like {@link round}. */
const effectRound = <A>(
  operation: (i: number) => Effect.Effect<A, unknown>,
  concurrency: number,
  latencies?: Array<number>
): Promise<number> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const end = performance.now() + ROUND_MILLIS
      let count = 0
      const worker = Effect.gen(function* () {
        while (performance.now() < end) {
          const i = count++
          if (latencies === undefined) {
            yield* operation(i)
          } else {
            const start = performance.now()
            yield* operation(i)
            latencies.push(performance.now() - start)
          }
        }
      })
      yield* Effect.all(
        Array.from({ length: concurrency }, () => worker),
        { concurrency: "unbounded", discard: true }
      )
      return count
    })
  )

const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!

const formatMicros = (millis: number): string => `${(millis * 1000).toFixed(1)} µs`

export const run = async (): Promise<void> => {
  if (!available) {
    console.log("\n## redis: skipped (redis-server is not installed; see .ci/install-redis.sh)")
    return
  }
  const server = await startServer()
  const scope = Effect.runSync(Scope.make())
  try {
    const connection = { path: server.socket }
    const make = (prefix: string, capacity: number) =>
      Effect.runPromise(
        Scope.extend(RedisCache.make<string, typeof VALUE>({ capacity, connection, prefix }), scope)
      )
    // `near` holds the whole working set in L1; `far` holds one entry, so that cycling over the keys
    // always misses L1 and reads Redis (and refills L1, as a real L2 hit does).
    const near = await make("bench:", KEYS)
    const far = await make("bench:", 1)
    const plain = new Redis({ path: server.socket })
    const keys = Array.from({ length: KEYS }, (_, i) => `key:${i}`)
    const encoded = Array.from({ length: KEYS }, () => Buffer.from(JSON.stringify(VALUE)))
    await Effect.runPromise(Effect.forEach(keys, (key) => near.set(key, VALUE), { discard: true }))
    await Promise.all(keys.map((key, i) => plain.set(`plain:${key}`, encoded[i]!)))
    await Effect.runPromise(Effect.forEach(keys, (key) => near.get(key), { discard: true }))

    const cache = (name: string, operation: (i: number) => Effect.Effect<unknown, unknown>) => ({
      name,
      effect: operation
    })
    const effectWorkloads = [
      cache("RedisCache get, L1 hit", (i) => near.get(keys[i % KEYS]!)),
      cache("RedisCache get, L2 hit", (i) => far.get(keys[i % KEYS]!)),
      cache("RedisCache get, miss", (i) => near.get(`absent:${i}`)),
      cache("RedisCache set", (i) => near.set(keys[i % KEYS]!, VALUE))
    ]
    const plainWorkloads: Array<Workload> = [
      { name: "ioredis GET, hit", operation: (i) => plain.getBuffer(`plain:${keys[i % KEYS]}`) },
      { name: "ioredis GET, miss", operation: (i) => plain.getBuffer(`plain:absent:${i}`) },
      { name: "ioredis SET", operation: (i) => plain.set(`plain:${keys[i % KEYS]}`, encoded[i % KEYS]!) }
    ]

    const latencyRows: Array<ReadonlyArray<string>> = []
    for (const concurrency of [1, 64]) {
      const contenders = [
        ...effectWorkloads.map((workload) => ({
          name: workload.name,
          run: () => effectRound(workload.effect, concurrency)
        })),
        ...plainWorkloads.map((workload) => ({
          name: workload.name,
          run: () => round(workload.operation, concurrency)
        }))
      ]
      const results = await compare(contenders, { rounds: 5, warmup: 1 })
      report(
        `redis: ${concurrency} concurrent ${concurrency === 1 ? "fiber" : "fibers"} (unix socket, ${KEYS} keys, ${ROUND_MILLIS} ms rounds)`,
        results,
        ["ioredis GET, hit", "ioredis SET"]
      )
      for (const contender of [...effectWorkloads, ...plainWorkloads]) {
        const latencies: Array<number> = []
        if ("effect" in contender) await effectRound(contender.effect, concurrency, latencies)
        else await round(contender.operation, concurrency, latencies)
        latencies.sort((a, b) => a - b)
        latencyRows.push([
          contender.name,
          String(concurrency),
          formatMicros(median(latencies)),
          formatMicros(percentile(latencies, 99))
        ])
      }
    }
    console.log("\n## redis: latency per operation (one timed round each)")
    const header = ["contender", "fibers", "p50", "p99"]
    const widths = header.map((_, c) => Math.max(...[header, ...latencyRows].map((row) => row[c]!.length)))
    const line = (row: ReadonlyArray<string>) =>
      `| ${row.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ")} |`
    console.log(line(header))
    console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`)
    for (const row of latencyRows) console.log(line(row))
    plain.disconnect()
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    await server.stop()
  }
}
