/**
 * The options of the file backend, checked and with their defaults.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { InvalidOption } from "../../CacheError.js"
import type { Durability, FileOptions } from "../../CachePersistence.js"
import { positiveDuration } from "../options.js"

/** @internal */
export const METHOD = "CachePersistence.file"
const DEFAULT_THRESHOLD = 1 << 20

/** @internal */
export interface Settings {
  readonly path: string
  readonly durability: Durability
  readonly interval: Duration.Duration
  readonly threshold: number
}

const invalid = (option: string, reason: string, value: unknown) =>
  Effect.fail(new InvalidOption({ method: METHOD, option, reason, value }))

/** @internal */
export const validate = <K, V>(options: FileOptions<K, V>): Effect.Effect<Settings, InvalidOption> => {
  if (typeof options.path !== "string" || options.path.length === 0) {
    return invalid("path", "must be a non-empty string", options.path)
  }
  const durability = options.durability ?? "interval"
  if (durability !== "always" && durability !== "interval" && durability !== "close") {
    return invalid("durability", 'must be "always", "interval" or "close"', durability)
  }
  const interval =
    options.interval === undefined
      ? Either.right(Duration.seconds(1))
      : positiveDuration(METHOD, "interval", options.interval, { finite: true })
  if (Either.isLeft(interval)) return Effect.fail(interval.left)
  const threshold = options.compactionThreshold ?? DEFAULT_THRESHOLD
  if (!Number.isSafeInteger(threshold) || threshold <= 0) {
    return invalid("compactionThreshold", "must be a positive integer number of bytes", threshold)
  }
  return Effect.succeed({ path: options.path, durability, interval: interval.right, threshold })
}
