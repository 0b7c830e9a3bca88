/**
 * The effect `Metric`s every cache reports, tagged with its name (`cache="<name>"`), under one
 * naming scheme that follows Prometheus' conventions: a prefix `effect_lru_cache_`, counters ending
 * in `_total`, durations in seconds, sizes in bytes.
 *
 * The hooks are taken from effect's global metric registry once per cache, so an update on the hot
 * path is one call to the hook the registry (and so `Metric.snapshot` and every exporter) reads:
 * no key lookup, no allocation, no fiber.
 */
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import type * as MetricHook from "effect/MetricHook"
import * as MetricKey from "effect/MetricKey"

/** @internal */
export const PREFIX = "effect_lru_cache_"

/** The label every metric of a cache carries. */
const LABEL = "cache"

/**
 * Buckets of the duration histograms, in seconds: 100 µs to about 105 s, doubling, which covers a
 * computation from a memory lookup to a slow remote call.
 */
const durationBoundaries = MetricBoundaries.exponential({ start: 0.0001, factor: 2, count: 21 })

const counter = (name: string, description: string) => MetricKey.counter(`${PREFIX}${name}`, { description })

/** The name, description and type of every metric, for the docs and the tests. */
export const keys = {
  hits: counter("hits_total", "get and getOrCompute calls that found a live entry"),
  misses: counter("misses_total", "get and getOrCompute calls that found no live entry"),
  evictions: counter("evictions_total", "live entries removed to make room"),
  expirations: counter("expirations_total", "entries removed because their time to live ran out"),
  loadSuccesses: counter("load_successes_total", "getOrCompute computations that succeeded"),
  loadFailures: counter(
    "load_failures_total",
    "getOrCompute computations that failed, died or were interrupted"
  ),
  size: MetricKey.gauge(`${PREFIX}size`, { description: "entries held in memory" }),
  loadDuration: MetricKey.histogram(
    `${PREFIX}load_duration_seconds`,
    durationBoundaries,
    "time a getOrCompute computation took"
  ),
  flushDuration: MetricKey.histogram(
    `${PREFIX}persistence_flush_duration_seconds`,
    durationBoundaries,
    "time a persistence flush (write and fsync) or compaction took"
  ),
  bytesWritten: counter("persistence_written_bytes_total", "bytes written by the persistence backend"),
  l1Hits: counter("redis_l1_hits_total", "Redis cache hits answered from the in-process level"),
  l2Hits: counter("redis_l2_hits_total", "Redis cache hits answered from Redis"),
  unavailable: counter("redis_unavailable_total", "operations Redis could not serve"),
  invalidations: MetricKey.counter(`${PREFIX}redis_invalidations_total`, {
    description: "invalidations received from other instances"
  })
}

type Hooks = {
  readonly [Name in keyof typeof keys]: (typeof keys)[Name] extends MetricKey.MetricKey.Gauge<number>
    ? MetricHook.MetricHook.Gauge<number>
    : (typeof keys)[Name] extends MetricKey.MetricKey.Histogram
      ? MetricHook.MetricHook.Histogram
      : MetricHook.MetricHook.Counter<number>
}

/** The metrics every cache reports; the others only once a backend or the Redis tier reports one. */
const everyCache: ReadonlyArray<keyof typeof keys> = [
  "hits",
  "misses",
  "evictions",
  "expirations",
  "loadSuccesses",
  "loadFailures",
  "size",
  "loadDuration"
]

/**
 * The hooks of the metrics of the cache called `name`. Caches with the same name share them, as
 * they share the metrics. Those of persistence and Redis are registered when first used, so that an
 * in-memory cache does not export Redis metrics stuck at zero.
 *
 * @internal
 */
export const make = (name: string): Hooks => {
  const hook = (field: keyof typeof keys) =>
    Metric.globalMetricRegistry.get(MetricKey.tagged(keys[field] as MetricKey.MetricKey.Untyped, LABEL, name))
  const hooks: Record<string, unknown> = {}
  for (const field of Object.keys(keys) as Array<keyof typeof keys>) {
    if (everyCache.includes(field)) {
      hooks[field] = hook(field)
    } else {
      Object.defineProperty(hooks, field, {
        get: () => {
          const resolved = hook(field)
          Object.defineProperty(hooks, field, { value: resolved })
          return resolved
        },
        configurable: true
      })
    }
  }
  return hooks as unknown as Hooks
}

/** @internal */
export type CacheMetrics = Hooks

/**
 * The options of a cache's spans: its name as an attribute (never a key or a value), with `more`;
 * and no captured stack, which costs a stack trace per span and would only name this library's own
 * line that made the span.
 */
export const spanOptions = (name: string, more?: Record<string, string>) => ({
  attributes: { "cache.name": name, ...more },
  captureStackTrace: false
})

/** The name of a cache when its options give none. */
export const DEFAULT_NAME = "default"

/**
 * The name of the cache whose persistence backend is opening: set by the cache around
 * `Persistence.open`, so that the backend reports under the cache's name without a change to the
 * public backend contract.
 *
 * @internal
 */
export const currentCacheName: FiberRef.FiberRef<string> = FiberRef.unsafeMake(DEFAULT_NAME)

/**
 * Observes one write of a persistence backend (a flush or a compaction): a span named `span`, its
 * duration by the `Clock`, and, when it succeeds, the bytes `bytesOf` says it wrote.
 *
 * @internal
 */
export const observeWrite = (name: string) => {
  const hooks = make(name)
  return <A, E, R>(
    span: string,
    write: Effect.Effect<A, E, R>,
    bytesOf: (a: A) => number
  ): Effect.Effect<A, E, R> =>
    Effect.withSpan(
      Effect.clockWith((clock) => {
        const start = clock.unsafeCurrentTimeNanos()
        return Effect.onExit(write, (exit) =>
          Effect.sync(() => {
            hooks.flushDuration.update(Number(clock.unsafeCurrentTimeNanos() - start) / 1e9)
            if (exit._tag === "Success") hooks.bytesWritten.update(bytesOf(exit.value))
          })
        )
      }),
      span,
      spanOptions(name)
    )
}

/** @internal */
export type WriteObserver = ReturnType<typeof observeWrite>
