/**
 * The one canonical walk of a key, shared by every key encoding (memo keys, Redis keys).
 *
 * The walker decides what a value is and which of its parts count, following the cache's key
 * identity: `-0` is written as `0` and every `NaN` alike, a `Date` by its time, a `URL` by its
 * `href`, an object by its own string keys in sorted order (`"__proto__"` included), a `Map` or a
 * `Set` by its entries or members sorted by their encodings. It detects cycles (an object met again
 * on another branch is fine, and written again) and reports what has no encoding, with where, the
 * same way for every encoding. An {@link Encoding} only spells each kind of value; a kind it does
 * not spell has no encoding in it.
 */
import * as Chunk from "effect/Chunk"
import * as Data from "effect/Data"
import * as Either from "effect/Either"
import * as Equal from "effect/Equal"
import * as HashMap from "effect/HashMap"
import * as HashSet from "effect/HashSet"
import * as Option from "effect/Option"

/** @internal */
export type PathStep = number | string | { readonly label: string }

/**
 * Why a value could not be encoded, and where: `path` lists the steps from the root down to the
 * value, innermost last.
 *
 * @internal
 */
export interface WalkFailure {
  readonly _tag: "EncodingFailure"
  readonly path: ReadonlyArray<PathStep>
  readonly reason: string
}

/**
 * How an encoding spells each kind of value. Numbers never arrive as `-0`. Lists of parts arrive
 * already encoded and in canonical order: record fields sorted by name, map entries and set members
 * sorted by their encodings.
 *
 * @internal
 */
export interface Encoding {
  readonly string: (value: string) => string
  readonly number: (value: number) => string
  readonly bigint: (value: bigint) => string
  readonly boolean: (value: boolean) => string
  readonly undefined: string
  readonly null: string
  readonly date: (time: number) => string
  readonly array: (items: ReadonlyArray<string>) => string
  /**
   * A plain object (`name` undefined) or a structural value (`name` its class name, `""` for a
   * `Data.struct`).
   */
  readonly record: (name: string | undefined, fields: ReadonlyArray<readonly [string, string]>) => string
  /**
   * How records are read. `"strict"`: plain objects and `Data` values only, and an enumerable symbol
   * key has no encoding. `"asEqual"`: also any other `Equal` value, by its own string keys, the keys
   * that `Equal` compares structs by.
   */
  readonly records: "strict" | "asEqual"
  /** Appended to the reason an instance of an unsupported class gives. */
  readonly instanceHint: string
  readonly url?: (href: string) => string
  readonly map?: (entries: ReadonlyArray<readonly [string, string]>) => string
  readonly set?: (members: ReadonlyArray<string>) => string
  readonly uint8Array?: (bytes: Uint8Array) => string
  readonly typedArray?: (name: string, bytes: Uint8Array) => string
  readonly arrayBuffer?: (bytes: Uint8Array) => string
  readonly option?: (value: string | undefined) => string
  readonly either?: (side: "left" | "right", value: string) => string
  readonly chunk?: (items: ReadonlyArray<string>) => string
  readonly hashMap?: (entries: ReadonlyArray<readonly [string, string]>) => string
  readonly hashSet?: (members: ReadonlyArray<string>) => string
}

class Unencodable {
  constructor(readonly reason: string) {}
}

const StructuralPrototype: object = Data.Structural.prototype
const ObjectPrototype = Object.prototype

const byTextOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

const compareEntries = (a: readonly [string, string], b: readonly [string, string]): number =>
  byTextOrder(a[0], b[0]) || byTextOrder(a[1], b[1])

const className = (prototype: { readonly constructor?: { readonly name?: unknown } }): string => {
  const name = prototype.constructor?.name
  return typeof name === "string" ? name : ""
}

/**
 * Walks a value depth first. `path` and `ancestors` are the steps and the objects from the root to
 * the value being written: the first names a failure, the second detects cycles.
 */
class Walker {
  readonly ancestors = new Set<object>()

  constructor(
    readonly encoding: Encoding,
    readonly path: Array<PathStep>
  ) {}

  value(value: unknown): string {
    const encoding = this.encoding
    switch (typeof value) {
      case "string":
        return encoding.string(value)
      case "number":
        // `value + 0` is `0` for `-0`: one key, as they are one key of the cache.
        return encoding.number(value + 0)
      case "boolean":
        return encoding.boolean(value)
      case "undefined":
        return encoding.undefined
      case "bigint":
        return encoding.bigint(value)
      case "symbol":
        throw new Unencodable("a symbol has no stable encoding")
      case "function":
        throw new Unencodable("a function has no stable encoding")
    }
    if (value === null) return encoding.null
    const object = value as object
    if (this.ancestors.has(object)) throw new Unencodable("a cycle: this object contains itself")
    this.ancestors.add(object)
    const encoded = this.object(object)
    this.ancestors.delete(object)
    return encoded
  }

  private object(value: object): string {
    const encoding = this.encoding
    if (Array.isArray(value)) return encoding.array(this.items(value))
    const prototype = Object.getPrototypeOf(value)
    if (prototype === ObjectPrototype || prototype === null)
      return encoding.record(undefined, this.fields(value))
    // `getTime` is `+0` for `new Date(-0)`: time values are never `-0`.
    if (value instanceof Date) return encoding.date(value.getTime())
    if (encoding.url !== undefined && value instanceof URL) return encoding.url(value.href)
    if (encoding.map !== undefined && value instanceof Map) return encoding.map(this.entries(value))
    if (encoding.set !== undefined && value instanceof Set) return encoding.set(this.members(value))
    if (encoding.uint8Array !== undefined && value instanceof Uint8Array) return encoding.uint8Array(value)
    if (encoding.typedArray !== undefined && ArrayBuffer.isView(value) && !(value instanceof DataView)) {
      const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
      return encoding.typedArray(value.constructor.name, bytes)
    }
    if (encoding.arrayBuffer !== undefined && value instanceof ArrayBuffer) {
      return encoding.arrayBuffer(new Uint8Array(value))
    }
    if (encoding.option !== undefined && Option.isOption(value)) {
      return encoding.option(Option.isSome(value) ? this.child("value", value.value) : undefined)
    }
    if (encoding.either !== undefined && Either.isEither(value)) {
      return Either.isRight(value)
        ? encoding.either("right", this.child("right", value.right))
        : encoding.either("left", this.child("left", value.left))
    }
    if (encoding.chunk !== undefined && Chunk.isChunk(value)) {
      return encoding.chunk(this.items(Chunk.toReadonlyArray(value)))
    }
    if (encoding.hashMap !== undefined && HashMap.isHashMap(value))
      return encoding.hashMap(this.entries(value))
    if (encoding.hashSet !== undefined && HashSet.isHashSet(value))
      return encoding.hashSet(this.members(value))
    if (value instanceof Data.Structural || (encoding.records === "asEqual" && Equal.isEqual(value))) {
      // `Data.struct` values sit right on the structural prototype; `Data.Class` instances carry
      // their class name, so that two classes with the same fields can be told apart.
      return encoding.record(
        prototype === StructuralPrototype ? "" : className(prototype),
        this.fields(value)
      )
    }
    const name = className(prototype)
    throw new Unencodable(
      `an instance of ${name === "" ? "a class" : name} has no stable encoding${this.encoding.instanceHint}`
    )
  }

  private child(step: PathStep, value: unknown): string {
    this.path.push(step)
    const encoded = this.value(value)
    this.path.pop()
    return encoded
  }

  private items(items: ReadonlyArray<unknown>): Array<string> {
    const encoded = new Array<string>(items.length)
    for (let i = 0; i < items.length; i++) encoded[i] = this.child(i, items[i])
    return encoded
  }

  private fields(value: object): Array<readonly [string, string]> {
    if (
      this.encoding.records === "strict" &&
      Object.getOwnPropertySymbols(value).some((symbol) =>
        Object.prototype.propertyIsEnumerable.call(value, symbol)
      )
    ) {
      throw new Unencodable("an object with symbol keys has no stable encoding")
    }
    const keys = Object.keys(value).sort(byTextOrder)
    const record = value as Record<string, unknown>
    return keys.map((key) => [key, this.child(key, record[key])] as const)
  }

  private entries(map: Iterable<readonly [unknown, unknown]>): Array<readonly [string, string]> {
    const encoded: Array<readonly [string, string]> = []
    let i = 0
    for (const [key, value] of map) {
      encoded.push([
        this.child({ label: `map key ${i}` }, key),
        this.child({ label: `map value ${i}` }, value)
      ])
      i++
    }
    return encoded.sort(compareEntries)
  }

  private members(set: Iterable<unknown>): Array<string> {
    const encoded: Array<string> = []
    let i = 0
    for (const member of set) encoded.push(this.child({ label: `set member ${i++}` }, member))
    return encoded.sort(byTextOrder)
  }
}

/**
 * The encoding of `value`, or why it has none. `at` is the path of `value` itself, the beginning of
 * every failure's path.
 *
 * @internal
 */
export const walk = (
  encoding: Encoding,
  value: unknown,
  at: ReadonlyArray<PathStep> = []
): string | WalkFailure => {
  const walker = new Walker(encoding, [...at])
  try {
    return walker.value(value)
  } catch (error) {
    if (error instanceof Unencodable)
      return { _tag: "EncodingFailure", path: walker.path, reason: error.reason }
    throw error
  }
}

/** @internal */
export const isFailure = (u: string | WalkFailure): u is WalkFailure => typeof u !== "string"

const identifier = /^[A-Za-z_$][\w$]*$/

/**
 * `args[0].user["first name"][map key 2]`: where under `root` a failure happened.
 *
 * @internal
 */
export const formatPath = (root: string, path: ReadonlyArray<PathStep>): string => {
  let out = root
  for (const step of path) {
    if (typeof step === "number") out += `[${step}]`
    else if (typeof step === "string") out += identifier.test(step) ? `.${step}` : `[${JSON.stringify(step)}]`
    else out += `[${step.label}]`
  }
  return out
}
