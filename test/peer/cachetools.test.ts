/**
 * Ported from Python cachetools: https://github.com/tkem/cachetools
 *   tests/__init__.py (CacheTestMixin), tests/test_lru.py, tests/test_ttl.py, tests/test_cached.py
 *   at commit 28d4506f2a49d781ffbcecb095fa7aba5bb80aff.
 *   Licence: MIT, Copyright (c) 2014-2026 Thomas Kemmer.
 *
 * Each test keeps the original's name and its assertions in order, through ./adapter.ts. Where this
 * library differs on purpose the assertion states our documented behaviour next to a quote of the
 * README; peer features with no counterpart are `it.skip` with the reason (docs/differences.md).
 * cachetools' `maxsize` is `capacity`, `currsize` (with the default `getsizeof`, a count) is `size`;
 * with a `getsizeof`, `maxsize` is both `capacity` and `maxSize`, `getsizeof` is `sizeOf` and
 * `currsize` is `stats.totalSize`.
 */
import { describe, expect, it } from "@effect/vitest"
import { Data, Duration, Effect } from "effect"
import type * as LruCache from "../../src/LruCache.js"
import * as LruCacheModule from "../../src/LruCache.js"
import type * as MemoCache from "../../src/MemoCache.js"
import * as MemoCacheModule from "../../src/MemoCache.js"
import { advance, hashkey, KeyError, make, named, now, py } from "./adapter.js"

type AnyCache = LruCache.LruCache<any, any>

/** `self.assertRaises(KeyError)`. */
const raisesKeyError = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.flip(self), (error) => expect(error).toBeInstanceOf(KeyError))

// tests/__init__.py: CacheTestMixin, run for each cache class as in the original.
const cacheTestMixin = (
  Cache: (maxsize: number, getsizeof?: (value: any) => number) => Effect.Effect<AnyCache, unknown, any>
) => {
  it.scoped("test_defaults", () =>
    Effect.gen(function* () {
      const cache = yield* Cache(1)
      expect(yield* py.len(cache)).toBe(0)
      expect(cache.capacity).toBe(1)
      expect(yield* cache.size).toBe(0)
      // getsizeof(None/''/0) == 1 and repr(cache): no counterpart (without `sizeOf` entries have no
      // weight to ask for; no repr).
    })
  )

  it.scoped("test_insert", () =>
    Effect.gen(function* () {
      const cache = yield* Cache(2)

      yield* py.update(cache, [
        [1, 1],
        [2, 2]
      ])
      expect(yield* py.len(cache)).toBe(2)
      expect(yield* py.getitem(cache, 1)).toBe(1)
      expect(yield* py.getitem(cache, 2)).toBe(2)

      yield* py.setitem(cache, 3, 3)
      expect(yield* py.len(cache)).toBe(2)
      expect(yield* py.getitem(cache, 3)).toBe(3)
      expect((yield* py.contains(cache, 1)) || (yield* py.contains(cache, 2))).toBe(true)

      yield* py.setitem(cache, 4, 4)
      expect(yield* py.len(cache)).toBe(2)
      expect(yield* py.getitem(cache, 4)).toBe(4)
      expect(
        (yield* py.contains(cache, 1)) || (yield* py.contains(cache, 2)) || (yield* py.contains(cache, 3))
      ).toBe(true)
    })
  )

  it.scoped("test_update", () =>
    Effect.gen(function* () {
      const cache = yield* Cache(2)

      yield* py.update(cache, [
        [1, 1],
        [2, 2]
      ])
      expect(yield* py.len(cache)).toBe(2)
      expect(yield* py.getitem(cache, 1)).toBe(1)
      expect(yield* py.getitem(cache, 2)).toBe(2)

      yield* py.update(cache, [
        [1, 1],
        [2, 2]
      ])
      expect(yield* py.len(cache)).toBe(2)
      expect(yield* py.getitem(cache, 1)).toBe(1)
      expect(yield* py.getitem(cache, 2)).toBe(2)

      yield* py.update(cache, [
        [1, "a"],
        [2, "b"]
      ])
      expect(yield* py.len(cache)).toBe(2)
      expect(yield* py.getitem(cache, 1)).toBe("a")
      expect(yield* py.getitem(cache, 2)).toBe("b")
    })
  )

  it.scoped("test_delete", () =>
    Effect.gen(function* () {
      const cache = yield* Cache(2)

      yield* py.update(cache, [
        [1, 1],
        [2, 2]
      ])
      expect(yield* py.len(cache)).toBe(2)
      expect(yield* py.getitem(cache, 1)).toBe(1)
      expect(yield* py.getitem(cache, 2)).toBe(2)

      yield* py.delitem(cache, 2)
      expect(yield* py.len(cache)).toBe(1)
      expect(yield* py.getitem(cache, 1)).toBe(1)
      expect(yield* py.contains(cache, 2)).toBe(false)

      yield* py.delitem(cache, 1)
      expect(yield* py.len(cache)).toBe(0)
      expect(yield* py.contains(cache, 1)).toBe(false)
      expect(yield* py.contains(cache, 2)).toBe(false)

      yield* raisesKeyError(py.delitem(cache, 1))
      expect(yield* py.len(cache)).toBe(0)
      expect(yield* py.contains(cache, 1)).toBe(false)
      expect(yield* py.contains(cache, 2)).toBe(false)
    })
  )

  it.scoped("test_pop", () =>
    Effect.gen(function* () {
      const cache = yield* Cache(2)

      yield* py.update(cache, [
        [1, 1],
        [2, 2]
      ])
      // Documented difference: pop(k) answers the value; README: "`delete(key)` → `boolean` | true
      // iff a live entry was removed" (the value is in the `deleted` event).
      expect(yield* py.pop(cache, 2)).toBe(true)
      expect(yield* py.len(cache)).toBe(1)
      expect(yield* py.pop(cache, 1)).toBe(true)
      expect(yield* py.len(cache)).toBe(0)

      yield* raisesKeyError(py.pop(cache, 2))
      yield* raisesKeyError(py.pop(cache, 1))
      yield* raisesKeyError(py.pop(cache, 0))

      expect(yield* py.popDefault(cache, 2, null)).toBe(null)
      expect(yield* py.popDefault(cache, 1, null)).toBe(null)
      expect(yield* py.popDefault(cache, 0, null)).toBe(null)
    })
  )

  it.skip("test_popitem: no counterpart (no popitem; `keys` gives the order, `delete` removes)", () => {})

  it.skip("test_popitem_exception_context: Python exception chaining, no counterpart", () => {})

  it.scoped("test_missing", () =>
    Effect.gen(function* () {
      // DefaultCache.__missing__ stores and returns the key: `getOrCompute(key, succeed(key))`.
      const cache = yield* Cache(2)

      expect(yield* cache.size).toBe(0)
      expect(cache.capacity).toBe(2)
      expect(yield* py.len(cache)).toBe(0)
      expect(yield* py.getitemMissing(cache, 1)).toBe(1)
      expect(yield* py.getitemMissing(cache, 2)).toBe(2)
      expect(yield* py.len(cache)).toBe(2)
      expect((yield* py.contains(cache, 1)) && (yield* py.contains(cache, 2))).toBe(true)

      expect(yield* py.getitemMissing(cache, 3)).toBe(3)
      expect(yield* py.len(cache)).toBe(2)
      expect(yield* py.contains(cache, 3)).toBe(true)
      expect((yield* py.contains(cache, 1)) || (yield* py.contains(cache, 2))).toBe(true)
      expect(!(yield* py.contains(cache, 1)) || !(yield* py.contains(cache, 2))).toBe(true)

      expect(yield* py.getitemMissing(cache, 4)).toBe(4)
      expect(yield* py.len(cache)).toBe(2)
      expect(yield* py.contains(cache, 4)).toBe(true)
      expect(
        (yield* py.contains(cache, 1)) || (yield* py.contains(cache, 2)) || (yield* py.contains(cache, 3))
      ).toBe(true)

      // verify __missing__() is *not* called for any operations
      // besides __getitem__()

      expect(yield* py.get(cache, 4)).toBe(4)
      expect(yield* py.get(cache, 5)).toBe(null)
      expect(yield* py.get(cache, 5, 5 * 5)).toBe(5 * 5)
      expect(yield* py.len(cache)).toBe(2)

      expect(yield* py.pop(cache, 4)).toBe(true) // cachetools: 4 (see test_pop)
      yield* raisesKeyError(py.pop(cache, 5))
      expect(yield* py.popDefault(cache, 5, null)).toBe(null)
      expect(yield* py.popDefault(cache, 5, 5 * 5)).toBe(5 * 5)
      expect(yield* py.len(cache)).toBe(1)

      yield* py.clear(cache)
      yield* py.setitem(cache, 1, 1 + 1)
      expect(yield* py.setdefault(cache, 1, null)).toBe(1 + 1)
      expect(yield* py.setdefault(cache, 1, 1)).toBe(1 + 1)
      expect(yield* py.getitemMissing(cache, 1)).toBe(1 + 1)
      expect(yield* py.setdefault(cache, 2, 2 + 2)).toBe(2 + 2)
      expect(yield* py.setdefault(cache, 2, null)).toBe(2 + 2)
      expect(yield* py.setdefault(cache, 2, null)).toBe(2 + 2)
      expect(yield* py.getitemMissing(cache, 2)).toBe(2 + 2)
      expect(yield* py.len(cache)).toBe(2)
      expect((yield* py.contains(cache, 1)) && (yield* py.contains(cache, 2))).toBe(true)
      expect(yield* py.setdefault(cache, 3, null)).toBe(null)
      expect(yield* py.len(cache)).toBe(2)
      expect(yield* py.contains(cache, 3)).toBe(true)
      expect((yield* py.contains(cache, 1)) || (yield* py.contains(cache, 2))).toBe(true)
      expect(!(yield* py.contains(cache, 1)) || !(yield* py.contains(cache, 2))).toBe(true)
    })
  )

  it.scoped("test_missing_getsizeof", () =>
    Effect.gen(function* () {
      // __missing__ stores the key unless that raises ValueError (too heavy), and returns it either
      // way: `getOrCompute(key, succeed(key))`, which answers the value whether or not it fits.
      const cache = yield* Cache(2, (x: number) => x)

      expect((yield* cache.stats).totalSize).toBe(0)
      expect(cache.capacity).toBe(2)

      expect(yield* py.getitemMissing(cache, 1)).toBe(1)
      expect(yield* py.len(cache)).toBe(1)
      expect((yield* cache.stats).totalSize).toBe(1)
      expect(yield* py.contains(cache, 1)).toBe(true)

      expect(yield* py.getitemMissing(cache, 2)).toBe(2)
      expect(yield* py.len(cache)).toBe(1)
      expect((yield* cache.stats).totalSize).toBe(2)
      expect(yield* py.contains(cache, 1)).toBe(false)
      expect(yield* py.contains(cache, 2)).toBe(true)

      expect(yield* py.getitemMissing(cache, 3)).toBe(3) // not stored
      expect(yield* py.len(cache)).toBe(1)
      expect((yield* cache.stats).totalSize).toBe(2)
      expect(yield* py.getitemMissing(cache, 1)).toBe(1)
      expect(yield* py.len(cache)).toBe(1)
      expect((yield* cache.stats).totalSize).toBe(1)
      // popitem() == (1, 1): no popitem; the one entry left is (1, 1), and `delete` removes it.
      expect(yield* cache.entries).toStrictEqual([[1, 1]])
      expect(yield* py.pop(cache, 1)).toBe(true)
    })
  )

  // cachetools' _test_getsizeof, run with getsizeof as a parameter and as a subclass's method.
  const testGetsizeof = (cache: AnyCache) =>
    Effect.gen(function* () {
      expect((yield* cache.stats).totalSize).toBe(0)
      expect(cache.capacity).toBe(3)
      // cache.getsizeof(1/2/3) == 1/2/3: no counterpart (the weigher is called by writes only).

      yield* py.update(cache, [
        [1, 1],
        [2, 2]
      ])
      expect(yield* py.len(cache)).toBe(2)
      expect((yield* cache.stats).totalSize).toBe(3)
      expect(yield* py.getitem(cache, 1)).toBe(1)
      expect(yield* py.getitem(cache, 2)).toBe(2)

      yield* py.setitem(cache, 1, 2)
      expect(yield* py.len(cache)).toBe(1)
      expect((yield* cache.stats).totalSize).toBe(2)
      expect(yield* py.getitem(cache, 1)).toBe(2)
      expect(yield* py.contains(cache, 2)).toBe(false)

      yield* py.update(cache, [
        [1, 1],
        [2, 2]
      ])
      expect(yield* py.len(cache)).toBe(2)
      expect((yield* cache.stats).totalSize).toBe(3)
      expect(yield* py.getitem(cache, 1)).toBe(1)
      expect(yield* py.getitem(cache, 2)).toBe(2)

      yield* py.setitem(cache, 3, 3)
      expect(yield* py.len(cache)).toBe(1)
      expect((yield* cache.stats).totalSize).toBe(3)
      expect(yield* py.getitem(cache, 3)).toBe(3)
      expect(yield* py.contains(cache, 1)).toBe(false)
      expect(yield* py.contains(cache, 2)).toBe(false)

      // Difference: cachetools raises ValueError and keeps 3 → 3. README: "An entry heavier than
      // `maxSize` on its own is not stored (as lru-cache refuses it), and the key's stored entry is
      // removed as `evicted`."
      yield* py.setitem(cache, 3, 4)
      expect(yield* py.len(cache)).toBe(0) // cachetools: 1
      expect((yield* cache.stats).totalSize).toBe(0) // cachetools: 3
      yield* raisesKeyError(py.getitem(cache, 3)) // cachetools: 3

      // Difference: cachetools raises ValueError; here the entry is not stored (README, as above).
      yield* py.setitem(cache, 4, 4)
      expect(yield* py.len(cache)).toBe(0) // cachetools: 1, the 3 that stayed above
      expect((yield* cache.stats).totalSize).toBe(0) // cachetools: 3
      yield* raisesKeyError(py.getitem(cache, 4))
    })

  it.scoped("test_getsizeof_param", () =>
    Effect.flatMap(
      Cache(3, (x: number) => x),
      testGetsizeof
    )
  )

  it.scoped("test_getsizeof_subclass", () =>
    // A subclass overriding getsizeof(value) gives the cache its weigher, as the parameter does:
    // here both are `sizeOf`.
    Effect.flatMap(
      Cache(3, (value: number) => value),
      testGetsizeof
    )
  )

  it.scoped("test_clear", () =>
    Effect.gen(function* () {
      const cache = yield* Cache(2)
      yield* py.update(cache, [
        [1, 1],
        [2, 2]
      ])

      expect(yield* py.len(cache)).toBe(2)
      expect(yield* cache.size).toBe(2)

      yield* py.clear(cache)

      expect(yield* py.len(cache)).toBe(0)
      expect(yield* cache.size).toBe(0)
      expect(yield* py.contains(cache, 1)).toBe(false)
      expect(yield* py.contains(cache, 2)).toBe(false)

      // verify cache can be reused after clear
      yield* py.setitem(cache, 3, 3)
      yield* py.setitem(cache, 4, 4)
      expect(yield* py.len(cache)).toBe(2)
      expect(yield* py.getitem(cache, 3)).toBe(3)
      expect(yield* py.getitem(cache, 4)).toBe(4)

      // verify eviction still works after clear
      yield* py.setitem(cache, 5, 5)
      expect(yield* py.len(cache)).toBe(2)
      expect(yield* py.contains(cache, 5)).toBe(true)
    })
  )

  it.scoped("test_clear_empty", () =>
    Effect.gen(function* () {
      const cache = yield* Cache(2)
      yield* py.clear(cache) // should not raise
      expect(yield* py.len(cache)).toBe(0)
      expect(yield* cache.size).toBe(0)
    })
  )

  it.skip("test_clear_getsizeof: not ported yet (the stored copies of tests/__init__.py predate it; not ported from memory)", () => {})
  it.skip("test_pickle: no counterpart (pickling a cache object; persistence is CachePersistence)", () => {})
  it.skip("test_pickle_maxsize: no counterpart (pickling; and maxsize=0 is rejected, see test_zero_size_*)", () => {})
}

describe("cachetools tests/test_lru.py: LRUCacheTest", () => {
  cacheTestMixin((maxsize, getsizeof) => make(maxsize, undefined, getsizeof))

  it.scoped("test_lru", () =>
    Effect.gen(function* () {
      const cache = yield* make<number, number>(2)

      yield* py.setitem(cache, 1, 1)
      yield* py.setitem(cache, 2, 2)
      yield* py.setitem(cache, 3, 3)

      expect(yield* py.len(cache)).toBe(2)
      expect(yield* py.getitem(cache, 2)).toBe(2)
      expect(yield* py.getitem(cache, 3)).toBe(3)
      expect(yield* py.contains(cache, 1)).toBe(false)

      yield* py.getitem(cache, 2)
      yield* py.setitem(cache, 4, 4)
      expect(yield* py.len(cache)).toBe(2)
      expect(yield* py.getitem(cache, 2)).toBe(2)
      expect(yield* py.getitem(cache, 4)).toBe(4)
      expect(yield* py.contains(cache, 3)).toBe(false)

      yield* py.setitem(cache, 5, 5)
      expect(yield* py.len(cache)).toBe(2)
      expect(yield* py.getitem(cache, 4)).toBe(4)
      expect(yield* py.getitem(cache, 5)).toBe(5)
      expect(yield* py.contains(cache, 2)).toBe(false)
    })
  )

  it.scoped("test_lru_getsizeof", () =>
    Effect.gen(function* () {
      const cache = yield* make<number, number>(3, undefined, (x) => x)

      yield* py.setitem(cache, 1, 1)
      yield* py.setitem(cache, 2, 2)

      expect(yield* py.len(cache)).toBe(2)
      expect(yield* py.getitem(cache, 1)).toBe(1)
      expect(yield* py.getitem(cache, 2)).toBe(2)

      yield* py.setitem(cache, 3, 3)

      expect(yield* py.len(cache)).toBe(1)
      expect(yield* py.getitem(cache, 3)).toBe(3)
      expect(yield* py.contains(cache, 1)).toBe(false)
      expect(yield* py.contains(cache, 2)).toBe(false)

      // Difference: cachetools raises ValueError. README: "An entry heavier than `maxSize` on its
      // own is not stored (as lru-cache refuses it)": the set succeeds and stores nothing.
      yield* py.setitem(cache, 4, 4)
      expect(yield* py.contains(cache, 4)).toBe(false)
      expect(yield* py.len(cache)).toBe(1)
      expect(yield* py.getitem(cache, 3)).toBe(3)
    })
  )

  it.scoped("test_lru_update_existing", () =>
    Effect.gen(function* () {
      const cache = yield* make<number, number | string>(2)

      yield* py.setitem(cache, 1, 1)
      yield* py.setitem(cache, 2, 2)
      yield* py.setitem(cache, 1, "updated")
      yield* py.setitem(cache, 3, 3)

      expect(yield* py.getitem(cache, 1)).toBe("updated")
      expect(yield* py.contains(cache, 3)).toBe(true)
      expect(yield* py.contains(cache, 2)).toBe(false)
    })
  )

  it.scoped("test_lru_clear", () =>
    Effect.gen(function* () {
      const cache = yield* make<number, number>(2)

      yield* py.setitem(cache, 1, 1)
      yield* py.setitem(cache, 2, 2)
      yield* py.clear(cache)

      expect(yield* py.len(cache)).toBe(0)
      expect(yield* cache.size).toBe(0)

      // verify LRU order is reset after clear
      yield* py.setitem(cache, 3, 3)
      yield* py.setitem(cache, 4, 4)
      yield* py.getitem(cache, 3) // access 3 to make it most recently used
      yield* py.setitem(cache, 5, 5) // should evict 4 (least recently used)

      expect(yield* py.len(cache)).toBe(2)
      expect(yield* py.contains(cache, 3)).toBe(true)
      expect(yield* py.contains(cache, 5)).toBe(true)
      expect(yield* py.contains(cache, 4)).toBe(false)
    })
  )
})

describe("cachetools tests/test_ttl.py: TTLCacheTest", () => {
  // TTLTestCache(maxsize, ttl=math.inf, timer=Timer()): an infinite TTL is the default here.
  cacheTestMixin((maxsize, getsizeof) => make(maxsize, undefined, getsizeof))

  it.scoped("test_ttl", () =>
    Effect.gen(function* () {
      const cache = yield* make<number, number>(2, 2)
      expect(yield* now).toBe(0)
      expect(cache.timeToLive).toStrictEqual(Duration.millis(2))

      yield* py.setitem(cache, 1, 1)
      expect(yield* py.getitem(cache, 1)).toBe(1)
      expect(yield* py.len(cache)).toBe(1)
      expect(yield* py.keySet(cache)).toStrictEqual(new Set([1]))

      yield* advance(1)
      expect(yield* py.getitem(cache, 1)).toBe(1)
      expect(yield* py.len(cache)).toBe(1)
      expect(yield* py.keySet(cache)).toStrictEqual(new Set([1]))

      yield* py.setitem(cache, 2, 2)
      expect(yield* py.getitem(cache, 1)).toBe(1)
      expect(yield* py.getitem(cache, 2)).toBe(2)
      expect(yield* py.len(cache)).toBe(2)
      expect(yield* py.keySet(cache)).toStrictEqual(new Set([1, 2]))

      yield* advance(1)
      expect(yield* py.contains(cache, 1)).toBe(false)
      expect(yield* py.getitem(cache, 2)).toBe(2)
      expect(yield* py.len(cache)).toBe(1)
      expect(yield* py.keySet(cache)).toStrictEqual(new Set([2]))

      yield* py.setitem(cache, 3, 3)
      expect(yield* py.contains(cache, 1)).toBe(false)
      expect(yield* py.getitem(cache, 2)).toBe(2)
      expect(yield* py.getitem(cache, 3)).toBe(3)
      expect(yield* py.len(cache)).toBe(2)
      expect(yield* py.keySet(cache)).toStrictEqual(new Set([2, 3]))

      yield* advance(1)
      expect(yield* py.contains(cache, 1)).toBe(false)
      expect(yield* py.contains(cache, 2)).toBe(false)
      expect(yield* py.getitem(cache, 3)).toBe(3)
      expect(yield* py.len(cache)).toBe(1)
      expect(yield* py.keySet(cache)).toStrictEqual(new Set([3]))

      yield* advance(1)
      expect(yield* py.contains(cache, 1)).toBe(false)
      expect(yield* py.contains(cache, 2)).toBe(false)
      expect(yield* py.contains(cache, 3)).toBe(false)

      yield* raisesKeyError(py.delitem(cache, 1))
      yield* raisesKeyError(py.pop(cache, 2))
      yield* raisesKeyError(py.delitem(cache, 3))

      expect(yield* py.len(cache)).toBe(0)
      expect(yield* py.keySet(cache)).toStrictEqual(new Set())
    })
  )

  it.scoped("test_ttl_timer", () =>
    Effect.gen(function* () {
      const cache = yield* make<number, number>(2, 2)
      expect(yield* now).toBe(0)
      // timer.auto: cachetools' self-advancing timer; the TestClock moves only when told.

      yield* py.setitem(cache, 1, 1)
      yield* advance(1)
      expect(yield* now).toBe(1)
      expect(yield* py.getitem(cache, 1)).toBe(1)

      yield* advance(1)
      expect(yield* now).toBe(2)
      expect(yield* py.contains(cache, 1)).toBe(false)
    })
  )

  it.scoped("test_ttl_lru", () =>
    Effect.gen(function* () {
      const cache = yield* make<number, number>(2, 1)

      yield* py.setitem(cache, 1, 1)
      yield* py.setitem(cache, 2, 2)
      yield* py.setitem(cache, 3, 3)

      expect(yield* py.len(cache)).toBe(2)
      expect(yield* py.contains(cache, 1)).toBe(false)
      expect(yield* py.getitem(cache, 2)).toBe(2)
      expect(yield* py.getitem(cache, 3)).toBe(3)

      yield* py.getitem(cache, 2)
      yield* py.setitem(cache, 4, 4)
      expect(yield* py.len(cache)).toBe(2)
      expect(yield* py.contains(cache, 1)).toBe(false)
      expect(yield* py.getitem(cache, 2)).toBe(2)
      expect(yield* py.contains(cache, 3)).toBe(false)
      expect(yield* py.getitem(cache, 4)).toBe(4)

      yield* py.setitem(cache, 5, 5)
      expect(yield* py.len(cache)).toBe(2)
      expect(yield* py.contains(cache, 1)).toBe(false)
      expect(yield* py.contains(cache, 2)).toBe(false)
      expect(yield* py.contains(cache, 3)).toBe(false)
      expect(yield* py.getitem(cache, 4)).toBe(4)
      expect(yield* py.getitem(cache, 5)).toBe(5)
    })
  )

  it.scoped("test_ttl_expire", () =>
    Effect.gen(function* () {
      // cache.expire(time) removes what has expired at `time` and returns it, without moving the
      // timer. Here: move the TestClock to `time`; `size` removes the expired entries (README:
      // "Expired entries are removed lazily (on `get`, before an eviction, before
      // `size`/`keys`/`stats`)") and publishes each as an `expired` removal: those are the items.
      const cache = yield* make<number, number>(3, 3)
      const removals = yield* cache.subscribe
      const expire = (time?: number) =>
        Effect.gen(function* () {
          if (time !== undefined) yield* advance(time - (yield* now))
          yield* cache.size
          const items = yield* removals.takeAll
          return new Set([...items].filter((r) => r.cause === "expired").map((r) => `${r.key},${r.value}`))
        })
      expect(yield* now).toBe(0)
      expect(cache.timeToLive).toStrictEqual(Duration.millis(3))

      yield* py.setitem(cache, 1, 1)
      yield* advance(1)
      yield* py.setitem(cache, 2, 2)
      yield* advance(1)
      yield* py.setitem(cache, 3, 3)
      expect(yield* now).toBe(2)

      expect(yield* py.keySet(cache)).toStrictEqual(new Set([1, 2, 3]))
      expect(yield* py.len(cache)).toBe(3)
      expect(yield* py.getitem(cache, 1)).toBe(1)
      expect(yield* py.getitem(cache, 2)).toBe(2)
      expect(yield* py.getitem(cache, 3)).toBe(3)

      let items = yield* expire()
      expect(items).toStrictEqual(new Set())
      expect(yield* py.keySet(cache)).toStrictEqual(new Set([1, 2, 3]))
      expect(yield* py.len(cache)).toBe(3)
      expect(yield* py.getitem(cache, 1)).toBe(1)
      expect(yield* py.getitem(cache, 2)).toBe(2)
      expect(yield* py.getitem(cache, 3)).toBe(3)

      items = yield* expire(3)
      expect(items).toStrictEqual(new Set(["1,1"]))
      expect(yield* py.keySet(cache)).toStrictEqual(new Set([2, 3]))
      expect(yield* py.len(cache)).toBe(2)
      expect(yield* py.contains(cache, 1)).toBe(false)
      expect(yield* py.getitem(cache, 2)).toBe(2)
      expect(yield* py.getitem(cache, 3)).toBe(3)

      items = yield* expire(4)
      expect(items).toStrictEqual(new Set(["2,2"]))
      expect(yield* py.keySet(cache)).toStrictEqual(new Set([3]))
      expect(yield* py.len(cache)).toBe(1)
      expect(yield* py.contains(cache, 1)).toBe(false)
      expect(yield* py.contains(cache, 2)).toBe(false)
      expect(yield* py.getitem(cache, 3)).toBe(3)

      items = yield* expire(5)
      expect(items).toStrictEqual(new Set(["3,3"]))
      expect(yield* py.keySet(cache)).toStrictEqual(new Set())
      expect(yield* py.len(cache)).toBe(0)
      expect(yield* py.contains(cache, 1)).toBe(false)
      expect(yield* py.contains(cache, 2)).toBe(false)
      expect(yield* py.contains(cache, 3)).toBe(false)
    })
  )

  it.scoped("test_ttl_atomic", () =>
    Effect.gen(function* () {
      // Timer(auto=True) moves on by one at every read; each operation here reads the clock once
      // (README: "The cache reads the `Clock` ... once per operation"), so the clock moves on by
      // one before each operation.
      const cache = yield* make<number, number | null>(1, 2)
      const tick = <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.zipRight(advance(1), self)
      yield* tick(py.setitem(cache, 1, 1))
      expect(yield* tick(py.getitem(cache, 1))).toBe(1)
      yield* tick(py.setitem(cache, 1, 1))
      expect(yield* tick(py.get(cache, 1))).toBe(1)
      yield* tick(py.setitem(cache, 1, 1))
      expect(yield* tick(py.pop(cache, 1))).toBe(true) // cachetools: 1 (see test_pop)
      yield* tick(py.setitem(cache, 1, 1))
      expect(yield* tick(py.setdefault(cache, 1, null))).toBe(1)
      yield* tick(py.setitem(cache, 1, 1))
      yield* tick(py.clear(cache))
      expect(yield* tick(py.len(cache))).toBe(0)
    })
  )

  it.scoped("test_ttl_tuple_key", () =>
    Effect.gen(function* () {
      // A Python tuple is a value; here `Data.tuple` (README: "Keys are compared with Effect's
      // `Equal`/`Hash`").
      const cache = yield* make<readonly [number, number, number], number>(1, 1)
      expect(cache.timeToLive).toStrictEqual(Duration.millis(1))

      yield* py.setitem(cache, Data.tuple(1, 2, 3), 42)
      expect(yield* py.getitem(cache, Data.tuple(1, 2, 3))).toBe(42)
      yield* advance(1)
      yield* raisesKeyError(py.getitem(cache, Data.tuple(1, 2, 3)))
      expect(yield* py.contains(cache, Data.tuple(1, 2, 3))).toBe(false)
    })
  )

  it.scoped("test_ttl_datetime", () =>
    Effect.gen(function* () {
      // timer=datetime.now, ttl=timedelta(days=1): the Clock, and a Duration. No background sweep:
      // `expire` stands for it, and a day of TestClock would wake the default sweep 1,440 times.
      const cache = yield* LruCacheModule.make<number, number>({
        capacity: 1,
        timeToLive: Duration.days(1),
        sweepInterval: Duration.infinity
      })
      const removals = yield* cache.subscribe
      const expire = (by: Duration.Duration) =>
        Effect.gen(function* () {
          yield* advance(Duration.toMillis(by))
          yield* cache.size
          return [...(yield* removals.takeAll)]
            .filter((r) => r.cause === "expired")
            .map((r) => [r.key, r.value])
        })

      yield* py.setitem(cache, 1, 1)
      expect(yield* py.len(cache)).toBe(1)
      let items = yield* expire(Duration.zero)
      expect(items).toStrictEqual([])
      expect(yield* py.len(cache)).toBe(1)
      items = yield* expire(Duration.days(1))
      expect(items).toStrictEqual([[1, 1]])
      expect(yield* py.len(cache)).toBe(0)
    })
  )

  it.scoped("test_ttl_clear", () =>
    Effect.gen(function* () {
      const cache = yield* make<number, number>(2, 2)

      yield* py.setitem(cache, 1, 1)
      yield* py.setitem(cache, 2, 2)
      yield* py.clear(cache)

      expect(yield* py.len(cache)).toBe(0)
      expect(yield* cache.size).toBe(0)

      // verify LRU eviction order is reset after clear
      yield* py.setitem(cache, 3, 3)
      yield* py.setitem(cache, 4, 4)
      yield* py.getitem(cache, 3) // access 3 to make it most recently used
      yield* py.setitem(cache, 5, 5) // should evict 4 (least recently used)

      expect(yield* py.len(cache)).toBe(2)
      expect(yield* py.contains(cache, 3)).toBe(true)
      expect(yield* py.contains(cache, 5)).toBe(true)
      expect(yield* py.contains(cache, 4)).toBe(false)

      // verify TTL expiry still works after clear
      yield* py.setitem(cache, 42, 42)
      yield* advance(1)
      yield* advance(1)
      yield* advance(1) // past TTL
      expect(yield* py.contains(cache, 42)).toBe(false)
    })
  )
})

// tests/test_cached.py. `cachetools.cached(cache)(func)` is `MemoCache.cachedWith(cache, func)`: the
// entries live in `cache`, under the key `MemoCache.key(name, args)` (`hashkey`).
const counter = () => {
  let count: number | undefined
  // `self.func`: 0 on the first call, then 1, 2, ...
  return named("func", (..._args: ReadonlyArray<unknown>) =>
    Effect.sync(() => {
      count = count === undefined ? 0 : count + 1
      return count
    })
  )
}
const memoCache = (maxsize: number) => LruCacheModule.make<string, MemoCache.Entry>({ capacity: maxsize })

const lockOrCondition =
  "no counterpart (lock/condition: every operation is atomic, concurrent calls of one key run once)"

describe("cachetools tests/test_cached.py: CacheWrapperTest (DecoratorTestMixin)", () => {
  it.scoped("test_decorator", () =>
    Effect.gen(function* () {
      const cache = yield* memoCache(2)
      const wrapper = MemoCacheModule.cachedWith(cache, counter())

      expect(yield* cache.size).toBe(0)
      expect(yield* wrapper(0)).toBe(0)
      expect(yield* cache.size).toBe(1)
      expect(yield* cache.has(hashkey("func", 0))).toBe(true)
      expect(yield* cache.has(hashkey("func", 1))).toBe(false)
      expect(yield* cache.has(hashkey("func", 1.0))).toBe(false)

      expect(yield* wrapper(1)).toBe(1)
      expect(yield* cache.size).toBe(2)
      expect(yield* cache.has(hashkey("func", 0))).toBe(true)
      expect(yield* cache.has(hashkey("func", 1))).toBe(true)
      expect(yield* cache.has(hashkey("func", 1.0))).toBe(true)

      expect(yield* wrapper(1)).toBe(1)
      expect(yield* cache.size).toBe(2)

      expect(yield* wrapper(1.0)).toBe(1)
      expect(yield* cache.size).toBe(2)

      expect(yield* wrapper(1.0)).toBe(1)
      expect(yield* cache.size).toBe(2)
    })
  )

  it.scoped("test_decorator_typed", () =>
    Effect.gen(function* () {
      // key=typedkey tells int 1 from float 1.0. Documented difference: JavaScript has one number
      // type, so `1` and `1.0` are one value and one key; keys are typed across JS types already
      // (docs/memoization.md: "Types are tagged, so these are all different: `f("1")` / `f(1)` /
      // `f(1n)`").
      const cache = yield* memoCache(3)
      const wrapper = MemoCacheModule.cachedWith(cache, counter())

      expect(yield* cache.size).toBe(0)
      expect(yield* wrapper(0)).toBe(0)
      expect(yield* cache.size).toBe(1)
      expect(yield* cache.has(hashkey("func", 0))).toBe(true)
      expect(yield* cache.has(hashkey("func", 1))).toBe(false)
      expect(yield* cache.has(hashkey("func", 1.0))).toBe(false)

      expect(yield* wrapper(1)).toBe(1)
      expect(yield* cache.size).toBe(2)
      expect(yield* cache.has(hashkey("func", 0))).toBe(true)
      expect(yield* cache.has(hashkey("func", 1))).toBe(true)
      expect(yield* cache.has(hashkey("func", 1.0))).toBe(true) // cachetools: not in (typed)

      expect(yield* wrapper(1)).toBe(1)
      expect(yield* cache.size).toBe(2)

      expect(yield* wrapper(1.0)).toBe(1) // cachetools: 2
      expect(yield* cache.size).toBe(2) // cachetools: 3
      expect(yield* cache.has(hashkey("func", 0))).toBe(true)
      expect(yield* cache.has(hashkey("func", 1))).toBe(true)
      expect(yield* cache.has(hashkey("func", 1.0))).toBe(true)

      expect(yield* wrapper(1.0)).toBe(1) // cachetools: 2
      expect(yield* cache.size).toBe(2) // cachetools: 3
    })
  )

  it.skip(`test_decorator_lock: ${lockOrCondition}`, () => {})
  it.skip(`test_decorator_condition: ${lockOrCondition}`, () => {})
  it.skip(`test_decorator_lock_condition: ${lockOrCondition}`, () => {})
  it.skip("test_decorator_wrapped: no counterpart (no __wrapped__; call the function itself)", () => {})
  it.skip("test_decorator_attributes: no counterpart (no cache/cache_key/cache_lock attributes)", () => {})
  it.skip(`test_decorator_attributes_lock: ${lockOrCondition}`, () => {})
  it.skip(`test_decorator_attributes_condition: ${lockOrCondition}`, () => {})

  it.scoped("test_decorator_clear", () =>
    Effect.gen(function* () {
      // wrapper.cache_clear() clears the wrapper's cache: `cache.clear`.
      const cache = yield* memoCache(2)
      const wrapper = MemoCacheModule.cachedWith(cache, counter())
      expect(yield* wrapper(0)).toBe(0)
      expect(yield* cache.size).toBe(1)
      yield* cache.clear
      expect(yield* cache.size).toBe(0)
    })
  )

  it.skip(`test_decorator_clear_lock: ${lockOrCondition}`, () => {})
  it.skip(`test_decorator_clear_condition: ${lockOrCondition}`, () => {})

  it.scoped("test_decorator_info", () =>
    Effect.gen(function* () {
      // cache_info() is (hits, misses, maxsize, currsize): the cache's stats and capacity.
      const cache = yield* memoCache(2)
      const wrapper = MemoCacheModule.cachedWith(cache, counter())
      const info = Effect.map(cache.stats, (s) => [s.hits, s.misses, cache.capacity, s.size])
      expect(yield* info).toStrictEqual([0, 0, 2, 0])
      expect(yield* wrapper(0)).toBe(0)
      expect(yield* info).toStrictEqual([0, 1, 2, 1])
      expect(yield* wrapper(1)).toBe(1)
      expect(yield* info).toStrictEqual([0, 2, 2, 2])
      expect(yield* wrapper(0)).toBe(0)
      expect(yield* info).toStrictEqual([1, 2, 2, 2])
      yield* cache.clear
      expect(yield* cache.size).toBe(0)
      // Difference: cache_clear() also zeroes the counters; `clear` removes entries, and the hit
      // and miss counters of `stats` count over the cache's life. cache_clear() is `clear` then
      // `resetStats` (README: "zeroes the counters of `stats` (not `size` ...)").
      expect(yield* info).toStrictEqual([1, 2, 2, 0])
      yield* cache.resetStats
      expect(yield* info).toStrictEqual([0, 0, 2, 0])
    })
  )

  it.skip(`test_decorator_lock_info: ${lockOrCondition}`, () => {})
  it.skip(`test_decorator_condition_info: ${lockOrCondition}`, () => {})
  it.skip(`test_decorator_lock_condition_info: ${lockOrCondition}`, () => {})

  it.effect("test_zero_size_cache_decorator", () =>
    Effect.gen(function* () {
      // Documented difference: README: "`capacity` must be a positive integer" (cachetools: a cache
      // of maxsize 0 stores nothing and the wrapper calls through).
      expect(yield* Effect.flip(Effect.scoped(memoCache(0)))).toMatchObject({
        _tag: "InvalidOption",
        option: "capacity"
      })
    })
  )

  it.skip(`test_zero_size_cache_decorator_lock: ${lockOrCondition}`, () => {})
  it.skip(`test_zero_size_cache_decorator_condition: ${lockOrCondition}`, () => {})

  it.effect("test_zero_size_cache_decorator_info", () =>
    Effect.gen(function* () {
      // As test_zero_size_cache_decorator: README: "`capacity` must be a positive integer".
      expect(yield* Effect.flip(Effect.scoped(memoCache(0)))).toMatchObject({
        _tag: "InvalidOption",
        option: "capacity"
      })
    })
  )

  it.skip(`test_zero_size_cache_decorator_lock_info: ${lockOrCondition}`, () => {})
})

describe("cachetools tests/test_cached.py: DictWrapperTest, NoneWrapperTest", () => {
  const unbounded = "no counterpart (a plain dict as an unbounded cache: capacity is required)"
  for (const name of [
    "test_decorator",
    "test_decorator_typed",
    "test_decorator_lock",
    "test_decorator_condition",
    "test_decorator_lock_condition",
    "test_decorator_wrapped",
    "test_decorator_attributes",
    "test_decorator_attributes_lock",
    "test_decorator_attributes_condition",
    "test_decorator_clear",
    "test_decorator_clear_lock",
    "test_decorator_clear_condition",
    "test_decorator_info"
  ]) {
    it.skip(`DictWrapperTest.${name}: ${unbounded}`, () => {})
  }
  const none = "no counterpart (cached(None): no caching at all; call the function itself)"
  for (const name of [
    "test_decorator",
    "test_decorator_attributes",
    "test_decorator_clear",
    "test_decorator_info"
  ]) {
    it.skip(`NoneWrapperTest.${name}: ${none}`, () => {})
  }
})
