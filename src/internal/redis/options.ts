/** The options of `RedisCache.make`, decoded once, with durations in milliseconds. */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import type { RedisOptions } from "ioredis"
import { InvalidOption } from "../../CacheError.js"
import type { Codec } from "../../CachePersistence.js"
import type * as RedisCache from "../../RedisCache.js"
import { decodeName } from "../metrics.js"
import { positiveDuration, positiveInteger } from "../options.js"
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
  readonly prefix: string
  readonly codec: Codec<V>
  readonly serveFromL1: boolean
  readonly lockTimeToLive: number
  readonly lockWait: number
  readonly heartbeatInterval: number
}

/** @internal */
export const millisOf = (timeToLive: Duration.DurationInput): number =>
  Duration.toMillis(Duration.decode(timeToLive))

const METHOD = "RedisCache.make"

const invalid = (option: string, reason: string, value: unknown) =>
  new InvalidOption({ method: METHOD, option, reason, value })

/** Decodes a duration option to milliseconds; lock timings must be finite. */
const decodeDuration = (option: string, input: unknown, allowInfinity: boolean) =>
  Either.map(positiveDuration(METHOD, option, input, { finite: !allowInfinity }), Duration.toMillis)

/** @internal */
export const decodeOptions = <V>(options: RedisCache.Options<V>): Either.Either<Config<V>, InvalidOption> =>
  Either.gen(function* () {
    const name = yield* decodeName(METHOD, options.name)
    const capacity = yield* positiveInteger(METHOD, "capacity", options.capacity)
    const timeToLive =
      options.timeToLive === undefined
        ? Infinity
        : yield* decodeDuration("timeToLive", options.timeToLive, true)
    const prefix: unknown = options.prefix ?? DEFAULT_PREFIX
    if (typeof prefix !== "string" || prefix.length === 0 || prefix.includes(PREFIX_END)) {
      // An empty prefix would make `clear` remove every key of the database; the character that
      // ends the prefix in Redis keys cannot be part of it.
      return yield* Either.left(
        invalid("prefix", "must be a non-empty string without the character \\u0000", prefix)
      )
    }
    const whenUnavailable: unknown = options.whenUnavailable ?? "serveFromL1"
    if (whenUnavailable !== "serveFromL1" && whenUnavailable !== "fail") {
      return yield* Either.left(
        invalid("whenUnavailable", 'must be "serveFromL1" or "fail"', whenUnavailable)
      )
    }
    const valueCodec: unknown = options.valueCodec ?? codec.structuredClone
    if (!codec.isCodec(valueCodec)) {
      return yield* Either.left(
        invalid("valueCodec", "must be a codec from CachePersistence.codec", valueCodec)
      )
    }
    const connection: unknown = options.connection ?? "redis://127.0.0.1:6379"
    if (typeof connection !== "string" && (typeof connection !== "object" || connection === null)) {
      return yield* Either.left(
        invalid("connection", "must be a redis:// URL or ioredis options", connection)
      )
    }
    const lockTimeToLive = yield* decodeDuration(
      "lockTimeToLive",
      options.lockTimeToLive ?? DEFAULT_LOCK_TIME_TO_LIVE,
      false
    )
    const lockWait = yield* decodeDuration("lockWait", options.lockWait ?? DEFAULT_LOCK_WAIT, false)
    const heartbeatInterval = yield* decodeDuration(
      "heartbeatInterval",
      options.heartbeatInterval ?? DEFAULT_HEARTBEAT_INTERVAL,
      false
    )
    return {
      name,
      capacity,
      timeToLive,
      connection: typeof connection === "string" ? normalizeUrl(connection) : (connection as RedisOptions),
      secrets: secretsOf(connection as string | RedisOptions),
      prefix,
      codec: valueCodec as Codec<V>,
      serveFromL1: whenUnavailable === "serveFromL1",
      lockTimeToLive,
      lockWait,
      heartbeatInterval
    }
  })
