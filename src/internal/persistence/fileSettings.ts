/**
 * The options of the file backend, checked and with their defaults.
 */
import * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import type { InvalidOption } from "../../CacheError.js"
import type { Durability, FileOptions } from "../../CachePersistence.js"
import { decode, FiniteDuration, NonEmptyString, oneOf, PositiveInteger, required } from "../options.js"

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

const SettingsSchema = Schema.Struct({
  path: required(NonEmptyString),
  durability: Schema.optionalWith(oneOf("always", "interval", "close"), {
    default: () => "interval" as const
  }),
  interval: Schema.optionalWith(FiniteDuration, { default: () => Duration.seconds(1) }),
  compactionThreshold: Schema.optionalWith(
    PositiveInteger.annotations({
      message: () => ({ message: "must be a positive integer number of bytes", override: true })
    }),
    { default: () => DEFAULT_THRESHOLD }
  )
})

const decodeSettings = decode(METHOD, SettingsSchema)

/** @internal */
export const validate = <K, V>(options: FileOptions<K, V>): Effect.Effect<Settings, InvalidOption> =>
  Either.map(decodeSettings(options), ({ compactionThreshold, ...settings }) => ({
    ...settings,
    threshold: compactionThreshold
  }))
