/**
 * How cache keys become Redis keys, and back.
 *
 * Redis compares keys by their bytes, the in-process cache by `Equal`; the encoding makes the two
 * agree: a string key is stored as is (so `user:42` reads as `user:42` in `redis-cli`), any other
 * key as a control character followed by a canonical encoding of its contents, in which object
 * properties are sorted (so `Data.struct({ a, b })` and `Data.struct({ b, a })` are one key). The
 * encoding is injective: a string that happens to begin with the control character is escaped by
 * doubling it, and lock keys live in a namespace no cache key can reach. In Redis, the prefix and the
 * encoded key are joined by {@link PREFIX_END}, which no prefix holds.
 */
import * as Data from "effect/Data"
import * as Either from "effect/Either"
import * as keyWalk from "../keyWalk.js"

const MARK = "\u0000"

/**
 * Why a key could not be encoded: the path of the offending part and the reason.
 *
 * @internal
 */
export interface KeyEncodingFailure {
  readonly path: string
  readonly reason: string
}

/**
 * The Redis spelling of the canonical walk: JSON strings, `n`umbers, `b`igints, `d`ates, `T`/`F`,
 * `U`ndefined, `N`ull, arrays in brackets and records in braces. It holds no more than
 * {@link decodeKey} reads back, so a value of any other kind has no encoding, except an `Equal` value,
 * written as the record of its fields (and read back as a `Data.struct`).
 */
const encoding: keyWalk.Encoding = {
  string: (value) => JSON.stringify(value),
  number: (value) => `n${value}`,
  bigint: (value) => `b${value}`,
  boolean: (value) => (value ? "T" : "F"),
  undefined: "U",
  null: "N",
  date: (time) => `d${time}`,
  array: (items) => `[${items.join(",")}]`,
  record: (_name, fields) =>
    `{${fields.map(([name, value]) => `${JSON.stringify(name)}:${value}`).join(",")}}`,
  records: "asEqual",
  instanceHint: ": use plain data or Data values"
}

/**
 * The Redis key suffix of a cache key (to be put after the prefix).
 *
 * @internal
 */
export const encodeKey = (key: unknown): Either.Either<string, KeyEncodingFailure> => {
  if (typeof key === "string") return Either.right(key.startsWith(MARK) ? MARK + key : key)
  const encoded = keyWalk.walk(encoding, key)
  return keyWalk.isFailure(encoded)
    ? Either.left({ path: keyWalk.formatPath("key", encoded.path), reason: encoded.reason })
    : Either.right(MARK + encoded)
}

/**
 * The cache key of a Redis key suffix made by {@link encodeKey}. Non-string keys come back rebuilt
 * from their contents: objects as `Data.struct`, arrays as `Data.tuple`, so that they are `Equal` to
 * the keys that were stored when those were plain data or `Data` values.
 *
 * @internal
 */
export const decodeKey = (encoded: string): unknown => {
  if (!encoded.startsWith(MARK)) return encoded
  if (encoded.startsWith(MARK, 1)) return encoded.slice(1)
  const parser = { text: encoded, at: 1 }
  const value = parse(parser)
  if (parser.at !== encoded.length)
    throw new SyntaxError(`trailing characters in key ${JSON.stringify(encoded)}`)
  return value
}

/**
 * The namespace of lock keys under a prefix: no encoded cache key starts with it.
 *
 * @internal
 */
export const LOCK_NAMESPACE = `${MARK}lock:`

/**
 * Ends the prefix in every Redis key. A prefix may not hold it, so the keys of one prefix never
 * begin with another prefix's: without it, `"app"` + `"2:keep"` and `"app2"` + `":keep"` would be one
 * Redis key, and a cache with the prefix `"app"` would clear, count and list `"app2"`'s keys.
 *
 * @internal
 */
export const PREFIX_END = "\u0000"

/**
 * The beginning of every Redis key of the cache with that prefix.
 *
 * @internal
 */
export const keyPrefix = (prefix: string): string => prefix + PREFIX_END

/**
 * A `SCAN MATCH` pattern for every Redis key of the cache with that prefix.
 *
 * @internal
 */
export const matchPrefix = (prefix: string): string => `${prefix.replace(/[*?[\]\\]/g, "\\$&")}${PREFIX_END}*`

interface Parser {
  readonly text: string
  at: number
}

const parse = (parser: Parser): unknown => {
  const tag = parser.text[parser.at]
  switch (tag) {
    case '"': {
      const end = stringEnd(parser.text, parser.at)
      const value = JSON.parse(parser.text.slice(parser.at, end))
      parser.at = end
      return value
    }
    case "n":
      return Number(atom(parser))
    case "b":
      return BigInt(atom(parser))
    case "d":
      return new Date(Number(atom(parser)))
    case "T":
    case "F":
    case "U":
    case "N":
      parser.at++
      return tag === "T" ? true : tag === "F" ? false : tag === "N" ? null : undefined
    case "[": {
      parser.at++
      const items: Array<unknown> = []
      while (parser.text[parser.at] !== "]") {
        if (items.length > 0) expect(parser, ",")
        items.push(parse(parser))
      }
      parser.at++
      return Data.tuple(...items)
    }
    case "{": {
      parser.at++
      // Defined, not assigned: assigning "__proto__" would set the prototype instead of a property.
      const fields: Record<string, unknown> = Object.create(null)
      let first = true
      while (parser.text[parser.at] !== "}") {
        if (!first) expect(parser, ",")
        first = false
        const end = stringEnd(parser.text, parser.at)
        const name = JSON.parse(parser.text.slice(parser.at, end)) as string
        parser.at = end
        expect(parser, ":")
        Object.defineProperty(fields, name, {
          value: parse(parser),
          enumerable: true,
          writable: true,
          configurable: true
        })
      }
      parser.at++
      // Not `Data.struct`, which copies by assignment and would drop an own "__proto__" again.
      return Data.unsafeStruct(fields)
    }
    default:
      throw new SyntaxError(`unexpected ${JSON.stringify(tag)} at ${parser.at} in an encoded key`)
  }
}

const atom = (parser: Parser): string => {
  const start = parser.at + 1
  let end = start
  while (end < parser.text.length && !",]}".includes(parser.text[end]!)) end++
  parser.at = end
  return parser.text.slice(start, end)
}

const stringEnd = (text: string, start: number): number => {
  if (text[start] !== '"') throw new SyntaxError(`expected a string at ${start} in an encoded key`)
  let at = start + 1
  while (at < text.length && text[at] !== '"') at += text[at] === "\\" ? 2 : 1
  return at + 1
}

const expect = (parser: Parser, char: string): void => {
  if (parser.text[parser.at] !== char) {
    throw new SyntaxError(`expected ${JSON.stringify(char)} at ${parser.at} in an encoded key`)
  }
  parser.at++
}
