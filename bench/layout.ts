/**
 * An experiment behind a design decision, not a contender: how fast could the service's hit path
 * be with the best layout we know for a versioned LRU? `npm run bench -- layout`.
 *
 * The library's `Lru` keeps an object per entry, linked by pointers (internal/lruStore.ts). The
 * layout that `lru-cache` uses instead puts entries in slots of typed arrays (`prev`/`next` as
 * `Int32Array`, keys and values in two arrays), which costs no object per entry, keeps the links
 * together in memory, and lets the history record slot numbers in typed arrays too. This file is a
 * minimal versioned LRU in that layout, with none of the library's other duties: no time to live,
 * no policy, no rerooting (it only ever runs on its newest version), no counters, no events, no
 * weights. Run through `Ref.modify` in the same loop as bench/lru.ts, it is an upper bound for that
 * layout: if it cannot reach a target, a rewrite of the store into it cannot either. Beside it,
 * lru-cache itself run through `Ref.modify` prices the protocol that keeps the state in a `Ref`.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import { LRUCache } from "lru-cache"
import { compare, report } from "./harness.js"
import { loop, lruCacheInEffect, type Workload, workloads } from "./lru.js"

const SEGMENT_SIZE = 1024
const LINK = 0
const UNLINK = 1
const MOVE = 2
const UPDATE = 3

/** A stretch of history: each record an operation on a slot, in typed arrays but for its references. */
class Segment {
  readonly ops = new Uint8Array(SEGMENT_SIZE)
  readonly slots = new Int32Array(SEGMENT_SIZE)
  readonly neighbours = new Int32Array(SEGMENT_SIZE)
  readonly references: Array<unknown> = new Array(SEGMENT_SIZE * 2).fill(undefined)
  length = 0
  next: Segment | undefined = undefined
}

/** Slot 0 is the list's sentinel; a stack of free slots, which history replays in reverse. */
class Store<K, V> {
  readonly index = new Map<K, number>()
  readonly keys: Array<K | undefined>
  readonly values: Array<V | undefined>
  readonly prev: Int32Array
  readonly next: Int32Array
  readonly free: Int32Array
  freeTop = 0
  count = 0
  head = new Segment()
  constructor(readonly capacity: number) {
    this.keys = new Array(capacity + 1).fill(undefined)
    this.values = new Array(capacity + 1).fill(undefined)
    this.prev = new Int32Array(capacity + 1)
    this.next = new Int32Array(capacity + 1)
    this.free = new Int32Array(capacity + 1)
    for (let slot = capacity; slot >= 1; slot--) this.free[this.freeTop++] = slot
  }
  record(op: number, slot: number, neighbour: number, first: unknown, second: unknown): void {
    let segment = this.head
    if (segment.length === SEGMENT_SIZE) {
      segment = segment.next = new Segment()
      this.head = segment
    }
    const i = segment.length++
    segment.ops[i] = op
    segment.slots[i] = slot
    segment.neighbours[i] = neighbour
    segment.references[2 * i] = first
    segment.references[2 * i + 1] = second
  }
  unlinkSlot(slot: number): void {
    const before = this.prev[slot]!
    const after = this.next[slot]!
    this.next[before] = after
    this.prev[after] = before
  }
  linkFirst(slot: number): void {
    const first = this.next[0]!
    this.prev[slot] = 0
    this.next[slot] = first
    this.prev[first] = slot
    this.next[0] = slot
  }
  toFront(slot: number): void {
    const before = this.prev[slot]!
    this.unlinkSlot(slot)
    this.linkFirst(slot)
    this.record(MOVE, slot, before, undefined, undefined)
  }
}

/** A version: a position in its store's history. */
class Version<K, V> {
  constructor(
    readonly store: Store<K, V>,
    readonly segment: Segment,
    readonly position: number
  ) {}
}

const advance = <K, V>(store: Store<K, V>) => new Version(store, store.head, store.head.length)

const get = <K, V>(version: Version<K, V>, key: K): readonly [Option.Option<V>, Version<K, V>] => {
  const store = version.store
  const slot = store.index.get(key)
  if (slot === undefined) return [Option.none(), version]
  const value = store.values[slot]!
  if (store.next[0] === slot) return [Option.some(value), version]
  store.toFront(slot)
  return [Option.some(value), advance(store)]
}

const set = <K, V>(version: Version<K, V>, key: K, value: V): Version<K, V> => {
  const store = version.store
  const found = store.index.get(key)
  if (found !== undefined) {
    store.record(UPDATE, found, 0, store.values[found], undefined)
    store.values[found] = value
    if (store.next[0] !== found) store.toFront(found)
    return advance(store)
  }
  if (store.count >= store.capacity) {
    const last = store.prev[0]!
    store.record(LINK, last, store.prev[last]!, store.keys[last], store.values[last])
    store.unlinkSlot(last)
    store.index.delete(store.keys[last]!)
    store.keys[last] = undefined
    store.values[last] = undefined
    store.free[store.freeTop++] = last
    store.count--
  }
  const slot = store.free[--store.freeTop]!
  store.keys[slot] = key
  store.values[slot] = value
  store.linkFirst(slot)
  store.index.set(key, slot)
  store.count++
  store.record(UNLINK, slot, 0, undefined, undefined)
  return advance(store)
}

const contenders = (w: Workload) => [
  {
    name: "slot layout through Ref.modify",
    run: () => {
      const store = new Store<number, number>(w.capacity)
      const state = Ref.unsafeMake(new Version(store, store.head, 0))
      return Effect.runPromise(
        loop(
          w,
          (key) => Ref.modify(state, (version) => get(version, key)),
          (key, value) => Ref.modify(state, (version) => [undefined, set(version, key, value)] as const)
        )
      )
    }
  },
  lruCacheInEffect(w),
  {
    // The price of the protocol alone: lru-cache itself, run through `Ref.modify` as the service
    // runs its state, with a new (empty) version object per change as a versioned state needs.
    name: "lru-cache through Ref.modify",
    run: () => {
      const cache = new LRUCache<number, number>({ max: w.capacity })
      const state = Ref.unsafeMake<object>({})
      return Effect.runPromise(
        loop(
          w,
          (key) =>
            Ref.modify(state, (version) => {
              const value = cache.get(key)
              return value === undefined ? [Option.none(), version] : [Option.some(value), {}]
            }),
          (key, value) =>
            Ref.modify(state, () => {
              cache.set(key, value)
              return [undefined, {}] as const
            })
        )
      )
    }
  },
  {
    name: "slot layout (pure, no Effect)",
    run: async () => {
      const store = new Store<number, number>(w.capacity)
      let version = new Version(store, store.head, 0)
      for (let i = 0; i < w.keys.length; i++) {
        const key = w.keys[i]!
        if (w.reads[i]) {
          const [found, next] = get(version, key)
          version = next
          if (Option.isNone(found)) version = set(version, key, key)
        } else {
          version = set(version, key, key)
        }
      }
      return w.keys.length
    }
  }
]

export const run = async (): Promise<void> => {
  for (const w of workloads()) {
    const results = await compare(contenders(w), { rounds: 7, warmup: 2 })
    report(`experiment: a versioned LRU in slots of typed arrays, ${w.name}`, results, [
      "lru-cache in Effect.sync"
    ])
  }
}
