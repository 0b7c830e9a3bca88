/**
 * The codecs of one cache's keys and values, resolved from its options, and the set record they
 * encode: what both backends check a write against before the cache changes.
 */
import type * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Equal from "effect/Equal"
import * as Schema from "effect/Schema"
import { type InvalidOption, PersistenceError } from "../../CacheError.js"
import type { Codec, CodecOptions } from "../../CachePersistence.js"
import { AnyCodec, decode } from "../options.js"
import * as codec from "./codec.js"
import * as records from "./records.js"

/** @internal */
export interface Codecs<K, V> {
  readonly key: Codec<K>
  readonly value: Codec<V>
}

const CodecsSchema = Schema.Struct({
  codec: Schema.optional(AnyCodec),
  keyCodec: Schema.optional(AnyCodec),
  valueCodec: Schema.optional(AnyCodec)
})

/** @internal */
export const resolveCodecs = <K, V>(
  method: string,
  options: CodecOptions<K, V>
): Effect.Effect<Codecs<K, V>, InvalidOption> =>
  Either.map(decode(method, CodecsSchema)(options), () => {
    const shared: Codec<K | V> = options.codec ?? codec.structuredClone
    return {
      key: keyCodecOf(options.keyCodec ?? (shared as Codec<K>)),
      value: options.valueCodec ?? (shared as Codec<V>)
    }
  })

/**
 * Keys must come back as keys the cache finds again:
 * - the cache finds `0` under `-0` (keys compare as in a `Map`), so on disk they are one key too,
 *   or a delete of one would not match a set of the other when the journal is replayed;
 * - a key compared by `Equal` (a `Data` struct...) would come back from the structured-clone or
 *   JSON codec as a plain object, compared by identity: never found again. Such keys fail to encode
 *   (the set fails with "Unencodable" and the cache is unchanged) with those two codecs.
 */
const keyCodecOf = <K>(keyCodec: Codec<K>): Codec<K> => {
  const dropsPrototypes = keyCodec === codec.structuredClone || keyCodec === codec.json
  return {
    ...keyCodec,
    encode: (key) =>
      dropsPrototypes && Equal.isEqual(key)
        ? Either.left({
            description: `a key compared by Equal (a Data struct...) would not come back as itself from the ${keyCodec.name} codec: give keyCodec a CachePersistence.codec.schema`
          })
        : keyCodec.encode((key === 0 ? 0 : key) as K)
  }
}

/**
 * Encodes a set record, or fails with reason "Unencodable".
 *
 * @internal
 */
export const encodeSetRecord = <K, V>(
  codecs: Codecs<K, V>,
  method: string,
  key: K,
  value: V,
  expiresAt: number
): Either.Either<Uint8Array, PersistenceError> => {
  const keyBytes = codecs.key.encode(key)
  if (Either.isLeft(keyBytes)) return Either.left(unencodable(codecs.key.name, method, "key", keyBytes.left))
  const valueBytes = codecs.value.encode(value)
  if (Either.isLeft(valueBytes)) {
    return Either.left(unencodable(codecs.value.name, method, "value", valueBytes.left))
  }
  return Either.right(records.encodeSet(keyBytes.right, valueBytes.right, expiresAt))
}

const unencodable = (
  codecName: string,
  method: string,
  what: string,
  failure: { readonly description: string; readonly cause?: unknown }
) =>
  new PersistenceError({
    reason: "Unencodable",
    method,
    description: `the ${codecName} codec cannot encode this ${what}: ${failure.description}; the cache was left unchanged`,
    cause: failure.cause
  })
