/**
 * The 4-bit count-min sketch of W-TinyLFU: how often each key was seen recently, in 4 bits per
 * counter, over 4 counters per key.
 *
 * The layout, hashing and aging are those of Caffeine's simulator
 * (https://github.com/ben-manes/caffeine, Apache-2.0: `simulator/.../admission/countmin4/CountMin4.java`
 * with `PeriodicResetCountMin4.java`), bit for bit, so that the policy built on it can be compared
 * decision by decision with the reference port in test/policy: a table of 64-bit words (here two
 * `Uint32Array` words each), as many words as the capacity rounded up to a power of two, 16 counters
 * per word; every counter halved after 10 × (table length) increments. Caffeine's cache proper
 * (`caffeine/.../cache/FrequencySketch.java`) packs a key's counters into one 64-byte block instead
 * for the CPU cache; the counts and the aging are the same idea.
 *
 * This class is the bare mechanics: it records no history. The policy (tinyLfu.ts) records the
 * inverse of each change it makes through these methods, so that old `Lru` versions replay exactly.
 *
 * @internal
 */

/** `CountMin4.SEED`, each 64-bit seed as its high and low 32-bit halves. */
const SEED_HIGH = [0xc3a5c85c, 0xb492b66f, 0x9ae16a3b, 0xcbf29ce4]
const SEED_LOW = [0x97cb3127, 0xbe98f273, 0x2f90404f, 0x84222325]

/** The high 32 bits of the 64-bit product of two unsigned 32-bit integers. */
const multiplyHigh = (a: number, b: number): number => {
  const a0 = a & 0xffff
  const a1 = a >>> 16
  const b0 = b & 0xffff
  const b1 = b >>> 16
  const p00 = a0 * b0
  const p01 = a0 * b1
  const p10 = a1 * b0
  const middle = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff)
  return (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (middle >>> 16)) >>> 0
}

/**
 * `CountMin4.spread`: a supplemental hash against poor hash functions. Applied once per key (the
 * result is kept in the entry).
 */
export const spread = (x: number): number => {
  x = Math.imul((x >>> 16) ^ x, 0x45d9f3b)
  x = Math.imul((x >>> 16) ^ x, 0x45d9f3b)
  return (x >>> 16) ^ x
}

/**
 * Java's `Long.hashCode` of a safe integer: its two 32-bit halves XORed. The hash of integer keys,
 * so that on integer traces the sketch sees what the simulator's sketch sees.
 */
export const integerHash = (n: number): number => (n ^ Math.floor(n / 4294967296)) | 0

/** @internal */
export class FrequencySketch {
  /** 64-bit word `w` is `table[2w]` (counters 0–7) and `table[2w + 1]` (counters 8–15). */
  table: Uint32Array
  /** Mask over 64-bit words. */
  readonly wordMask: number
  /** Increments between two halvings. */
  readonly period: number

  constructor(capacity: number) {
    const maximum = Math.min(capacity, 0x3fffffff)
    let words = 1
    while (words < maximum) words *= 2
    this.table = new Uint32Array(2 * words)
    this.wordMask = words - 1
    this.period = 10 * words
  }

  /**
   * `CountMin4.indexOf`: the 64-bit word of counter `i` of the spread hash `item`, computed as
   * Java computes `(item + SEED[i]) * SEED[i]` in wrapping 64-bit arithmetic, then
   * `(int) (hash + (hash >>> 32))`.
   */
  indexOf(item: number, i: number): number {
    const seedLow = SEED_LOW[i]!
    const seedHigh = SEED_HIGH[i]!
    const sumLow = (item >>> 0) + seedLow
    const xLow = sumLow >>> 0
    const xHigh = ((item < 0 ? 0xffffffff : 0) + seedHigh + (sumLow > 0xffffffff ? 1 : 0)) >>> 0
    const productLow = Math.imul(xLow, seedLow) >>> 0
    const productHigh = multiplyHigh(xLow, seedLow) + Math.imul(xHigh, seedLow) + Math.imul(xLow, seedHigh)
    return (productLow + productHigh) & this.wordMask
  }

  /** The estimated count of the key with spread hash `hash`: the least of its 4 counters. */
  frequency(hash: number): number {
    const start = (hash & 3) << 2
    let frequency = 15
    for (let i = 0; i < 4; i++) {
      const count = this.counter(this.indexOf(hash, i), start + i)
      if (count < frequency) frequency = count
    }
    return frequency
  }

  private counter(word: number, j: number): number {
    return (this.table[2 * word + (j >>> 3)]! >>> ((j & 7) << 2)) & 0xf
  }

  /**
   * Adds one to each of the key's counters that is below 15. Returns which did change (bit `i` for
   * counter `i`), 0 when none did: what `decrement` takes to undo it, `incrementCounters` to redo it.
   */
  increment(hash: number): number {
    const start = (hash & 3) << 2
    let changed = 0
    for (let i = 0; i < 4; i++) {
      const word = this.indexOf(hash, i)
      if (this.counter(word, start + i) !== 15) {
        this.add(word, start + i, 1)
        changed |= 1 << i
      }
    }
    return changed
  }

  /** Adds one to the counters of `changed` (a result of `increment`). */
  incrementCounters(hash: number, changed: number): void {
    this.addCounters(hash, changed, 1)
  }

  /** Takes one from the counters of `changed` (a result of `increment`). */
  decrement(hash: number, changed: number): void {
    this.addCounters(hash, changed, -1)
  }

  private addCounters(hash: number, changed: number, delta: number): void {
    const start = (hash & 3) << 2
    for (let i = 0; i < 4; i++) {
      if ((changed & (1 << i)) !== 0) this.add(this.indexOf(hash, i), start + i, delta)
    }
  }

  private add(word: number, j: number, delta: number): void {
    const index = 2 * word + (j >>> 3)
    // No carry: a counter is below 15 when it is incremented, above 0 when it is decremented.
    this.table[index] = this.table[index]! + (delta << ((j & 7) << 2))
  }

  /**
   * Halves every counter into a new table, which replaces the current one; returns the number of
   * counters that were odd (the truncation error the aging corrects for). The old table is left
   * as it was, for the caller to keep as the undo record.
   */
  halve(): number {
    const old = this.table
    const halved = new Uint32Array(old.length)
    let odd = 0
    for (let i = 0; i < old.length; i++) {
      const word = old[i]!
      odd += bitCount(word & 0x11111111)
      halved[i] = (word >>> 1) & 0x77777777
    }
    this.table = halved
    return odd
  }
}

const bitCount = (x: number): number => {
  x = x - ((x >>> 1) & 0x55555555)
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333)
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff
}
