/**
 * The expiry index of an `Lru`: a binary min-heap of the entries with a finite expiry, ordered by
 * `expiresAt`, each entry knowing its place (`heapIndex`, -1 when not in the heap) so that it can
 * be removed or re-placed in O(log n). It finds expired entries without a scan, soonest first, as
 * the contract asks; entries without expiry (the common case) cost it nothing.
 *
 * A file of its own because it knows nothing of recency, keys or history: lru.ts calls it from
 * its mutations, and the history replays those.
 *
 * @internal
 */

/** @internal */
export interface HeapNode {
  expiresAt: number
  heapIndex: number
}

const swap = <N extends HeapNode>(heap: Array<N>, i: number, j: number): void => {
  const a = heap[i]!
  const b = heap[j]!
  heap[i] = b
  heap[j] = a
  b.heapIndex = i
  a.heapIndex = j
}

const up = <N extends HeapNode>(heap: Array<N>, i: number): void => {
  while (i > 0) {
    const parent = (i - 1) >> 1
    if (heap[parent]!.expiresAt <= heap[i]!.expiresAt) return
    swap(heap, i, parent)
    i = parent
  }
}

const down = <N extends HeapNode>(heap: Array<N>, i: number): void => {
  for (;;) {
    const left = 2 * i + 1
    if (left >= heap.length) return
    const right = left + 1
    const child = right < heap.length && heap[right]!.expiresAt < heap[left]!.expiresAt ? right : left
    if (heap[i]!.expiresAt <= heap[child]!.expiresAt) return
    swap(heap, i, child)
    i = child
  }
}

/**
 * Restores the order after the expiry of the node at `i` changed.
 *
 * @internal
 */
export const heapFix = <N extends HeapNode>(heap: Array<N>, i: number): void => {
  const node = heap[i]!
  up(heap, i)
  down(heap, node.heapIndex)
}

/** @internal */
export const heapPush = <N extends HeapNode>(heap: Array<N>, node: N): void => {
  node.heapIndex = heap.length
  heap.push(node)
  up(heap, node.heapIndex)
}

/** @internal */
export const heapRemove = <N extends HeapNode>(heap: Array<N>, node: N): void => {
  const i = node.heapIndex
  const last = heap.pop()!
  node.heapIndex = -1
  if (last !== node) {
    heap[i] = last
    last.heapIndex = i
    heapFix(heap, i)
  }
}

/**
 * Counts the heap's nodes expired at `now`, visiting only those and their children.
 *
 * @internal
 */
export const countExpired = <N extends HeapNode>(heap: ReadonlyArray<N>, now: number): number => {
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

/**
 * Whether every node expires no sooner than its parent. For `isValid`.
 *
 * @internal
 */
export const isHeapOrdered = <N extends HeapNode>(heap: ReadonlyArray<N>): boolean =>
  heap.every((node, i) => i === 0 || heap[(i - 1) >> 1]!.expiresAt <= node.expiresAt)
