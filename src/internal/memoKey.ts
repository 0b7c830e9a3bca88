/**
 * The canonical encoding of a memoized function's arguments.
 *
 * Every value is written with a one-letter type tag and is self-delimiting (lengths or terminators,
 * never separators that could occur inside a value), so a concatenation of encodings reads back one
 * way only: two argument lists get the same key exactly when they are structurally equal. Nothing
 * depends on object identity, insertion order or the process: object keys are sorted, Map entries
 * and Set members are sorted by their own encodings.
 */
import * as Chunk from "effect/Chunk"
import * as Data from "effect/Data"
import * as Either from "effect/Either"
import * as HashMap from "effect/HashMap"
import * as HashSet from "effect/HashSet"
import * as Option from "effect/Option"
import { KeyEncodingError } from "../CacheError.js"

/**
 * Why a value could not be encoded, and where: `path` lists the steps from the argument list down
 * to the value, innermost last.
 *
 * @internal
 */
export interface EncodingFailure {
  readonly _tag: "EncodingFailure"
  readonly path: ReadonlyArray<PathStep>
  readonly reason: string
}

/** @internal */
export type PathStep = number | string | { readonly label: string }

class Unencodable {
  constructor(readonly reason: string) {}
}

const StructuralPrototype: object = Data.Structural.prototype
const ObjectPrototype = Object.prototype

const HEX: ReadonlyArray<string> = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

const hex = (bytes: Uint8Array): string => {
  let out = ""
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!]
  return out
}

// `String(-0)` is "0": `-0` and `0` get one key, as they are one key of the cache (and every NaN is
// "NaN"). Keys follow the cache's key identity, so that a memo key never splits what the cache joins.
const number = (n: number): string => String(n)

const string = (s: string): string => `s${s.length}:${s}`

const byTextOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

const compareEntries = (a: readonly [string, string], b: readonly [string, string]): number =>
  byTextOrder(a[0], b[0]) || byTextOrder(a[1], b[1])

/**
 * Walks a value depth first. `path` and `ancestors` are the steps and the objects from the root to
 * the value being written: the first names a failure, the second detects cycles (an object met
 * again on another branch is fine, and written again).
 */
class Encoder {
  readonly path: Array<PathStep> = []
  readonly ancestors = new Set<object>()

  value(value: unknown): string {
    switch (typeof value) {
      case "string":
        return string(value)
      case "number":
        return `d${number(value)};`
      case "boolean":
        return value ? "t" : "f"
      case "undefined":
        return "u"
      case "bigint":
        return `i${value};`
      case "symbol":
        throw new Unencodable("a symbol has no canonical encoding")
      case "function":
        throw new Unencodable(`a function (${value.name || "anonymous"}) has no canonical encoding`)
    }
    if (value === null) return "n"
    const object = value as object
    if (this.ancestors.has(object)) throw new Unencodable("a cycle: this object contains itself")
    this.ancestors.add(object)
    const encoded = this.object(object)
    this.ancestors.delete(object)
    return encoded
  }

  private object(value: object): string {
    if (Array.isArray(value)) return this.items("a", value)
    const prototype = Object.getPrototypeOf(value)
    if (prototype === ObjectPrototype || prototype === null) return `o${this.fields(value)}`
    if (value instanceof Date) return `D${number(value.getTime())};`
    if (value instanceof URL) return `U${string(value.href)}`
    if (value instanceof Map) return `M${this.entries(value)}`
    if (value instanceof Set) return `S${this.members(value)}`
    if (value instanceof Uint8Array) return `B${value.length}:${hex(value)}`
    if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
      const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
      return `V${string(value.constructor.name)}${bytes.length}:${hex(bytes)}`
    }
    if (value instanceof ArrayBuffer) return `A${value.byteLength}:${hex(new Uint8Array(value))}`
    if (Option.isOption(value)) return Option.isSome(value) ? `Os${this.child("value", value.value)}` : "On"
    if (Either.isEither(value)) {
      return Either.isRight(value)
        ? `Er${this.child("right", value.right)}`
        : `El${this.child("left", value.left)}`
    }
    if (Chunk.isChunk(value)) return this.items("C", Chunk.toReadonlyArray(value))
    if (HashMap.isHashMap(value)) return `HM${this.entries(value)}`
    if (HashSet.isHashSet(value)) return `HS${this.members(value)}`
    if (value instanceof Data.Structural) {
      // `Data.struct` values sit right on the structural prototype; `Data.Class` instances carry
      // their class name, so that two classes with the same fields give different keys.
      const name = prototype === StructuralPrototype ? "" : (prototype.constructor?.name ?? "")
      return `R${string(name)}${this.fields(value)}`
    }
    const name = prototype.constructor?.name
    throw new Unencodable(
      `an instance of ${typeof name === "string" && name !== "" ? name : "a class"} has no canonical encoding`
    )
  }

  private child(step: PathStep, value: unknown): string {
    this.path.push(step)
    const encoded = this.value(value)
    this.path.pop()
    return encoded
  }

  private items(tag: string, items: ReadonlyArray<unknown>): string {
    let out = `${tag}${items.length}:`
    for (let i = 0; i < items.length; i++) out += this.child(i, items[i])
    return out
  }

  private fields(value: object): string {
    if (
      Object.getOwnPropertySymbols(value).some((symbol) =>
        Object.prototype.propertyIsEnumerable.call(value, symbol)
      )
    ) {
      throw new Unencodable("an object with symbol keys has no canonical encoding")
    }
    const keys = Object.keys(value).sort(byTextOrder)
    let out = `${keys.length}:`
    for (const key of keys) out += string(key) + this.child(key, (value as Record<string, unknown>)[key])
    return out
  }

  private entries(map: Iterable<readonly [unknown, unknown]>): string {
    const encoded: Array<readonly [string, string]> = []
    let i = 0
    for (const [key, value] of map) {
      encoded.push([
        this.child({ label: `map key ${i}` }, key),
        this.child({ label: `map value ${i}` }, value)
      ])
      i++
    }
    encoded.sort(compareEntries)
    let out = `${encoded.length}:`
    for (const [key, value] of encoded) out += key + value
    return out
  }

  private members(set: Iterable<unknown>): string {
    const encoded: Array<string> = []
    let i = 0
    for (const member of set) encoded.push(this.child({ label: `set member ${i++}` }, member))
    encoded.sort(byTextOrder)
    return `${encoded.length}:${encoded.join("")}`
  }
}

/**
 * The encoding of an argument list (the count is part of it, so `f()` and `f(undefined)` differ),
 * or why it has none.
 *
 * @internal
 */
export const encodeArguments = (args: ReadonlyArray<unknown>): string | EncodingFailure => {
  // Most memoized functions take a few primitives: skip the walker's allocations for them.
  let out = `a${args.length}:`
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    switch (typeof arg) {
      case "string":
        out += string(arg)
        continue
      case "number":
        out += `d${number(arg)};`
        continue
      case "boolean":
        out += arg ? "t" : "f"
        continue
      case "undefined":
        out += "u"
        continue
    }
    const encoder = new Encoder()
    encoder.path.push(i)
    try {
      out += encoder.value(arg)
    } catch (error) {
      if (error instanceof Unencodable)
        return { _tag: "EncodingFailure", path: encoder.path, reason: error.reason }
      throw error
    }
  }
  return out
}

/**
 * The key of a call: the function's name, then the encoded arguments (or, with a `key` option, a
 * marker and the user's key). The name is length-prefixed, so no name can run into the arguments.
 *
 * @internal
 */
export const keyPrefix = (name: string): string => string(name)

/** @internal */
export const customKeyPrefix = (name: string): string => `${string(name)}k`

const identifier = /^[A-Za-z_$][\w$]*$/

/**
 * `args[0].user["first name"][map key 2]`: where in the arguments a failure happened.
 *
 * @internal
 */
export const formatPath = (path: ReadonlyArray<PathStep>): string => {
  let out = "args"
  for (const step of path) {
    if (typeof step === "number") out += `[${step}]`
    else if (typeof step === "string") out += identifier.test(step) ? `.${step}` : `[${JSON.stringify(step)}]`
    else out += `[${step.label}]`
  }
  return out
}

/** @internal */
export const toError = (method: string, failure: EncodingFailure): KeyEncodingError =>
  new KeyEncodingError({
    method,
    path: formatPath(failure.path),
    reason: `${failure.reason}; give the memoized function a \`key\` option to build its keys yourself`
  })

/** @internal */
export const isFailure = (u: string | EncodingFailure): u is EncodingFailure => typeof u !== "string"

/** @internal */
export const key = (name: string, args: ReadonlyArray<unknown>): Either.Either<string, KeyEncodingError> => {
  const encoded = encodeArguments(args)
  return isFailure(encoded)
    ? Either.left(toError("MemoCache.key", encoded))
    : Either.right(keyPrefix(name) + encoded)
}
