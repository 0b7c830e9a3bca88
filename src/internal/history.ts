/**
 * The history of an `Lru` family: what makes every version answer the same forever.
 *
 * The versions of a family share one store (lru.ts), which holds the state of one version at a
 * time. Every mutation appends its inverse to the family's history, a chain of fixed-size
 * segments, and a version is a position in that history: `(segment, position)`. An operation on
 * the newest version mutates the store in place and appends; reading any other version first
 * "reroots" the store, replaying the history between the two positions, each record swapped in
 * place for its inverse as it is applied (an undo becomes the redo that comes back).
 *
 * Why segments rather than a log in each version (Baker's original shape): there, each old version
 * points to the next one, and a dead version that the garbage collector has already promoted keeps
 * every younger version alive through the next minor collections ("nepotism"): measured, that
 * promoted ~1 GB per 10 M operations and made most of the run garbage collection. Here a version
 * is three fields with no pointer to another version; only segments (one per 1024 mutations)
 * point forward, to the next segment. A segment no version points into, nor an older segment, is
 * garbage: a family that keeps only its newest version keeps one segment.
 *
 * A file of its own because the mechanics (appending, walking the chain both ways) do not depend
 * on what the records mean: the store says that, in `flip`.
 *
 * @internal
 */

const SEGMENT_SIZE = 1024

/**
 * A stretch of history: records in parallel arrays (typed arrays for the kinds and the numbers, so
 * that none is boxed). Records before the store's position in it are undos, those after it redos.
 *
 * @internal
 */
export class Segment<N> {
  readonly ops = new Uint8Array(SEGMENT_SIZE)
  readonly nodes: Array<N | undefined> = new Array(SEGMENT_SIZE).fill(undefined)
  readonly args: Array<unknown> = new Array(SEGMENT_SIZE).fill(undefined)
  readonly expiries = new Float64Array(SEGMENT_SIZE)
  length = 0
  /** The segment that follows, once this one is full. */
  next: Segment<N> | undefined = undefined
  constructor(readonly index: number) {}
}

/**
 * Where a store is in its family's history, and the records that lead elsewhere. `flip` applies a
 * record and writes its inverse in its place.
 *
 * @internal
 */
export abstract class History<N> {
  /** The newest segment: the newest version is at its end. */
  head: Segment<N> = new Segment(0)
  /** Where in the history the store's state is. */
  segment: Segment<N> = this.head
  position = 0

  /** Applies record `i` of `segment` and puts its inverse in its place. */
  abstract flip(segment: Segment<N>, i: number): void

  /** Whether `(segment, position)` is the newest version's position. */
  isNewest(segment: Segment<N>, position: number): boolean {
    return segment === this.head && position === this.head.length
  }

  /** Appends a record at the head of the history; the store stays at the head. */
  record(op: number, node: N | undefined, argument: unknown, expiry: number): void {
    let segment = this.head
    if (segment.length === SEGMENT_SIZE) {
      segment = segment.next = new Segment<N>(segment.index + 1)
      this.head = segment
    }
    const i = segment.length++
    segment.ops[i] = op
    segment.nodes[i] = node
    segment.args[i] = argument
    segment.expiries[i] = expiry
    this.segment = segment
    this.position = segment.length
  }

  /** Makes the store hold the state at `(target, position)`. Free when it already does. */
  reroot(target: Segment<N>, position: number): void {
    if (this.segment === target && this.position === position) return
    const from = this.segment
    if (target.index < from.index || (target === from && position < this.position)) {
      // Backwards: undo from the store's position down to the target's. Segments only point
      // forwards, so the path is found from the target.
      const path: Array<Segment<N>> = []
      for (let segment = target; segment !== from; segment = segment.next!) path.push(segment)
      path.push(from)
      for (let p = path.length - 1; p >= 0; p--) {
        const segment = path[p]!
        const end = segment === from ? this.position : segment.length
        const start = segment === target ? position : 0
        for (let i = end - 1; i >= start; i--) this.flip(segment, i)
      }
    } else {
      // Forwards: redo from the store's position up to the target's.
      for (let segment = from; ; segment = segment.next!) {
        const start = segment === from ? this.position : 0
        const end = segment === target ? position : segment.length
        for (let i = start; i < end; i++) this.flip(segment, i)
        if (segment === target) break
      }
    }
    this.segment = target
    this.position = position
  }
}
