/** The options of `RedisCache.make`, decoded once, with durations in milliseconds. */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type { RedisOptions } from "ioredis"
import type { InvalidOption } from "../../CacheError.js"
import type { Codec } from "../../CachePersistence.js"
import type * as RedisCache from "../../RedisCache.js"
import { DEFAULT_NAME } from "../metrics.js"
import {
  AnyCodec,
  decode,
  FiniteDuration,
  NonEmptyString,
  oneOf,
  Policy,
  PositiveDuration,
  PositiveInteger,
  pairedWeigher,
  required,
  Weigher
} from "../options.js"
import * as codec from "../persistence/codec.js"
import { type Connection, normalizeUrl, secretsOf } from "./client.js"
import { PREFIX_END } from "./keyEncoding.js"

const DEFAULT_PREFIX = "effect-lru-cache:"
const DEFAULT_LOCK_TIME_TO_LIVE = Duration.seconds(10)
const DEFAULT_LOCK_WAIT = Duration.seconds(30)
const DEFAULT_HEARTBEAT_INTERVAL = Duration.seconds(1)

/** @internal */
export interface Config<V> extends Connection {
  readonly name: string
  readonly capacity: number
  readonly timeToLive: number
  readonly policy: "lru" | "w-tinylfu"
  /** L1's byte-size bound and its weigher, when `maxSize` is given. */
  readonly weigher:
    | { readonly maxSize: number; readonly sizeOf: (value: V, key: unknown) => number }
    | undefined
  readonly prefix: string
  readonly codec: Codec<V>
  readonly serveFromL1: boolean
  readonly lockTimeToLive: number
  readonly lockWait: number
  readonly heartbeatInterval: number
}

const Prefix = Schema.String.pipe(
  Schema.minLength(1),
  Schema.filter((prefix) => !prefix.includes(PREFIX_END)),
  // An empty prefix would make `clear` remove every key of the database; the character that ends
  // the prefix in Redis keys cannot be part of it.
  Schema.annotations({
    message: () => ({ message: "must be a non-empty string without the character \\u0000", override: true })
  })
)

/** A URL, plain or `Redacted` (as `Config.redacted` gives it), or ioredis options. */
const ConnectionSchema = Schema.Union(
  Schema.String,
  Schema.RedactedFromSelf(Schema.String),
  Schema.Object as Schema.Schema<RedisOptions>
).annotations({
  message: () => ({
    message: "must be a redis:// URL (plain or Redacted) or ioredis options",
    override: true
  })
})

const OptionsSchema = Schema.Struct({
  name: Schema.optionalWith(NonEmptyString, { default: () => DEFAULT_NAME }),
  capacity: required(PositiveInteger),
  timeToLive: Schema.optionalWith(PositiveDuration, { default: () => Duration.infinity }),
  policy: Schema.optionalWith(Policy, { default: () => "lru" as const }),
  maxSize: Schema.optional(PositiveInteger),
  sizeOf: Schema.optional(Weigher),
  prefix: Schema.optionalWith(Prefix, { default: () => DEFAULT_PREFIX }),
  valueCodec: Schema.optionalWith(AnyCodec, { default: () => codec.structuredClone }),
  whenUnavailable: Schema.optionalWith(oneOf("serveFromL1", "fail"), {
    default: () => "serveFromL1" as const
  }),
  connection: Schema.optionalWith(ConnectionSchema, { default: () => "redis://127.0.0.1:6379" }),
  lockTimeToLive: Schema.optionalWith(FiniteDuration, { default: () => DEFAULT_LOCK_TIME_TO_LIVE }),
  lockWait: Schema.optionalWith(FiniteDuration, { default: () => DEFAULT_LOCK_WAIT }),
  heartbeatInterval: Schema.optionalWith(FiniteDuration, { default: () => DEFAULT_HEARTBEAT_INTERVAL })
})

const decodeSchema = decode("RedisCache.make", OptionsSchema)

/** @internal */
export const decodeOptions = <V>(
  options: RedisCache.Options<V, never>
): Either.Either<Config<V>, InvalidOption> =>
  Either.map(Either.flatMap(decodeSchema(options), pairedWeigher("RedisCache.make")), (decoded) => {
    const connection = Redacted.isRedacted(decoded.connection)
      ? Redacted.value(decoded.connection)
      : decoded.connection
    return {
      name: decoded.name,
      capacity: decoded.capacity,
      timeToLive: Duration.toMillis(decoded.timeToLive),
      policy: decoded.policy,
      // The decoder checked that `sizeOf` is a function given with `maxSize`; this is its typed reference.
      weigher:
        decoded.maxSize === undefined || options.sizeOf === undefined
          ? undefined
          : { maxSize: decoded.maxSize, sizeOf: options.sizeOf as (value: V, key: unknown) => number },
      connection: typeof connection === "string" ? normalizeUrl(connection) : connection,
      secrets: secretsOf(connection),
      prefix: decoded.prefix,
      // The codec the caller gave for values of type `V`, or the default, which takes any value.
      codec: decoded.valueCodec as Codec<V>,
      serveFromL1: decoded.whenUnavailable === "serveFromL1",
      lockTimeToLive: Duration.toMillis(decoded.lockTimeToLive),
      lockWait: Duration.toMillis(decoded.lockWait),
      heartbeatInterval: Duration.toMillis(decoded.heartbeatInterval)
    }
  })
