/**
 * The mutable state of an `Lru` family, the `Store`: what the newest (or the rerooted) version
 * holds, and the mutations that change it, each recording its inverse in the family's history.
 *
 * - The hash index: a JS `Map` for the keys it compares as the cache does (all but structural
 *   ones), and `Map<hash, bucket>` for the keys effect compares by content (keyMap.ts).
 * - The recency list: circular, doubly linked through the entries, around a sentinel, most recent
 *   first.
 * - The expiry heap (expiryHeap.ts), for entries with a finite expiry.
 * - Under W-TinyLFU, the policy's state (tinyLfu.ts), which records through the same history.
 *
 * Apart from lru.ts, which holds the versions and the operations on them, because this part is
 * what a rerooting replays: `flip` must know every mutation and nothing else.
 *
 * @internal
 */
import * as Equal from "effect/Equal"
import * as Hash from "effect/Hash"
import { ExpiryHeap } from "./expiryHeap.js"
import { History, type Segment } from "./history.js"
import { isStructural } from "./keyMap.js"
import { type PolicyNode, sketchHash, TinyLfu, type Window } from "./tinyLfu.js"

/**
 * An entry: four fields, what an entry of a mutable linked LRU needs (56 bytes in V8, where a
 * `lru-cache` entry is 16 bytes of typed arrays: the price of an object per entry). Its expiry is
 * kept in the heap (expiryHeap.ts says why), and a structural key's hash is not kept at all: only
 * removing such a key needs it again, and effect caches the hash of its data types.
 *
 * `slot` packs the place in the heap (`slot >> 2`, -1 for none) with, under W-TinyLFU, the
 * policy's list (`slot & 3`), so that a W-TinyLFU entry needs no field of its own for it: a heap
 * place stays far below 2^29, since a JS `Map` holds at most 2^24 entries. An entry made without
 * an expiry under LRU, the common case, has no `slot` of its own: it reads the prototype's "no
 * place" (8 bytes an entry saved). Entries made with an expiry, and every W-TinyLFU entry, are of
 * the subclasses below, which own it; an entry that gains an expiry later gains the field then
 * (a slower shape for that entry, never a wrong answer).
 */
export class Node<K, V> {
  prev: Node<K, V> = this
  next: Node<K, V> = this
  declare slot: number
  /**
   * The entry's weight (`sizeOf`), only on the entries of a store with a `maxSize` (the weighted
   * classes below): an unweighted entry pays no field for it.
   */
  declare weight: number
  constructor(
    readonly key: K,
    public value: V
  ) {}
  get heapIndex(): number {
    return this.slot >> 2
  }
  set heapIndex(index: number) {
    this.slot = (index << 2) | (this.slot & 3)
  }
}
// Writable, so that an assignment to an entry's `slot` makes an own field of it.
Object.defineProperty(Node.prototype, "slot", { value: -1 << 2, writable: true })

/** An entry made with an expiry: it owns its place in the heap. */
export class ExpiringNode<K, V> extends Node<K, V> {
  override slot = -1 << 2
}

/**
 * An entry under the W-TinyLFU policy: also on one of the policy's lists (tinyLfu.ts). Three more
 * fields; the key's hash for the sketch is recomputed at each use rather than kept (8 bytes an
 * entry: a few integer operations for a number key, a pass over a string key).
 */
export class TinyLfuNode<K, V> extends Node<K, V> implements PolicyNode {
  override slot = -1 << 2
  policyPrev: PolicyNode = this
  policyNext: PolicyNode = this
  get queue(): number {
    return this.slot & 3
  }
  set queue(queue: number) {
    this.slot = (this.slot & ~3) | queue
  }
  get sketchHash(): number {
    const key = this.key
    const structural = isStructural(key)
    return sketchHash(key, structural, structural ? Hash.hash(key) : 0)
  }
}

/** An entry of a store with a `maxSize`: its weight, kept so that removing it needs no `sizeOf`. */
export class WeightedNode<K, V> extends ExpiringNode<K, V> {
  override weight = 0
}

/** An entry under W-TinyLFU of a store with a `maxSize`. */
export class WeightedTinyLfuNode<K, V> extends TinyLfuNode<K, V> {
  override weight = 0
}

/** The byte-size bound of a store: the most summed weight, and the weigher. */
export interface Weigher<K, V> {
  readonly maxSize: number
  readonly sizeOf: (value: V, key: K) => number
}

/**
 * The kinds of history records; each is the inverse of the mutation that wrote it. The W-TinyLFU
 * policy keeps its own kinds, from 4 on.
 */
const LINK = 0
const UNLINK = 1
const MOVE = 2
const UPDATE = 3
/** Past the policy's kinds (4 to 8): a change of an entry's weight, its argument the old weight. */
const REWEIGH = 16

export class Store<K, V> extends History<Node<K, V>> {
  /** The W-TinyLFU policy's state; `undefined` under LRU. */
  readonly policy: TinyLfu | undefined
  /** The most summed weight, `Infinity` without a `maxSize`. */
  readonly maxSize: number
  constructor(
    readonly capacity: number,
    window: Window | undefined,
    /** The byte-size bound, `undefined` without one (then no entry has a weight). */
    readonly weigher: Weigher<K, V> | undefined
  ) {
    super()
    this.maxSize = weigher === undefined ? Number.POSITIVE_INFINITY : weigher.maxSize
    this.policy =
      window === undefined
        ? undefined
        : new TinyLfu(capacity, window, (kind, node, argument, value) =>
            this.record(kind, node as TinyLfuNode<K, V> | undefined, argument, value)
          )
  }
  readonly direct = new Map<K, Node<K, V>>()
  readonly buckets = new Map<number, Array<Node<K, V>>>()
  /** The list's sentinel: `sentinel.next` is the most recently used node, `sentinel.prev` the least. */
  readonly sentinel: Node<K, V> = new Node<K, V>(undefined as K, undefined as V)
  /** Nodes with a finite expiry, soonest first. */
  readonly heap = new ExpiryHeap<Node<K, V>>()
  /** Stored entries, expired ones not yet removed included. */
  count = 0
  /**
   * Their summed weight (0 without a `maxSize`). Kept by `doLink`, `doUnlink` and `doReweigh`, so
   * that replaying the history restores it with the entries.
   */
  weight = 0

  flip(segment: Segment<Node<K, V>>, i: number): void {
    flip(this, segment, i)
  }
}

// --- the hash index and the recency list ---------------------------------------------------------

export const indexFind = <K, V>(store: Store<K, V>, key: K): Node<K, V> | undefined => {
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
  const hash = Hash.hash(node.key)
  const bucket = store.buckets.get(hash)
  if (bucket === undefined) store.buckets.set(hash, [node])
  else bucket.push(node)
}

const indexRemove = <K, V>(store: Store<K, V>, node: Node<K, V>): void => {
  if (!isStructural(node.key)) {
    store.direct.delete(node.key)
    return
  }
  const hash = Hash.hash(node.key)
  const bucket = store.buckets.get(hash)!
  if (bucket.length === 1) {
    store.buckets.delete(hash)
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

export const doLink = <K, V>(
  store: Store<K, V>,
  node: Node<K, V>,
  after: Node<K, V>,
  expiresAt: number
): void => {
  listInsertAfter(node, after)
  indexAdd(store, node)
  if (expiresAt !== Number.POSITIVE_INFINITY) store.heap.push(node, expiresAt)
  store.count++
  if (store.weigher !== undefined) store.weight += node.weight
}

/** Returns the node it followed. */
export const doUnlink = <K, V>(store: Store<K, V>, node: Node<K, V>): Node<K, V> => {
  const after = node.prev
  listRemove(node)
  indexRemove(store, node)
  if (node.heapIndex >= 0) store.heap.remove(node)
  store.count--
  if (store.weigher !== undefined) store.weight -= node.weight
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
  if (expiresAt === Number.POSITIVE_INFINITY) {
    if (wasFinite) store.heap.remove(node)
  } else if (wasFinite) {
    store.heap.update(node, expiresAt)
  } else {
    store.heap.push(node, expiresAt)
  }
}

/** Returns the node's old weight. */
const doReweigh = <K, V>(store: Store<K, V>, node: Node<K, V>, weight: number): number => {
  const old = node.weight
  node.weight = weight
  store.weight += weight - old
  return old
}

// --- recorded mutations ---------------------------------------------------------------------------

// Mutations made by operations on the newest version: each records its inverse.

export const link = <K, V>(store: Store<K, V>, node: Node<K, V>, after: Node<K, V>, expiresAt: number) => {
  doLink(store, node, after, expiresAt)
  store.record(UNLINK, node, undefined, 0)
}

export const unlink = <K, V>(store: Store<K, V>, node: Node<K, V>): void => {
  store.policy?.remove(node as TinyLfuNode<K, V>)
  const expiresAt = store.heap.expiresAt(node)
  store.record(LINK, node, doUnlink(store, node), expiresAt)
}

export const move = <K, V>(store: Store<K, V>, node: Node<K, V>, after: Node<K, V>): void => {
  store.record(MOVE, node, doMove(node, after), 0)
}

export const update = <K, V>(store: Store<K, V>, node: Node<K, V>, value: V, expiresAt: number): void => {
  store.record(UPDATE, node, node.value, store.heap.expiresAt(node))
  doUpdate(store, node, value, expiresAt)
}

/** Gives a stored entry of a weighted store a new weight. */
export const reweigh = <K, V>(store: Store<K, V>, node: Node<K, V>, weight: number): void => {
  if (node.weight === weight) return
  store.record(REWEIGH, node, doReweigh(store, node, weight), 0)
}

/** Applies record `i` of `segment` and puts its inverse in its place. */
const flip = <K, V>(store: Store<K, V>, segment: Segment<Node<K, V>>, i: number): void => {
  const node = segment.nodes[i]!
  switch (segment.ops[i]) {
    case LINK:
      doLink(store, node, segment.args[i] as Node<K, V>, segment.expiries[i]!)
      segment.ops[i] = UNLINK
      segment.args[i] = undefined
      return
    case UNLINK:
      segment.expiries[i] = store.heap.expiresAt(node)
      segment.args[i] = doUnlink(store, node)
      segment.ops[i] = LINK
      return
    case MOVE:
      segment.args[i] = doMove(node, segment.args[i] as Node<K, V>)
      return
    case UPDATE: {
      const value = node.value
      const expiresAt = store.heap.expiresAt(node)
      doUpdate(store, node, segment.args[i] as V, segment.expiries[i]!)
      segment.args[i] = value
      segment.expiries[i] = expiresAt
      return
    }
    case REWEIGH:
      segment.args[i] = doReweigh(store, node, segment.args[i] as number)
      return
    default:
      store.policy!.flip(segment, i)
  }
}

/** A new entry for `store`, with what its policy and its bound need. */
export const newNode = <K, V>(
  store: Store<K, V>,
  key: K,
  value: V,
  weight: number,
  expiresAt: number
): Node<K, V> => {
  if (store.weigher === undefined) {
    if (store.policy !== undefined) return new TinyLfuNode(key, value)
    return expiresAt === Number.POSITIVE_INFINITY ? new Node(key, value) : new ExpiringNode(key, value)
  }
  const node = store.policy === undefined ? new WeightedNode(key, value) : new WeightedTinyLfuNode(key, value)
  node.weight = weight
  return node
}
