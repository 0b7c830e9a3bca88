/**
 * The canonical encoding of a memoized function's arguments: the memo key's spelling of the
 * canonical walk of {@link keyWalk}.
 *
 * Every value is written with a one-letter type tag and is self-delimiting (lengths or terminators,
 * never separators that could occur inside a value), so a concatenation of encodings reads back one
 * way only: two argument lists get the same key exactly when they are structurally equal. Nothing
 * depends on object identity, insertion order or the process.
 */
import * as Either from "effect/Either"
import { KeyEncodingError } from "../CacheError.js"
import * as keyWalk from "./keyWalk.js"

/** @internal */
export type EncodingFailure = keyWalk.WalkFailure

const HEX: ReadonlyArray<string> = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

const hex = (bytes: Uint8Array): string => {
  let out = ""
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!]
  return out
}

const string = (s: string): string => `s${s.length}:${s}`

const number = (n: number): string => `d${n};`

const list = (tag: string, items: ReadonlyArray<string>): string => `${tag}${items.length}:${items.join("")}`

const pairs = (tag: string, entries: ReadonlyArray<readonly [string, string]>): string => {
  let out = `${tag}${entries.length}:`
  for (const [key, value] of entries) out += key + value
  return out
}

const fields = (entries: ReadonlyArray<readonly [string, string]>): string => {
  let out = `${entries.length}:`
  for (const [name, value] of entries) out += string(name) + value
  return out
}

const encoding: keyWalk.Encoding = {
  string,
  number,
  bigint: (n) => `i${n};`,
  boolean: (b) => (b ? "t" : "f"),
  undefined: "u",
  null: "n",
  date: (time) => `D${time};`,
  array: (items) => list("a", items),
  record: (name, entries) =>
    name === undefined ? `o${fields(entries)}` : `R${string(name)}${fields(entries)}`,
  records: "strict",
  instanceHint: "",
  url: (href) => `U${string(href)}`,
  map: (entries) => pairs("M", entries),
  set: (members) => list("S", members),
  uint8Array: (bytes) => `B${bytes.length}:${hex(bytes)}`,
  typedArray: (name, bytes) => `V${string(name)}${bytes.length}:${hex(bytes)}`,
  arrayBuffer: (bytes) => `A${bytes.length}:${hex(bytes)}`,
  option: (value) => (value === undefined ? "On" : `Os${value}`),
  either: (side, value) => (side === "right" ? `Er${value}` : `El${value}`),
  chunk: (items) => list("C", items),
  hashMap: (entries) => pairs("HM", entries),
  hashSet: (members) => list("HS", members)
}

/**
 * The encoding of an argument list (the count is part of it, so `f()` and `f(undefined)` differ),
 * or why it has none.
 *
 * @internal
 */
export const encodeArguments = (args: ReadonlyArray<unknown>): string | EncodingFailure => {
  let out = `a${args.length}:`
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    // Most memoized functions take a few primitives: skip the walker's allocations for them.
    switch (typeof arg) {
      case "string":
        out += string(arg)
        continue
      case "number":
        out += number(arg + 0)
        continue
      case "boolean":
        out += arg ? "t" : "f"
        continue
      case "undefined":
        out += "u"
        continue
    }
    const encoded = keyWalk.walk(encoding, arg, [i])
    if (keyWalk.isFailure(encoded)) return encoded
    out += encoded
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

/** @internal */
export const toError = (method: string, failure: EncodingFailure): KeyEncodingError =>
  new KeyEncodingError({
    method,
    path: keyWalk.formatPath("args", failure.path),
    reason: `${failure.reason}; give the memoized function a \`key\` option to build its keys yourself`
  })

/** @internal */
export const isFailure = keyWalk.isFailure

/** @internal */
export const key = (name: string, args: ReadonlyArray<unknown>): Either.Either<string, KeyEncodingError> => {
  const encoded = encodeArguments(args)
  return isFailure(encoded)
    ? Either.left(toError("MemoCache.key", encoded))
    : Either.right(keyPrefix(name) + encoded)
}
