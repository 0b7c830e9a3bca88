/**
 * The immutable LRU, made fast by rerooting.
 *
 * A family of versions shares one `Store`: a hash index, a circular doubly linked recency list
 * (most recent first) and a binary min-heap of finite expiries. The store holds the state of exactly
 * one version, `store.current`. Every other version keeps `newer` (the version it led to, or that
 * led to it) and `undo`, the log that turns the state of `newer` into its own. An operation on the
 * current version mutates the store in place and records, for each mutation, its inverse; the old
 * version keeps that log. Reading any other version first "reroots" the store: it replays the logs
 * along the path to it, recording the opposite logs as it goes, so that every version stays exact
 * and usable forever while the newest one costs what a mutable LRU costs.
 *
 * Pointers go from older to newer versions only along the path to the current one, so a version
 * nobody references is garbage, with its log.
 */
import * as Duration from "effect/Duration"
import * as Equal from "effect/Equal"
import * as Hash from "effect/Hash"
import * as Option from "effect/Option"
import { pipeArguments } from "effect/Pipeable"
import { hasProperty } from "effect/Predicate"
import type * as Lru from "../Lru.js"

/** @internal */
export const TypeId: typeof Lru.TypeId = Symbol.for("effect-lru-cache/Lru") as typeof Lru.TypeId

class Node<K, V> {
  prev: Node<K, V> = this
  next: Node<K, V> = this
  heapIndex = -1
  constructor(
    readonly key: K,
    public value: V,
    public expiresAt: number,
    /** Hash of a structural key (see `isStructural`), unused for the others. */
    readonly hash: number
  ) {}
}

/**
 * Keys that effect's `Equal` compares by content: they go through a hash index of buckets. Every
 * other key is compared as a JS `Map` does (by identity for objects, by value for primitives, which
 * is `Equal` too, except that NaN finds NaN).
 */
const isStructural = (key: unknown): boolean =>
  ((typeof key === "object" && key !== null) || typeof key === "function") &&
  (Equal.isEqual(key) || key instanceof Date || key instanceof URL)

class Store<K, V> {
  constructor(readonly capacity: number) {}
  readonly direct = new Map<K, Node<K, V>>()
  readonly buckets = new Map<number, Array<Node<K, V>>>()
  /** The list's sentinel: `sentinel.next` is the most recently used node, `sentinel.prev` the least. */
  readonly sentinel: Node<K, V> = new Node<K, V>(undefined as K, undefined as V, Number.POSITIVE_INFINITY, 0)
  /** Nodes with a finite expiry, a min-heap on `expiresAt`. */
  readonly heap: Array<Node<K, V>> = []
  /** Stored entries, expired ones not yet removed included. */
  count = 0
  current!: LruImpl<K, V>
}

/**
 * Undo and redo logs live in the version objects themselves: a log is a sequence of
 * `[operation, node, argument, argument]` entries, replayed from the end; the first two entries
 * sit in fields (every operation but a sweep or a clear makes at most two mutations), the others
 * in an overflow array. No array is allocated for a typical operation, and what an old version
 * retains is one object.
 */
type Log<K, V> = LruImpl<K, V>

const LINK = 0
const UNLINK = 1
const MOVE = 2
const UPDATE = 3

const NO_REMOVALS: ReadonlyArray<never> = []

const variance: unknown = { _K: (_: never) => _, _V: (_: never) => _ }

class LruImpl<K, V> implements Lru.Lru<K, V> {
  declare readonly [TypeId]: Lru.Lru<K, V>[typeof TypeId]
  /**
   * Set while another version is the store's current one: the next step towards it. This
   * version's log then turns the state of `newer` into the state of this version.
   */
  newer: LruImpl<K, V> | undefined = undefined
  logLength = 0
  op0 = 0
  node0: Node<K, V> | undefined = undefined
  argument0: unknown = undefined
  extra0 = 0
  op1 = 0
  node1: Node<K, V> | undefined = undefined
  argument1: unknown = undefined
  extra1 = 0
  overflow: Array<unknown> | undefined = undefined
  constructor(
    readonly store: Store<K, V>,
    /**
     * What the operation that made this version removed; dropped once a newer version exists, so
     * that old versions do not retain removed values.
     */
    public removed: ReadonlyArray<Lru.Removal<K, V>>
  ) {}
  get capacity(): number {
    return this.store.capacity
  }
  pipe() {
    // biome-ignore lint/complexity/noArguments: the pipe protocol passes its functions as arguments
    return pipeArguments(this, arguments)
  }
}
// On the prototype, so that a version object carries only what differs between versions.
Object.defineProperty(LruImpl.prototype, TypeId, { value: variance })

/** @internal */
export const isLru = (u: unknown): u is Lru.Lru<unknown, unknown> => hasProperty(u, TypeId)

const impl = <K, V>(self: Lru.Lru<K, V>): LruImpl<K, V> => self as LruImpl<K, V>

// --- the store's primitive mutations: each records its inverse in `log` ---------------------------

const record = <K, V>(
  log: Log<K, V>,
  op: number,
  node: Node<K, V>,
  argument: unknown,
  extra: number
): void => {
  switch (log.logLength++) {
    case 0:
      log.op0 = op
      log.node0 = node
      log.argument0 = argument
      log.extra0 = extra
      return
    case 1:
      log.op1 = op
      log.node1 = node
      log.argument1 = argument
      log.extra1 = extra
      return
    default:
      if (log.overflow === undefined) log.overflow = []
      log.overflow.push(op, node, argument, extra)
  }
}

const indexFind = <K, V>(store: Store<K, V>, key: K): Node<K, V> | undefined => {
  if (!isStructural(key)) return store.direct.get(key)
  const bucket = store.buckets.get(Hash.hash(key))
  if (bucket === undefined) return undefined
  for (let i = 0; i < bucket.length; i++) {
    if (Equal.equals(bucket[i]!.key, key)) return bucket[i]
  }
  return undefined
}

const indexAdd = <K, V>(store: Store<K, V>, node: Node<K, V>): void => {
  if (!isStructural(node.key)) {
    store.direct.set(node.key, node)
    return
  }
  const bucket = store.buckets.get(node.hash)
  if (bucket === undefined) store.buckets.set(node.hash, [node])
  else bucket.push(node)
}

const indexRemove = <K, V>(store: Store<K, V>, node: Node<K, V>): void => {
  if (!isStructural(node.key)) {
    store.direct.delete(node.key)
    return
  }
  const bucket = store.buckets.get(node.hash)!
  if (bucket.length === 1) {
    store.buckets.delete(node.hash)
  } else {
    bucket.splice(bucket.indexOf(node), 1)
  }
}

const listInsertAfter = <K, V>(node: Node<K, V>, after: Node<K, V>): void => {
  node.prev = after
  node.next = after.next
  after.next.prev = node
  after.next = node
}

const listRemove = <K, V>(node: Node<K, V>): void => {
  node.prev.next = node.next
  node.next.prev = node.prev
  node.prev = node
  node.next = node
}

const link = <K, V>(store: Store<K, V>, node: Node<K, V>, after: Node<K, V>, log: Log<K, V>): void => {
  listInsertAfter(node, after)
  indexAdd(store, node)
  if (node.expiresAt !== Number.POSITIVE_INFINITY) heapPush(store.heap, node)
  store.count++
  record(log, UNLINK, node, undefined, 0)
}

const unlink = <K, V>(store: Store<K, V>, node: Node<K, V>, log: Log<K, V>): void => {
  const after = node.prev
  listRemove(node)
  indexRemove(store, node)
  if (node.heapIndex >= 0) heapRemove(store.heap, node)
  store.count--
  record(log, LINK, node, after, 0)
}

const move = <K, V>(node: Node<K, V>, after: Node<K, V>, log: Log<K, V>): void => {
  const before = node.prev
  listRemove(node)
  listInsertAfter(node, after)
  record(log, MOVE, node, before, 0)
}

const update = <K, V>(
  store: Store<K, V>,
  node: Node<K, V>,
  value: V,
  expiresAt: number,
  log: Log<K, V>
): void => {
  record(log, UPDATE, node, node.value, node.expiresAt)
  node.value = value
  const wasFinite = node.heapIndex >= 0
  node.expiresAt = expiresAt
  if (expiresAt === Number.POSITIVE_INFINITY) {
    if (wasFinite) heapRemove(store.heap, node)
  } else if (wasFinite) {
    heapFix(store.heap, node.heapIndex)
  } else {
    heapPush(store.heap, node)
  }
}

const apply = <K, V>(
  store: Store<K, V>,
  op: number,
  node: Node<K, V>,
  argument: unknown,
  extra: number,
  inverse: Log<K, V>
): void => {
  switch (op) {
    case LINK:
      link(store, node, argument as Node<K, V>, inverse)
      return
    case UNLINK:
      unlink(store, node, inverse)
      return
    case MOVE:
      move(node, argument as Node<K, V>, inverse)
      return
    case UPDATE:
      update(store, node, argument as V, extra, inverse)
      return
  }
}

/** Applies the log of `from` to the store, last entry first, recording its inverse in `to`. */
const replay = <K, V>(store: Store<K, V>, from: Log<K, V>, to: Log<K, V>): void => {
  const overflow = from.overflow
  for (let i = from.logLength - 1; i >= 2; i--) {
    const at = (i - 2) * 4
    apply(
      store,
      overflow![at] as number,
      overflow![at + 1] as Node<K, V>,
      overflow![at + 2],
      overflow![at + 3] as number,
      to
    )
  }
  if (from.logLength > 1) apply(store, from.op1, from.node1!, from.argument1, from.extra1, to)
  if (from.logLength > 0) apply(store, from.op0, from.node0!, from.argument0, from.extra0, to)
  from.logLength = 0
  from.node0 = from.node1 = undefined
  from.argument0 = from.argument1 = undefined
  from.overflow = undefined
}

/** Makes the store hold the state of `self`. Free when `self` is the newest version. */
const reroot = <K, V>(self: LruImpl<K, V>): void => {
  const store = self.store
  if (store.current === self) return
  const path: Array<LruImpl<K, V>> = []
  for (let version = self; version !== store.current; version = version.newer!) path.push(version)
  for (let i = path.length - 1; i >= 0; i--) {
    const older = path[i]!
    const newer = older.newer!
    replay(store, older, newer)
    newer.newer = older
    older.newer = undefined
    store.current = older
  }
}

/**
 * Makes the version that follows `self`, whose log now holds the inverse of the mutations just
 * made.
 */
const advance = <K, V>(self: LruImpl<K, V>, removed: ReadonlyArray<Lru.Removal<K, V>>): LruImpl<K, V> => {
  const next = new LruImpl(self.store, removed)
  self.newer = next
  self.removed = NO_REMOVALS
  self.store.current = next
  return next
}

// --- the expiry heap ------------------------------------------------------------------------------

const heapSwap = <K, V>(heap: Array<Node<K, V>>, i: number, j: number): void => {
  const a = heap[i]!
  const b = heap[j]!
  heap[i] = b
  heap[j] = a
  b.heapIndex = i
  a.heapIndex = j
}

const heapUp = <K, V>(heap: Array<Node<K, V>>, i: number): void => {
  while (i > 0) {
    const parent = (i - 1) >> 1
    if (heap[parent]!.expiresAt <= heap[i]!.expiresAt) return
    heapSwap(heap, i, parent)
    i = parent
  }
}

const heapDown = <K, V>(heap: Array<Node<K, V>>, i: number): void => {
  for (;;) {
    const left = 2 * i + 1
    if (left >= heap.length) return
    const right = left + 1
    const child = right < heap.length && heap[right]!.expiresAt < heap[left]!.expiresAt ? right : left
    if (heap[i]!.expiresAt <= heap[child]!.expiresAt) return
    heapSwap(heap, i, child)
    i = child
  }
}

const heapFix = <K, V>(heap: Array<Node<K, V>>, i: number): void => {
  const node = heap[i]!
  heapUp(heap, i)
  heapDown(heap, node.heapIndex)
}

const heapPush = <K, V>(heap: Array<Node<K, V>>, node: Node<K, V>): void => {
  node.heapIndex = heap.length
  heap.push(node)
  heapUp(heap, node.heapIndex)
}

const heapRemove = <K, V>(heap: Array<Node<K, V>>, node: Node<K, V>): void => {
  const i = node.heapIndex
  const last = heap.pop()!
  node.heapIndex = -1
  if (last !== node) {
    heap[i] = last
    last.heapIndex = i
    heapFix(heap, i)
  }
}

/** Counts the heap's nodes expired at `now`, visiting only those and their children. */
const countExpired = <K, V>(heap: ReadonlyArray<Node<K, V>>, now: number): number => {
  let count = 0
  const pending = heap.length > 0 && heap[0]!.expiresAt <= now ? [0] : []
  while (pending.length > 0) {
    const i = pending.pop()!
    count++
    const left = 2 * i + 1
    if (left < heap.length && heap[left]!.expiresAt <= now) pending.push(left)
    if (left + 1 < heap.length && heap[left + 1]!.expiresAt <= now) pending.push(left + 1)
  }
  return count
}

// --- constructors ---------------------------------------------------------------------------------

const validateCapacity = (capacity: number): void => {
  if (!Number.isSafeInteger(capacity) || capacity < 1) {
    throw new RangeError(`Lru.empty: capacity must be a positive integer, got ${String(capacity)}`)
  }
}

const emptyVersion = <K, V>(capacity: number, removed: ReadonlyArray<Lru.Removal<K, V>>): LruImpl<K, V> => {
  const store = new Store<K, V>(capacity)
  const version = new LruImpl(store, removed)
  store.current = version
  return version
}

/** @internal */
export const empty = <K, V>(capacity: number): Lru.Lru<K, V> => {
  validateCapacity(capacity)
  return emptyVersion<K, V>(capacity, NO_REMOVALS)
}

// --- operations -----------------------------------------------------------------------------------

const isLive = (node: Node<unknown, unknown>, now: number): boolean => now < node.expiresAt

/** @internal */
export const get = <K, V>(
  lru: Lru.Lru<K, V>,
  key: K,
  now: number
): readonly [Option.Option<V>, Lru.Lru<K, V>] => {
  const self = impl(lru)
  reroot(self)
  const store = self.store
  const node = indexFind(store, key)
  if (node === undefined) return [Option.none(), self]
  if (!isLive(node, now)) {
    unlink(store, node, self)
    const removed = [{ key: node.key, value: node.value, cause: "expired" as const }]
    return [Option.none(), advance(self, removed)]
  }
  if (store.sentinel.next === node) return [Option.some(node.value), self]
  move(node, store.sentinel, self)
  return [Option.some(node.value), advance(self, NO_REMOVALS)]
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
 * Inserts or replaces `key`; `expiresAt <= now` stores nothing and removes the key's entry. Returns
 * the next version only: its `removed` says what left.
 *
 * @internal
 */
export const setAt = <K, V>(
  lru: Lru.Lru<K, V>,
  key: K,
  value: V,
  now: number,
  expiresAt: number
): Lru.Lru<K, V> => {
  const self = impl(lru)
  reroot(self)
  const store = self.store
  const node = indexFind(store, key)
  if (node !== undefined) {
    const cause = isLive(node, now) ? ("replaced" as const) : ("expired" as const)
    const removed = [{ key: node.key, value: node.value, cause }]
    if (expiresAt <= now) {
      unlink(store, node, self)
    } else {
      update(store, node, value, expiresAt, self)
      if (store.sentinel.next !== node) move(node, store.sentinel, self)
    }
    return advance(self, removed)
  }
  if (expiresAt <= now) return self
  let removed: Array<Lru.Removal<K, V>> | undefined
  if (store.count >= self.capacity) {
    removed = []
    removeExpiredInto(store, now, self, removed)
    if (store.count >= self.capacity) {
      const lru = store.sentinel.prev
      unlink(store, lru, self)
      removed.push({ key: lru.key, value: lru.value, cause: "evicted" })
    }
  }
  const hash = isStructural(key) ? Hash.hash(key) : 0
  link(store, new Node(key, value, expiresAt, hash), store.sentinel, self)
  return advance(self, removed ?? NO_REMOVALS)
}

/** @internal */
export const setExpiresAt = <K, V>(
  self: Lru.Lru<K, V>,
  key: K,
  value: V,
  now: number,
  expiresAt: number
): readonly [ReadonlyArray<Lru.Removal<K, V>>, Lru.Lru<K, V>] => {
  const next = setAt(self, key, value, now, expiresAt)
  return [next === self ? NO_REMOVALS : impl(next).removed, next]
}

const removeExpiredInto = <K, V>(
  store: Store<K, V>,
  now: number,
  log: Log<K, V>,
  removed: Array<Lru.Removal<K, V>>
): number => {
  let count = 0
  while (store.heap.length > 0 && store.heap[0]!.expiresAt <= now) {
    const node = store.heap[0]!
    unlink(store, node, log)
    removed.push({ key: node.key, value: node.value, cause: "expired" })
    count++
  }
  return count
}

/** @internal */
export const removeExpired = <K, V>(
  lru: Lru.Lru<K, V>,
  now: number
): readonly [ReadonlyArray<Lru.Removal<K, V>>, Lru.Lru<K, V>] => {
  const self = impl(lru)
  reroot(self)
  const store = self.store
  if (store.heap.length === 0 || store.heap[0]!.expiresAt > now) return [NO_REMOVALS, self]
  const removed: Array<Lru.Removal<K, V>> = []
  removeExpiredInto(store, now, self, removed)
  return [removed, advance(self, removed)]
}

/** @internal */
export const remove = <K, V>(
  lru: Lru.Lru<K, V>,
  key: K,
  now: number
): readonly [ReadonlyArray<Lru.Removal<K, V>>, Lru.Lru<K, V>] => {
  const self = impl(lru)
  reroot(self)
  const store = self.store
  const node = indexFind(store, key)
  if (node === undefined) return [NO_REMOVALS, self]
  const live = isLive(node, now)
  unlink(store, node, self)
  const removed = [
    { key: node.key, value: node.value, cause: live ? ("deleted" as const) : ("expired" as const) }
  ]
  return [removed, advance(self, removed)]
}

/**
 * Clearing starts a new store rather than unlinking every node: the old versions keep theirs,
 * untouched, and the new family owes them no undo log.
 *
 * @internal
 */
export const clear = <K, V>(
  lru: Lru.Lru<K, V>,
  now: number
): readonly [ReadonlyArray<Lru.Removal<K, V>>, Lru.Lru<K, V>] => {
  const self = impl(lru)
  reroot(self)
  const removed: Array<Lru.Removal<K, V>> = []
  const sentinel = self.store.sentinel
  for (let node = sentinel.next; node !== sentinel; node = node.next) {
    removed.push({ key: node.key, value: node.value, cause: isLive(node, now) ? "cleared" : "expired" })
  }
  if (removed.length === 0) return [NO_REMOVALS, self]
  return [removed, emptyVersion(self.capacity, removed)]
}

const findLive = <K, V>(lru: Lru.Lru<K, V>, key: K, now: number): Node<K, V> | undefined => {
  const self = impl(lru)
  reroot(self)
  const node = indexFind(self.store, key)
  return node !== undefined && isLive(node, now) ? node : undefined
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
    node.expiresAt === Number.POSITIVE_INFINITY ? Duration.infinity : Duration.millis(node.expiresAt - now)
  )
}

/** @internal */
export const size = <K, V>(lru: Lru.Lru<K, V>, now: number): number => {
  const self = impl(lru)
  reroot(self)
  return self.store.count - countExpired(self.store.heap, now)
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
    if (isLive(node, now)) out.push(f(node))
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
  collect(self, now, (node) => ({ key: node.key, value: node.value, expiresAt: node.expiresAt })).reverse()

/**
 * Whether any entry of `self` has a finite expiry. When none has, and a write brings none, no
 * answer depends on the time, and the caller may skip reading its clock.
 *
 * @internal
 */
export const hasExpiringEntries = <K, V>(lru: Lru.Lru<K, V>): boolean => {
  const self = impl(lru)
  reroot(self)
  return self.store.heap.length > 0
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
  const store = self.store
  let listed = 0
  let finite = 0
  const sentinel = store.sentinel
  for (let node = sentinel.next; node !== sentinel; node = node.next) {
    if (node.next.prev !== node || node.prev.next !== node) return false
    if (indexFind(store, node.key) !== node) return false
    if (node.expiresAt === Number.POSITIVE_INFINITY) {
      if (node.heapIndex !== -1) return false
    } else {
      finite++
      if (store.heap[node.heapIndex] !== node) return false
    }
    if (++listed > store.count) return false
  }
  let indexed = store.direct.size
  for (const bucket of store.buckets.values()) indexed += bucket.length
  const heapOrdered = store.heap.every(
    (node, i) => i === 0 || store.heap[(i - 1) >> 1]!.expiresAt <= node.expiresAt
  )
  return (
    listed === store.count &&
    indexed === store.count &&
    finite === store.heap.length &&
    heapOrdered &&
    store.count <= self.capacity
  )
}

/**
 * Rebuilds a value from persisted entries given least recently used first, dropping those expired
 * at `now`.
 *
 * @internal
 */
export const restore = <K, V>(
  capacity: number,
  persisted: Iterable<{ readonly key: K; readonly value: V; readonly expiresAt: number }>,
  now: number
): Lru.Lru<K, V> => {
  let lru = empty<K, V>(capacity)
  for (const entry of persisted) lru = setAt(lru, entry.key, entry.value, now, entry.expiresAt)
  const self = impl(lru)
  reroot(self)
  return advance(self, NO_REMOVALS)
}
