/**
 * The W-TinyLFU eviction policy of `Lru` (`policy: "w-tinylfu"`), after Einziger, Friedman & Manes,
 * "TinyLFU: A Highly Efficient Cache Admission Policy" (ACM Transactions on Storage, 2017), and
 * Caffeine (https://github.com/ben-manes/caffeine, Apache-2.0):
 *
 * - a new key enters an LRU admission window (1 % of the capacity to start with);
 * - the window's least recently used key, pushed out, becomes the candidate for the main space, a
 *   segmented LRU (probation, then protected up to 80 % of the main space: a hit in probation
 *   promotes, protected's overflow goes back to probation);
 * - when the cache is over capacity, the candidate is admitted only if the frequency sketch
 *   (frequencySketch.ts) estimates it more popular than probation's least recent key, the victim;
 *   a candidate seen at least 6 times is admitted anyway with probability 1/128, Caffeine's guard
 *   against an attacker flooding a hot key's counters (`BoundedLocalCache.admit`,
 *   `ADMIT_HASHDOS_THRESHOLD`). The loser is evicted: an admission rejection is an eviction too;
 * - with the adaptive window (the default), a hill climber resizes the window to the workload.
 *
 * The decisions are those of Caffeine's simulator, which test/policy ports line by line and holds
 * this module to decision by decision: `simulator/.../policy/sketch/WindowTinyLfuPolicy.java` (the
 * fixed window), `simulator/.../policy/sketch/climbing/HillClimberWindowTinyLfuPolicy.java` with
 * `.../climbing/hill/SimpleClimber.java` and `.../climbing/AbstractClimber.java` (the adaptive
 * window), `simulator/.../admission/TinyLfu.java`, and the defaults of the simulator's
 * `reference.conf` (window 1 %, protected 80 %, jitter threshold 6 and probability 1/128, seed
 * 1033096058, pivot 6.25 %, sample 10 × capacity, step decay 0.98, restart threshold 5 %, and the
 * small-cache rules up to 512 entries). The random admission draws from `java.util.Random`'s
 * generator, seeded as the simulator's, its state part of the policy's state: versions replay the
 * same draws.
 *
 * Immutability: the policy's whole state (its three lists, its sizes and climber, the sketch and the
 * generator) lives in the family's `Store` like the rest, and every change to it appends its inverse
 * to the same history (`lru.ts`), so that every `Lru` version answers, and decides, the same
 * forever. A list move records where the entry was; a number (a size, a climber field, the
 * generator's state) records its old value; a sketch increment records which counters it changed;
 * the periodic halving records the whole old table, once every 10 × (capacity rounded up to a
 * power of two) increments, O(1) amortised per operation.
 *
 * @internal
 */
import * as Hash from "effect/Hash"
import { FrequencySketch, integerHash, spread } from "./frequencySketch.js"

/** Which list an entry is on. */
export const NONE = 0
const WINDOW = 1
const PROBATION = 2
const PROTECTED = 3

/** The fields an `Lru` entry carries for this policy. */
export interface PolicyNode {
  queue: number
  policyPrev: PolicyNode
  policyNext: PolicyNode
  /** The key's hash, spread (`frequencySketch.spread`): its address in the sketch. */
  readonly sketchHash: number
}

/** A list's sentinel: `next` is its least recently used entry, `prev` its most recent. */
class Head implements PolicyNode {
  policyPrev: PolicyNode = this
  policyNext: PolicyNode = this
  readonly sketchHash = 0
  constructor(readonly queue: number) {}
}

/**
 * The key's hash for the sketch, spread: `structuralHash` (the index's `Hash.hash`) for keys
 * compared by `Equal`, Java's `Long.hashCode` for safe integers, effect's `Hash` for the others.
 */
export const sketchHash = (key: unknown, structural: boolean, structuralHash: number): number =>
  spread(
    structural
      ? structuralHash
      : typeof key === "number"
        ? Number.isSafeInteger(key)
          ? integerHash(key)
          : Hash.number(key)
        : typeof key === "string"
          ? Hash.string(key)
          : Hash.hash(key)
  )

// The kinds of the policy's history records; `lru.ts` keeps 0–3 for its own.
/** A list move: the entry, and the entry it followed (`undefined`: on no list). */
const PLACE = 4
/** A number: its index in `registers`, and its old value. */
const REGISTER = 5
/** Undoes a sketch increment and its count in `ADDITIONS`: the hash, and which counters. */
const DECREMENT = 6
/** Redoes it. */
const INCREMENT = 7
/** A halving: the table it replaced. */
const TABLE = 8

/** The policy's numbers, in one array so that one record kind undoes a change to any of them. */
const WINDOW_SIZE = 0
const PROTECTED_SIZE = 1
const MAX_WINDOW = 2
const MAX_PROTECTED = 3
const ADDITIONS = 4
const RANDOM_HIGH = 5
const RANDOM_LOW = 6
const SAMPLE_SIZE = 7
const HITS = 8
const MISSES = 9
const PREVIOUS_HIT_RATE = 10
const INCREASE_WINDOW = 11
const STEP_SIZE = 12
const REGISTER_COUNT = 13

/** `java.util.Random`'s multiplier, as its two 24-bit halves, and the simulator's seed, scrambled. */
const MULTIPLIER_HIGH = 0x5de
const MULTIPLIER_LOW = 0xece66d
const TWO_24 = 0x1000000
const SCRAMBLED_SEED = (BigInt(1033096058) ^ 0x5deece66dn) & 0xffffffffffffn

const ADMIT_THRESHOLD = 6
const ADMIT_PROBABILITY = 0.0078125
const PERCENT_MAIN = 0.99
const PERCENT_MAIN_PROTECTED = 0.8
const PERCENT_PIVOT = 0.0625
const PERCENT_SAMPLE = 10
const MIN_INITIAL_STEP = 2
const STEP_DECAY_RATE = 0.98
const RESTART_THRESHOLD = 0.05
const SMALL_CACHE_THRESHOLD = 512
const SMALL_CACHE_STEP_DECAY_RATE = 0.995
const SMALL_CACHE_SAMPLE_RATIO_CAP = 4

/** Where the policy appends its records: `lru.ts`'s history. */
export type Recorder = (kind: number, node: PolicyNode | undefined, argument: unknown, value: number) => void

/** The parts of a history segment `flip` works on. */
export interface Records {
  readonly ops: Uint8Array
  readonly nodes: ReadonlyArray<unknown>
  readonly args: Array<unknown>
  readonly expiries: Float64Array
}

export type Window = "adaptive" | "fixed"

/** @internal */
export class TinyLfu {
  readonly window = new Head(WINDOW)
  readonly probation = new Head(PROBATION)
  readonly protected = new Head(PROTECTED)
  readonly sketch: FrequencySketch
  readonly registers = new Float64Array(REGISTER_COUNT)
  readonly adaptive: boolean
  private readonly initialStepSize: number
  private readonly initialSampleSize: number
  private readonly smallCache: boolean

  constructor(
    readonly capacity: number,
    readonly windowMode: Window,
    private readonly record: Recorder
  ) {
    this.adaptive = windowMode === "adaptive"
    this.sketch = new FrequencySketch(capacity)
    const maxMain = Math.trunc(capacity * PERCENT_MAIN)
    this.initialStepSize = Math.max(PERCENT_PIVOT * capacity, MIN_INITIAL_STEP)
    this.initialSampleSize = Math.trunc(PERCENT_SAMPLE * capacity)
    this.smallCache = capacity <= SMALL_CACHE_THRESHOLD
    const r = this.registers
    r[MAX_WINDOW] = capacity - maxMain
    r[MAX_PROTECTED] = Math.trunc(maxMain * PERCENT_MAIN_PROTECTED)
    r[RANDOM_HIGH] = Number(SCRAMBLED_SEED >> 24n)
    r[RANDOM_LOW] = Number(SCRAMBLED_SEED & 0xffffffn)
    r[SAMPLE_SIZE] = this.initialSampleSize
    r[INCREASE_WINDOW] = this.smallCache ? 1 : 0
    r[STEP_SIZE] = this.initialStepSize
  }

  // --- recorded changes ---------------------------------------------------------------------------

  private set(register: number, value: number): void {
    const old = this.registers[register]!
    if (old === value) return
    this.record(REGISTER, undefined, register, old)
    this.registers[register] = value
  }

  /** Puts `node` after `after` (on `after`'s list), or on no list. */
  private place(node: PolicyNode, after: PolicyNode | undefined): void {
    if (after === node) return
    this.record(PLACE, node, node.queue === NONE ? undefined : node.policyPrev, 0)
    move(node, after)
  }

  private appendToTail(node: PolicyNode, head: Head): void {
    this.place(node, head.policyPrev)
  }

  /** Counts one access to the key (`TinyLfu.record` / `CountMin4.increment`, `tryReset`). */
  private increment(hash: number): void {
    const changed = this.sketch.increment(hash)
    if (changed === 0) return
    // One record for both: undoing the increment also takes the addition back (and redoing it
    // counts it again), so the count of additions, changed on every access, needs no record of its own.
    this.record(DECREMENT, undefined, hash, changed)
    const additions = ++this.registers[ADDITIONS]!
    if (additions !== this.sketch.period) return
    const old = this.sketch.table
    const odd = this.sketch.halve()
    this.record(TABLE, undefined, old, 0)
    this.set(ADDITIONS, (additions - (odd >>> 2)) >>> 1)
  }

  /** `java.util.Random.nextFloat`, drawn from (and advancing) the generator's recorded state. */
  nextFloat(): number {
    const high = this.registers[RANDOM_HIGH]!
    const low = this.registers[RANDOM_LOW]!
    const lowProduct = low * MULTIPLIER_LOW + 0xb
    const carry = Math.floor(lowProduct / TWO_24)
    const nextHigh = (high * MULTIPLIER_LOW + low * MULTIPLIER_HIGH + carry) % TWO_24
    this.set(RANDOM_HIGH, nextHigh)
    this.set(RANDOM_LOW, lowProduct % TWO_24)
    return nextHigh / TWO_24
  }

  /** `TinyLfu.admit`: whether the candidate wins over the victim. */
  private admit(candidate: PolicyNode, victim: PolicyNode): boolean {
    const victimFrequency = this.sketch.frequency(victim.sketchHash)
    const candidateFrequency = this.sketch.frequency(candidate.sketchHash)
    return (
      candidateFrequency > victimFrequency ||
      (candidateFrequency >= ADMIT_THRESHOLD && this.nextFloat() < ADMIT_PROBABILITY)
    )
  }

  // --- what `lru.ts` calls ------------------------------------------------------------------------

  /**
   * A new key, already in the store (which now holds `count` entries, `isFull` before it came):
   * counts it, puts it in the window, moves the window's overflow to probation, and returns the
   * entry to evict when `count` is over the capacity. The caller evicts it, then calls `climb`.
   */
  insert(node: PolicyNode, count: number): PolicyNode | undefined {
    this.increment(node.sketchHash)
    this.appendToTail(node, this.window)
    this.set(WINDOW_SIZE, this.registers[WINDOW_SIZE]! + 1)
    let candidate: PolicyNode | undefined
    if (
      this.registers[WINDOW_SIZE]! > this.registers[MAX_WINDOW]! &&
      this.window.policyNext !== this.window
    ) {
      candidate = this.window.policyNext
      this.set(WINDOW_SIZE, this.registers[WINDOW_SIZE]! - 1)
      this.appendToTail(candidate, this.probation)
    }
    if (count <= this.capacity) return undefined
    return this.adaptive ? this.adaptiveVictim(candidate) : this.fixedVictim(candidate)
  }

  /** `HillClimberWindowTinyLfuPolicy.evict`: the candidate against probation's first. */
  private adaptiveVictim(candidate: PolicyNode | undefined): PolicyNode {
    if (candidate === undefined) return this.anyVictim()
    const victim = this.probation.policyNext
    return this.admit(candidate, victim) ? victim : candidate
  }

  /** One round of `WindowTinyLfuPolicy.evictFromMain`. */
  private fixedVictim(demoted: PolicyNode | undefined): PolicyNode {
    const candidate = demoted ?? first(this.window)
    const victim = first(this.probation)
    if (candidate === undefined || victim === undefined) return victim ?? candidate ?? this.anyVictim()
    if (candidate === victim) return candidate
    return this.admit(candidate, victim) ? victim : candidate
  }

  /**
   * The first entry of probation, else of protected, else of the window: the policy's escalation
   * when no candidate came out of the window (which only a cache shrunk by removals can see).
   */
  private anyVictim(): PolicyNode {
    return first(this.probation) ?? first(this.protected) ?? first(this.window)!
  }

  /** A hit (a `get` of a live entry, or a `set` of a stored key): counts it and reorders. */
  access(node: PolicyNode): void {
    this.increment(node.sketchHash)
    switch (node.queue) {
      case WINDOW:
        this.appendToTail(node, this.window)
        return
      case PROBATION:
        this.appendToTail(node, this.protected)
        this.set(PROTECTED_SIZE, this.registers[PROTECTED_SIZE]! + 1)
        this.demoteProtected()
        return
      case PROTECTED:
        this.appendToTail(node, this.protected)
        return
    }
  }

  private demoteProtected(): void {
    if (this.registers[PROTECTED_SIZE]! > this.registers[MAX_PROTECTED]!) {
      this.appendToTail(this.protected.policyNext, this.probation)
      this.set(PROTECTED_SIZE, this.registers[PROTECTED_SIZE]! - 1)
    }
  }

  /** An entry leaves the store (evicted, expired, deleted). */
  remove(node: PolicyNode): void {
    if (node.queue === WINDOW) this.set(WINDOW_SIZE, this.registers[WINDOW_SIZE]! - 1)
    else if (node.queue === PROTECTED) this.set(PROTECTED_SIZE, this.registers[PROTECTED_SIZE]! - 1)
    this.place(node, undefined)
  }

  /**
   * The hill climber (`AbstractClimber` + `SimpleClimber`), after an access that was a hit or a
   * miss, `isFull` telling whether the store was full before it. Only a full cache samples.
   */
  climb(hit: boolean, isFull: boolean): void {
    if (!this.adaptive || !isFull) return
    const r = this.registers
    if (hit) this.set(HITS, r[HITS]! + 1)
    else this.set(MISSES, r[MISSES]! + 1)
    const sampleCount = r[HITS]! + r[MISSES]!
    if (sampleCount < r[SAMPLE_SIZE]!) return
    const hitRate = r[HITS]! / sampleCount
    // SimpleClimber.adjust
    const previousHitRate = r[PREVIOUS_HIT_RATE]!
    if (hitRate < previousHitRate) this.set(INCREASE_WINDOW, 1 - r[INCREASE_WINDOW]!)
    if (Math.abs(hitRate - previousHitRate) >= RESTART_THRESHOLD) {
      this.set(SAMPLE_SIZE, this.initialSampleSize)
      this.set(STEP_SIZE, this.initialStepSize)
    }
    const amount = r[INCREASE_WINDOW] === 1 ? r[STEP_SIZE]! : -r[STEP_SIZE]!
    // SimpleClimber.resetSample
    this.set(PREVIOUS_HIT_RATE, hitRate)
    this.set(HITS, 0)
    this.set(MISSES, 0)
    if (this.smallCache) {
      const stepSize = r[STEP_SIZE]! * SMALL_CACHE_STEP_DECAY_RATE
      this.set(STEP_SIZE, stepSize)
      const magnitude = Math.max(this.initialStepSize / SMALL_CACHE_SAMPLE_RATIO_CAP, Math.abs(stepSize))
      const ratio = Math.min(SMALL_CACHE_SAMPLE_RATIO_CAP, Math.max(this.initialStepSize / magnitude, 1))
      this.set(SAMPLE_SIZE, Math.trunc(this.initialSampleSize * ratio))
    } else {
      this.set(STEP_SIZE, r[STEP_SIZE]! * STEP_DECAY_RATE)
    }
    if (amount > 0) this.increaseWindow(amount)
    else if (amount < 0) this.decreaseWindow(-amount)
  }

  private increaseWindow(amount: number): void {
    const r = this.registers
    if (r[MAX_PROTECTED] === 0) return
    const windowSize = r[WINDOW_SIZE]!
    const quota = Math.min(amount, r[MAX_PROTECTED]!)
    const steps = Math.trunc(windowSize + quota) - Math.trunc(windowSize)
    this.set(WINDOW_SIZE, windowSize + quota)
    for (let i = 0; i < steps; i++) {
      this.set(MAX_WINDOW, r[MAX_WINDOW]! + 1)
      this.set(MAX_PROTECTED, r[MAX_PROTECTED]! - 1)
      this.demoteProtected()
      const candidate = first(this.probation) ?? first(this.protected)
      if (candidate === undefined) {
        // The main space ran dry (removals shrank it): the window has grown by fewer steps.
        this.set(WINDOW_SIZE, r[WINDOW_SIZE]! - (steps - i))
        return
      }
      if (candidate.queue === PROTECTED) this.set(PROTECTED_SIZE, r[PROTECTED_SIZE]! - 1)
      this.appendToTail(candidate, this.window)
    }
  }

  private decreaseWindow(amount: number): void {
    const r = this.registers
    if (r[MAX_WINDOW] === 0) return
    const windowSize = r[WINDOW_SIZE]!
    const quota = Math.min(amount, r[MAX_WINDOW]!)
    const steps = Math.trunc(windowSize) - Math.trunc(windowSize - quota)
    this.set(WINDOW_SIZE, windowSize - quota)
    for (let i = 0; i < steps; i++) {
      const candidate = first(this.window)
      if (candidate === undefined) {
        // The window ran dry (removals shrank it): it has shrunk by fewer steps.
        this.set(WINDOW_SIZE, r[WINDOW_SIZE]! + (steps - i))
        return
      }
      this.set(MAX_WINDOW, r[MAX_WINDOW]! - 1)
      this.set(MAX_PROTECTED, r[MAX_PROTECTED]! + 1)
      this.place(candidate, this.probation)
    }
  }

  // --- history, copies, checks ---------------------------------------------------------------------

  /** Applies policy record `i` of `records` and puts its inverse in its place. */
  flip(records: Records, i: number): void {
    switch (records.ops[i]) {
      case PLACE: {
        const node = records.nodes[i] as PolicyNode
        const after = node.queue === NONE ? undefined : node.policyPrev
        move(node, records.args[i] as PolicyNode | undefined)
        records.args[i] = after
        return
      }
      case REGISTER: {
        const register = records.args[i] as number
        const value = this.registers[register]!
        this.registers[register] = records.expiries[i]!
        records.expiries[i] = value
        return
      }
      case DECREMENT:
        this.sketch.decrement(records.args[i] as number, records.expiries[i]!)
        this.registers[ADDITIONS]--
        records.ops[i] = INCREMENT
        return
      case INCREMENT:
        this.sketch.incrementCounters(records.args[i] as number, records.expiries[i]!)
        this.registers[ADDITIONS]++
        records.ops[i] = DECREMENT
        return
      case TABLE: {
        const table = this.sketch.table
        this.sketch.table = records.args[i] as Uint32Array
        records.args[i] = table
        return
      }
    }
  }

  /** Copies the state of `source` into this fresh policy, `copyOf` mapping its entries to ours. */
  copyFrom(source: TinyLfu, copyOf: (node: PolicyNode) => PolicyNode): void {
    this.registers.set(source.registers)
    this.sketch.table = source.sketch.table.slice()
    for (const [from, to] of [
      [source.window, this.window],
      [source.probation, this.probation],
      [source.protected, this.protected]
    ] as const) {
      for (let node = from.policyNext; node !== from; node = node.policyNext)
        move(copyOf(node), to.policyPrev)
    }
  }

  /**
   * Places the entries of a store rebuilt without history (`restore`), given least recently used
   * first: the most recent ones in the window, as many as it holds, the others in probation. The
   * sketch starts empty: frequencies are not persisted.
   */
  restore(nodes: ReadonlyArray<PolicyNode>): void {
    const inWindow = Math.min(nodes.length, this.registers[MAX_WINDOW]!)
    for (let i = 0; i < nodes.length; i++) {
      const window = i >= nodes.length - inWindow
      move(nodes[i]!, window ? this.window.policyPrev : this.probation.policyPrev)
    }
    this.registers[WINDOW_SIZE] = inWindow
  }

  /**
   * The lists are well linked, hold `count` entries, and agree with the protected size. Not with
   * the window size: a fraction since the climber moves it by fractional steps, the simulator's
   * `windowSize` drifts from the window's entry count when rounding bites (1.9999999999999998 + 1
   * is 3), and this policy keeps the drift so as to decide exactly as the simulator does.
   */
  isValid(count: number): boolean {
    let total = 0
    let protectedCount = 0
    for (const head of [this.window, this.probation, this.protected]) {
      for (let node = head.policyNext; node !== head; node = node.policyNext) {
        if (node.queue !== head.queue || node.policyNext.policyPrev !== node) return false
        if (++total > count) return false
        if (head === this.protected) protectedCount++
      }
    }
    const r = this.registers
    return (
      total === count && r[PROTECTED_SIZE] === protectedCount && r[MAX_WINDOW]! >= 0 && r[MAX_PROTECTED]! >= 0
    )
  }
}

const first = (head: Head): PolicyNode | undefined => (head.policyNext === head ? undefined : head.policyNext)

/** Unlinks `node` from its list, if any, and links it after `after`, if given. */
const move = (node: PolicyNode, after: PolicyNode | undefined): void => {
  if (node.queue !== NONE) {
    node.policyPrev.policyNext = node.policyNext
    node.policyNext.policyPrev = node.policyPrev
    node.policyPrev = node
    node.policyNext = node
  }
  if (after === undefined) {
    node.queue = NONE
    return
  }
  node.queue = after.queue
  node.policyPrev = after
  node.policyNext = after.policyNext
  after.policyNext.policyPrev = node
  after.policyNext = node
}
