/**
 * The metrics of a cache, as any effect metrics exporter sees them: a cache named "users" does a
 * few gets, and the program prints what `Metric.snapshot` holds for it, one line per metric in the
 * Prometheus text style.
 *
 * Run it with `npx tsx examples/metrics.ts`.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Metric, MetricState } from "effect"
import { LruCache } from "../src/index.js"

const show = (state: MetricState.MetricState.Untyped): string => {
  if (MetricState.isCounterState(state)) return String(state.count)
  if (MetricState.isGaugeState(state)) return String(state.value)
  if (MetricState.isHistogramState(state)) return `count=${state.count} sum=${state.sum.toFixed(6)}`
  return "?"
}

const program = Effect.gen(function* () {
  const users = yield* LruCache.make<string, string>({ capacity: 2, name: "users" })
  yield* users.set("ada", "Ada Lovelace")
  yield* users.set("alan", "Alan Turing")
  yield* users.get("ada") // a hit
  yield* users.get("grace") // a miss
  yield* users.getOrCompute("grace", Effect.succeed("Grace Hopper")) // a miss and a load, evicts "alan"

  for (const { metricKey, metricState } of yield* Metric.snapshot) {
    if (!metricKey.name.startsWith("effect_lru_cache_")) continue
    const labels = metricKey.tags.map((tag) => `${tag.key}="${tag.value}"`).join(",")
    yield* Console.log(`${metricKey.name}{${labels}} ${show(metricState)}`)
  }
})

program.pipe(Effect.scoped, NodeRuntime.runMain)
