import type * as NodeV8 from "node:v8"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as CachePersistence from "../../CachePersistence.js"
import type { AnyCodec, Codec, CodecFailure } from "../../CachePersistence.js"
import { nodeBuiltin } from "./nodeBuiltin.js"

/** @internal */
export const CodecTypeId: CachePersistence.CodecTypeId = Symbol.for(
  "effect-lru-cache/CachePersistence/Codec"
) as CachePersistence.CodecTypeId

/**
 * A codec whose functions never throw: reading a value can run code (a getter, a Proxy's traps),
 * and so can a codec of one's own. A throw becomes a failure, which the cache reports as a typed
 * "Unencodable" error or a skipped entry, never a defect.
 *
 * @internal
 */
export const make = <A>(
  name: string,
  encode: (value: A) => Either.Either<Uint8Array, CodecFailure>,
  decode: (bytes: Uint8Array) => Either.Either<A, CodecFailure>
): Codec<A> => ({
  [CodecTypeId]: CodecTypeId,
  name,
  encode: (value) => {
    try {
      return encode(value)
    } catch (cause) {
      return Either.left(failure(`reading the value threw (${describe(cause)})`, cause))
    }
  },
  decode: (bytes) => {
    try {
      return decode(bytes)
    } catch (cause) {
      return Either.left(failure(`decoding threw (${describe(cause)})`, cause))
    }
  }
})

const describe = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

/** @internal */
export const isCodec = (u: unknown): u is Codec<unknown> =>
  typeof u === "object" && u !== null && CodecTypeId in u

const failure = (description: string, cause: unknown): CodecFailure => ({
  description,
  cause: cause instanceof Error ? cause : String(cause)
})

const textEncoder = new TextEncoder()
// `fatal` so that bytes that are not UTF-8 fail decoding instead of turning into U+FFFD.
const textDecoder = new TextDecoder("utf-8", { fatal: true })

// Tags of the structured clone codec's own forms. `v8.serialize` output always starts with 0xFF,
// so a first byte of 1 or 2 cannot be mistaken for it. Strings and numbers, the usual keys, skip the
// v8 serializer, whose fixed cost per call is a few microseconds.
const TAG_STRING = 1
const TAG_NUMBER = 2
// Plain JSON data (plain objects, dense arrays, strings, finite numbers other than -0, booleans,
// null) comes back identical from JSON, which parses several times faster than v8 deserializes.
const TAG_JSON = 3
const TAG_V8 = 0xff

const isJsonData = (value: unknown, depth: number): boolean => {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0)
    case "object": {
      if (value === null) return true
      if (depth > 32) return false
      if (Array.isArray(value)) {
        // A subclass may define `toJSON`, which JSON would call and v8 would not.
        if (Object.getPrototypeOf(value) !== Array.prototype) return false
        for (let i = 0; i < value.length; i++) {
          if (!(i in value) || !isJsonData(value[i], depth + 1)) return false
        }
        // JSON writes the indices only: an array with other own properties (named ones, symbols)
        // takes the v8 form, which keeps them. Dense, so its own names are the indices and "length".
        return (
          Object.getOwnPropertyNames(value).length === value.length + 1 &&
          Object.getOwnPropertySymbols(value).length === 0
        )
      }
      const prototype = Object.getPrototypeOf(value)
      if (prototype !== Object.prototype && prototype !== null) return false
      for (const key in value) {
        if (!isJsonData((value as Record<string, unknown>)[key], depth + 1)) return false
      }
      // Symbol keys and non-enumerable properties are not JSON's: leave those to v8.
      return (
        Object.getOwnPropertySymbols(value).length === 0 &&
        Object.keys(value).length === Object.getOwnPropertyNames(value).length
      )
    }
    default:
      return false
  }
}

// `node:v8` is looked up when first needed rather than imported, and `Buffer` is used only where it
// exists, so that this module loads in a browser too (where the JSON and schema codecs, and the
// fast forms below, work; values that need v8 fail to encode there).
let v8: typeof NodeV8 | undefined | null = null
const nodeV8 = (): typeof NodeV8 | undefined => {
  if (v8 === null) v8 = nodeBuiltin("node:v8")
  return v8
}
const hasBuffer = typeof Buffer === "function"
// With the `u` flag a surrogate pair is one code point, so this matches unpaired halves only.
const loneSurrogate = /\p{Surrogate}/u
const looseDecoder = new TextDecoder()

const tagged = (tag: number, text: string): Uint8Array => {
  if (hasBuffer) {
    const bytes = Buffer.allocUnsafe(1 + Buffer.byteLength(text))
    bytes[0] = tag
    bytes.write(text, 1)
    return bytes
  }
  const encoded = textEncoder.encode(text)
  const bytes = new Uint8Array(1 + encoded.length)
  bytes[0] = tag
  bytes.set(encoded, 1)
  return bytes
}

// Not validated as UTF-8: these bytes passed their record's checksum, so this codec wrote them.
const textAfterTag = (bytes: Uint8Array): string =>
  hasBuffer
    ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8", 1)
    : looseDecoder.decode(bytes.subarray(1))

/**
 * `v8` deserialization rebuilds plain data only (no prototypes, no functions), so reading a file can
 * never run code, unlike pickle.
 *
 * @internal
 */
export const structuredClone: AnyCodec = make(
  "structuredClone",
  (value) => {
    if (typeof value === "string") {
      // UTF-8 cannot carry a lone surrogate (it would come back as U+FFFD, another string): such
      // strings take the JSON form, whose escapes keep them exact.
      return Either.right(
        loneSurrogate.test(value) ? tagged(TAG_JSON, JSON.stringify(value)) : tagged(TAG_STRING, value)
      )
    }
    if (typeof value === "number") {
      const bytes = new Uint8Array(9)
      bytes[0] = TAG_NUMBER
      new DataView(bytes.buffer).setFloat64(1, value, true)
      return Either.right(bytes)
    }
    if (typeof value === "object" && value !== null && isJsonData(value, 0)) {
      return Either.right(tagged(TAG_JSON, JSON.stringify(value)))
    }
    const serializer = nodeV8()
    if (serializer === undefined) {
      return Either.left(
        failure("structured clone needs node:v8 for this value (Node 20.16 or later)", typeof value)
      )
    }
    try {
      // `serialize` makes a fresh serializer each time: one that is reused remembers the objects it
      // has seen and writes them again as back-references.
      return Either.right(serializer.serialize(value))
    } catch (cause) {
      return Either.left(failure("structured clone cannot serialize this value", cause))
    }
  },
  (bytes) => {
    switch (bytes[0]) {
      case TAG_STRING:
        return Either.right(textAfterTag(bytes))
      case TAG_NUMBER:
        return bytes.length === 9
          ? Either.right(new DataView(bytes.buffer, bytes.byteOffset, 9).getFloat64(1, true))
          : Either.left(failure("not a number", bytes.length))
      case TAG_JSON:
        try {
          return Either.right(JSON.parse(textAfterTag(bytes)))
        } catch (cause) {
          return Either.left(failure("not JSON", cause))
        }
      case TAG_V8: {
        const deserializer = nodeV8()
        if (deserializer === undefined)
          return Either.left(failure("structured clone needs node:v8", bytes.length))
        try {
          return Either.right(deserializer.deserialize(bytes))
        } catch (cause) {
          return Either.left(failure("not a structured clone serialization", cause))
        }
      }
      default:
        return Either.left(failure("not a structured clone serialization", bytes[0]))
    }
  }
)

/**
 * A decoding that failed, as `rangeDecoder`'s functions return it (never a value a codec decodes
 * to: this class is not exported from the package).
 *
 * @internal
 */
export class DecodeFailure {
  constructor(readonly failure: CodecFailure) {}
}

/**
 * A decoder of `bytes[start, end)`, for loading a file: the decoded value, or a `DecodeFailure`.
 * The structured clone codec's string, number and JSON forms are read in place, with no view and
 * no `Either` per value; any other form, and any other codec, goes through `decode`.
 *
 * @internal
 */
export const rangeDecoder = <A>(
  codec: Codec<A>
): ((bytes: Uint8Array, start: number, end: number) => A | DecodeFailure) => {
  const viaDecode = (bytes: Uint8Array, start: number, end: number): A | DecodeFailure => {
    const decoded = codec.decode(bytes.subarray(start, end))
    return Either.isRight(decoded) ? decoded.right : new DecodeFailure(decoded.left)
  }
  // The key codec is a copy of the one given (see entryCodecs), with the same `decode`.
  if (codec.decode !== structuredClone.decode || !hasBuffer) return viaDecode
  // `Buffer`'s own slicing, applied to the bytes as they are: `toString` would check its arguments
  // and need a `Buffer` view of them, per value.
  const utf8Slice = Buffer.prototype.utf8Slice
  let source: Uint8Array | undefined
  let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0))
  return (bytes, start, end) => {
    switch (bytes[start]) {
      case TAG_STRING:
        return utf8Slice.call(bytes, start + 1, end) as A
      case TAG_NUMBER:
        if (end - start !== 9) break
        if (bytes !== source) {
          source = bytes
          view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
        }
        return view.getFloat64(start + 1, true) as A
      case TAG_JSON:
        try {
          return JSON.parse(utf8Slice.call(bytes, start + 1, end))
        } catch {
          break
        }
    }
    // Other forms, and failures, which `decode` describes.
    return viaDecode(bytes, start, end)
  }
}

/** @internal */
export const json: AnyCodec = make(
  "json",
  (value) => {
    try {
      const text = JSON.stringify(value)
      return text === undefined
        ? Either.left(failure("JSON cannot represent this value", typeof value))
        : Either.right(textEncoder.encode(text))
    } catch (cause) {
      return Either.left(failure("JSON cannot represent this value", cause))
    }
  },
  (bytes) => {
    try {
      return Either.right(JSON.parse(textDecoder.decode(bytes)))
    } catch (cause) {
      return Either.left(failure("not JSON", cause))
    }
  }
)

/** @internal */
export const schema = <A, I>(schema: Schema.Schema<A, I, never>): Codec<A> => {
  const encodeSchema = Schema.encodeEither(schema)
  const decodeSchema = Schema.decodeUnknownEither(schema)
  return make(
    "schema",
    (value) => {
      const encoded = encodeSchema(value)
      if (Either.isLeft(encoded)) {
        return Either.left(
          failure("schema encoding failed", ParseResult.TreeFormatter.formatErrorSync(encoded.left))
        )
      }
      return json.encode(encoded.right)
    },
    (bytes) =>
      Either.flatMap(json.decode(bytes), (input) =>
        Either.mapLeft(decodeSchema(input), (error) =>
          failure("schema decoding failed", ParseResult.TreeFormatter.formatErrorSync(error))
        )
      )
  )
}
