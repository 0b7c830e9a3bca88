/**
 * The effect `Metric`s every cache reports, tagged with its name (`cache="<name>"`), under one
 * naming scheme that follows Prometheus' conventions: a prefix `effect_lru_cache_`, counters ending
 * in `_total`, durations in seconds, sizes in bytes.
 *
 * The hooks are taken from effect's global metric registry once per cache, so an update on the hot
 * path is one call to the hook the registry (and so `Metric.snapshot` and every exporter) reads:
 * no key lookup, no allocation, no fiber.
 */
import * as Either from "effect/Either"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import type * as MetricHook from "effect/MetricHook"
import * as MetricKey from "effect/MetricKey"
import { InvalidOption } from "../CacheError.js"

/** @internal */
export const PREFIX = "effect_lru_cache_"

/** The label every metric of a cache carries. */
const LABEL = "cache"

/**
 * Buckets of the duration histograms, in seconds: 100 µs to about 105 s, doubling, which covers a
 * computation from a memory lookup to a slow remote call.
 */
const durationBoundaries = MetricBoundaries.exponential({ start: 0.0001, factor: 2, count: 21 })

/** The name, description and type of every metric, for the docs and the tests. */
export const keys = {
  hits: MetricKey.counter(`${PREFIX}hits_total`, {
    description: "get and getOrCompute calls that found a live entry"
  }),
  misses: MetricKey.counter(`${PREFIX}misses_total`, {
    description: "get and getOrCompute calls that found no live entry"
  }),
  evictions: MetricKey.counter(`${PREFIX}evictions_total`, {
    description: "live entries removed to make room"
  }),
  expirations: MetricKey.counter(`${PREFIX}expirations_total`, {
    description: "entries removed because their time to live ran out"
  }),
  loadSuccesses: MetricKey.counter(`${PREFIX}load_successes_total`, {
    description: "getOrCompute computations that succeeded"
  }),
  loadFailures: MetricKey.counter(`${PREFIX}load_failures_total`, {
    description: "getOrCompute computations that failed, died or were interrupted"
  }),
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
  bytesWritten: MetricKey.counter(`${PREFIX}persistence_written_bytes_total`, {
    description: "bytes written by the persistence backend"
  }),
  l1Hits: MetricKey.counter(`${PREFIX}redis_l1_hits_total`, {
    description: "Redis cache hits answered from the in-process level"
  }),
  l2Hits: MetricKey.counter(`${PREFIX}redis_l2_hits_total`, {
    description: "Redis cache hits answered from Redis"
  }),
  unavailable: MetricKey.counter(`${PREFIX}redis_unavailable_total`, {
    description: "operations Redis could not serve"
  }),
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

/**
 * The hooks of the metrics of the cache called `name`. Caches with the same name share them, as
 * they share the metrics.
 *
 * @internal
 */
export const make = (name: string): Hooks => {
  const hook = <Type extends MetricKey.MetricKey<any>>(key: Type) =>
    Metric.globalMetricRegistry.get(MetricKey.tagged(key, LABEL, name))
  const hooks: Record<string, unknown> = {}
  for (const [field, key] of Object.entries(keys)) hooks[field] = hook(key)
  return hooks as unknown as Hooks
}

/** @internal */
export type CacheMetrics = Hooks

/** The attributes of a cache's spans: its name, never a key or a value. */
export const spanAttributes = (name: string) => ({ "cache.name": name })

/** The name of a cache when its options give none. */
export const DEFAULT_NAME = "default"

/**
 * Decodes the `name` option: a non-empty string (it becomes a metric label and a span attribute).
 *
 * @internal
 */
export const decodeName = (method: string, input: unknown): Either.Either<string, InvalidOption> =>
  input === undefined
    ? Either.right(DEFAULT_NAME)
    : typeof input === "string" && input.length > 0
      ? Either.right(input)
      : Either.left(
          new InvalidOption({ method, option: "name", reason: "must be a non-empty string", value: input })
        )
