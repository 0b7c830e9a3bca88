/**
 * The invariants of a version's store, for `Lru.isValid`: what tests check after every operation.
 */
import { indexFind, type Store, type TinyLfuNode } from "./lruStore.js"
import { NONE } from "./tinyLfu.js"

/**
 * Whether `store` holds a well-formed version: list, index, heap, weights and policy agree, and
 * both bounds hold.
 *
 * @internal
 */
export const storeIsValid = <K, V>(store: Store<K, V>, capacity: number): boolean => {
  let listed = 0
  let finite = 0
  let weight = 0
  const sentinel = store.sentinel
  for (let node = sentinel.next; node !== sentinel; node = node.next) {
    if (node.next.prev !== node || node.prev.next !== node) return false
    if (store.weigher !== undefined) {
      if (!Number.isSafeInteger(node.weight) || node.weight < 0) return false
      weight += node.weight
    }
    if (indexFind(store, node.key) !== node) return false
    if (store.policy !== undefined && (node as TinyLfuNode<K, V>).queue === NONE) return false
    if (node.heapIndex !== -1) {
      finite++
      if (store.heap.nodes[node.heapIndex] !== node) return false
    }
    if (++listed > store.count) return false
  }
  let indexed = store.direct.size
  for (const bucket of store.buckets.values()) indexed += bucket.length
  const heapOrdered = store.heap.isValid()
  return (
    listed === store.count &&
    indexed === store.count &&
    finite === store.heap.size &&
    heapOrdered &&
    store.count <= capacity &&
    weight === store.weight &&
    store.weight <= store.maxSize &&
    (store.policy === undefined || store.policy.isValid(store.count))
  )
}
