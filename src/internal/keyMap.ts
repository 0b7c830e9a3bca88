/**
 * The cache's key identity, shared by the `Lru` index (lru.ts) and the tables the service keeps
 * beside it, so that no key is one key here and two keys there: `Equal`/`Hash` for keys effect
 * compares by content, `Date`/`URL` by value, and every other key as a JS `Map` compares it (by
 * identity for objects, by value for primitives: `NaN` finds `NaN`, `0` and `-0` are one key).
 *
 * A file of its own because two modules use it and neither owns it.
 *
 * @internal
 */
import * as Equal from "effect/Equal"
import * as Hash from "effect/Hash"

/**
 * Keys that effect's `Equal` compares by content: they go through a hash index of buckets. Every
 * other key is compared as a JS `Map` does (by identity for objects, by value for primitives, which
 * is `Equal` too, except that NaN finds NaN).
 *
 * @internal
 */
export const isStructural = (key: unknown): boolean =>
  ((typeof key === "object" && key !== null) || typeof key === "function") &&
  (Equal.isEqual(key) || key instanceof Date || key instanceof URL)

/**
 * A mutable map with the cache's key identity (the index's). For the tables the service keeps
 * beside the index (computations running).
 *
 * @internal
 */
export class KeyMap<K, A> {
  private readonly direct = new Map<K, A>()
  private readonly buckets = new Map<number, Array<readonly [K, A]>>()
  private count = 0

  get size(): number {
    return this.count
  }

  get(key: K): A | undefined {
    if (!isStructural(key)) return this.direct.get(key)
    const bucket = this.buckets.get(Hash.hash(key))
    if (bucket === undefined) return undefined
    for (let i = 0; i < bucket.length; i++) {
      if (Equal.equals(bucket[i]![0], key)) return bucket[i]![1]
    }
    return undefined
  }

  set(key: K, value: A): void {
    if (!isStructural(key)) {
      if (!this.direct.has(key)) this.count++
      this.direct.set(key, value)
      return
    }
    const hash = Hash.hash(key)
    const bucket = this.buckets.get(hash)
    if (bucket === undefined) {
      this.buckets.set(hash, [[key, value]])
      this.count++
      return
    }
    for (let i = 0; i < bucket.length; i++) {
      if (Equal.equals(bucket[i]![0], key)) {
        bucket[i] = [bucket[i]![0], value]
        return
      }
    }
    bucket.push([key, value])
    this.count++
  }

  delete(key: K): boolean {
    if (!isStructural(key)) {
      const deleted = this.direct.delete(key)
      if (deleted) this.count--
      return deleted
    }
    const hash = Hash.hash(key)
    const bucket = this.buckets.get(hash)
    if (bucket === undefined) return false
    for (let i = 0; i < bucket.length; i++) {
      if (Equal.equals(bucket[i]![0], key)) {
        if (bucket.length === 1) this.buckets.delete(hash)
        else bucket.splice(i, 1)
        this.count--
        return true
      }
    }
    return false
  }

  clear(): void {
    this.direct.clear()
    this.buckets.clear()
    this.count = 0
  }
}
