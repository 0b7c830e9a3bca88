/**
 * A plain reference model of the cache semantics in DESIGN.md, shared by the property tests.
 *
 * Deliberately naive: an immutable array of entries ordered by recency (most recent first) and linear
 * scans, so that it is obviously right and shares nothing with the implementation but the contract.
 * Expired entries stay stored until something removes them, exactly where the contract says they are
 * removed (a `get` or `delete` of their key, a `set` of their key, a new key arriving at capacity,
 * `clear`, `removeExpired`), because those removals are visible in the counters and events.
 */
import * as Duration from "effect/Duration"
import * as Equal from "effect/Equal"
import * as Option from "effect/Option"

export type Cause = "evicted" | "expired" | "deleted" | "replaced" | "cleared"

export interface Removal<K, V> {
  readonly key: K
  readonly value: V
  readonly cause: Cause
}

export interface Entry<K, V> {
  readonly key: K
  readonly value: V
  /** Absolute expiry in epoch milliseconds; `Infinity` never expires. */
  readonly expiresAt: number
}

export interface Counters {
  readonly hits: number
  readonly misses: number
  readonly evictions: number
  readonly expirations: number
}

/** The byte-size bound: the most summed weight of the stored entries, and the weigher. */
export interface Weigher<K, V> {
  readonly maxSize: number
  readonly sizeOf: (value: V, key: K) => number
}

export interface Model<K, V> {
  readonly capacity: number
  /** The byte-size bound, if any. */
  readonly weigher?: Weigher<K, V> | undefined
  /** Stored entries, live or not, most recently used first. */
  readonly entries: ReadonlyArray<Entry<K, V>>
  readonly counters: Counters
}

/** Keys as a JS `Map` and effect's `HashMap` would agree on them: `Equal.equals`, with NaN equal to NaN. */
export const sameKey = (a: unknown, b: unknown): boolean =>
  (typeof a === "number" && typeof b === "number" && Number.isNaN(a) && Number.isNaN(b)) || Equal.equals(a, b)

/** A time to live in milliseconds: `undefined` takes `fallback`; zero or less stores nothing. */
export const ttlMillis = (
  input: Duration.DurationInput | undefined,
  fallback = Number.POSITIVE_INFINITY
): number => (input === undefined ? fallback : Duration.toMillis(Duration.decode(input)))

export const empty = <K, V>(capacity: number, weigher?: Weigher<K, V>): Model<K, V> => ({
  capacity,
  weigher,
  entries: [],
  counters: { hits: 0, misses: 0, evictions: 0, expirations: 0 }
})

export const isLive = (entry: Entry<unknown, unknown>, now: number): boolean => now < entry.expiresAt

const indexOf = <K, V>(self: Model<K, V>, key: K): number =>
  self.entries.findIndex((e) => sameKey(e.key, key))

const without = <K, V>(self: Model<K, V>, index: number): ReadonlyArray<Entry<K, V>> => [
  ...self.entries.slice(0, index),
  ...self.entries.slice(index + 1)
]

const bump = (counters: Counters, field: keyof Counters, by = 1): Counters => ({
  ...counters,
  [field]: counters[field] + by
})

/** The result of an operation: what it removed and the next model. */
export type Step<K, V, A = ReadonlyArray<Removal<K, V>>> = readonly [A, Model<K, V>]

/** A lookup: a hit makes the key most recent; an expired entry is removed (an expiration) and misses. */
export const get = <K, V>(self: Model<K, V>, key: K, now: number): Step<K, V, Option.Option<V>> => {
  const [value, , next] = getWithRemovals(self, key, now)
  return [value, next]
}

/** {@link get}, also returning the removal of an expired entry (the service publishes it). */
export const getWithRemovals = <K, V>(
  self: Model<K, V>,
  key: K,
  now: number
): readonly [Option.Option<V>, ReadonlyArray<Removal<K, V>>, Model<K, V>] => {
  const index = indexOf(self, key)
  if (index < 0) {
    return [Option.none(), [], { ...self, counters: bump(self.counters, "misses") }]
  }
  const entry = self.entries[index]!
  if (!isLive(entry, now)) {
    const counters = bump(bump(self.counters, "misses"), "expirations")
    return [
      Option.none(),
      [{ key: entry.key, value: entry.value, cause: "expired" }],
      { ...self, entries: without(self, index), counters }
    ]
  }
  return [
    Option.some(entry.value),
    [],
    { ...self, entries: [entry, ...without(self, index)], counters: bump(self.counters, "hits") }
  ]
}

/** The weight of an entry: 0 without a bound. */
const weightOf = <K, V>(self: Model<K, V>, key: K, value: V): number =>
  self.weigher === undefined ? 0 : self.weigher.sizeOf(value, key)

/** The summed weight of `entries`, live or not. */
const weightOfAll = <K, V>(self: Model<K, V>, entries: ReadonlyArray<Entry<K, V>>): number =>
  entries.reduce((sum, e) => sum + weightOf(self, e.key, e.value), 0)

/**
 * Inserts or replaces at `now` with a time to live of `ttl` milliseconds (`Infinity`: never expires).
 * An entry already stored for the key leaves as "replaced" when live, "expired" otherwise. A ttl of
 * zero or less stores nothing. A new key arriving when `capacity` entries are stored, or an entry
 * that would take the summed weight past `maxSize`, first removes every expired entry, then, while
 * either bound would not hold, evicts the least recently used one. An entry heavier than `maxSize`
 * on its own is not stored, and the key's stored entry leaves as "evicted" (when live).
 */
export const set = <K, V>(self: Model<K, V>, key: K, value: V, now: number, ttl: number): Step<K, V> => {
  const removals: Array<Removal<K, V>> = []
  let entries = self.entries
  let counters = self.counters
  const index = indexOf(self, key)
  const stores = ttl > 0
  const weight = stores ? weightOf(self, key, value) : 0
  const maxSize = self.weigher?.maxSize ?? Number.POSITIVE_INFINITY
  const oversize = weight > maxSize
  if (index >= 0) {
    const old = entries[index]!
    const live = isLive(old, now)
    const cause = !live ? "expired" : oversize ? "evicted" : "replaced"
    removals.push({ key: old.key, value: old.value, cause })
    if (!live) counters = bump(counters, "expirations")
    if (cause === "evicted") counters = bump(counters, "evictions")
    entries = without(self, index)
  }
  if (!stores || oversize) return [removals, { ...self, entries, counters }]
  if (entries.length >= self.capacity || weightOfAll(self, entries) + weight > maxSize) {
    const expired = entries.filter((e) => !isLive(e, now))
    for (const e of sortByExpiry(expired)) removals.push({ key: e.key, value: e.value, cause: "expired" })
    counters = bump(counters, "expirations", expired.length)
    entries = entries.filter((e) => isLive(e, now))
    while (entries.length >= self.capacity || weightOfAll(self, entries) + weight > maxSize) {
      const lru = entries[entries.length - 1]!
      removals.push({ key: lru.key, value: lru.value, cause: "evicted" })
      counters = bump(counters, "evictions")
      entries = entries.slice(0, -1)
    }
  }
  return [removals, { ...self, entries: [{ key, value, expiresAt: now + ttl }, ...entries], counters }]
}

/** Like {@link set}, with an absolute expiry. */
export const setExpiresAt = <K, V>(
  self: Model<K, V>,
  key: K,
  value: V,
  now: number,
  expiresAt: number
): Step<K, V> => set(self, key, value, now, expiresAt - now)

/** Removes `key`: "deleted" when live, "expired" (an expiration) otherwise. */
export const remove = <K, V>(self: Model<K, V>, key: K, now: number): Step<K, V> => {
  const index = indexOf(self, key)
  if (index < 0) return [[], self]
  const entry = self.entries[index]!
  const live = isLive(entry, now)
  return [
    [{ key: entry.key, value: entry.value, cause: live ? "deleted" : "expired" }],
    {
      ...self,
      entries: without(self, index),
      counters: live ? self.counters : bump(self.counters, "expirations")
    }
  ]
}

/** Removes everything: live entries as "cleared", expired ones as "expired" (expirations). */
export const clear = <K, V>(self: Model<K, V>, now: number): Step<K, V> => {
  const expired = self.entries.filter((e) => !isLive(e, now)).length
  return [
    self.entries.map((e) => ({ key: e.key, value: e.value, cause: isLive(e, now) ? "cleared" : "expired" })),
    { ...self, entries: [], counters: bump(self.counters, "expirations", expired) }
  ]
}

/**
 * Removes every live entry that `predicate` holds for, each as "deleted", most recently used
 * first; expired entries are left where they are (the predicate never sees them).
 */
export const invalidateWhen = <K, V>(
  self: Model<K, V>,
  predicate: (key: K, value: V) => boolean,
  now: number
): Step<K, V> => {
  const removed = self.entries.filter((e) => isLive(e, now) && predicate(e.key, e.value))
  return [
    removed.map((e) => ({ key: e.key, value: e.value, cause: "deleted" })),
    { ...self, entries: self.entries.filter((e) => !removed.includes(e)) }
  ]
}

/**
 * A refresh that has ended: a success (`Some`) is stored as a `set` at `now` with a time to live of
 * `ttl`, counting neither a hit nor a miss; a failure changes nothing.
 */
export const refresh = <K, V>(
  self: Model<K, V>,
  key: K,
  result: Option.Option<V>,
  now: number,
  ttl: number
): Step<K, V> => (Option.isSome(result) ? set(self, key, result.value, now, ttl) : [[], self])

const sortByExpiry = <K, V>(entries: ReadonlyArray<Entry<K, V>>): Array<Entry<K, V>> =>
  [...entries].sort((a, b) => a.expiresAt - b.expiresAt)

/** Removes every expired entry, soonest expiry first. */
export const removeExpired = <K, V>(self: Model<K, V>, now: number): Step<K, V> => {
  const expired = sortByExpiry(self.entries.filter((e) => !isLive(e, now)))
  return [
    expired.map((e) => ({ key: e.key, value: e.value, cause: "expired" })),
    {
      ...self,
      entries: self.entries.filter((e) => isLive(e, now)),
      counters: bump(self.counters, "expirations", expired.length)
    }
  ]
}

const live = <K, V>(self: Model<K, V>, now: number): Array<Entry<K, V>> =>
  self.entries.filter((e) => isLive(e, now))

const liveEntry = <K, V>(self: Model<K, V>, key: K, now: number): Entry<K, V> | undefined => {
  const entry = self.entries[indexOf(self, key)]
  return entry !== undefined && isLive(entry, now) ? entry : undefined
}

export const peek = <K, V>(self: Model<K, V>, key: K, now: number): Option.Option<V> =>
  Option.map(Option.fromNullable(liveEntry(self, key, now)), (e) => e.value)

export const has = <K, V>(self: Model<K, V>, key: K, now: number): boolean =>
  liveEntry(self, key, now) !== undefined

/** Milliseconds left (`Infinity` without expiry), `None` without a live entry. */
export const remainingTtl = <K, V>(self: Model<K, V>, key: K, now: number): Option.Option<number> =>
  Option.map(Option.fromNullable(liveEntry(self, key, now)), (e) => e.expiresAt - now)

export const size = <K, V>(self: Model<K, V>, now: number): number => live(self, now).length

/** The summed weight of the live entries: 0 without a bound. */
export const totalSize = <K, V>(self: Model<K, V>, now: number): number => weightOfAll(self, live(self, now))

export const keys = <K, V>(self: Model<K, V>, now: number): Array<K> => live(self, now).map((e) => e.key)

export const values = <K, V>(self: Model<K, V>, now: number): Array<V> => live(self, now).map((e) => e.value)

export const entries = <K, V>(self: Model<K, V>, now: number): Array<readonly [K, V]> =>
  live(self, now).map((e) => [e.key, e.value] as const)

/** Live entries with their expiry, least recently used first. */
export const toPersisted = <K, V>(self: Model<K, V>, now: number): Array<Entry<K, V>> =>
  live(self, now).reverse()

/** The shape of a removal list that does not depend on the order of removals made at the same moment. */
export const canonicalRemovals = <K, V>(removals: ReadonlyArray<Removal<K, V>>): Array<string> =>
  removals.map((r) => `${r.cause}:${showKey(r.key)}=${String(r.value)}`).sort()

/** A printable, distinguishing form of a test key (`-0` and `0` print alike, as they are one key). */
export const showKey = (key: unknown): string => {
  if (typeof key === "string") return JSON.stringify(key)
  if (typeof key === "number") return Object.is(key, -0) ? "0" : String(key)
  return `${Object.prototype.toString.call(key)}${JSON.stringify(key)}`
}

/** Whether two key lists name the same keys in the same order. */
export const sameKeys = (a: ReadonlyArray<unknown>, b: ReadonlyArray<unknown>): boolean =>
  a.length === b.length && a.every((key, i) => sameKey(key, b[i]))

const noCounters: Counters = { hits: 0, misses: 0, evictions: 0, expirations: 0 }

/**
 * A cache opened on what a cleanly closed one persisted: its live entries in the same order (the
 * final snapshot keeps the exact recency), and counters that start again at zero.
 */
export const reopen = <K, V>(self: Model<K, V>, now: number): Model<K, V> => ({
  capacity: self.capacity,
  weigher: self.weigher,
  entries: live(self, now),
  counters: noCounters
})

/**
 * A cache opened on what a killed process left on disk, where every write was acknowledged once
 * durable: the same live entries, but in the order of their last write, since reads are not
 * journaled (`lastWrite` gives a key's position in the journal, higher is later).
 */
export const recover = <K, V>(
  self: Model<K, V>,
  now: number,
  lastWrite: (key: K) => number
): Model<K, V> => ({
  capacity: self.capacity,
  weigher: self.weigher,
  entries: live(self, now).sort((a, b) => lastWrite(b.key) - lastWrite(a.key)),
  counters: noCounters
})

/** `resetStats`: every counter back to zero; the entries stay as they are. */
export const resetStats = <K, V>(self: Model<K, V>): Model<K, V> => ({
  ...self,
  counters: { hits: 0, misses: 0, evictions: 0, expirations: 0 }
})
