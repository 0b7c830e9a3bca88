import { describe, expect, it } from "@effect/vitest"
import { Chunk, Data, Either, HashMap, HashSet, Option } from "effect"
import * as fc from "fast-check"
import * as MemoCache from "../src/MemoCache.js"

const keyOf = (...args: ReadonlyArray<unknown>): string => Either.getOrThrow(MemoCache.key("f", args))

const failureOf = (...args: ReadonlyArray<unknown>) => {
  const result = MemoCache.key("f", args)
  if (Either.isRight(result)) throw new Error(`expected no key, got ${result.right}`)
  return result.left
}

class Point extends Data.Class<{ readonly x: number; readonly y: number }> {}
class Vector extends Data.Class<{ readonly x: number; readonly y: number }> {}
class Person extends Data.TaggedClass("Person")<{ readonly name: string }> {}
class Opaque {
  constructor(readonly value: number) {}
}

describe("MemoCache.key", () => {
  it("tells apart arguments that differ in type or shape", () => {
    const distinct: ReadonlyArray<ReadonlyArray<unknown>> = [
      [],
      [undefined],
      [undefined, undefined],
      [null],
      ["1"],
      [1],
      [1n],
      ["1n"],
      [true],
      ["true"],
      [[1, 2]],
      ["1,2"],
      [1, 2],
      [[1], 2],
      [[[1, 2]]],
      ["a", "b"],
      ["ab"],
      [["a", "b"]],
      ["s1:a"],
      [0],
      [NaN],
      ["NaN"],
      [Infinity],
      [-Infinity],
      [new Date(0)],
      [new Date(0).toISOString()],
      [0, 0],
      [new Date(Number.NaN)],
      [new URL("https://example.com/")],
      ["https://example.com/"],
      [JSON.parse('{"__proto__":0}')],
      [{}],
      [[]],
      [new Map()],
      [new Set()],
      [{ a: 1 }],
      [{ a: "1" }],
      [{ a: 1, b: undefined }],
      [{ "1": 2 }],
      [[undefined, 2]],
      [new Map([[1, 2]])],
      [new Map([["1", 2]])],
      [new Set([1, 2])],
      [new Uint8Array([1, 2])],
      [new Int8Array([1, 2])],
      [new Uint8Array([1, 2]).buffer],
      [Data.struct({ a: 1 })],
      [new Point({ x: 1, y: 2 })],
      [new Vector({ x: 1, y: 2 })],
      [{ x: 1, y: 2 }],
      [new Person({ name: "Ada" })],
      [{ _tag: "Person", name: "Ada" }],
      [Option.some(1)],
      [Option.none()],
      [Option.some(undefined)],
      [Either.right(1)],
      [Either.left(1)],
      [Chunk.make(1, 2)],
      [HashSet.make(1, 2)],
      [HashMap.make([1, 2])]
    ]
    const keys = distinct.map((args) => keyOf(...args))
    const seen = new Map<string, number>()
    keys.forEach((key, i) => {
      expect(seen.get(key), `${i} collides with ${seen.get(key)}: ${key}`).toBeUndefined()
      seen.set(key, i)
    })
  })

  it("gives equal arguments one key, whatever their property, entry or member order", () => {
    expect(keyOf({ a: 1, b: { c: [1, 2], d: "x" } })).toBe(keyOf({ b: { d: "x", c: [1, 2] }, a: 1 }))
    expect(
      keyOf(
        new Map<unknown, number>([
          ["a", 1],
          [{ z: 1, y: 2 }, 2]
        ])
      )
    ).toBe(
      keyOf(
        new Map<unknown, number>([
          [{ y: 2, z: 1 }, 2],
          ["a", 1]
        ])
      )
    )
    expect(keyOf(new Set([3, "b", [1]]))).toBe(keyOf(new Set([[1], "b", 3])))
    expect(keyOf(new Date(5))).toBe(keyOf(new Date(5)))
    expect(keyOf(new Uint8Array([1, 2]))).toBe(keyOf(Buffer.from([1, 2])))
    expect(keyOf(Data.struct({ a: 1, b: 2 }))).toBe(keyOf(Data.struct({ b: 2, a: 1 })))
    expect(keyOf(new Point({ x: 1, y: 2 }))).toBe(keyOf(new Point({ y: 2, x: 1 })))
    expect(keyOf(HashMap.make(["a", 1], ["b", 2]))).toBe(keyOf(HashMap.make(["b", 2], ["a", 1])))
    expect(keyOf(HashSet.make("a", "b"))).toBe(keyOf(HashSet.make("b", "a")))
    expect(keyOf(NaN)).toBe(keyOf(Number.NaN))
    expect(keyOf(new URL("https://example.com/a?b"))).toBe(keyOf(new URL("https://example.com/a?b")))
    expect(keyOf({ __proto__: null, a: 1 })).toBe(keyOf({ a: 1 }))
  })

  it("follows the cache's key identity: 0 and -0 are one key, NaN finds NaN, Date and URL by value", () => {
    expect(keyOf(-0)).toBe(keyOf(0))
    expect(keyOf([-0], { a: -0 }, new Map([[-0, -0]]))).toBe(keyOf([0], { a: 0 }, new Map([[0, 0]])))
    expect(keyOf(new Date(-0))).toBe(keyOf(new Date(0)))
    expect(keyOf(0 / 0)).toBe(keyOf(Number.NaN))
    expect(keyOf(new URL("HTTPS://Example.com:443/a"))).toBe(keyOf(new URL("https://example.com/a")))
    expect(keyOf(new URL("https://example.com/a"))).not.toBe(keyOf(new URL("https://example.com/b")))
  })

  it("encodes an own __proto__ property like any other, and never as the prototype", () => {
    const own: Record<string, unknown> = JSON.parse('{"__proto__":0}')
    expect(Object.hasOwn(own, "__proto__")).toBe(true)
    expect(keyOf(own)).not.toBe(keyOf({}))
    expect(keyOf(own)).toBe(keyOf({ ["__proto__"]: 0 }))
    expect(keyOf(own)).not.toBe(keyOf({ ["__proto__"]: 1 }))
    const bare = Object.create(null) as Record<string, unknown>
    Object.defineProperty(bare, "__proto__", { value: 0, enumerable: true })
    expect(keyOf(bare)).toBe(keyOf(own))
    expect(keyOf({ a: own })).not.toBe(keyOf({ a: {} }))
    expect(keyOf(new Map([["__proto__", 0]]))).not.toBe(keyOf(new Map()))
  })

  it("keys by the function's name, delimited so that no name runs into the arguments", () => {
    const a = Either.getOrThrow(MemoCache.key("f", ["ab"]))
    const b = Either.getOrThrow(MemoCache.key("fs2:ab", []))
    expect(a).not.toBe(b)
    expect(Either.getOrThrow(MemoCache.key("g", ["ab"]))).not.toBe(a)
  })

  it("is a fixed text, the same in every process", () => {
    // Persisted caches are read back by other processes: this format may only change with a new
    // major version.
    expect(keyOf({ b: [1, "x", -0, 2n], a: new Date(1), c: new Set([true, null]) }, undefined)).toBe(
      "s1:fa2:o3:s1:aD1;s1:ba4:d1;s1:xd0;i2;s1:cS2:ntu"
    )
    expect(keyOf(new URL("https://example.com/"))).toBe("s1:fa1:Us20:https://example.com/")
    expect(keyOf(new Uint8Array([0, 255]), Option.some("é"))).toBe("s1:fa2:B2:00ffOss1:é")
  })

  it("names where an argument has no encoding, and why", () => {
    const callback = failureOf(1, { user: { name: "Ada", callback: () => 1 } })
    expect(callback._tag).toBe("KeyEncodingError")
    expect(callback.path).toBe("args[1].user.callback")
    expect(callback.reason).toMatch(/function/)
    expect(callback.message).toMatch(/args\[1\]\.user\.callback/)

    expect(failureOf(Symbol("s")).path).toBe("args[0]")
    expect(failureOf({ "first name": [Symbol("s")] }).path).toBe('args[0]["first name"][0]')
    expect(failureOf(new Opaque(1)).reason).toMatch(/instance of Opaque/)
    expect(failureOf(new Map([["k", () => 1]])).path).toBe("args[0][map value 0]")
    expect(failureOf({ [Symbol("k")]: 1 }).reason).toMatch(/symbol keys/)

    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic.self = { back: cyclic }
    const cycle = failureOf(cyclic)
    expect(cycle.path).toBe("args[0].self.back")
    expect(cycle.reason).toMatch(/cycle/)

    const shared = { a: 1 }
    expect(keyOf({ x: shared, y: shared })).toBe(keyOf({ x: { a: 1 }, y: { a: 1 } }))
  })
})

const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 3 }),
  fc.integer({ min: -2, max: 2 }),
  fc.double(),
  fc.constantFrom(0, -0, Number.NaN, Infinity, -Infinity, 1, "1", "", "0"),
  fc.bigInt({ min: -2n, max: 2n }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.integer({ min: -1, max: 2 }).map((ms) => new Date(ms)),
  fc.uint8Array({ maxLength: 2, max: 2 })
)

const { value: valueArbitrary } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", maxDepth: 4 },
    leaf,
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom("a", "b", "c", "1", "__proto__", "constructor"), tie("value"), {
      maxKeys: 3
    }),
    fc.array(fc.tuple(tie("value"), tie("value")), { maxLength: 2 }).map((entries) => new Map(entries)),
    fc.array(tie("value"), { maxLength: 2 }).map((members) => new Set(members))
  )
}))

const isPlain = (u: object): boolean => {
  const prototype = Object.getPrototypeOf(u)
  return prototype === Object.prototype || prototype === null
}

/** Matches each element of `xs` with a distinct equal element of `ys`: a multiset comparison. */
const sameMultiset = (xs: ReadonlyArray<unknown>, ys: ReadonlyArray<unknown>): boolean => {
  if (xs.length !== ys.length) return false
  const unused = [...ys]
  for (const x of xs) {
    const i = unused.findIndex((y) => deepEqual(x, y))
    if (i < 0) return false
    unused.splice(i, 1)
  }
  return true
}

/** SameValueZero, the cache's identity of primitives: -0 is 0, NaN is NaN. */
const sameValueZero = (a: unknown, b: unknown): boolean =>
  a === b || (typeof a === "number" && typeof b === "number" && Number.isNaN(a) && Number.isNaN(b))

/** The reference: structural equality, with SameValueZero on primitives. */
const deepEqual = (a: unknown, b: unknown): boolean => {
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) return sameValueZero(a, b)
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && sameValueZero(a.getTime(), b.getTime())
  }
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return (
      a instanceof Uint8Array &&
      b instanceof Uint8Array &&
      a.length === b.length &&
      a.every((x, i) => x === b[i])
    )
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]))
    )
  }
  if (a instanceof Map || b instanceof Map) {
    return a instanceof Map && b instanceof Map && sameMultiset([...a], [...b])
  }
  if (a instanceof Set || b instanceof Set) {
    return a instanceof Set && b instanceof Set && sameMultiset([...a], [...b])
  }
  if (!isPlain(a) || !isPlain(b)) return false
  const aKeys = Object.keys(a)
  const bKeys = Object.keys(b)
  return (
    aKeys.length === bKeys.length &&
    aKeys.every(
      (key) =>
        Object.hasOwn(b, key) &&
        deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])
    )
  )
}

/** The same value built again with every property, entry and member in reverse order. */
const reordered = (u: unknown): unknown => {
  if (typeof u !== "object" || u === null || u instanceof Date || u instanceof Uint8Array) return u
  if (Array.isArray(u)) return u.map(reordered)
  if (u instanceof Map) return new Map([...u].reverse().map(([k, v]) => [reordered(k), reordered(v)]))
  if (u instanceof Set) return new Set([...u].reverse().map(reordered))
  const out: Record<string, unknown> = Object.create(Object.getPrototypeOf(u))
  for (const key of Object.keys(u).reverse()) {
    Object.defineProperty(out, key, {
      value: reordered((u as Record<string, unknown>)[key]),
      enumerable: true,
      writable: true,
      configurable: true
    })
  }
  return out
}

const argsArbitrary = fc.array(valueArbitrary, { maxLength: 3 })
const numRuns = process.env.CI ? 300 : 1000

describe("MemoCache.key properties", () => {
  it("gives equal keys to equal arguments built in another order", () => {
    fc.assert(
      fc.property(argsArbitrary, (args) => {
        expect(keyOf(...(reordered(args) as Array<unknown>))).toBe(keyOf(...args))
      }),
      { numRuns }
    )
  })

  it("gives equal keys exactly to structurally equal arguments", () => {
    fc.assert(
      fc.property(
        fc
          .tuple(argsArbitrary, argsArbitrary, fc.boolean())
          .map(([a, b, same]) => (same ? ([a, reordered(a) as Array<unknown>] as const) : ([a, b] as const))),
        ([a, b]) => {
          expect(keyOf(...a) === keyOf(...b)).toBe(deepEqual(a, b))
        }
      ),
      { numRuns }
    )
  })
})
