/**
 * The options of the pure `Lru`, checked where a family of versions is made: a programmer's mistake
 * is a `RangeError` naming the option (the cache service reports the same mistakes as typed
 * `InvalidOption`s before it gets here), and a weigher's answer is checked before it changes anything.
 */
import { format } from "effect/Inspectable"
import type * as Lru from "../Lru.js"
import type { Weigher } from "./lruStore.js"
import type { Window } from "./tinyLfu.js"

/** @internal */
export const validateCapacity = (capacity: number): void => {
  if (!Number.isSafeInteger(capacity) || capacity < 1) {
    throw new RangeError(`Lru.empty: capacity must be a positive integer, got ${String(capacity)}`)
  }
}

/** The policy's window under W-TinyLFU, `undefined` under LRU. */
export const windowOf = (options: Lru.Options<never, never> | undefined): Window | undefined => {
  const policy = options?.policy ?? "lru"
  const window = options?.window ?? "adaptive"
  if (policy !== "lru" && policy !== "w-tinylfu") {
    throw new RangeError(`Lru.empty: policy must be "lru" or "w-tinylfu", got ${String(policy)}`)
  }
  if (window !== "adaptive" && window !== "fixed") {
    throw new RangeError(`Lru.empty: window must be "adaptive" or "fixed", got ${String(window)}`)
  }
  return policy === "lru" ? undefined : window
}

/** The byte-size bound, `undefined` without one. */
export const weigherOf = <K, V>(options: Lru.Options<K, V> | undefined): Weigher<K, V> | undefined => {
  const maxSize = options?.maxSize
  const sizeOf = options?.sizeOf
  if (maxSize === undefined && sizeOf === undefined) return undefined
  if (maxSize === undefined || sizeOf === undefined) {
    throw new RangeError("Lru.empty: maxSize and sizeOf go together: give both or neither")
  }
  if (!Number.isSafeInteger(maxSize) || maxSize < 1) {
    throw new RangeError(`Lru.empty: maxSize must be a positive integer, got ${String(maxSize)}`)
  }
  if (typeof sizeOf !== "function") {
    throw new RangeError(`Lru.empty: sizeOf must be a function, got ${String(sizeOf)}`)
  }
  return { maxSize, sizeOf }
}

/**
 * The weight of an entry about to be stored. Called before any change, so that a weigher that
 * throws, or answers other than a non-negative integer, leaves the version as it was.
 */
/** @internal */
export const weigh = <K, V>(weigher: Weigher<K, V>, key: K, value: V): number => {
  const weight = weigher.sizeOf(value, key)
  if (!Number.isSafeInteger(weight) || weight < 0) {
    throw new RangeError(
      `Lru: sizeOf must return a non-negative integer, got ${String(weight)} for the key ${format(key)}`
    )
  }
  return weight
}
