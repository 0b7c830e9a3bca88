/**
 * The reference W-TinyLFU policies: line-by-line ports of Caffeine's simulator (Apache-2.0,
 * https://github.com/ben-manes/caffeine, commit ccef955), the model the production policy
 * (src/internal/tinyLfu.ts) is compared with decision by decision.
 *
 * - `WindowTinyLfu`: `simulator/.../policy/sketch/WindowTinyLfuPolicy.java`, the fixed window, with
 *   unit weights (`window-tiny-lfu.percent-main = [0.99]`, `percent-main-protected = 0.80`).
 * - `HillClimberWindowTinyLfu`: `simulator/.../policy/sketch/climbing/HillClimberWindowTinyLfuPolicy.java`
 *   with `SimpleClimber` (`.../climbing/hill/SimpleClimber.java` over `.../climbing/AbstractClimber.java`)
 *   and the defaults of `simulator/src/main/resources/reference.conf`
 *   (`hill-climber-window-tiny-lfu`: `percent-main = [0.99]`, `percent-main-protected = 0.80`;
 *   `simple`: `percent-pivot = 0.0625`, `percent-sample = 10.0`, `tolerance = 0.0`,
 *   `step-decay-rate = 0.98`, `sample-decay-rate = 1.0`, `restart-threshold = 0.05`,
 *   `min-initial-step = 2.0`, `small-cache-threshold = 512`, `small-cache-step-decay-rate = 0.995`,
 *   `small-cache-sample-ratio-cap = 4.0`).
 *
 * Each policy replays a trace: `record(key)` is one access, a hit or a miss that inserts the key.
 * Java's `(int)` casts are `Math.trunc`; `checkState` failures throw.
 */
import { TinyLfu } from "./tinyLfu.js"

export type Queue = "window" | "probation" | "protected"

class Node<K> {
  prev: Node<K> | undefined
  next: Node<K> | undefined
  constructor(
    readonly key: K | undefined,
    public queue: Queue | undefined
  ) {}

  /** A sentinel. */
  static head<K>(): Node<K> {
    const node = new Node<K>(undefined, undefined)
    node.prev = node
    node.next = node
    return node
  }

  moveToTail(head: Node<K>): void {
    this.remove()
    this.appendToTail(head)
  }

  appendToHead(head: Node<K>): void {
    const first = head.next!
    head.next = this
    first.prev = this
    this.prev = head
    this.next = first
  }

  appendToTail(head: Node<K>): void {
    const tail = head.prev!
    head.prev = this
    tail.next = this
    this.next = head
    this.prev = tail
  }

  remove(): void {
    this.prev!.next = this.next
    this.next!.prev = this.prev
    this.next = undefined
    this.prev = undefined
  }
}

const checkState = (condition: boolean, message: string): void => {
  if (!condition) throw new Error(`reference policy: ${message}`)
}

/** What a policy reports of one access. */
export interface Access<K> {
  readonly hit: boolean
  /** The keys evicted by this access (an admission rejection evicts the candidate). */
  readonly evicted: ReadonlyArray<K>
}

export interface Policy<K> {
  record(key: K): Access<K>
}

/** `WindowTinyLfuPolicy`: a fixed 1 % LRU window in front of a segmented LRU main space. */
export class WindowTinyLfu<K> implements Policy<K> {
  private readonly data = new Map<K, Node<K>>()
  private readonly admittor: TinyLfu<K>
  private readonly headWindow = Node.head<K>()
  private readonly headProbation = Node.head<K>()
  private readonly headProtected = Node.head<K>()
  private readonly maxWindow: number
  private readonly maxProtected: number
  private sizeWindow = 0
  private sizeProtected = 0
  private sizeData = 0
  private evicted: Array<K> = []

  constructor(
    readonly maximumSize: number,
    hash: (key: K) => number,
    percentMain = 0.99,
    percentMainProtected = 0.8
  ) {
    const maxMain = Math.trunc(maximumSize * percentMain)
    this.maxProtected = Math.trunc(maxMain * percentMainProtected)
    this.maxWindow = maximumSize - maxMain
    this.admittor = new TinyLfu(maximumSize, hash)
  }

  record(key: K): Access<K> {
    this.evicted = []
    const node = this.data.get(key)
    if (node === undefined) {
      this.onMiss(key)
    } else if (node.queue === "window") {
      this.onWindowHit(node)
    } else if (node.queue === "probation") {
      this.onProbationHit(node)
    } else {
      this.onProtectedHit(node)
    }
    return { hit: node !== undefined, evicted: this.evicted }
  }

  private onMiss(key: K): void {
    this.admittor.record(key)
    const node = new Node(key, "window")
    node.appendToTail(this.headWindow)
    this.data.set(key, node)
    this.sizeWindow++
    this.sizeData++
    this.evict()
  }

  private onWindowHit(node: Node<K>): void {
    this.admittor.record(node.key!)
    node.moveToTail(this.headWindow)
    this.evict()
  }

  private onProbationHit(node: Node<K>): void {
    this.admittor.record(node.key!)
    // a unit weight never exceeds maxProtected unless it is 0
    if (1 > this.maxProtected) {
      node.moveToTail(this.headProbation)
      this.evict()
      return
    }
    node.remove()
    node.queue = "protected"
    node.appendToTail(this.headProtected)
    this.sizeProtected++
    this.demoteProtected()
    this.evict()
  }

  private onProtectedHit(node: Node<K>): void {
    this.admittor.record(node.key!)
    node.moveToTail(this.headProtected)
    this.demoteProtected()
    this.evict()
  }

  private demoteProtected(): void {
    while (this.sizeProtected > this.maxProtected) {
      const demote = this.headProtected.next!
      demote.remove()
      demote.queue = "probation"
      demote.appendToTail(this.headProbation)
      this.sizeProtected--
    }
  }

  private evict(): void {
    this.evictFromMain(this.evictFromWindow())
  }

  private evictFromWindow(): Node<K> | undefined {
    let first: Node<K> | undefined
    while (this.sizeWindow > this.maxWindow) {
      const candidate = this.headWindow.next!
      candidate.remove()
      candidate.queue = "probation"
      candidate.appendToTail(this.headProbation)
      this.sizeWindow--
      if (first === undefined) first = candidate
    }
    return first
  }

  private evictFromMain(initialCandidate: Node<K> | undefined): void {
    let candidate = initialCandidate
    let searchedWindow = false
    let victimHead = this.headProbation
    let victim = first(this.headProbation)
    while (this.sizeData > this.maximumSize) {
      if (candidate === undefined && !searchedWindow) {
        candidate = first(this.headWindow)
        searchedWindow = true
      }
      if (candidate === undefined && victim === undefined) {
        if (victimHead === this.headProbation) {
          victimHead = this.headProtected
          victim = first(this.headProtected)
          continue
        } else if (victimHead === this.headProtected) {
          victimHead = this.headWindow
          victim = first(this.headWindow)
          continue
        }
        break
      }
      if (victim === undefined) {
        const evict = candidate!
        candidate = this.successor(evict)
        this.evictEntry(evict)
        continue
      } else if (candidate === undefined) {
        const evict = victim
        victim = this.successor(victim)
        this.evictEntry(evict)
        continue
      }
      if (candidate === victim) {
        victim = this.successor(victim)
        this.evictEntry(candidate)
        candidate = undefined
        continue
      }
      // a unit weight never exceeds the maximum size
      if (this.admittor.admit(candidate.key!, victim.key!)) {
        const evict = victim
        victim = this.successor(victim)
        this.evictEntry(evict)
        candidate = this.successor(candidate)
      } else {
        const evict = candidate
        candidate = this.successor(candidate)
        this.evictEntry(evict)
      }
    }
  }

  private evictEntry(node: Node<K>): void {
    if (node.queue === "window") {
      this.sizeWindow--
    } else if (node.queue === "protected") {
      this.sizeProtected--
    }
    this.sizeData--
    this.data.delete(node.key!)
    node.remove()
    this.evicted.push(node.key!)
  }

  private successor(node: Node<K>): Node<K> | undefined {
    const head =
      node.queue === "window"
        ? this.headWindow
        : node.queue === "probation"
          ? this.headProbation
          : this.headProtected
    const next = node.next!
    return next === head ? undefined : next
  }
}

const first = <K>(head: Node<K>): Node<K> | undefined => {
  const next = head.next!
  return next === head ? undefined : next
}

/** `AbstractClimber` + `SimpleClimber`, with the reference.conf defaults. */
export class SimpleClimber {
  sampleSize: number
  hitsInMain = 0
  hitsInWindow = 0
  hitsInSample = 0
  missesInSample = 0
  previousHitRate = 0
  previousWindowSize = 0
  currentWindowSize = 0
  firstSample = true

  readonly smallCacheSampleRatioCap = 4.0
  readonly smallCacheStepDecayRate = 0.995
  readonly smallCacheThreshold = 512
  readonly restartThreshold = 0.05
  readonly initialStepSize: number
  readonly sampleDecayRate = 1.0
  readonly initialSampleSize: number
  readonly stepDecayRate = 0.98
  readonly tolerance = 0.0
  increaseWindow: boolean
  stepSize: number

  constructor(readonly maximumSize: number) {
    const percentPivot = 0.0625
    const percentSample = 10.0
    const minInitialStep = 2.0
    this.initialStepSize = Math.max(percentPivot * maximumSize, minInitialStep)
    this.initialSampleSize = Math.trunc(percentSample * maximumSize)
    this.increaseWindow = this.isSmallCache()
    this.sampleSize = this.initialSampleSize
    this.stepSize = this.initialStepSize
  }

  private isSmallCache(): boolean {
    return this.smallCacheThreshold > 0 && this.maximumSize <= this.smallCacheThreshold
  }

  onMiss(isFull: boolean): void {
    if (isFull) this.missesInSample++
  }

  onHit(queue: Queue, isFull: boolean): void {
    if (isFull) {
      this.hitsInSample++
      if (queue === "window") {
        this.hitsInWindow++
      } else {
        this.hitsInMain++
      }
    }
  }

  /** The amount to adapt the window by: positive grows it, negative shrinks it, 0 holds. */
  adapt(windowSize: number, isFull: boolean): number {
    if (!isFull) return 0
    checkState(this.sampleSize > 0, "Sample size may not be zero")
    const sampleCount = this.hitsInSample + this.missesInSample
    if (sampleCount < this.sampleSize) return 0
    this.currentWindowSize = windowSize
    const hitRate = this.hitsInSample / sampleCount
    const adaption = this.adjust(hitRate)
    this.resetSample(hitRate)
    return adaption
  }

  private adjust(hitRate: number): number {
    if (hitRate < this.previousHitRate + this.tolerance) {
      this.increaseWindow = !this.increaseWindow
    }
    if (Math.abs(hitRate - this.previousHitRate) >= this.restartThreshold) {
      this.sampleSize = this.initialSampleSize
      this.stepSize = this.initialStepSize
    }
    return this.increaseWindow ? this.stepSize : -this.stepSize
  }

  private resetSample(hitRate: number): void {
    this.firstSample = false
    this.previousHitRate = hitRate
    this.previousWindowSize = this.currentWindowSize
    this.missesInSample = 0
    this.hitsInSample = 0
    this.hitsInWindow = 0
    this.hitsInMain = 0
    if (this.isSmallCache()) {
      this.stepSize *= this.smallCacheStepDecayRate
      const magnitude = Math.max(
        this.initialStepSize / this.smallCacheSampleRatioCap,
        Math.abs(this.stepSize)
      )
      const ratio = Math.min(this.smallCacheSampleRatioCap, Math.max(this.initialStepSize / magnitude, 1.0))
      this.sampleSize = Math.trunc(this.initialSampleSize * ratio)
    } else {
      this.stepSize *= this.stepDecayRate
      this.sampleSize = Math.max(1, Math.trunc(this.sampleSize * this.sampleDecayRate))
    }
  }
}

/** `HillClimberWindowTinyLfuPolicy` with the simple climber: the window size adapts to the workload. */
export class HillClimberWindowTinyLfu<K> implements Policy<K> {
  private readonly data = new Map<K, Node<K>>()
  private readonly admittor: TinyLfu<K>
  readonly climber: SimpleClimber
  private readonly headWindow = Node.head<K>()
  private readonly headProbation = Node.head<K>()
  private readonly headProtected = Node.head<K>()
  maxWindow: number
  maxProtected: number
  windowSize = 0
  protectedSize = 0
  private evicted: Array<K> = []

  constructor(
    readonly maximumSize: number,
    hash: (key: K) => number,
    percentMain = 0.99,
    percentMainProtected = 0.8
  ) {
    const maxMain = Math.trunc(maximumSize * percentMain)
    this.maxProtected = Math.trunc(maxMain * percentMainProtected)
    this.maxWindow = maximumSize - maxMain
    this.admittor = new TinyLfu(maximumSize, hash)
    this.climber = new SimpleClimber(maximumSize)
  }

  record(key: K): Access<K> {
    this.evicted = []
    const isFull = this.data.size >= this.maximumSize
    const node = this.data.get(key)
    this.admittor.record(key)
    let queue: Queue | undefined
    if (node === undefined) {
      this.onMiss(key)
    } else {
      this.onHit(node)
      queue = node.queue
    }
    this.climb(queue, isFull)
    return { hit: node !== undefined, evicted: this.evicted }
  }

  private onMiss(key: K): void {
    const node = new Node(key, "window")
    node.appendToTail(this.headWindow)
    this.data.set(key, node)
    this.windowSize++
    this.evict()
  }

  private onHit(node: Node<K>): void {
    switch (node.queue) {
      case "window":
        node.moveToTail(this.headWindow)
        return
      case "probation":
        this.onProbationHit(node)
        return
      case "protected":
        node.moveToTail(this.headProtected)
        return
    }
  }

  private onProbationHit(node: Node<K>): void {
    node.remove()
    node.queue = "protected"
    node.appendToTail(this.headProtected)
    this.protectedSize++
    this.demoteProtected()
  }

  private demoteProtected(): void {
    if (this.protectedSize > this.maxProtected) {
      const demote = this.headProtected.next!
      demote.remove()
      demote.queue = "probation"
      demote.appendToTail(this.headProbation)
      this.protectedSize--
    }
  }

  private evict(): void {
    if (this.windowSize <= this.maxWindow) return
    const candidate = this.headWindow.next!
    checkState(candidate !== this.headWindow, "the window is empty")
    this.windowSize--
    candidate.remove()
    candidate.queue = "probation"
    candidate.appendToTail(this.headProbation)
    if (this.data.size > this.maximumSize) {
      const victim = this.headProbation.next!
      const evict = this.admittor.admit(candidate.key!, victim.key!) ? victim : candidate
      this.data.delete(evict.key!)
      evict.remove()
      this.evicted.push(evict.key!)
    }
  }

  private climb(queue: Queue | undefined, isFull: boolean): void {
    if (queue === undefined) {
      this.climber.onMiss(isFull)
    } else {
      this.climber.onHit(queue, isFull)
    }
    const adaptation = this.climber.adapt(this.windowSize, isFull)
    if (adaptation > 0) {
      this.increaseWindow(adaptation)
    } else if (adaptation < 0) {
      this.decreaseWindow(-adaptation)
    }
  }

  private increaseWindow(amount: number): void {
    if (this.maxProtected === 0) return
    const quota = Math.min(amount, this.maxProtected)
    const steps = Math.trunc(this.windowSize + quota) - Math.trunc(this.windowSize)
    this.windowSize += quota
    for (let i = 0; i < steps; i++) {
      this.maxWindow++
      this.maxProtected--
      this.demoteProtected()
      const candidate = this.headProbation.next!
      checkState(candidate !== this.headProbation, "probation is empty")
      candidate.remove()
      candidate.queue = "window"
      candidate.appendToTail(this.headWindow)
    }
    checkState(this.windowSize >= 0 && this.maxWindow >= 0 && this.maxProtected >= 0, "negative sizes")
  }

  private decreaseWindow(amount: number): void {
    if (this.maxWindow === 0) return
    const quota = Math.min(amount, this.maxWindow)
    const steps = Math.trunc(this.windowSize) - Math.trunc(this.windowSize - quota)
    this.windowSize -= quota
    for (let i = 0; i < steps; i++) {
      this.maxWindow--
      this.maxProtected++
      const candidate = this.headWindow.next!
      checkState(candidate !== this.headWindow, "the window is empty")
      candidate.remove()
      candidate.queue = "probation"
      candidate.appendToHead(this.headProbation)
    }
    checkState(this.windowSize >= 0 && this.maxWindow >= 0 && this.maxProtected >= 0, "negative sizes")
  }
}
