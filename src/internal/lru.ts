/**
 * The immutable LRU, made fast by rerooting.
 *
 * The versions of a family share one `Store`: a hash index, a circular doubly linked recency list
 * (most recent first) and a binary min-heap of finite expiries, which hold the state of one version
 * at a time. Every mutation appends its inverse to the family's history, a chain of fixed-size
 * segments, and a version is a position in that history: `(segment, position)`. An operation on
 * the newest version mutates the store in place and appends; reading any other version first
 * "reroots" the store, replaying the history between the two positions, each record swapped in
 * place for its inverse as it is applied (an undo becomes the redo that comes back). So every
 * version stays exact and usable forever, and the newest one costs what a mutable LRU costs.
 *
 * Why segments rather than a log in each version (Baker's original shape): there, each old version
 * points to the next one, and a dead version that the garbage collector has already promoted keeps
 * every younger version alive through the next minor collections ("nepotism"): measured, that
 * promoted ~1 GB per 10 M operations and made most of the run garbage collection. Here a version
 * is three fields with no pointer to another version; only segments (one per 1024 mutations)
 * point forward, to the next segment.
 *
 * History is linear within a family. An operation on a version that is not the newest (a branch)
 * copies its state into a new family, in O(size): correct, and off the path the cache service uses.
 */
import * as Duration from "effect/Duration"
import * as Equal from "effect/Equal"
import * as Hash from "effect/Hash"
import * as Option from "effect/Option"
import { pipeArguments } from "effect/Pipeable"
import { hasProperty } from "effect/Predicate"
import type * as Lru from "../Lru.js"
import { NONE, type PolicyNode, sketchHash, TinyLfu, type Window } from "./tinyLfu.js"

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

/** An entry under the W-TinyLFU policy: also on one of the policy's lists (tinyLfu.ts). */
class TinyLfuNode<K, V> extends Node<K, V> implements PolicyNode {
  queue = NONE
  policyPrev: PolicyNode = this
  policyNext: PolicyNode = this
  constructor(
    key: K,
    value: V,
    expiresAt: number,
    hash: number,
    readonly sketchHash: number
  ) {
    super(key, value, expiresAt, hash)
  }
}

/**
 * Keys that effect's `Equal` compares by content: they go through a hash index of buckets. Every
 * other key is compared as a JS `Map` does (by identity for objects, by value for primitives, which
 * is `Equal` too, except that NaN finds NaN).
 */
const isStructural = (key: unknown): boolean =>
  ((typeof key === "object" && key !== null) || typeof key === "function") &&
  (Equal.isEqual(key) || key instanceof Date || key instanceof URL)

/**
 * The hash of a key for the buckets of an index: only structural keys (see `isStructural`) have one.
 *
 * @internal
 */
export const keyHash = (key: unknown): number => (isStructural(key) ? Hash.hash(key) : 0)

/**
 * A mutable map with the cache's key identity (the index's): `Equal`/`Hash` with identity first,
 * `Date`/`URL` by value, `NaN` finds `NaN`, `0` and `-0` one key. For the tables the service keeps
 * beside the index (computations running), so that no key is one key here and two keys there.
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

/**
 * The kinds of history records; each is the inverse of the mutation that wrote it. The W-TinyLFU
 * policy keeps its own kinds, from 4 on.
 */
const LINK = 0
const UNLINK = 1
const MOVE = 2
const UPDATE = 3

const SEGMENT_SIZE = 1024

/**
 * A stretch of history: records in parallel arrays (a typed array for expiries, so that none is
 * boxed). Records before the store's position in it are undos, those after it redos.
 */
class Segment<K, V> {
  readonly ops = new Uint8Array(SEGMENT_SIZE)
  readonly nodes: Array<Node<K, V> | undefined> = new Array(SEGMENT_SIZE).fill(undefined)
  /** LINK, MOVE: the node to insert after; UPDATE: the value. */
  readonly args: Array<unknown> = new Array(SEGMENT_SIZE).fill(undefined)
  /** UPDATE: the expiry. */
  readonly expiries = new Float64Array(SEGMENT_SIZE)
  length = 0
  /** The segment that follows, once this one is full. */
  next: Segment<K, V> | undefined = undefined
  constructor(readonly index: number) {}
}

class Store<K, V> {
  /** The W-TinyLFU policy's state; `undefined` under LRU. */
  readonly policy: TinyLfu | undefined
  constructor(
    readonly capacity: number,
    window: Window | undefined
  ) {
    this.policy =
      window === undefined
        ? undefined
        : new TinyLfu(capacity, window, (kind, node, argument, value) =>
            record(this, kind, node as TinyLfuNode<K, V> | undefined, argument, value)
          )
  }
  readonly direct = new Map<K, Node<K, V>>()
  readonly buckets = new Map<number, Array<Node<K, V>>>()
  /** The list's sentinel: `sentinel.next` is the most recently used node, `sentinel.prev` the least. */
  readonly sentinel: Node<K, V> = new Node<K, V>(undefined as K, undefined as V, Number.POSITIVE_INFINITY, 0)
  /** Nodes with a finite expiry, a min-heap on `expiresAt`. */
  readonly heap: Array<Node<K, V>> = []
  /** Stored entries, expired ones not yet removed included. */
  count = 0
  /** The newest segment: the newest version is at its end. */
  head: Segment<K, V> = new Segment(0)
  /** Where in the history the store's state is. */
  segment: Segment<K, V> = this.head
  position = 0
}

const NO_REMOVALS: ReadonlyArray<never> = []

const variance: unknown = { _K: (_: never) => _, _V: (_: never) => _ }

class LruImpl<K, V> implements Lru.Lru<K, V> {
  declare readonly [TypeId]: Lru.Lru<K, V>[typeof TypeId]
  constructor(
    readonly store: Store<K, V>,
    readonly segment: Segment<K, V>,
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
}
// On the prototype, so that a version object carries only what differs between versions.
Object.defineProperty(LruImpl.prototype, TypeId, { value: variance })

/** @internal */
export const isLru = (u: unknown): u is Lru.Lru<unknown, unknown> => hasProperty(u, TypeId)

const impl = <K, V>(self: Lru.Lru<K, V>): LruImpl<K, V> => self as LruImpl<K, V>

// --- the hash index and the recency list ---------------------------------------------------------

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

// --- the four mutations: each returns what its inverse needs --------------------------------------

const doLink = <K, V>(store: Store<K, V>, node: Node<K, V>, after: Node<K, V>): void => {
  listInsertAfter(node, after)
  indexAdd(store, node)
  if (node.expiresAt !== Number.POSITIVE_INFINITY) heapPush(store.heap, node)
  store.count++
}

/** Returns the node it followed. */
const doUnlink = <K, V>(store: Store<K, V>, node: Node<K, V>): Node<K, V> => {
  const after = node.prev
  listRemove(node)
  indexRemove(store, node)
  if (node.heapIndex >= 0) heapRemove(store.heap, node)
  store.count--
  return after
}

/** Returns the node it followed. */
const doMove = <K, V>(node: Node<K, V>, after: Node<K, V>): Node<K, V> => {
  const before = node.prev
  listRemove(node)
  listInsertAfter(node, after)
  return before
}

const doUpdate = <K, V>(store: Store<K, V>, node: Node<K, V>, value: V, expiresAt: number): void => {
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

// --- history ---------------------------------------------------------------------------------------

/** Appends a record at the head of the history; the store stays at the head. */
const record = <K, V>(
  store: Store<K, V>,
  op: number,
  node: Node<K, V> | undefined,
  argument: unknown,
  expiry: number
): void => {
  let segment = store.head
  if (segment.length === SEGMENT_SIZE) {
    segment = segment.next = new Segment<K, V>(segment.index + 1)
    store.head = segment
  }
  const i = segment.length++
  segment.ops[i] = op
  segment.nodes[i] = node
  segment.args[i] = argument
  segment.expiries[i] = expiry
  store.segment = segment
  store.position = segment.length
}

// Mutations made by operations on the newest version: each records its inverse.

const link = <K, V>(store: Store<K, V>, node: Node<K, V>, after: Node<K, V>): void => {
  doLink(store, node, after)
  record(store, UNLINK, node, undefined, 0)
}

const unlink = <K, V>(store: Store<K, V>, node: Node<K, V>): void => {
  store.policy?.remove(node as TinyLfuNode<K, V>)
  record(store, LINK, node, doUnlink(store, node), 0)
}

const move = <K, V>(store: Store<K, V>, node: Node<K, V>, after: Node<K, V>): void => {
  record(store, MOVE, node, doMove(node, after), 0)
}

const update = <K, V>(store: Store<K, V>, node: Node<K, V>, value: V, expiresAt: number): void => {
  record(store, UPDATE, node, node.value, node.expiresAt)
  doUpdate(store, node, value, expiresAt)
}

/** Applies record `i` of `segment` and puts its inverse in its place. */
const flip = <K, V>(store: Store<K, V>, segment: Segment<K, V>, i: number): void => {
  const node = segment.nodes[i]!
  switch (segment.ops[i]) {
    case LINK:
      doLink(store, node, segment.args[i] as Node<K, V>)
      segment.ops[i] = UNLINK
      segment.args[i] = undefined
      return
    case UNLINK:
      segment.args[i] = doUnlink(store, node)
      segment.ops[i] = LINK
      return
    case MOVE:
      segment.args[i] = doMove(node, segment.args[i] as Node<K, V>)
      return
    case UPDATE: {
      const value = node.value
      const expiresAt = node.expiresAt
      doUpdate(store, node, segment.args[i] as V, segment.expiries[i]!)
      segment.args[i] = value
      segment.expiries[i] = expiresAt
      return
    }
    default:
      store.policy!.flip(segment, i)
  }
}

/** Makes the store hold the state of `self`. Free when it already does. */
const reroot = <K, V>(self: LruImpl<K, V>): void => {
  const store = self.store
  const target = self.segment
  const position = self.position
  if (store.segment === target && store.position === position) return
  const from = store.segment
  if (target.index < from.index || (target === from && position < store.position)) {
    // Backwards: undo from the store's position down to the target's. Segments only point
    // forwards, so the path is found from the target.
    const path: Array<Segment<K, V>> = []
    for (let segment = target; segment !== from; segment = segment.next!) path.push(segment)
    path.push(from)
    for (let p = path.length - 1; p >= 0; p--) {
      const segment = path[p]!
      const end = segment === from ? store.position : segment.length
      const start = segment === target ? position : 0
      for (let i = end - 1; i >= start; i--) flip(store, segment, i)
    }
  } else {
    // Forwards: redo from the store's position up to the target's.
    for (let segment = from; ; segment = segment.next!) {
      const start = segment === from ? store.position : 0
      const end = segment === target ? position : segment.length
      for (let i = start; i < end; i++) flip(store, segment, i)
      if (segment === target) break
    }
  }
  store.segment = target
  store.position = position
}

const isNewest = <K, V>(self: LruImpl<K, V>): boolean =>
  self.segment === self.store.head && self.position === self.store.head.length

/**
 * The version to apply a change of `self` to: `self` when it is the newest of its family, else a
 * copy of its state in a new family (a branch), made in O(size).
 */
const writable = <K, V>(self: LruImpl<K, V>): LruImpl<K, V> => {
  reroot(self)
  if (isNewest(self)) return self
  const policy = self.store.policy
  const copy = new Store<K, V>(self.store.capacity, policy?.windowMode)
  const twins = policy === undefined ? undefined : new Map<PolicyNode, PolicyNode>()
  const sentinel = self.store.sentinel
  for (let node = sentinel.prev; node !== sentinel; node = node.prev) {
    const twin = newNode(copy, node.key, node.value, node.expiresAt)
    twins?.set(node as TinyLfuNode<K, V>, twin as TinyLfuNode<K, V>)
    doLink(copy, twin, copy.sentinel)
  }
  if (twins !== undefined) copy.policy!.copyFrom(policy!, (node) => twins.get(node)!)
  return new LruImpl(copy, copy.head, 0, NO_REMOVALS)
}

/** The version that follows the mutations just recorded in `store`. */
const advance = <K, V>(store: Store<K, V>, removed: ReadonlyArray<Lru.Removal<K, V>>): LruImpl<K, V> =>
  new LruImpl(store, store.head, store.head.length, removed)

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

/** The policy's window under W-TinyLFU, `undefined` under LRU. */
const windowOf = (options: Lru.Options | undefined): Window | undefined => {
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

const emptyVersion = <K, V>(
  capacity: number,
  removed: ReadonlyArray<Lru.Removal<K, V>>,
  window: Window | undefined
): LruImpl<K, V> => {
  const store = new Store<K, V>(capacity, window)
  return new LruImpl(store, store.head, 0, removed)
}

/** @internal */
export const empty = <K, V>(capacity: number, options?: Lru.Options): Lru.Lru<K, V> => {
  validateCapacity(capacity)
  return emptyVersion<K, V>(capacity, NO_REMOVALS, windowOf(options))
}

/** A new entry for `store`, with what its policy needs. */
const newNode = <K, V>(store: Store<K, V>, key: K, value: V, expiresAt: number): Node<K, V> => {
  const structural = isStructural(key)
  const hash = structural ? Hash.hash(key) : 0
  return store.policy === undefined
    ? new Node(key, value, expiresAt, hash)
    : new TinyLfuNode(key, value, expiresAt, hash, sketchHash(key, structural, hash))
}

// --- operations -----------------------------------------------------------------------------------

const isLive = (node: Node<unknown, unknown>, now: number): boolean => now < node.expiresAt

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
  const live = isLive(node, now)
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
  let self = impl(lru)
  reroot(self)
  if (expiresAt <= now && indexFind(self.store, key) === undefined) return self
  self = writable(self)
  const store = self.store
  const node = indexFind(store, key)
  if (node !== undefined) {
    const cause = isLive(node, now) ? ("replaced" as const) : ("expired" as const)
    const removed = [{ key: node.key, value: node.value, cause }]
    if (expiresAt <= now) {
      unlink(store, node)
    } else {
      accessPolicy(store, node, cause === "replaced")
      update(store, node, value, expiresAt)
      if (store.sentinel.next !== node) move(store, node, store.sentinel)
    }
    return advance(store, removed)
  }
  const policy = store.policy
  const isFull = store.count >= store.capacity
  let removed: Array<Lru.Removal<K, V>> | undefined
  if (isFull) {
    removed = []
    removeExpiredInto(store, now, removed)
    if (policy === undefined && store.count >= store.capacity) {
      const lru = store.sentinel.prev
      unlink(store, lru)
      removed.push({ key: lru.key, value: lru.value, cause: "evicted" })
    }
  }
  const added = newNode(store, key, value, expiresAt)
  link(store, added, store.sentinel)
  if (policy !== undefined) {
    // The new key goes through the window; the policy picks the entry to evict, if one must go.
    const victim = policy.insert(added as TinyLfuNode<K, V>, store.count) as TinyLfuNode<K, V> | undefined
    if (victim !== undefined) {
      unlink(store, victim)
      ;(removed ??= []).push({ key: victim.key, value: victim.value, cause: "evicted" })
    }
    policy.climb(false, isFull)
  }
  return advance(store, removed ?? NO_REMOVALS)
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
  removed: Array<Lru.Removal<K, V>>
): void => {
  while (store.heap.length > 0 && store.heap[0]!.expiresAt <= now) {
    const node = store.heap[0]!
    unlink(store, node)
    removed.push({ key: node.key, value: node.value, cause: "expired" })
  }
}

/** @internal */
export const removeExpired = <K, V>(
  lru: Lru.Lru<K, V>,
  now: number
): readonly [ReadonlyArray<Lru.Removal<K, V>>, Lru.Lru<K, V>] => {
  const self = impl(lru)
  reroot(self)
  const heap = self.store.heap
  if (heap.length === 0 || heap[0]!.expiresAt > now) return [NO_REMOVALS, self]
  const store = writable(self).store
  const removed: Array<Lru.Removal<K, V>> = []
  removeExpiredInto(store, now, removed)
  return [removed, advance(store, removed)]
}

/** @internal */
export const remove = <K, V>(
  lru: Lru.Lru<K, V>,
  key: K,
  now: number
): readonly [ReadonlyArray<Lru.Removal<K, V>>, Lru.Lru<K, V>] => {
  const self = impl(lru)
  reroot(self)
  if (indexFind(self.store, key) === undefined) return [NO_REMOVALS, self]
  const store = writable(self).store
  const node = indexFind(store, key)!
  const live = isLive(node, now)
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
  return [removed, emptyVersion(self.capacity, removed, self.store.policy?.windowMode)]
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
 * The earliest expiry of an entry of `self` (expired or not), `Infinity` when none can expire.
 *
 * @internal
 */
export const nextExpiry = <K, V>(lru: Lru.Lru<K, V>): number => {
  const self = impl(lru)
  reroot(self)
  const heap = self.store.heap
  return heap.length === 0 ? Number.POSITIVE_INFINITY : heap[0]!.expiresAt
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
    if (store.policy !== undefined && (node as TinyLfuNode<K, V>).queue === NONE) return false
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
    store.count <= self.capacity &&
    (store.policy === undefined || store.policy.isValid(store.count))
  )
}

/**
 * Rebuilds a value from persisted entries given least recently used first (a key given twice takes
 * its later place), dropping those expired at `now` and, past `capacity`, the least recent. Built
 * in place, recording no history: no older version of the new family exists to go back to.
 *
 * @internal
 */
export const restore = <K, V>(
  capacity: number,
  persisted: Iterable<{ readonly key: K; readonly value: V; readonly expiresAt: number }>,
  now: number,
  options?: Lru.Options
): Lru.Lru<K, V> => {
  validateCapacity(capacity)
  const entries = Array.isArray(persisted) ? persisted : Array.from(persisted)
  const place = (store: Store<K, V>, entry: (typeof entries)[number]): void => {
    const existing = indexFind(store, entry.key)
    if (existing !== undefined) doUnlink(store, existing)
    if (entry.expiresAt <= now) return
    if (store.count >= capacity) doUnlink(store, store.sentinel.prev)
    doLink(store, newNode(store, entry.key, entry.value, entry.expiresAt), store.sentinel)
  }
  let store = new Store<K, V>(capacity, windowOf(options))
  // A load places a million entries, of distinct keys as a rule: a live entry with a key of the
  // direct index takes one map operation, a `set` without the lookup before it. A key given twice
  // shows as a set that leaves the map's size as it was (the earlier node, replaced, is lost to the
  // list): then every entry is placed again, each looked up first. Evicting the least recent before
  // that check is what the lookup would do too when the key given twice is the least recent.
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!
    if (entry.expiresAt <= now || isStructural(entry.key)) {
      place(store, entry)
      continue
    }
    if (store.count >= capacity) doUnlink(store, store.sentinel.prev)
    const node = newNode(store, entry.key, entry.value, entry.expiresAt)
    const size = store.direct.size
    store.direct.set(entry.key, node)
    if (store.direct.size === size) {
      store = new Store<K, V>(capacity, windowOf(options))
      for (let j = 0; j < entries.length; j++) place(store, entries[j]!)
      break
    }
    listInsertAfter(node, store.sentinel)
    if (node.expiresAt !== Number.POSITIVE_INFINITY) heapPush(store.heap, node)
    store.count++
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
