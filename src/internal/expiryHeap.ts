/**
 * The expiry index of an `Lru`: a binary min-heap of the entries with a finite expiry, soonest
 * first, so that expired entries are found without a scan, as the contract asks. Each entry knows
 * its place (`heapIndex`, -1 when it has no expiry) so that it can be removed or re-placed in
 * O(log n).
 *
 * The expiries live here, in a `Float64Array` beside the entries, not in the entries: a number
 * field that holds a non-integer (an expiry in epoch milliseconds, or `Infinity`) is a boxed heap
 * number in V8, 16 bytes more per entry; here an entry without expiry (the common case) costs
 * nothing but its `heapIndex`, and the heap compares unboxed numbers in one array.
 *
 * A file of its own because it knows nothing of recency, keys or history: the store (lruStore.ts)
 * calls it from its mutations, and the history replays those.
 *
 * @internal
 */

/** @internal */
export interface HeapNode {
  heapIndex: number
}

/** @internal */
export class ExpiryHeap<N extends HeapNode> {
  readonly nodes: Array<N> = []
  /** `expiries[i]` is the expiry of `nodes[i]`. */
  private expiries = new Float64Array(16)

  get size(): number {
    return this.nodes.length
  }

  /** The expiry of `node`: `Infinity` when it is not in the heap. */
  expiresAt(node: N): number {
    return node.heapIndex < 0 ? Number.POSITIVE_INFINITY : this.expiries[node.heapIndex]!
  }

  /** The soonest expiry, `Infinity` when the heap is empty. */
  soonest(): number {
    return this.nodes.length === 0 ? Number.POSITIVE_INFINITY : this.expiries[0]!
  }

  /** The node that expires soonest; the heap must not be empty. */
  first(): N {
    return this.nodes[0]!
  }

  push(node: N, expiresAt: number): void {
    const i = this.nodes.length
    if (i === this.expiries.length) {
      const grown = new Float64Array(i * 2)
      grown.set(this.expiries)
      this.expiries = grown
    }
    node.heapIndex = i
    this.nodes.push(node)
    this.expiries[i] = expiresAt
    this.up(i)
  }

  remove(node: N): void {
    const i = node.heapIndex
    const last = this.nodes.pop()!
    node.heapIndex = -1
    if (last !== node) {
      this.nodes[i] = last
      this.expiries[i] = this.expiries[this.nodes.length]!
      last.heapIndex = i
      this.down(this.up(i))
    }
  }

  /** Changes the expiry of `node`, which is in the heap. */
  update(node: N, expiresAt: number): void {
    const i = node.heapIndex
    this.expiries[i] = expiresAt
    this.down(this.up(i))
  }

  /** Counts the nodes expired at `now`, visiting only those and their children. */
  countExpired(now: number): number {
    const size = this.nodes.length
    const expiries = this.expiries
    let count = 0
    const pending = size > 0 && expiries[0]! <= now ? [0] : []
    while (pending.length > 0) {
      const i = pending.pop()!
      count++
      const left = 2 * i + 1
      if (left < size && expiries[left]! <= now) pending.push(left)
      if (left + 1 < size && expiries[left + 1]! <= now) pending.push(left + 1)
    }
    return count
  }

  /** Whether every node knows its place and expires no sooner than its parent. For `isValid`. */
  isValid(): boolean {
    for (let i = 0; i < this.nodes.length; i++) {
      if (this.nodes[i]!.heapIndex !== i) return false
      if (i > 0 && this.expiries[(i - 1) >> 1]! > this.expiries[i]!) return false
    }
    return true
  }

  private swap(i: number, j: number): void {
    const nodes = this.nodes
    const expiries = this.expiries
    const a = nodes[i]!
    const b = nodes[j]!
    nodes[i] = b
    nodes[j] = a
    b.heapIndex = i
    a.heapIndex = j
    const e = expiries[i]!
    expiries[i] = expiries[j]!
    expiries[j] = e
  }

  /** Moves the node at `i` up to its place; returns where it ends. */
  private up(i: number): number {
    const expiries = this.expiries
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (expiries[parent]! <= expiries[i]!) return i
      this.swap(i, parent)
      i = parent
    }
    return i
  }

  private down(i: number): void {
    const expiries = this.expiries
    const size = this.nodes.length
    for (;;) {
      const left = 2 * i + 1
      if (left >= size) return
      const right = left + 1
      const child = right < size && expiries[right]! < expiries[left]! ? right : left
      if (expiries[i]! <= expiries[child]!) return
      this.swap(i, child)
      i = child
    }
  }
}
