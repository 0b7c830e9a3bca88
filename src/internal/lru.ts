/**
 * The immutable LRU, made fast by rerooting.
 *
 * The versions of a family share one `Store`: a hash index, a circular doubly linked recency list
 * (most recent first) and an expiry heap (expiryHeap.ts), which hold the state of one version at a
 * time, and the family's history (history.ts), which leads from that state to every other
 * version's. An operation on the newest version mutates the store in place and records the
 * inverse of each mutation; so every version stays exact and usable forever, and the newest one
 * costs what a mutable LRU costs.
 *
 * History is linear within a family. An operation on a version that is not the newest (a branch)
 * copies its state into a new family, in O(size): correct, and off the path the cache service uses.
 */
import * as Duration from "effect/Duration"
import { format, NodeInspectSymbol, toJSON } from "effect/Inspectable"
import * as Option from "effect/Option"
import { pipeArguments } from "effect/Pipeable"
import { hasProperty } from "effect/Predicate"
import type * as Lru from "../Lru.js"
import type { Segment } from "./history.js"
import { isStructural } from "./keyMap.js"
import { storeIsValid } from "./lruInvariants.js"
import { validateCapacity, weigh, weigherOf, windowOf } from "./lruOptions.js"
import {
  doLink,
  doUnlink,
  indexFind,
  link,
  move,
  type Node,
  newNode,
  reweigh,
  Store,
  type TinyLfuNode,
  unlink,
  update,
  type Weigher
} from "./lruStore.js"
import { fromEntries, type LoadedColumns } from "./persistence/loadedColumns.js"
import type { PolicyNode, Window } from "./tinyLfu.js"

export { KeyMap } from "./keyMap.js"

/** @internal */
export const TypeId: typeof Lru.TypeId = Symbol.for("effect-lru-cache/Lru") as typeof Lru.TypeId

const NO_REMOVALS: ReadonlyArray<never> = []

/** What an operation that may remove entries returns: the removals and the next version. */
type Step<K, V> = readonly [ReadonlyArray<Lru.Removal<K, V>>, Lru.Lru<K, V>]

const variance: unknown = { _K: (_: never) => _, _V: (_: never) => _ }

class LruImpl<K, V> implements Lru.Lru<K, V> {
  declare readonly [TypeId]: Lru.Lru<K, V>[typeof TypeId]
  constructor(
    readonly store: Store<K, V>,
    readonly segment: Segment<Node<K, V>>,
    readonly position: number,
    /** What the operation that made this version removed (read right after it, by the service). */
    readonly removed: ReadonlyArray<Lru.Removal<K, V>>
  ) {}
  get capacity(): number {
    return this.store.capacity
  }
  pipe() {
    // biome-ignore lint/complexity/noArguments: the pipe protocol passes its functions as arguments
    return pipeArguments(this, arguments)
  }
  /**
   * What a person debugging sees: the stored entries, most recently used first, with the expiry of
   * those that have one (and, with a `maxSize`, each entry's size and the total). A value has no
   * clock, so an entry past its expiry is listed until an operation removes it.
   */
  toJSON(): unknown {
    reroot(this)
    const store = this.store
    const weighted = store.weigher !== undefined
    const entries: Array<unknown> = []
    for (let node = store.sentinel.next; node !== store.sentinel; node = node.next) {
      const expiresAt = store.heap.expiresAt(node)
      entries.push({
        key: toJSON(node.key),
        value: toJSON(node.value),
        ...(weighted ? { size: node.weight } : {}),
        ...(expiresAt === Number.POSITIVE_INFINITY ? {} : { expiresAt })
      })
    }
    return {
      _id: "Lru",
      capacity: store.capacity,
      ...(weighted ? { maxSize: store.maxSize, totalSize: store.weight } : {}),
      policy: store.policy === undefined ? "lru" : "w-tinylfu",
      entries
    }
  }
  toString(): string {
    return format(this.toJSON())
  }
  [NodeInspectSymbol](): unknown {
    return this.toJSON()
  }
}
// On the prototype, so that a version object carries only what differs between versions.
Object.defineProperty(LruImpl.prototype, TypeId, { value: variance })

/** @internal */
export const isLru = (u: unknown): u is Lru.Lru<unknown, unknown> => hasProperty(u, TypeId)

const impl = <K, V>(self: Lru.Lru<K, V>): LruImpl<K, V> => self as LruImpl<K, V>

/** Makes the store hold the state of `self`. Free when it already does. */
const reroot = <K, V>(self: LruImpl<K, V>): void => self.store.reroot(self.segment, self.position)

const isNewest = <K, V>(self: LruImpl<K, V>): boolean => self.store.isNewest(self.segment, self.position)

/**
 * The version to apply a change of `self` to: `self` when it is the newest of its family, else a
 * copy of its state in a new family (a branch), made in O(size).
 */
const writable = <K, V>(self: LruImpl<K, V>): LruImpl<K, V> => {
  reroot(self)
  if (isNewest(self)) return self
  const policy = self.store.policy
  const copy = new Store<K, V>(self.store.capacity, policy?.windowMode, self.store.weigher)
  const twins = policy === undefined ? undefined : new Map<PolicyNode, PolicyNode>()
  const sentinel = self.store.sentinel
  for (let node = sentinel.prev; node !== sentinel; node = node.prev) {
    const expiresAt = self.store.heap.expiresAt(node)
    const twin = newNode(copy, node.key, node.value, node.weight, expiresAt)
    twins?.set(node as TinyLfuNode<K, V>, twin as TinyLfuNode<K, V>)
    doLink(copy, twin, copy.sentinel, expiresAt)
  }
  if (twins !== undefined) copy.policy!.copyFrom(policy!, (node) => twins.get(node)!)
  return new LruImpl(copy, copy.head, 0, NO_REMOVALS)
}

/** The version that follows the mutations just recorded in `store`. */
const advance = <K, V>(store: Store<K, V>, removed: ReadonlyArray<Lru.Removal<K, V>>): LruImpl<K, V> =>
  new LruImpl(store, store.head, store.head.length, removed)

// --- constructors ---------------------------------------------------------------------------------

const emptyVersion = <K, V>(
  capacity: number,
  removed: ReadonlyArray<Lru.Removal<K, V>>,
  window: Window | undefined,
  weigher: Weigher<K, V> | undefined
): LruImpl<K, V> => {
  const store = new Store<K, V>(capacity, window, weigher)
  return new LruImpl(store, store.head, 0, removed)
}

/** @internal */
export const empty = <K, V>(capacity: number, options?: Lru.Options<K, V>): Lru.Lru<K, V> => {
  validateCapacity(capacity)
  return emptyVersion<K, V>(capacity, NO_REMOVALS, windowOf(options), weigherOf(options))
}

// --- operations -----------------------------------------------------------------------------------

const isLive = <K, V>(store: Store<K, V>, node: Node<K, V>, now: number): boolean =>
  node.heapIndex < 0 || now < store.heap.expiresAt(node)

/** @internal */
export const get = <K, V>(
  lru: Lru.Lru<K, V>,
  key: K,
  now: number
): readonly [Option.Option<V>, Lru.Lru<K, V>] => {
  let self = impl(lru)
  reroot(self)
  let node = indexFind(self.store, key)
  if (node === undefined) return [Option.none(), self]
  const live = isLive(self.store, node, now)
  // Under W-TinyLFU every hit counts in the sketch: no hit leaves the version as it was.
  if (live && self.store.sentinel.next === node && self.store.policy === undefined) {
    return [Option.some(node.value), self]
  }
  if (!isNewest(self)) {
    self = writable(self)
    node = indexFind(self.store, key)!
  }
  const store = self.store
  if (!live) {
    unlink(store, node)
    const removed = [{ key: node.key, value: node.value, cause: "expired" as const }]
    return [Option.none(), advance(store, removed)]
  }
  accessPolicy(store, node, true)
  if (store.sentinel.next !== node) move(store, node, store.sentinel)
  return [Option.some(node.value), advance(store, NO_REMOVALS)]
}

/** A hit, or a set of a stored key: the policy counts it and reorders. */
const accessPolicy = <K, V>(store: Store<K, V>, node: Node<K, V>, hit: boolean): void => {
  const policy = store.policy
  if (policy === undefined) return
  const isFull = store.count >= store.capacity
  policy.access(node as TinyLfuNode<K, V>)
  policy.climb(hit, isFull)
}

/**
 * Time to live in milliseconds: `Infinity` without expiry, 0 or less for none left.
 *
 * @internal
 */
export const timeToLiveMillis = (timeToLive: Duration.DurationInput | undefined): number =>
  timeToLive === undefined ? Number.POSITIVE_INFINITY : Duration.toMillis(Duration.decode(timeToLive))

/** @internal */
export const set = <K, V>(
  self: Lru.Lru<K, V>,
  key: K,
  value: V,
  now: number,
  timeToLive?: Duration.DurationInput
): readonly [ReadonlyArray<Lru.Removal<K, V>>, Lru.Lru<K, V>] => {
  return setExpiresAt(self, key, value, now, now + timeToLiveMillis(timeToLive))
}

/**
 * `setExpiresAt` returning the next version only, what it removed in `lastRemoved(next)`: the
 * service's write path, which so allocates no result tuple.
 *
 * @internal
 */
export const setExpiresAtNext = <K, V>(
  lru: Lru.Lru<K, V>,
  key: K,
  value: V,
  now: number,
  expiresAt: number
): Lru.Lru<K, V> => {
  let self = impl(lru)
  reroot(self)
  if (expiresAt <= now && indexFind(self.store, key) === undefined) return self
  const weigher = self.store.weigher
  const weight = weigher === undefined || expiresAt <= now ? 0 : weigh(weigher, key, value)
  // An entry heavier than the bound is not stored (lru-cache refuses it too); a set of a new key
  // with it changes nothing.
  const oversize = weight > self.store.maxSize
  if (oversize && indexFind(self.store, key) === undefined) return self
  self = writable(self)
  const store = self.store
  const node = indexFind(store, key)
  if (node !== undefined) {
    const live = isLive(self.store, node, now)
    const cause = live ? ("replaced" as const) : ("expired" as const)
    if (expiresAt <= now || oversize) {
      unlink(store, node)
      // The stored entry goes for want of room for the new value: an eviction.
      const removedCause = oversize && live ? ("evicted" as const) : cause
      return advance(store, [{ key: node.key, value: node.value, cause: removedCause }])
    }
    const removed: Array<Lru.Removal<K, V>> = [{ key: node.key, value: node.value, cause }]
    accessPolicy(store, node, cause === "replaced")
    update(store, node, value, expiresAt)
    if (store.sentinel.next !== node) move(store, node, store.sentinel)
    if (weigher !== undefined) {
      reweigh(store, node, weight)
      if (store.weight > store.maxSize) {
        removeExpiredInto(store, now, removed)
        evictForWeight(store, node, removed)
      }
    }
    return advance(store, removed)
  }
  const policy = store.policy
  const isFull = store.count >= store.capacity
  let removed: Array<Lru.Removal<K, V>> | undefined
  if (isFull || store.weight + weight > store.maxSize) {
    removed = []
    // Expired entries go first: an expired entry never makes a live one go.
    removeExpiredInto(store, now, removed)
    if (policy === undefined) {
      while (store.count >= store.capacity || store.weight + weight > store.maxSize) {
        const lru = store.sentinel.prev
        unlink(store, lru)
        removed.push({ key: lru.key, value: lru.value, cause: "evicted" })
      }
    }
  }
  const added = newNode(store, key, value, weight, expiresAt)
  link(store, added, store.sentinel, expiresAt)
  if (policy !== undefined) {
    // The new key goes through the window; the policy picks the entry to evict, if one must go.
    const victim = policy.insert(added as TinyLfuNode<K, V>, store.count) as TinyLfuNode<K, V> | undefined
    if (victim !== undefined) {
      unlink(store, victim)
      ;(removed ??= []).push({ key: victim.key, value: victim.value, cause: "evicted" })
    }
    if (store.weight > store.maxSize) evictForWeight(store, added, (removed ??= []))
    policy.climb(false, isFull)
  }
  return advance(store, removed ?? NO_REMOVALS)
}

/**
 * Evicts live entries until the summed weight fits, never `keep` (the entry just set, which fits
 * on its own). Under LRU the least recently used go; under W-TinyLFU, the policy's order of
 * victims, as Caffeine evicts for weight: probation's least recent first, then protected's, then
 * the window's.
 */
const evictForWeight = <K, V>(
  store: Store<K, V>,
  keep: Node<K, V>,
  removed: Array<Lru.Removal<K, V>>
): void => {
  while (store.weight > store.maxSize) {
    const victim = weightVictim(store, keep)
    unlink(store, victim)
    removed.push({ key: victim.key, value: victim.value, cause: "evicted" })
  }
}

const weightVictim = <K, V>(store: Store<K, V>, keep: Node<K, V>): Node<K, V> => {
  const policy = store.policy
  if (policy === undefined) return store.sentinel.prev === keep ? keep.prev : store.sentinel.prev
  const heads: ReadonlyArray<PolicyNode> = [policy.probation, policy.protected, policy.window]
  for (const head of heads) {
    for (let node = head.policyNext; node !== head; node = node.policyNext) {
      if (node !== (keep as TinyLfuNode<K, V>)) return node as TinyLfuNode<K, V>
    }
  }
  // Unreachable while the bound holds: `keep` alone weighs no more than `maxSize`.
  return keep
}

/** @internal */
export const setExpiresAt = <K, V>(self: Lru.Lru<K, V>, key: K, value: V, now: number, expiresAt: number) => {
  const next = setExpiresAtNext(self, key, value, now, expiresAt)
  const removed: ReadonlyArray<Lru.Removal<K, V>> = next === self ? NO_REMOVALS : impl(next).removed
  return [removed, next] as const
}

const removeExpiredInto = <K, V>(
  store: Store<K, V>,
  now: number,
  removed: Array<Lru.Removal<K, V>>
): void => {
  while (store.heap.soonest() <= now) {
    const node = store.heap.first()
    unlink(store, node)
    removed.push({ key: node.key, value: node.value, cause: "expired" })
  }
}

/** @internal */
export const removeExpired = <K, V>(lru: Lru.Lru<K, V>, now: number): Step<K, V> => {
  const self = impl(lru)
  reroot(self)
  if (self.store.heap.soonest() > now) return [NO_REMOVALS, self]
  const store = writable(self).store
  const removed: Array<Lru.Removal<K, V>> = []
  removeExpiredInto(store, now, removed)
  return [removed, advance(store, removed)]
}

/** @internal */
export const remove = <K, V>(lru: Lru.Lru<K, V>, key: K, now: number): Step<K, V> => {
  const self = impl(lru)
  reroot(self)
  if (indexFind(self.store, key) === undefined) return [NO_REMOVALS, self]
  const store = writable(self).store
  const node = indexFind(store, key)!
  const live = isLive(store, node, now)
  unlink(store, node)
  const removed = [
    { key: node.key, value: node.value, cause: live ? ("deleted" as const) : ("expired" as const) }
  ]
  return [removed, advance(store, removed)]
}

/**
 * Clearing starts a new family rather than unlinking every node: the old versions keep their
 * store untouched, and the history records nothing.
 *
 * @internal
 */
export const clear = <K, V>(lru: Lru.Lru<K, V>, now: number): Step<K, V> => {
  const self = impl(lru)
  reroot(self)
  const removed: Array<Lru.Removal<K, V>> = []
  const sentinel = self.store.sentinel
  for (let node = sentinel.next; node !== sentinel; node = node.next) {
    removed.push({
      key: node.key,
      value: node.value,
      cause: isLive(self.store, node, now) ? "cleared" : "expired"
    })
  }
  if (removed.length === 0) return [NO_REMOVALS, self]
  return [removed, emptyVersion(self.capacity, removed, self.store.policy?.windowMode, self.store.weigher)]
}

const findLive = <K, V>(lru: Lru.Lru<K, V>, key: K, now: number): Node<K, V> | undefined => {
  const self = impl(lru)
  reroot(self)
  const node = indexFind(self.store, key)
  return node !== undefined && isLive(self.store, node, now) ? node : undefined
}

/** @internal */
export const peek = <K, V>(self: Lru.Lru<K, V>, key: K, now: number): Option.Option<V> => {
  const node = findLive(self, key, now)
  return node === undefined ? Option.none() : Option.some(node.value)
}

/** @internal */
export const has = <K, V>(self: Lru.Lru<K, V>, key: K, now: number): boolean =>
  findLive(self, key, now) !== undefined

/** @internal */
export const remainingTtl = <K, V>(
  self: Lru.Lru<K, V>,
  key: K,
  now: number
): Option.Option<Duration.Duration> => {
  const node = findLive(self, key, now)
  if (node === undefined) return Option.none()
  return Option.some(
    node.heapIndex < 0 ? Duration.infinity : Duration.millis(impl(self).store.heap.expiresAt(node) - now)
  )
}

/** @internal */
export const size = <K, V>(lru: Lru.Lru<K, V>, now: number): number => {
  const self = impl(lru)
  reroot(self)
  return self.store.count - self.store.heap.countExpired(now)
}

/** @internal */
export const totalSize = <K, V>(lru: Lru.Lru<K, V>, now: number): number => {
  const self = impl(lru)
  reroot(self)
  const store = self.store
  if (store.weigher === undefined || store.heap.soonest() > now) return store.weight
  let weight = 0
  const sentinel = store.sentinel
  for (let node = sentinel.next; node !== sentinel; node = node.next) {
    if (isLive(store, node, now)) weight += node.weight
  }
  return weight
}

/**
 * Stored entries, expired ones not yet removed included: O(1), for callers that just swept.
 *
 * @internal
 */
export const storedCount = <K, V>(lru: Lru.Lru<K, V>): number => {
  const self = impl(lru)
  reroot(self)
  return self.store.count
}

const collect = <K, V, A>(lru: Lru.Lru<K, V>, now: number, f: (node: Node<K, V>) => A): Array<A> => {
  const self = impl(lru)
  reroot(self)
  const out: Array<A> = []
  const sentinel = self.store.sentinel
  for (let node = sentinel.next; node !== sentinel; node = node.next) {
    if (isLive(self.store, node, now)) out.push(f(node))
  }
  return out
}

/** @internal */
export const keys = <K, V>(self: Lru.Lru<K, V>, now: number): Array<K> =>
  collect(self, now, (node) => node.key)

/** @internal */
export const values = <K, V>(self: Lru.Lru<K, V>, now: number): Array<V> =>
  collect(self, now, (node) => node.value)

/** @internal */
export const entries = <K, V>(self: Lru.Lru<K, V>, now: number): Array<readonly [K, V]> =>
  collect(self, now, (node) => [node.key, node.value] as const)

/** @internal */
export const toPersisted = <K, V>(
  self: Lru.Lru<K, V>,
  now: number
): Array<{ readonly key: K; readonly value: V; readonly expiresAt: number }> =>
  collect(self, now, (node) => ({
    key: node.key,
    value: node.value,
    expiresAt: impl(self).store.heap.expiresAt(node)
  })).reverse()

/**
 * Whether any entry of `self` has a finite expiry. When none has, and a write brings none, no
 * answer depends on the time, and the caller may skip reading its clock.
 *
 * @internal
 */
export const hasExpiringEntries = <K, V>(lru: Lru.Lru<K, V>): boolean => {
  const self = impl(lru)
  reroot(self)
  return self.store.heap.size > 0
}

/**
 * The earliest expiry of an entry of `self` (expired or not), `Infinity` when none can expire.
 *
 * @internal
 */
export const nextExpiry = <K, V>(lru: Lru.Lru<K, V>): number => {
  const self = impl(lru)
  reroot(self)
  return self.store.heap.soonest()
}

/**
 * What the operation that made `self` removed. Meaningful only for a version just made by an
 * operation (`next !== self`).
 *
 * @internal
 */
export const lastRemoved = <K, V>(self: Lru.Lru<K, V>): ReadonlyArray<Lru.Removal<K, V>> => impl(self).removed

/** @internal */
export const isValid = <K, V>(lru: Lru.Lru<K, V>): boolean => {
  const self = impl(lru)
  reroot(self)
  return storeIsValid(self.store, self.capacity)
}

/**
 * Rebuilds a value from persisted entries given least recently used first (a key given twice takes
 * its later place), dropping those expired at `now` and, past `capacity` or `options.maxSize`
 * (weights computed again with `options.sizeOf`), the least recent. Built
 * in place, recording no history: no older version of the new family exists to go back to.
 *
 * @internal
 */
export const restore = <K, V>(
  capacity: number,
  persisted: Iterable<{ readonly key: K; readonly value: V; readonly expiresAt: number }>,
  now: number,
  options?: Lru.Options<K, V>
): Lru.Lru<K, V> => restoreColumns(capacity, fromEntries(persisted), now, options)

/**
 * `restore` from columns, as the backends of this library load them (loadedColumns.ts says why).
 *
 * @internal
 */
export const restoreColumns = <K, V>(
  capacity: number,
  persisted: LoadedColumns<K, V>,
  now: number,
  options?: Lru.Options<K, V>
): Lru.Lru<K, V> => {
  validateCapacity(capacity)
  const weigher = weigherOf(options)
  const { keys, values, expiries, length } = persisted
  const place = (store: Store<K, V>, i: number): void => {
    const key = keys[i]!
    const value = values[i]!
    const expiresAt = expiries[i]!
    const existing = indexFind(store, key)
    if (existing !== undefined) doUnlink(store, existing)
    if (expiresAt <= now) return
    const weight = weigher === undefined ? 0 : weigh(weigher, key, value)
    if (weight > store.maxSize) return
    while (store.count >= capacity || store.weight + weight > store.maxSize)
      doUnlink(store, store.sentinel.prev)
    doLink(store, newNode(store, key, value, weight, expiresAt), store.sentinel, expiresAt)
  }
  let store = new Store<K, V>(capacity, windowOf(options), weigher)
  // A load places a million entries, of distinct keys as a rule: a live entry with a key of the
  // direct index takes one map operation, a `set` without the lookup before it. A key given twice
  // shows as a set that leaves the map's size as it was (the earlier node, replaced, is lost to the
  // list): then every entry is placed again, each looked up first. Evicting the least recent before
  // that check is what the lookup would do too when the key given twice is the least recent.
  for (let i = 0; i < length; i++) {
    const key = keys[i]!
    const expiresAt = expiries[i]!
    if (expiresAt <= now || isStructural(key) || weigher !== undefined) {
      place(store, i)
      continue
    }
    if (store.count >= capacity) doUnlink(store, store.sentinel.prev)
    const size = store.direct.size
    doLink(store, newNode(store, key, values[i]!, 0, expiresAt), store.sentinel, expiresAt)
    if (store.direct.size === size) {
      store = new Store<K, V>(capacity, windowOf(options), weigher)
      for (let j = 0; j < length; j++) place(store, j)
      break
    }
  }
  if (store.policy !== undefined) {
    const nodes: Array<TinyLfuNode<K, V>> = []
    for (let node = store.sentinel.prev; node !== store.sentinel; node = node.prev) {
      nodes.push(node as TinyLfuNode<K, V>)
    }
    store.policy.restore(nodes)
  }
  return new LruImpl(store, store.head, 0, NO_REMOVALS)
}
