import * as FileSystem from "@effect/platform/FileSystem"
import * as KeyValueStore from "@effect/platform/KeyValueStore"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import {
  Duration,
  Effect,
  Either,
  Exit,
  Metric,
  MetricState,
  Option,
  TestClock,
  TestContext,
  Tracer
} from "effect"
import * as fc from "fast-check"
import { afterAll, beforeAll } from "vitest"
import * as CachePersistence from "../src/CachePersistence.js"
import * as LruCache from "../src/LruCache.js"
import * as MemoCache from "../src/MemoCache.js"
import * as RedisCache from "../src/RedisCache.js"
import * as M from "./model.js"
import { available, type RedisServer, startServer } from "./redis/server.js"

let counter = 0
/** Metrics live in effect's global registry for the whole file: each test names its caches apart. */
const freshName = (name: string) => `${name}-${process.pid}-${counter++}`

/** The value of the metric `name` tagged `cache=<cache>` in `Metric.snapshot`, if there is one. */
const metricOf = (name: string, cache: string) =>
  Effect.map(Metric.snapshot, (pairs) => {
    const found = pairs.find(
      (pair) =>
        pair.metricKey.name === name &&
        pair.metricKey.tags.some((tag) => tag.key === "cache" && tag.value === cache)
    )
    return Option.fromNullable(found?.metricState)
  })

const counterOf = (name: string, cache: string) =>
  Effect.map(metricOf(name, cache), (state) =>
    Option.isSome(state) && MetricState.isCounterState(state.value) ? Number(state.value.count) : -1
  )

const gaugeOf = (name: string, cache: string) =>
  Effect.map(metricOf(name, cache), (state) =>
    Option.isSome(state) && MetricState.isGaugeState(state.value) ? Number(state.value.value) : -1
  )

const histogramCountOf = (name: string, cache: string) =>
  Effect.map(metricOf(name, cache), (state) =>
    Option.isSome(state) && MetricState.isHistogramState(state.value) ? state.value.count : -1
  )

/** A tracer that records every span it makes, delegating the rest to the native tracer. */
const recordingTracer = Effect.map(Effect.tracer, (native) => {
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span: (...args) => {
      const span = native.span(...args)
      spans.push(span)
      return span
    },
    context: (f, fiber) => native.context(f, fiber)
  })
  return { spans, tracer }
})

/** The attribute values of every span, as text, to check that no key reaches them. */
const attributeText = (spans: ReadonlyArray<Tracer.Span>) =>
  JSON.stringify(spans.map((span) => Array.from(span.attributes.entries())))

describe("metrics", () => {
  it.scoped(
    "a program reads the hits and misses of a cache, tagged with its name, from Metric.snapshot",
    () =>
      Effect.gen(function* () {
        const name = freshName("users")
        const cache = yield* LruCache.make<string, number>({ capacity: 10, name })
        yield* cache.set("a", 1)
        yield* cache.get("a")
        yield* cache.get("a")
        yield* cache.get("b")
        expect(cache.name).toBe(name)
        expect(yield* counterOf("effect_lru_cache_hits_total", name)).toBe(2)
        expect(yield* counterOf("effect_lru_cache_misses_total", name)).toBe(1)
        expect(yield* gaugeOf("effect_lru_cache_size", name)).toBe(1)
      })
  )

  it.scoped("reports evictions, expirations, size, loads and their duration", () =>
    Effect.gen(function* () {
      const name = freshName("all")
      const cache = yield* LruCache.make<string, number>({
        capacity: 2,
        name,
        sweepInterval: Duration.infinity
      })
      yield* cache.set("a", 1)
      yield* cache.set("b", 2)
      yield* cache.set("c", 3)
      expect(yield* counterOf("effect_lru_cache_evictions_total", name)).toBe(1)
      expect(yield* gaugeOf("effect_lru_cache_size", name)).toBe(2)
      yield* cache.set("d", 4, { timeToLive: Duration.millis(10) })
      yield* TestClock.adjust(Duration.millis(10))
      expect(yield* cache.get("d")).toEqual(Option.none())
      expect(yield* counterOf("effect_lru_cache_expirations_total", name)).toBe(1)
      expect(yield* gaugeOf("effect_lru_cache_size", name)).toBe(1)
      yield* cache.getOrCompute("e", Effect.succeed(5))
      yield* Effect.either(cache.getOrCompute("f", Effect.fail("no")))
      expect(yield* counterOf("effect_lru_cache_load_successes_total", name)).toBe(1)
      expect(yield* counterOf("effect_lru_cache_load_failures_total", name)).toBe(1)
      expect(yield* histogramCountOf("effect_lru_cache_load_duration_seconds", name)).toBe(2)
      yield* cache.clear
      expect(yield* gaugeOf("effect_lru_cache_size", name)).toBe(0)
    })
  )

  it.scoped("keeps caches with different names apart, and names a cache without a name default", () =>
    Effect.gen(function* () {
      const first = yield* LruCache.make<string, number>({ capacity: 10, name: freshName("first") })
      const second = yield* LruCache.make<string, number>({ capacity: 10, name: freshName("second") })
      yield* first.get("x")
      expect(yield* counterOf("effect_lru_cache_misses_total", first.name)).toBe(1)
      expect(yield* counterOf("effect_lru_cache_misses_total", second.name)).toBe(0)
      const unnamed = yield* LruCache.make<string, number>({ capacity: 10 })
      expect(unnamed.name).toBe("default")
    })
  )

  it.scoped("rejects a name that is not a non-empty string", () =>
    Effect.gen(function* () {
      for (const name of ["", 42 as unknown as string]) {
        const result = yield* Effect.either(LruCache.make({ capacity: 1, name }))
        expect(result).toEqual(
          Either.left(expect.objectContaining({ _tag: "InvalidOption", option: "name" }))
        )
      }
    })
  )

  it.scoped("reports flushes of a persistence backend: their duration and the bytes written", () =>
    Effect.gen(function* () {
      const name = freshName("persisted")
      const store = yield* KeyValueStore.KeyValueStore
      yield* Effect.scoped(
        Effect.gen(function* () {
          const cache = yield* LruCache.make({
            capacity: 10,
            name,
            persistence: CachePersistence.keyValueStore<string, number>({ key: "snapshot" })
          })
          yield* cache.set("a", 1)
        })
      )
      const stored = yield* store.getUint8Array("snapshot")
      expect(Option.isSome(stored)).toBe(true)
      expect(yield* counterOf("effect_lru_cache_persistence_written_bytes_total", name)).toBe(
        Option.getOrThrow(stored).length
      )
      expect(yield* histogramCountOf("effect_lru_cache_persistence_flush_duration_seconds", name)).toBe(1)
    }).pipe(Effect.provide(KeyValueStore.layerMemory))
  )
})

describe("spans", () => {
  it.scoped(
    "getOrCompute, cached and the load at start-up run in spans named after the cache, without keys",
    () =>
      Effect.gen(function* () {
        const { spans, tracer } = yield* recordingTracer
        const name = freshName("traced")
        const secretKey = "user-secret-key-1234"
        yield* Effect.gen(function* () {
          const cache = yield* LruCache.make({
            capacity: 10,
            name,
            persistence: CachePersistence.keyValueStore<string, number>({ key: "traced" })
          })
          yield* cache.getOrCompute(secretKey, Effect.succeed(1))
          // A hit computes nothing: no span.
          yield* cache.getOrCompute(secretKey, Effect.succeed(2))
          const lookup = MemoCache.cached((id: string) => Effect.succeed(id.length), { name: "lookup" })
          yield* lookup(secretKey).pipe(Effect.provide(MemoCache.layer({ capacity: 10, name })))
        }).pipe(Effect.withTracer(tracer))
        const ours = spans.filter((span) => span.attributes.get("cache.name") === name)
        expect(ours.map((span) => span.name)).toEqual([
          "LruCache.load",
          "LruCache.getOrCompute",
          "LruCache.getOrCompute"
        ])
        expect(attributeText(spans)).not.toContain(secretKey)
      }).pipe(Effect.provide(KeyValueStore.layerMemory))
  )

  it.scoped("a flush of the persistence backend runs in a span", () =>
    Effect.gen(function* () {
      const { spans, tracer } = yield* recordingTracer
      const name = freshName("flushed")
      yield* Effect.scoped(
        Effect.gen(function* () {
          const cache = yield* LruCache.make({
            capacity: 10,
            name,
            persistence: CachePersistence.keyValueStore<string, number>({ key: "flushed" })
          })
          yield* cache.set("secret-key-5678", 1)
        })
      ).pipe(Effect.withTracer(tracer))
      const flushes = spans.filter((span) => span.name === "CachePersistence.flush")
      expect(flushes.map((span) => span.attributes.get("cache.name"))).toEqual([name])
      expect(attributeText(spans)).not.toContain("secret-key-5678")
    }).pipe(Effect.provide(KeyValueStore.layerMemory))
  )
})

describe("file persistence", () => {
  it.scoped("a flush and the compaction at close run in spans and count the bytes they wrote", () =>
    Effect.gen(function* () {
      const { spans, tracer } = yield* recordingTracer
      const name = freshName("file")
      const fs = yield* FileSystem.FileSystem
      const directory = yield* fs.makeTempDirectoryScoped()
      const path = `${directory}/cache`
      yield* Effect.scoped(
        Effect.gen(function* () {
          const cache = yield* LruCache.make({
            capacity: 10,
            name,
            persistence: CachePersistence.file<string, number>({ path, durability: "always" })
          })
          yield* cache.set("file-secret-key", 1)
        })
      ).pipe(Effect.withTracer(tracer))
      const ours = spans.filter((span) => span.attributes.get("cache.name") === name).map((span) => span.name)
      expect(ours).toContain("LruCache.load")
      expect(ours).toContain("CachePersistence.flush")
      expect(ours).toContain("CachePersistence.compact")
      expect(attributeText(spans)).not.toContain("file-secret-key")
      const { size } = yield* fs.stat(path)
      // At least the final snapshot, which is what the file holds now.
      expect(
        yield* counterOf("effect_lru_cache_persistence_written_bytes_total", name)
      ).toBeGreaterThanOrEqual(Number(size))
      expect(yield* histogramCountOf("effect_lru_cache_persistence_flush_duration_seconds", name)).toBe(
        ours.filter((span) => span.startsWith("CachePersistence.")).length
      )
    }).pipe(Effect.provide(NodeContext.layer))
  )
})

// --- resetStats against the model ------------------------------------------------------------------

type Op =
  | { readonly op: "set"; readonly key: number; readonly ttl: number | undefined }
  | { readonly op: "get" | "delete"; readonly key: number }
  | { readonly op: "getOrCompute"; readonly key: number; readonly fails: boolean }
  | { readonly op: "advance"; readonly ms: number }
  | { readonly op: "resetStats" | "stats" }

const keyArb = fc.integer({ min: 0, max: 5 })
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant("set" as const),
      key: keyArb,
      ttl: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined })
    }),
    weight: 6
  },
  {
    arbitrary: fc.record({ op: fc.constantFrom("get" as const, "delete" as const), key: keyArb }),
    weight: 6
  },
  {
    arbitrary: fc.record({ op: fc.constant("getOrCompute" as const), key: keyArb, fails: fc.boolean() }),
    weight: 3
  },
  {
    arbitrary: fc.record({ op: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 15 }) }),
    weight: 2
  },
  { arbitrary: fc.record({ op: fc.constantFrom("resetStats" as const, "stats" as const) }), weight: 2 }
)

describe("resetStats", () => {
  it.effect("zeroes every counter of stats but size, as the model says, and leaves the metrics growing", () =>
    Effect.gen(function* () {
      const property = fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(opArb, { maxLength: 60 }),
        (capacity, ops) =>
          Effect.runPromise(
            Effect.scoped(
              Effect.gen(function* () {
                const name = freshName("model")
                const cache = yield* LruCache.make<number, number>({
                  capacity,
                  name,
                  sweepInterval: Duration.infinity
                })
                let model = M.empty<number, number>(capacity)
                let loads = { loadSuccesses: 0, loadFailures: 0 }
                // What the metrics must show: every count since the cache was made, resets or not.
                let totals = { hits: 0, misses: 0 }
                let now = 0
                const expectStats = Effect.gen(function* () {
                  const [, swept] = M.removeExpired(model, now)
                  model = swept
                  const { droppedEvents, evictions, expirations, hits, misses, size, ...rest } =
                    yield* cache.stats
                  expect({ hits, misses, evictions, expirations, size, droppedEvents, ...rest }).toEqual({
                    ...model.counters,
                    size: M.size(model, now),
                    droppedEvents: 0,
                    ...loads
                  })
                })
                for (const [value, op] of ops.entries()) {
                  switch (op.op) {
                    case "set":
                      yield* cache.set(op.key, value, { timeToLive: op.ttl ?? Duration.infinity })
                      model = M.set(model, op.key, value, now, op.ttl ?? Number.POSITIVE_INFINITY)[1]
                      break
                    case "get": {
                      yield* cache.get(op.key)
                      const before = model.counters
                      model = M.get(model, op.key, now)[1]
                      totals = {
                        hits: totals.hits + model.counters.hits - before.hits,
                        misses: totals.misses + model.counters.misses - before.misses
                      }
                      break
                    }
                    case "delete":
                      yield* cache.delete(op.key)
                      model = M.remove(model, op.key, now)[1]
                      break
                    case "getOrCompute": {
                      const exit = yield* Effect.exit(
                        cache.getOrCompute(op.key, op.fails ? Effect.fail("failed") : Effect.succeed(value))
                      )
                      const before = model.counters
                      const [found, next] = M.get(model, op.key, now)
                      model = next
                      totals = {
                        hits: totals.hits + model.counters.hits - before.hits,
                        misses: totals.misses + model.counters.misses - before.misses
                      }
                      if (Option.isNone(found)) {
                        if (op.fails) {
                          expect(Exit.isFailure(exit)).toBe(true)
                          loads = { ...loads, loadFailures: loads.loadFailures + 1 }
                        } else {
                          loads = { ...loads, loadSuccesses: loads.loadSuccesses + 1 }
                          model = M.set(model, op.key, value, now, Number.POSITIVE_INFINITY)[1]
                        }
                      }
                      break
                    }
                    case "advance":
                      yield* TestClock.adjust(Duration.millis(op.ms))
                      now += op.ms
                      break
                    case "resetStats":
                      yield* cache.resetStats
                      model = M.resetStats(model)
                      loads = { loadSuccesses: 0, loadFailures: 0 }
                      break
                    case "stats":
                      yield* expectStats
                      break
                  }
                }
                yield* expectStats
                expect(yield* counterOf("effect_lru_cache_hits_total", name)).toBe(totals.hits)
                expect(yield* counterOf("effect_lru_cache_misses_total", name)).toBe(totals.misses)
              })
            ).pipe(Effect.provide(TestContext.TestContext))
          )
      )
      yield* Effect.promise(() => fc.assert(property, { numRuns: 100, verbose: true }))
    })
  )
})

// --- Redis -----------------------------------------------------------------------------------------

describe.skipIf(!available)("RedisCache metrics and spans", () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startServer()
  })
  afterAll(async () => {
    await server?.stop()
  })

  it.scopedLive("counts L1 and L2 hits, resets its stats, and traces each round trip without keys", () =>
    Effect.gen(function* () {
      const { spans, tracer } = yield* recordingTracer
      const name = freshName("redis")
      const prefix = `test:metrics:${name}:`
      const connection = { path: server.socket }
      const writer = yield* RedisCache.make<string, number>({ capacity: 10, connection, prefix, name })
      const reader = yield* RedisCache.make<string, number>({ capacity: 10, connection, prefix, name })
      yield* Effect.gen(function* () {
        yield* writer.set("secret-redis-key", 1)
        // Once the writer's invalidation has reached the reader, nothing removes what it reads.
        const deadline = Date.now() + 5000
        while ((yield* reader.stats).invalidations === 0 && Date.now() < deadline) {
          yield* Effect.sleep(Duration.millis(10))
        }
        yield* reader.get("secret-redis-key") // from Redis
        yield* reader.get("secret-redis-key") // from L1
        yield* reader.get("absent-redis-key")
      }).pipe(Effect.withTracer(tracer))
      expect(yield* counterOf("effect_lru_cache_redis_l2_hits_total", name)).toBe(1)
      expect(yield* counterOf("effect_lru_cache_redis_l1_hits_total", name)).toBe(1)
      expect(yield* counterOf("effect_lru_cache_hits_total", name)).toBe(2)
      expect(yield* counterOf("effect_lru_cache_misses_total", name)).toBe(1)
      expect(yield* counterOf("effect_lru_cache_redis_invalidations_total", name)).toBe(1)
      const stats = yield* reader.stats
      expect([stats.localHits, stats.remoteHits, stats.misses]).toEqual([1, 1, 1])
      yield* reader.resetStats
      const reset = yield* reader.stats
      expect(reset).toMatchObject({
        hits: 0,
        misses: 0,
        localHits: 0,
        remoteHits: 0,
        invalidations: 0,
        size: 1
      })
      const roundTrips = spans.filter((span) => span.name === "RedisCache.roundTrip")
      expect(roundTrips.length).toBeGreaterThanOrEqual(3)
      for (const span of roundTrips) expect(span.attributes.get("cache.name")).toBe(name)
      expect(attributeText(spans)).not.toContain("secret-redis-key")
      expect(attributeText(spans)).not.toContain("absent-redis-key")
    })
  )
})
