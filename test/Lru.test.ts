import { describe, expect, it } from "@effect/vitest"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Equal from "effect/Equal"
import * as Option from "effect/Option"
import fc from "fast-check"
import * as internal from "../src/internal/lru.js"
import * as Lru from "../src/Lru.js"
import * as M from "./model.js"

const RUNS = process.env.CI ? 600 : 1200

/** Options as plain data, so that failures print readably and models compare with `toEqual`. */
const show = <A>(option: Option.Option<A>): { readonly some: A } | "none" =>
  Option.isSome(option) ? { some: option.value } : "none"

const millis = (option: Option.Option<Duration.Duration>): { readonly some: number } | "none" =>
  show(Option.map(option, Duration.toMillis))

/**
 * The weigher of the bounded runs: 0 to 6 by value and key, so that with a `maxSize` of 1 to 10
 * some entries weigh nothing, most sets evict for weight, and some entries are too heavy to store.
 */
const sizeOf = (value: number, key: unknown): number => (value % 5) + (M.showKey(key).length % 3)

const maxSizeArb = fc.integer({ min: 1, max: 10 })

describe("Lru", () => {
  describe("constructor", () => {
    it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])(
      "empty(%s) throws a RangeError",
      (n) => {
        expect(() => Lru.empty(n)).toThrow(RangeError)
      }
    )

    it("empty(1) is an empty value", () => {
      const lru = Lru.empty<string, number>(1)
      expect(Lru.isLru(lru)).toBe(true)
      expect(Lru.isLru({ capacity: 1 })).toBe(false)
      expect(lru.capacity).toBe(1)
      expect(Lru.size(lru, 0)).toBe(0)
      expect(Lru.keys(lru, 0)).toEqual([])
      expect(Lru.isValid(lru)).toBe(true)
    })
  })

  describe("recency", () => {
    it("evicts the least recently used entry, counting a get hit as a use", () => {
      let lru = Lru.empty<string, number>(2)
      ;[, lru] = Lru.set(lru, "a", 1, 0)
      ;[, lru] = Lru.set(lru, "b", 2, 0)
      const [hit, afterGet] = Lru.get(lru, "a", 0)
      expect(show(hit)).toEqual({ some: 1 })
      const [removed, next] = Lru.set(afterGet, "c", 3, 0)
      expect(removed).toEqual([{ key: "b", value: 2, cause: "evicted" }])
      expect(Lru.keys(next, 0)).toEqual(["c", "a"])
      expect(Lru.values(next, 0)).toEqual([3, 1])
      expect(Lru.entries(next, 0)).toEqual([
        ["c", 3],
        ["a", 1]
      ])
    })

    it("peek, has and remainingTtl do not touch recency", () => {
      let lru = Lru.empty<string, number>(2)
      ;[, lru] = Lru.set(lru, "a", 1, 0)
      ;[, lru] = Lru.set(lru, "b", 2, 0)
      expect(show(Lru.peek(lru, "a", 0))).toEqual({ some: 1 })
      expect(Lru.has(lru, "a", 0)).toBe(true)
      expect(millis(Lru.remainingTtl(lru, "a", 0))).toEqual({ some: Number.POSITIVE_INFINITY })
      expect(Lru.keys(lru, 0)).toEqual(["b", "a"])
      const [removed, next] = Lru.set(lru, "c", 3, 0)
      expect(removed).toEqual([{ key: "a", value: 1, cause: "evicted" }])
      expect(Lru.keys(next, 0)).toEqual(["c", "b"])
    })

    it("set of an existing key replaces it, makes it most recent and evicts nothing", () => {
      let lru = Lru.empty<string, number>(2)
      ;[, lru] = Lru.set(lru, "a", 1, 0)
      ;[, lru] = Lru.set(lru, "b", 2, 0)
      const [removed, next] = Lru.set(lru, "a", 10, 0)
      expect(removed).toEqual([{ key: "a", value: 1, cause: "replaced" }])
      expect(Lru.entries(next, 0)).toEqual([
        ["a", 10],
        ["b", 2]
      ])
    })

    it("a miss, or a hit on the most recent key, returns the same version", () => {
      let lru = Lru.empty<string, number>(2)
      ;[, lru] = Lru.set(lru, "a", 1, 0)
      ;[, lru] = Lru.set(lru, "b", 2, 0)
      const [miss, afterMiss] = Lru.get(lru, "zz", 0)
      expect(show(miss)).toEqual("none")
      expect(afterMiss).toBe(lru)
      const [hit, afterHit] = Lru.get(lru, "b", 0)
      expect(show(hit)).toEqual({ some: 2 })
      expect(afterHit).toBe(lru)
      expect(Lru.keys(lru, 0)).toEqual(["b", "a"])
    })
  })

  describe("time to live", () => {
    it("an entry set at t with ttl d is live while now < t + d", () => {
      let lru = Lru.empty<string, number>(4)
      ;[, lru] = Lru.set(lru, "a", 1, 1_000, Duration.millis(100))
      expect(Lru.has(lru, "a", 1_099)).toBe(true)
      expect(show(Lru.peek(lru, "a", 1_099))).toEqual({ some: 1 })
      expect(millis(Lru.remainingTtl(lru, "a", 1_099))).toEqual({ some: 1 })
      expect(Lru.has(lru, "a", 1_100)).toBe(false)
      expect(show(Lru.peek(lru, "a", 1_100))).toEqual("none")
      expect(millis(Lru.remainingTtl(lru, "a", 1_100))).toEqual("none")
      expect(Lru.size(lru, 1_100)).toBe(0)
      expect(Lru.keys(lru, 1_100)).toEqual([])
      const [hit] = Lru.get(lru, "a", 1_099)
      expect(show(hit)).toEqual({ some: 1 })
      const [miss, expired] = Lru.get(lru, "a", 1_100)
      expect(show(miss)).toEqual("none")
      // The get removed the expired entry: the new version no longer has it even at an earlier time,
      // and removing the key finds nothing, while the old version still holds it.
      expect(Lru.has(expired, "a", 1_099)).toBe(false)
      expect(Lru.remove(expired, "a", 1_100)[0]).toEqual([])
      expect(Lru.remove(lru, "a", 1_100)[0]).toEqual([{ key: "a", value: 1, cause: "expired" }])
    })

    it("accepts every DurationInput form, and no ttl means no expiry", () => {
      const inputs: Array<readonly [Duration.DurationInput, number]> = [
        [50, 50],
        ["50 millis", 50],
        [Duration.seconds(2), 2_000],
        [[1, 0], 1_000],
        [BigInt(7_000_000), 7]
      ]
      for (const [input, expected] of inputs) {
        const [, lru] = Lru.set(Lru.empty<string, number>(1), "a", 1, 500, input)
        expect(millis(Lru.remainingTtl(lru, "a", 500))).toEqual({ some: expected })
        expect(Lru.has(lru, "a", 500 + expected - 1)).toBe(true)
        expect(Lru.has(lru, "a", 500 + expected)).toBe(false)
      }
      const [, forever] = Lru.set(Lru.empty<string, number>(1), "a", 1, 0)
      const remaining = Lru.remainingTtl(forever, "a", Number.MAX_SAFE_INTEGER)
      expect(Option.map(remaining, (d) => Duration.equals(d, Duration.infinity))).toEqual(Option.some(true))
      const [, infinite] = Lru.set(Lru.empty<string, number>(1), "a", 1, 0, Duration.infinity)
      expect(Lru.has(infinite, "a", Number.MAX_SAFE_INTEGER)).toBe(true)
    })

    it.each<Duration.DurationInput>([0, -5, Duration.zero, "0 millis"])(
      "a ttl of %s stores nothing and removes the key's entry",
      (ttl) => {
        let lru = Lru.empty<string, number>(2)
        ;[, lru] = Lru.set(lru, "a", 1, 0)
        ;[, lru] = Lru.set(lru, "b", 2, 0)
        const [removed, next] = Lru.set(lru, "a", 9, 0, ttl)
        expect(removed).toEqual([{ key: "a", value: 1, cause: "replaced" }])
        expect(Lru.keys(next, 0)).toEqual(["b"])
        expect(Lru.has(next, "a", 0)).toBe(false)
        const [none, unchanged] = Lru.set(next, "c", 3, 0, ttl)
        expect(none).toEqual([])
        expect(Lru.keys(unchanged, 0)).toEqual(["b"])
      }
    )

    it("an expired entry never causes a live one to be evicted", () => {
      let lru = Lru.empty<string, number>(2)
      ;[, lru] = Lru.set(lru, "a", 1, 0, 10)
      ;[, lru] = Lru.set(lru, "b", 2, 0)
      const [removed, next] = Lru.set(lru, "c", 3, 10)
      expect(removed).toEqual([{ key: "a", value: 1, cause: "expired" }])
      expect(Lru.keys(next, 10)).toEqual(["c", "b"])
    })

    it("a new key at capacity drops every expired entry, then evicts only if still full", () => {
      let lru = Lru.empty<string, number>(3)
      ;[, lru] = Lru.set(lru, "a", 1, 0, 5)
      ;[, lru] = Lru.set(lru, "b", 2, 0)
      ;[, lru] = Lru.set(lru, "c", 3, 0, 8)
      const [removed, next] = Lru.set(lru, "d", 4, 8)
      expect(M.canonicalRemovals(removed)).toEqual(
        M.canonicalRemovals([
          { key: "a", value: 1, cause: "expired" },
          { key: "c", value: 3, cause: "expired" }
        ])
      )
      expect(Lru.keys(next, 8)).toEqual(["d", "b"])
      const [more, full] = Lru.set(next, "e", 5, 8)
      expect(more).toEqual([])
      const [evicted] = Lru.set(full, "f", 6, 8)
      expect(evicted).toEqual([{ key: "b", value: 2, cause: "evicted" }])
    })

    it("remainingTtl counts down", () => {
      const [, lru] = Lru.set(Lru.empty<string, number>(1), "a", 1, 0, Duration.seconds(1))
      expect(millis(Lru.remainingTtl(lru, "a", 0))).toEqual({ some: 1_000 })
      expect(millis(Lru.remainingTtl(lru, "a", 300))).toEqual({ some: 700 })
      expect(millis(Lru.remainingTtl(lru, "a", 999))).toEqual({ some: 1 })
      expect(millis(Lru.remainingTtl(lru, "a", 1_000))).toEqual("none")
      expect(millis(Lru.remainingTtl(lru, "b", 0))).toEqual("none")
    })

    it("a set restarts the ttl", () => {
      let lru = Lru.empty<string, number>(1)
      ;[, lru] = Lru.set(lru, "a", 1, 0, 100)
      ;[, lru] = Lru.set(lru, "a", 2, 90, 100)
      expect(show(Lru.peek(lru, "a", 150))).toEqual({ some: 2 })
      expect(Lru.has(lru, "a", 190)).toBe(false)
      ;[, lru] = Lru.set(lru, "a", 3, 190)
      expect(Lru.has(lru, "a", 10 ** 12)).toBe(true)
    })

    it("an entry stored without expiry that a later set gives one expires, and older versions keep none", () => {
      // Entries made without an expiry are laid out without a place in the expiry heap; one that
      // gains an expiry gains the place. Every version must still answer as when it was made.
      let lru = Lru.empty<string, number>(4)
      ;[, lru] = Lru.set(lru, "a", 1, 0)
      ;[, lru] = Lru.set(lru, "b", 2, 0)
      const forever = lru
      ;[, lru] = Lru.set(lru, "a", 3, 10, 100)
      ;[, lru] = Lru.set(lru, "b", 4, 10, 50)
      expect(Lru.keys(lru, 70)).toEqual(["a"])
      expect(Lru.removeExpired(lru, 120)[0]).toEqual([
        { key: "b", value: 4, cause: "expired" },
        { key: "a", value: 3, cause: "expired" }
      ])
      expect(Lru.keys(forever, 10 ** 12)).toEqual(["b", "a"])
      expect(millis(Lru.remainingTtl(forever, "a", 10 ** 12))).toEqual({ some: Number.POSITIVE_INFINITY })
      ;[, lru] = Lru.set(lru, "a", 5, 20)
      expect(Lru.has(lru, "a", 10 ** 12)).toBe(true)
      expect(Lru.isValid(lru)).toBe(true)
    })

    it("removeExpired removes every expired entry, soonest expiry first", () => {
      let lru = Lru.empty<string, number>(8)
      ;[, lru] = Lru.set(lru, "late", 1, 0, 30)
      ;[, lru] = Lru.set(lru, "forever", 2, 0)
      ;[, lru] = Lru.set(lru, "early", 3, 0, 10)
      ;[, lru] = Lru.set(lru, "middle", 4, 0, 20)
      ;[, lru] = Lru.set(lru, "alive", 5, 0, 100)
      const [removed, next] = Lru.removeExpired(lru, 30)
      expect(removed).toEqual([
        { key: "early", value: 3, cause: "expired" },
        { key: "middle", value: 4, cause: "expired" },
        { key: "late", value: 1, cause: "expired" }
      ])
      expect(Lru.keys(next, 30)).toEqual(["alive", "forever"])
      const [nothing] = Lru.removeExpired(next, 30)
      expect(nothing).toEqual([])
    })
  })

  describe("maxSize", () => {
    const bySize = { maxSize: 10, sizeOf: (value: string) => value.length }

    it("evicts least recently used live entries until both bounds hold", () => {
      let lru = Lru.empty<string, string>(5, bySize)
      ;[, lru] = Lru.set(lru, "a", "xxx", 0)
      ;[, lru] = Lru.set(lru, "b", "xxx", 0)
      ;[, lru] = Lru.set(lru, "c", "xxx", 0)
      ;[, lru] = Lru.get(lru, "a", 0)
      expect(Lru.totalSize(lru, 0)).toBe(9)
      const [removed, next] = Lru.set(lru, "d", "xxxxxx", 0)
      expect(removed).toEqual([
        { key: "b", value: "xxx", cause: "evicted" },
        { key: "c", value: "xxx", cause: "evicted" }
      ])
      expect(Lru.keys(next, 0)).toEqual(["d", "a"])
      expect(Lru.totalSize(next, 0)).toBe(9)
      // A heavier value for a stored key evicts others, never the key itself.
      const [heavier, after] = Lru.set(next, "a", "xxxxxxx", 0)
      expect(heavier).toEqual([
        { key: "a", value: "xxx", cause: "replaced" },
        { key: "d", value: "xxxxxx", cause: "evicted" }
      ])
      expect(Lru.entries(after, 0)).toEqual([["a", "xxxxxxx"]])
    })

    it("removes expired entries before evicting a live one for weight", () => {
      let lru = Lru.empty<string, string>(5, bySize)
      ;[, lru] = Lru.set(lru, "old", "xxxxx", 0)
      ;[, lru] = Lru.set(lru, "soon", "xxxxx", 0, 5)
      const [removed, next] = Lru.set(lru, "new", "xxxxx", 5)
      expect(removed).toEqual([{ key: "soon", value: "xxxxx", cause: "expired" }])
      expect(Lru.keys(next, 5)).toEqual(["new", "old"])
    })

    it("does not store an entry heavier than maxSize, and evicts the key's stored entry", () => {
      let lru = Lru.empty<string, string>(5, bySize)
      ;[, lru] = Lru.set(lru, "a", "xx", 0)
      const [none, same] = Lru.set(lru, "big", "x".repeat(11), 0)
      expect(none).toEqual([])
      expect(same).toBe(lru)
      const [removed, next] = Lru.set(lru, "a", "x".repeat(11), 0)
      expect(removed).toEqual([{ key: "a", value: "xx", cause: "evicted" }])
      expect(Lru.size(next, 0)).toBe(0)
      expect(Lru.totalSize(next, 0)).toBe(0)
      // Exactly maxSize fits.
      expect(Lru.keys(Lru.set(next, "a", "x".repeat(10), 0)[1], 0)).toEqual(["a"])
    })

    it("old versions answer their own total weight forever", () => {
      const v0 = Lru.empty<string, string>(5, bySize)
      const [, v1] = Lru.set(v0, "a", "xxxx", 0)
      const [, v2] = Lru.set(v1, "a", "xx", 0)
      const [, v3] = Lru.set(v2, "b", "xxxxxxxx", 0)
      const [, v4] = Lru.remove(v3, "a", 0)
      const [, v5] = Lru.clear(v4, 0)
      const totals = () => [v0, v1, v2, v3, v4, v5, v3, v1].map((v) => Lru.totalSize(v, 0))
      expect(totals()).toEqual([0, 4, 2, 10, 8, 0, 10, 4])
      // A branch off an old version keeps its own total and leaves the others as they were.
      const [, branch] = Lru.set(v1, "c", "xxxxxx", 0)
      expect(Lru.totalSize(branch, 0)).toBe(10)
      expect(totals()).toEqual([0, 4, 2, 10, 8, 0, 10, 4])
      for (const v of [v0, v1, v2, v3, v4, v5, branch]) expect(Lru.isValid(v)).toBe(true)
    })

    it("rejects maxSize without sizeOf, the reverse, and a maxSize that is not a positive integer", () => {
      const sizeOf = () => 1
      expect(() => Lru.empty(1, { maxSize: 10 })).toThrow(/maxSize and sizeOf go together/)
      expect(() => Lru.empty(1, { sizeOf })).toThrow(/maxSize and sizeOf go together/)
      for (const maxSize of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        expect(() => Lru.empty(1, { maxSize, sizeOf })).toThrow(/maxSize must be a positive integer/)
      }
    })

    it("a weigher answering other than a non-negative integer fails the set and changes nothing", () => {
      for (const weight of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        const [, lru] = Lru.set(Lru.empty<string, number>(2, { maxSize: 10, sizeOf: (v) => v }), "a", 1, 0)
        expect(() => Lru.set(lru, "b", weight, 0)).toThrow(/sizeOf must return a non-negative integer/)
        expect(Lru.entries(lru, 0)).toEqual([["a", 1]])
        expect(Lru.totalSize(lru, 0)).toBe(1)
        expect(Lru.isValid(lru)).toBe(true)
      }
    })

    it("under W-TinyLFU, every version answers forever as when it was made, its total weight included", () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 8 }),
          maxSizeArb,
          fc.array(opArb, { minLength: 1, maxLength: 120 }),
          fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
          (capacity, maxSize, ops, revisits) => {
            let lru = Lru.empty<unknown, number>(capacity, { policy: "w-tinylfu", maxSize, sizeOf })
            let now = 0
            const versions: Array<{ lru: Lru.Lru<unknown, number>; now: number; seen: unknown }> = []
            ops.forEach((op, i) => {
              const key = "key" in op ? makeKey(op.key) : undefined
              if (op.op === "set") lru = Lru.set(lru, key, i, now, op.ttl)[1]
              else if (op.op === "get") lru = Lru.get(lru, key, now)[1]
              else if (op.op === "delete") lru = Lru.remove(lru, key, now)[1]
              else if (op.op === "advance") now += op.ms
              versions.push({ lru, now, seen: observe(lru, now) })
            })
            for (const i of revisits) {
              const version = versions[i % versions.length]!
              expect(Lru.isValid(version.lru)).toBe(true)
              expect(observe(version.lru, version.now)).toEqual(version.seen)
            }
          }
        ),
        { numRuns: RUNS / 4 }
      )
    })

    it("under W-TinyLFU keeps both bounds after every operation", () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 8 }),
          maxSizeArb,
          fc.constantFrom<"adaptive" | "fixed">("adaptive", "fixed"),
          fc.array(opArb, { minLength: 1, maxLength: 200 }),
          (capacity, maxSize, window, ops) => {
            let lru = Lru.empty<unknown, number>(capacity, { policy: "w-tinylfu", window, maxSize, sizeOf })
            let now = 0
            ops.forEach((op, i) => {
              const key = "key" in op ? makeKey(op.key) : undefined
              let removed: ReadonlyArray<Lru.Removal<unknown, number>> = []
              if (op.op === "set") [removed, lru] = Lru.set(lru, key, i, now, op.ttl)
              else if (op.op === "get") lru = Lru.get(lru, key, now)[1]
              else if (op.op === "delete") [removed, lru] = Lru.remove(lru, key, now)
              else if (op.op === "advance") now += op.ms
              expect(Lru.isValid(lru)).toBe(true)
              expect(Lru.size(lru, now)).toBeLessThanOrEqual(capacity)
              expect(Lru.totalSize(lru, now)).toBeLessThanOrEqual(maxSize)
              // An expired entry never makes a live one go: after an eviction, no expired entry is left.
              if (removed.some((r) => r.cause === "evicted" && !M.sameKey(r.key, key))) {
                expect(Lru.size(lru, now)).toBe(internal.storedCount(lru))
              }
            })
          }
        ),
        { numRuns: RUNS }
      )
    })
  })

  describe("remove and clear", () => {
    it("remove reports a live entry as deleted, an expired one as expired, an absent one not at all", () => {
      let lru = Lru.empty<string, number>(4)
      ;[, lru] = Lru.set(lru, "a", 1, 0)
      ;[, lru] = Lru.set(lru, "b", 2, 0, 5)
      const [deleted, afterA] = Lru.remove(lru, "a", 5)
      expect(deleted).toEqual([{ key: "a", value: 1, cause: "deleted" }])
      const [expired, afterB] = Lru.remove(afterA, "b", 5)
      expect(expired).toEqual([{ key: "b", value: 2, cause: "expired" }])
      const [absent, after] = Lru.remove(afterB, "b", 5)
      expect(absent).toEqual([])
      expect(Lru.size(after, 5)).toBe(0)
    })

    it("clear removes live entries as cleared and expired ones as expired", () => {
      let lru = Lru.empty<string, number>(4)
      ;[, lru] = Lru.set(lru, "a", 1, 0)
      ;[, lru] = Lru.set(lru, "b", 2, 0, 5)
      ;[, lru] = Lru.get(lru, "a", 5)
      const [removed, next] = Lru.clear(lru, 5)
      expect(M.canonicalRemovals(removed)).toEqual(
        M.canonicalRemovals([
          { key: "a", value: 1, cause: "cleared" },
          { key: "b", value: 2, cause: "expired" }
        ])
      )
      expect(Lru.size(next, 5)).toBe(0)
      expect(Lru.keys(next, 0)).toEqual([])
      const [, refilled] = Lru.set(next, "c", 3, 5)
      expect(Lru.keys(refilled, 5)).toEqual(["c"])
    })
  })

  describe("persisted form", () => {
    it("toPersisted lists live entries least recently used first, and setExpiresAt rebuilds them", () => {
      let lru = Lru.empty<string, number>(4)
      ;[, lru] = Lru.set(lru, "a", 1, 0, 100)
      ;[, lru] = Lru.set(lru, "b", 2, 0)
      ;[, lru] = Lru.set(lru, "gone", 3, 0, 10)
      ;[, lru] = Lru.get(lru, "a", 20)
      const persisted = Lru.toPersisted(lru, 20)
      expect(persisted).toEqual([
        { key: "b", value: 2, expiresAt: Number.POSITIVE_INFINITY },
        { key: "a", value: 1, expiresAt: 100 }
      ])
      let restored = Lru.empty<string, number>(4)
      for (const entry of persisted)
        [, restored] = Lru.setExpiresAt(restored, entry.key, entry.value, 50, entry.expiresAt)
      expect(Lru.entries(restored, 50)).toEqual(Lru.entries(lru, 50))
      expect(millis(Lru.remainingTtl(restored, "a", 50))).toEqual({ some: 50 })
      const [nothing, same] = Lru.setExpiresAt(restored, "old", 9, 50, 50)
      expect(nothing).toEqual([])
      expect(Lru.has(same, "old", 50)).toBe(false)
    })
  })

  describe("immutability", () => {
    it("an old version answers as before after later operations on it and its successors", () => {
      let lru = Lru.empty<string, number>(2)
      ;[, lru] = Lru.set(lru, "a", 1, 0)
      const v1 = lru
      ;[, lru] = Lru.set(lru, "b", 2, 0)
      ;[, lru] = Lru.set(lru, "c", 3, 0)
      ;[, lru] = Lru.get(lru, "b", 0)
      ;[, lru] = Lru.clear(lru, 0)
      const [, branch] = Lru.set(v1, "z", 26, 0)
      expect(Lru.entries(v1, 0)).toEqual([["a", 1]])
      expect(Lru.entries(branch, 0)).toEqual([
        ["z", 26],
        ["a", 1]
      ])
      expect(Lru.keys(lru, 0)).toEqual([])
      for (const version of [v1, branch, lru]) expect(Lru.isValid(version)).toBe(true)
    })
  })

  describe("keys", () => {
    it("treats names of Object.prototype members as ordinary keys", () => {
      const names = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "prototype"]
      let lru = Lru.empty<string, number>(names.length)
      for (const name of names) expect(Lru.has(lru, name, 0)).toBe(false)
      for (const [i, name] of names.entries()) [, lru] = Lru.set(lru, name, i, 0)
      for (const [i, name] of names.entries()) expect(show(Lru.peek(lru, name, 0))).toEqual({ some: i })
      expect(Lru.keys(lru, 0)).toEqual([...names].reverse())
      const [removed, next] = Lru.remove(lru, "__proto__", 0)
      expect(removed).toEqual([{ key: "__proto__", value: 0, cause: "deleted" }])
      expect(Lru.has(next, "__proto__", 0)).toBe(false)
      expect(Lru.size(next, 0)).toBe(names.length - 1)
      expect(Lru.isValid(next)).toBe(true)
    })

    it("finds a Data.struct key by an equal, distinct struct", () => {
      const [, lru] = Lru.set(Lru.empty<unknown, string>(4), Data.struct({ a: 1 }), "one", 0)
      expect(show(Lru.peek(lru, Data.struct({ a: 1 }), 0))).toEqual({ some: "one" })
      expect(Lru.has(lru, Data.struct({ a: 2 }), 0)).toBe(false)
      const [replaced, next] = Lru.set(lru, Data.struct({ a: 1 }), "uno", 0)
      expect(replaced.map((r) => r.cause)).toEqual(["replaced"])
      expect(Lru.size(next, 0)).toBe(1)
      const [hit] = Lru.get(next, Data.struct({ a: 1 }), 0)
      expect(show(hit)).toEqual({ some: "uno" })
    })

    it("0 and -0 are one key, NaN is one key, 1 and '1' are two", () => {
      let lru = Lru.empty<unknown, string>(8)
      ;[, lru] = Lru.set(lru, 0, "zero", 0)
      ;[, lru] = Lru.set(lru, -0, "minus zero", 0)
      ;[, lru] = Lru.set(lru, Number.NaN, "nan", 0)
      ;[, lru] = Lru.set(lru, 1, "number", 0)
      ;[, lru] = Lru.set(lru, "1", "string", 0)
      expect(Lru.size(lru, 0)).toBe(4)
      expect(show(Lru.peek(lru, 0, 0))).toEqual({ some: "minus zero" })
      expect(show(Lru.peek(lru, Number.NaN, 0))).toEqual({ some: "nan" })
      expect(show(Lru.peek(lru, 1, 0))).toEqual({ some: "number" })
      expect(show(Lru.peek(lru, "1", 0))).toEqual({ some: "string" })
      expect(Lru.has(lru, "0", 0)).toBe(false)
    })

    it("compares plain objects by reference", () => {
      const a = { id: 1 }
      const b = { id: 1 }
      let lru = Lru.empty<object, string>(4)
      ;[, lru] = Lru.set(lru, a, "a", 0)
      expect(Lru.has(lru, b, 0)).toBe(false)
      ;[, lru] = Lru.set(lru, b, "b", 0)
      expect(Lru.size(lru, 0)).toBe(2)
      expect(show(Lru.peek(lru, a, 0))).toEqual({ some: "a" })
      expect(show(Lru.peek(lru, b, 0))).toEqual({ some: "b" })
    })
  })

  describe("data-last forms", () => {
    /** The same value for each form: a (expiring at 10), b, c, d (evicts a), most recent first. */
    const sample = (): Lru.Lru<string, number> => {
      let lru = Lru.empty<string, number>(3)
      ;[, lru] = Lru.set(lru, "a", 1, 0, Duration.millis(10))
      ;[, lru] = Lru.set(lru, "b", 2, 0)
      ;[, lru] = Lru.setExpiresAt(lru, "c", 3, 0, 20)
      return lru
    }

    it("every operation answers the same data-first and data-last", () => {
      const answers = (lru: Lru.Lru<string, number>) => ({ keys: Lru.keys(lru, 5), valid: Lru.isValid(lru) })
      const [r1, l1] = Lru.set(sample(), "d", 4, 5, Duration.millis(1))
      const [r2, l2] = Lru.set("d", 4, 5, Duration.millis(1))(sample())
      expect([r2, answers(l2)]).toEqual([r1, answers(l1)])
      const [r3, l3] = Lru.set(sample(), "d", 4, 5)
      const [r4, l4] = Lru.set("d", 4, 5)(sample())
      expect([r4, answers(l4)]).toEqual([r3, answers(l3)])
      expect(Lru.setExpiresAt("d", 4, 5, 50)(sample())[0]).toEqual(
        Lru.setExpiresAt(sample(), "d", 4, 5, 50)[0]
      )
      expect(show(Lru.get("a", 5)(sample())[0])).toEqual(show(Lru.get(sample(), "a", 5)[0]))
      expect(Lru.remove("b", 5)(sample())[0]).toEqual(Lru.remove(sample(), "b", 5)[0])
      expect(Lru.clear(15)(sample())[0]).toEqual(Lru.clear(sample(), 15)[0])
      expect(Lru.removeExpired(15)(sample())[0]).toEqual(Lru.removeExpired(sample(), 15)[0])
      expect(show(Lru.peek("c", 5)(sample()))).toEqual(show(Lru.peek(sample(), "c", 5)))
      expect(Lru.has("a", 15)(sample())).toBe(Lru.has(sample(), "a", 15))
      expect(millis(Lru.remainingTtl("c", 5)(sample()))).toEqual(millis(Lru.remainingTtl(sample(), "c", 5)))
      expect(Lru.size(15)(sample())).toBe(Lru.size(sample(), 15))
      expect(Lru.keys(5)(sample())).toEqual(Lru.keys(sample(), 5))
      expect(Lru.values(5)(sample())).toEqual(Lru.values(sample(), 5))
      expect(Lru.entries(5)(sample())).toEqual(Lru.entries(sample(), 5))
      expect(Lru.toPersisted(5)(sample())).toEqual(Lru.toPersisted(sample(), 5))
      // The answers themselves, so that two forms broken alike do not pass.
      expect(Lru.keys(sample(), 15)).toEqual(["c", "b"])
      expect(Lru.removeExpired(sample(), 15)[0]).toEqual([{ key: "a", value: 1, cause: "expired" }])
    })

    it("a key that is itself an Lru is set by the data-last form, as its types say", () => {
      // Three arguments are the data-last form only: the data-first one takes four or five.
      const key = Lru.empty<string, number>(1)
      const [removed, lru] = Lru.empty<Lru.Lru<string, number>, number>(2).pipe(Lru.set(key, 1, 0))
      expect(removed).toEqual([])
      expect(show(Lru.peek(lru, key, 0))).toEqual({ some: 1 })
      const [, expiring] = lru.pipe(Lru.set(key, 2, 0, "10 millis"))
      expect(millis(Lru.remainingTtl(expiring, key, 0))).toEqual({ some: 10 })
    })

    it("pipe chains data-last operations", () => {
      const [removed, lru] = Lru.empty<string, number>(2).pipe(
        Lru.set("a", 1, 0),
        ([, lru]) => lru.pipe(Lru.set("b", 2, 0)),
        ([, lru]) => lru.pipe(Lru.get("a", 0)),
        ([, lru]) => lru.pipe(Lru.set("c", 3, 0))
      )
      expect(removed).toEqual([{ key: "b", value: 2, cause: "evicted" }])
      expect(lru.pipe(Lru.keys(0))).toEqual(["c", "a"])
    })
  })

  describe("inspection", () => {
    it("toJSON shows the capacity, the policy and the stored entries, most recent first", () => {
      let lru = Lru.empty<string, number>(3)
      ;[, lru] = Lru.set(lru, "a", 1, 0)
      ;[, lru] = Lru.set(lru, "b", 2, 100, Duration.seconds(1))
      expect(lru.toJSON()).toEqual({
        _id: "Lru",
        capacity: 3,
        policy: "lru",
        entries: [
          { key: "b", value: 2, expiresAt: 1100 },
          { key: "a", value: 1 }
        ]
      })
      expect(Lru.empty<string, number>(5, { policy: "w-tinylfu" }).toJSON()).toEqual({
        _id: "Lru",
        capacity: 5,
        policy: "w-tinylfu",
        entries: []
      })
      // With a byte-size bound, the bound and the weight held, which an old version answers too.
      const bounded = Lru.empty<string, string>(3, { maxSize: 10, sizeOf: (value) => value.length })
      const [, one] = Lru.set(bounded, "a", "xxxx", 0)
      const [, two] = Lru.set(one, "b", "xx", 0)
      expect(two.toJSON()).toEqual({
        _id: "Lru",
        capacity: 3,
        maxSize: 10,
        totalSize: 6,
        policy: "lru",
        entries: [
          { key: "b", value: "xx", size: 2 },
          { key: "a", value: "xxxx", size: 4 }
        ]
      })
      expect(one.toJSON()).toMatchObject({ totalSize: 4, entries: [{ key: "a", size: 4 }] })
    })

    it("an old version shows its own entries, and structured keys and values show as JSON", () => {
      const key = Data.struct({ id: 1 })
      const [, first] = Lru.set(Lru.empty<typeof key, Option.Option<number>>(2), key, Option.some(1), 0)
      const [, second] = Lru.set(first, Data.struct({ id: 2 }), Option.none(), 0)
      expect(second.toJSON()).toMatchObject({ entries: [{ key: { id: 2 } }, { key: { id: 1 } }] })
      expect(first.toJSON()).toEqual({
        _id: "Lru",
        capacity: 2,
        policy: "lru",
        entries: [{ key: { id: 1 }, value: { _id: "Option", _tag: "Some", value: 1 } }]
      })
      expect(String(first)).toBe(JSON.stringify(first.toJSON(), null, 2))
    })
  })
})

// ---------------------------------------------------------------------------------------------------
// Model-based tests

/** The key space: small, with colliding forms (0/-0, equal structs) and keys that trip plain objects. */
const KEY_COUNT = 13
const makeKey = (code: number): unknown => {
  switch (code) {
    case 6:
      return -0
    case 7:
      return Number.NaN
    case 8:
      return "__proto__"
    case 9:
      return "constructor"
    case 10:
      return "0"
    case 11:
      return Data.struct({ id: 1 })
    case 12:
      return Data.struct({ id: 2 })
    default:
      return code
  }
}
const allKeys = (): Array<unknown> => Array.from({ length: KEY_COUNT }, (_, code) => makeKey(code))

const keyArb = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 5 }), weight: 3 },
  fc.integer({ min: 6, max: 12 })
)

const ttlArb: fc.Arbitrary<Duration.DurationInput | undefined> = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 3 },
  { arbitrary: fc.integer({ min: 1, max: 20 }), weight: 5 },
  { arbitrary: fc.integer({ min: 1, max: 20 }).map((n) => Duration.millis(n)), weight: 1 },
  { arbitrary: fc.integer({ min: 1, max: 20 }).map((n) => `${n} millis` as const), weight: 1 },
  {
    arbitrary: fc.constantFrom<Duration.DurationInput>(
      0,
      -5,
      Duration.zero,
      Duration.infinity,
      2.5,
      "2 seconds",
      [0, 3_000_000],
      BigInt(4_000_000)
    ),
    weight: 2
  }
)

type Op =
  | { readonly op: "set"; readonly key: number; readonly ttl: Duration.DurationInput | undefined }
  | { readonly op: "setExpiresAt"; readonly key: number; readonly offset: number }
  | { readonly op: "get" | "peek" | "has" | "delete" | "remainingTtl"; readonly key: number }
  | { readonly op: "clear" | "removeExpired" | "keys" | "values" | "entries" | "size" | "toPersisted" }
  | { readonly op: "advance"; readonly ms: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant("set" as const), key: keyArb, ttl: ttlArb }), weight: 10 },
  {
    arbitrary: fc.record({
      op: fc.constant("setExpiresAt" as const),
      key: keyArb,
      offset: fc.oneof(fc.integer({ min: -3, max: 20 }), fc.constant(Number.POSITIVE_INFINITY))
    }),
    weight: 1
  },
  {
    arbitrary: fc.record({
      op: fc.constantFrom("get" as const, "peek" as const, "has" as const),
      key: keyArb
    }),
    weight: 8
  },
  {
    arbitrary: fc.record({ op: fc.constantFrom("delete" as const, "remainingTtl" as const), key: keyArb }),
    weight: 3
  },
  {
    arbitrary: fc.record({
      op: fc.constantFrom(
        "clear" as const,
        "removeExpired" as const,
        "keys" as const,
        "values" as const,
        "entries" as const,
        "size" as const,
        "toPersisted" as const
      )
    }),
    weight: 2
  },
  {
    arbitrary: fc.record({
      op: fc.constant("advance" as const),
      ms: fc.oneof(
        { arbitrary: fc.integer({ min: 0, max: 6 }), weight: 5 },
        fc.constantFrom(10, 25, 1_000, 2_500)
      )
    }),
    weight: 4
  }
)

interface State {
  readonly lru: Lru.Lru<unknown, number>
  readonly model: M.Model<unknown, number>
  readonly now: number
}

/** Everything a version answers without changing, in a printable form. */
const observe = (lru: Lru.Lru<unknown, number>, now: number) => ({
  entries: Lru.entries(lru, now).map(([k, v]) => [M.showKey(k), v]),
  keys: Lru.keys(lru, now).map(M.showKey),
  values: Lru.values(lru, now),
  size: Lru.size(lru, now),
  totalSize: Lru.totalSize(lru, now),
  persisted: Lru.toPersisted(lru, now).map((e) => [M.showKey(e.key), e.value, e.expiresAt]),
  perKey: allKeys().map((key) => ({
    peek: show(Lru.peek(lru, key, now)),
    has: Lru.has(lru, key, now),
    remainingTtl: millis(Lru.remainingTtl(lru, key, now))
  }))
})

const observeModel = (model: M.Model<unknown, number>, now: number): ReturnType<typeof observe> => ({
  entries: M.entries(model, now).map(([k, v]) => [M.showKey(k), v]),
  keys: M.keys(model, now).map(M.showKey),
  values: M.values(model, now),
  size: M.size(model, now),
  totalSize: M.totalSize(model, now),
  persisted: M.toPersisted(model, now).map((e) => [M.showKey(e.key), e.value, e.expiresAt]),
  perKey: allKeys().map((key) => ({
    peek: show(M.peek(model, key, now)),
    has: M.has(model, key, now),
    remainingTtl: show(M.remainingTtl(model, key, now))
  }))
})

const expectRemovals = (
  actual: ReadonlyArray<Lru.Removal<unknown, number>>,
  expected: ReadonlyArray<M.Removal<unknown, number>>
) => {
  expect(M.canonicalRemovals(actual)).toEqual(M.canonicalRemovals(expected))
}

/**
 * Applies one operation to the value and to the model, comparing the answer; `full` also compares
 * every observation of the result (cheap enough to do after every step).
 */
const step = (state: State, op: Op, value: number, full = true): State => {
  const { lru, model, now } = state
  let next: State = state
  switch (op.op) {
    case "set": {
      const key = makeKey(op.key)
      const [removed, lru2] = Lru.set(lru, key, value, now, op.ttl)
      const [expected, model2] = M.set(model, key, value, now, M.ttlMillis(op.ttl))
      expectRemovals(removed, expected)
      next = { lru: lru2, model: model2, now }
      break
    }
    case "setExpiresAt": {
      const key = makeKey(op.key)
      const [removed, lru2] = Lru.setExpiresAt(lru, key, value, now, now + op.offset)
      const [expected, model2] = M.setExpiresAt(model, key, value, now, now + op.offset)
      expectRemovals(removed, expected)
      next = { lru: lru2, model: model2, now }
      break
    }
    case "get": {
      const key = makeKey(op.key)
      const [result, lru2] = Lru.get(lru, key, now)
      const [expected, model2] = M.get(model, key, now)
      expect(show(result)).toEqual(show(expected))
      const moved =
        model2.entries.some((e, i) => e !== model.entries[i]) ||
        model2.entries.length !== model.entries.length
      if (!moved) expect(lru2).toBe(lru)
      next = { lru: lru2, model: model2, now }
      break
    }
    case "peek":
      expect(show(Lru.peek(lru, makeKey(op.key), now))).toEqual(show(M.peek(model, makeKey(op.key), now)))
      break
    case "has":
      expect(Lru.has(lru, makeKey(op.key), now)).toBe(M.has(model, makeKey(op.key), now))
      break
    case "remainingTtl":
      expect(millis(Lru.remainingTtl(lru, makeKey(op.key), now))).toEqual(
        show(M.remainingTtl(model, makeKey(op.key), now))
      )
      break
    case "delete": {
      const key = makeKey(op.key)
      const [removed, lru2] = Lru.remove(lru, key, now)
      const [expected, model2] = M.remove(model, key, now)
      expectRemovals(removed, expected)
      next = { lru: lru2, model: model2, now }
      break
    }
    case "clear": {
      const [removed, lru2] = Lru.clear(lru, now)
      const [expected, model2] = M.clear(model, now)
      expectRemovals(removed, expected)
      next = { lru: lru2, model: model2, now }
      break
    }
    case "removeExpired": {
      const [removed, lru2] = Lru.removeExpired(lru, now)
      const [expected, model2] = M.removeExpired(model, now)
      expectRemovals(removed, expected)
      const expiries = removed.map((r) => model.entries.find((e) => M.sameKey(e.key, r.key))!.expiresAt)
      expect(expiries).toEqual([...expiries].sort((a, b) => a - b))
      next = { lru: lru2, model: model2, now }
      break
    }
    case "keys":
      expect(M.sameKeys(Lru.keys(lru, now), M.keys(model, now))).toBe(true)
      break
    case "values":
      expect(Lru.values(lru, now)).toEqual(M.values(model, now))
      break
    case "entries":
      expect(Lru.entries(lru, now).map(([k, v]) => [M.showKey(k), v])).toEqual(
        M.entries(model, now).map(([k, v]) => [M.showKey(k), v])
      )
      break
    case "size":
      expect(Lru.size(lru, now)).toBe(M.size(model, now))
      break
    case "toPersisted":
      expect(Lru.toPersisted(lru, now).map((e) => [M.showKey(e.key), e.value, e.expiresAt])).toEqual(
        M.toPersisted(model, now).map((e) => [M.showKey(e.key), e.value, e.expiresAt])
      )
      break
    case "advance":
      next = { lru, model, now: now + op.ms }
      break
  }
  expect(Lru.isValid(next.lru)).toBe(true)
  if (full) {
    expect(observe(next.lru, next.now)).toEqual(observeModel(next.model, next.now))
  }
  return next
}

const start = (capacity: number, now: number, maxSize?: number): State => ({
  lru: Lru.empty(capacity, maxSize === undefined ? undefined : { maxSize, sizeOf }),
  model: M.empty(capacity, maxSize === undefined ? undefined : { maxSize, sizeOf }),
  now
})

describe("Lru against the reference model", () => {
  it("answers every operation of random sequences as the model does", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.array(opArb, { minLength: 1, maxLength: 60 }),
        (capacity, now, ops) => {
          let state = start(capacity, now)
          ops.forEach((op, i) => {
            state = step(state, op, i)
          })
        }
      ),
      { numRuns: RUNS }
    )
  })

  it("holds to the model on long runs", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(opArb, { minLength: 300, maxLength: 600 }),
        (capacity, ops) => {
          let state = start(capacity, 0)
          ops.forEach((op, i) => {
            state = step(state, op, i, i % 10 === 0)
          })
          expect(observe(state.lru, state.now)).toEqual(observeModel(state.model, state.now))
        }
      ),
      { numRuns: 40 }
    )
  })

  it("with maxSize and sizeOf, answers every operation of random sequences as the model does", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        maxSizeArb,
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.array(opArb, { minLength: 1, maxLength: 60 }),
        (capacity, maxSize, now, ops) => {
          let state = start(capacity, now, maxSize)
          ops.forEach((op, i) => {
            state = step(state, op, i)
            expect(Lru.size(state.lru, state.now)).toBeLessThanOrEqual(capacity)
            expect(Lru.totalSize(state.lru, state.now)).toBeLessThanOrEqual(maxSize)
          })
        }
      ),
      { numRuns: RUNS }
    )
  })

  it("with maxSize and sizeOf, holds to the model on long runs", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        maxSizeArb,
        fc.array(opArb, { minLength: 300, maxLength: 600 }),
        (capacity, maxSize, ops) => {
          let state = start(capacity, 0, maxSize)
          ops.forEach((op, i) => {
            state = step(state, op, i, i % 10 === 0)
          })
          expect(observe(state.lru, state.now)).toEqual(observeModel(state.model, state.now))
        }
      ),
      { numRuns: 40 }
    )
  })
})

describe("Lru persistence of versions", () => {
  interface Version extends State {
    /** What the version answered when it was made. */
    readonly recorded: ReturnType<typeof observe>
  }

  const record = (state: State): Version => ({ ...state, recorded: observe(state.lru, state.now) })

  const revisitArb = fc.record({
    version: fc.nat(),
    later: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 30 })),
    getKey: keyArb,
    branch: fc.array(opArb, { maxLength: 10 })
  })

  const everyVersion = (maxSizes: fc.Arbitrary<number | undefined>) => () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        maxSizes,
        fc.array(opArb, { minLength: 5, maxLength: 60 }),
        fc.array(revisitArb, { minLength: 5, maxLength: 30 }),
        (capacity, maxSize, ops, revisits) => {
          let value = 0
          let state = start(capacity, 1_000, maxSize)
          const versions: Array<Version> = [record(state)]
          for (const op of ops) {
            state = step(state, op, value++, false)
            versions.push(record(state))
          }
          for (const revisit of revisits) {
            const version = versions[revisit.version % versions.length]!
            expect(observe(version.lru, version.now)).toEqual(version.recorded)
            // The same version read at a later time answers as its model does at that time.
            const later = version.now + revisit.later
            expect(observe(version.lru, later)).toEqual(observeModel(version.model, later))
            // A get on an old version makes a new version and leaves the old one as it was.
            const key = makeKey(revisit.getKey)
            const [result, afterGet] = Lru.get(version.lru, key, version.now)
            const [expected, modelAfterGet] = M.get(version.model, key, version.now)
            expect(show(result)).toEqual(show(expected))
            expect(observe(afterGet, version.now)).toEqual(observeModel(modelAfterGet, version.now))
            expect(observe(version.lru, version.now)).toEqual(version.recorded)
            // Branch off the old version; the branch's versions join the pool to revisit.
            let branch: State = { lru: afterGet, model: modelAfterGet, now: version.now }
            for (const op of revisit.branch) {
              branch = step(branch, op, value++)
              versions.push(record(branch))
            }
            expect(observe(version.lru, version.now)).toEqual(version.recorded)
          }
          // Back and forth once more over every version, in an order unlike the one they were made in.
          const order = versions
            .map((_, i) => i)
            .sort((a, b) => ((a * 7919) % 13) - ((b * 7919) % 13) || b - a)
          for (const i of order) {
            const version = versions[i]!
            expect(Lru.isValid(version.lru)).toBe(true)
            expect(observe(version.lru, version.now)).toEqual(version.recorded)
          }
        }
      ),
      { numRuns: process.env.CI ? 60 : 120 }
    )
  }

  it(
    "every version answers forever as when it was made, and branches from it follow the model",
    everyVersion(fc.constant(undefined))
  )

  it(
    "with maxSize, every version answers forever as when it was made, its total weight included",
    everyVersion(maxSizeArb)
  )
})

describe("Lru restored from its persisted form", () => {
  // What persistence does on load: entries least recently used first, with absolute expiries.
  const operations = fc.array(
    fc.record({
      key: fc.integer({ min: 0, max: 9 }),
      timeToLive: fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }),
      advance: fc.integer({ min: 0, max: 10 })
    }),
    { maxLength: 40 }
  )

  it("answers like the value it was taken from, at the time of the load", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        operations,
        fc.integer({ min: 0, max: 30 }),
        (capacity, ops, later) => {
          let lru = Lru.empty<number, string>(capacity)
          let now = 0
          for (const op of ops) {
            now += op.advance
            lru = Lru.set(lru, op.key, `v${op.key}@${now}`, now, op.timeToLive)[1]
          }
          const loadedAt = now + later
          const restored = internal.restore(capacity, Lru.toPersisted(lru, now), loadedAt)
          expect(Lru.isValid(restored)).toBe(true)
          expect(Lru.entries(restored, loadedAt)).toEqual(Lru.entries(lru, loadedAt))
          for (const key of Lru.keys(lru, loadedAt)) {
            expect(millis(Lru.remainingTtl(restored, key, loadedAt))).toEqual(
              millis(Lru.remainingTtl(lru, key, loadedAt))
            )
          }
        }
      ),
      { numRuns: RUNS }
    )
  })

  it("keeps a repeated key at its later place and, past the capacity, the most recent entries", () => {
    const restored = internal.restore(
      2,
      [
        { key: "a", value: 1, expiresAt: Number.POSITIVE_INFINITY },
        { key: "b", value: 2, expiresAt: Number.POSITIVE_INFINITY },
        { key: "a", value: 3, expiresAt: Number.POSITIVE_INFINITY },
        { key: "gone", value: 4, expiresAt: 5 },
        { key: "c", value: 5, expiresAt: 100 }
      ],
      10
    )
    expect(Lru.entries(restored, 10)).toEqual([
      ["c", 5],
      ["a", 3]
    ])
  })

  it("recomputes the weights with sizeOf and keeps the most recent entries that fit maxSize", () => {
    const options = { maxSize: 10, sizeOf: (value: string) => value.length }
    const restored = internal.restore<string, string>(
      5,
      [
        { key: "a", value: "xxxx", expiresAt: Number.POSITIVE_INFINITY },
        { key: "huge", value: "x".repeat(11), expiresAt: Number.POSITIVE_INFINITY },
        { key: "b", value: "xxxx", expiresAt: Number.POSITIVE_INFINITY },
        { key: "b", value: "x".repeat(11), expiresAt: Number.POSITIVE_INFINITY },
        { key: "c", value: "xxxx", expiresAt: Number.POSITIVE_INFINITY },
        { key: "d", value: "xxxxx", expiresAt: Number.POSITIVE_INFINITY }
      ],
      0,
      options
    )
    expect(Lru.isValid(restored)).toBe(true)
    expect(Lru.entries(restored, 0)).toEqual([
      ["d", "xxxxx"],
      ["c", "xxxx"]
    ])
    expect(Lru.totalSize(restored, 0)).toBe(9)
    // The restored value goes on bounded as the options say.
    const [removed] = Lru.set(restored, "e", "xx", 0)
    expect(removed).toEqual([{ key: "c", value: "xxxx", cause: "evicted" }])
  })

  it("places any list of entries as one by one: repeated, expired and structural keys, past the capacity", () => {
    // Keys from a small set, so that most lists repeat some (what sends a load to its slower path).
    const key = fc.oneof(
      fc.constantFrom("a", "b", "c", "d", "e"),
      fc.integer({ min: 0, max: 4 }),
      fc.integer({ min: 0, max: 2 }).map((n) => Data.struct({ n }))
    )
    const entry = fc.record({
      key,
      value: fc.integer(),
      expiresAt: fc.oneof(fc.constant(Number.POSITIVE_INFINITY), fc.integer({ min: 0, max: 20 }))
    })
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(entry, { maxLength: 30 }), (capacity, entries) => {
        const now = 10
        // The reference: each entry replaces its key's earlier one and, when live, takes the most
        // recent place, evicting the least recent past the capacity.
        const model: Array<{ key: unknown; value: number; expiresAt: number }> = []
        for (const e of entries) {
          const at = model.findIndex((m) => Equal.equals(m.key, e.key))
          if (at >= 0) model.splice(at, 1)
          if (e.expiresAt <= now) continue
          if (model.length >= capacity) model.shift()
          model.push(e)
        }
        const restored = internal.restore<unknown, number>(capacity, entries, now)
        expect(Lru.isValid(restored)).toBe(true)
        expect(Lru.entries(restored, now)).toEqual(model.map((m) => [m.key, m.value]).reverse())
      }),
      { numRuns: RUNS }
    )
  })

  it("once restored, follows the model in every version and every branch, with or without maxSize", () => {
    // Restored entries are made as a load makes them (with and without an expiry), then changed:
    // every version of what follows, branches from old versions included, answers as the model.
    const entry = fc.record({
      key: keyArb,
      expiresAt: fc.oneof(fc.constant(Number.POSITIVE_INFINITY), fc.integer({ min: 990, max: 1_030 }))
    })
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.option(maxSizeArb, { nil: undefined }),
        fc.array(entry, { maxLength: 20 }),
        fc.array(opArb, { minLength: 1, maxLength: 40 }),
        fc.array(fc.record({ version: fc.nat(), branch: fc.array(opArb, { maxLength: 8 }) }), {
          maxLength: 10
        }),
        (capacity, maxSize, entries, ops, revisits) => {
          const now = 1_000
          const options = maxSize === undefined ? undefined : { maxSize, sizeOf }
          let value = 0
          const loaded = entries.map((e) => ({ key: makeKey(e.key), value: value++, expiresAt: e.expiresAt }))
          // A load places each entry as a set at its expiry would, at the time of the load.
          let model = M.empty<unknown, number>(capacity, options)
          for (const e of loaded) model = M.setExpiresAt(model, e.key, e.value, now, e.expiresAt)[1]
          let state: State = { lru: internal.restore(capacity, loaded, now, options), model, now }
          expect(observe(state.lru, now)).toEqual(observeModel(model, now))
          const versions: Array<State & { readonly seen: ReturnType<typeof observe> }> = []
          for (const op of ops) {
            state = step(state, op, value++, false)
            versions.push({ ...state, seen: observe(state.lru, state.now) })
          }
          for (const revisit of revisits) {
            const version = versions[revisit.version % versions.length]!
            let branch: State = version
            for (const op of revisit.branch) branch = step(branch, op, value++)
            expect(observe(version.lru, version.now)).toEqual(version.seen)
          }
          for (const version of versions) expect(observe(version.lru, version.now)).toEqual(version.seen)
        }
      ),
      { numRuns: RUNS / 4 }
    )
  })
})
