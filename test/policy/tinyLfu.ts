/**
 * The reference TinyLFU admission filter: a line-by-line port of Caffeine's simulator (Apache-2.0,
 * https://github.com/ben-manes/caffeine, commit ccef955), for the tests only.
 *
 * - `JavaRandom`: `java.util.Random` (the simulator seeds it with `random-seed = 1033096058`).
 * - `CountMin4`: `simulator/.../admission/countmin4/CountMin4.java` with the aging of
 *   `PeriodicResetCountMin4.java` (the default `tiny-lfu.count-min-4.reset = periodic`; its
 *   doorkeeper disabled and `count-min.conservative = false`, `counters-multiplier = 1.0`).
 * - `TinyLfu`: `simulator/.../admission/TinyLfu.java` with the default jitter (`threshold = 6`,
 *   `probability = 0.0078125`): Caffeine's guard against hash flooding, which admits a warm
 *   candidate at random now and then.
 *
 * Deliberately slow and literal: Java's `long` arithmetic is done in `BigInt`, wrapped to 64 bits
 * exactly where Java wraps, so that the port can be checked against the Java source line by line.
 */

const MASK_48 = (1n << 48n) - 1n
const MULTIPLIER = 0x5deece66dn

/** `java.util.Random`: a 48-bit linear congruential generator. */
export class JavaRandom {
  private seed: bigint
  constructor(seed: number) {
    this.seed = (BigInt(seed) ^ MULTIPLIER) & MASK_48
  }
  private next(bits: number): number {
    this.seed = (this.seed * MULTIPLIER + 0xbn) & MASK_48
    return Number(BigInt.asIntN(32, this.seed >> BigInt(48 - bits)))
  }
  nextFloat(): number {
    return this.next(24) / (1 << 24)
  }
}

/** Java's `Long.hashCode(long)`: the two halves of the value XORed. */
export const longHashCode = (value: number): number => {
  const long = BigInt.asIntN(64, BigInt(value))
  return Number(BigInt.asIntN(32, long ^ (BigInt.asUintN(64, long) >> 32n)))
}

const SEED = [0xc3a5c85c97cb3127n, 0xb492b66fbe98f273n, 0x9ae16a3b2f90404fn, 0xcbf29ce484222325n].map((s) =>
  BigInt.asIntN(64, s)
)
const RESET_MASK = 0x7777777777777777n
const ONE_MASK = 0x1111111111111111n

const ceilingPowerOfTwo = (n: number): number => {
  let power = 1
  while (power < n) power *= 2
  return power
}

const bitCount = (x: bigint): number => {
  let count = 0
  for (let v = BigInt.asUintN(64, x); v !== 0n; v >>= 1n) count += Number(v & 1n)
  return count
}

/**
 * The 4-bit count-min sketch with periodic halving. `frequency` and `increment` take the element's
 * 32-bit hash (Java's `Long.hashCode(e)`), so that the tests can feed it the production hash too.
 */
export class CountMin4 {
  readonly table: BigInt64Array
  readonly tableMask: number
  readonly period: number
  additions = 0

  constructor(maximumSize: number) {
    // ensureCapacity(maximumSize) with countersMultiplier = 1.0
    const maximum = Math.min(maximumSize, 0x3fffffff)
    this.table = new BigInt64Array(maximum === 0 ? 1 : ceilingPowerOfTwo(maximum))
    this.tableMask = Math.max(0, this.table.length - 1)
    // PeriodicResetCountMin4.ensureCapacity
    this.period = maximumSize === 0 ? 10 : 10 * this.table.length
  }

  frequency(elementHash: number): number {
    const hash = this.spread(elementHash)
    const start = (hash & 3) << 2
    let frequency = Number.MAX_SAFE_INTEGER
    for (let i = 0; i < 4; i++) {
      const index = this.indexOf(hash, i)
      const count = Number((BigInt.asUintN(64, this.table[index]!) >> BigInt((start + i) << 2)) & 0xfn)
      frequency = Math.min(frequency, count)
    }
    return frequency
  }

  /** `regularIncrement`, then `tryReset`. */
  increment(elementHash: number): void {
    const hash = this.spread(elementHash)
    const start = (hash & 3) << 2
    const index0 = this.indexOf(hash, 0)
    const index1 = this.indexOf(hash, 1)
    const index2 = this.indexOf(hash, 2)
    const index3 = this.indexOf(hash, 3)
    let added = this.incrementAt(index0, start)
    added = this.incrementAt(index1, start + 1) || added
    added = this.incrementAt(index2, start + 2) || added
    added = this.incrementAt(index3, start + 3) || added
    this.tryReset(added)
  }

  private incrementAt(i: number, j: number): boolean {
    const offset = BigInt(j << 2)
    const mask = BigInt.asIntN(64, 0xfn << offset)
    if ((this.table[i]! & mask) !== mask) {
      const current = BigInt.asUintN(64, this.table[i]! & mask) >> offset
      const update = current + 1n > 15n ? 15n : current + 1n
      this.table[i] = BigInt.asIntN(64, (this.table[i]! & ~mask) | (update << offset))
      return true
    }
    return false
  }

  private tryReset(added: boolean): void {
    if (!added) return
    this.additions++
    if (this.additions !== this.period) return
    let count = 0
    for (let i = 0; i < this.table.length; i++) {
      count += bitCount(this.table[i]! & ONE_MASK)
      this.table[i] = BigInt.asIntN(64, (BigInt.asUintN(64, this.table[i]!) >> 1n) & RESET_MASK)
    }
    this.additions = (this.additions - (count >>> 2)) >>> 1
  }

  indexOf(item: number, i: number): number {
    let hash = BigInt.asIntN(64, (BigInt(item) + SEED[i]!) * SEED[i]!)
    hash = BigInt.asIntN(64, hash + (BigInt.asUintN(64, hash) >> 32n))
    return Number(BigInt.asIntN(32, hash)) & this.tableMask
  }

  spread(x: number): number {
    x = Math.imul((x >>> 16) ^ x, 0x45d9f3b)
    x = Math.imul((x >>> 16) ^ x, 0x45d9f3b)
    return (x >>> 16) ^ x
  }
}

/** The simulator's default `random-seed`. */
export const RANDOM_SEED = 1033096058

/** The admittor: counts every access, and admits a candidate that is more frequent than the victim. */
export class TinyLfu<K> {
  readonly sketch: CountMin4
  readonly random = new JavaRandom(RANDOM_SEED)
  readonly threshold = 6
  readonly probability = 0.0078125

  constructor(
    maximumSize: number,
    readonly hash: (key: K) => number
  ) {
    this.sketch = new CountMin4(maximumSize)
  }

  record(key: K): void {
    this.sketch.increment(this.hash(key))
  }

  admit(candidateKey: K, victimKey: K): boolean {
    const victimFreq = this.sketch.frequency(this.hash(victimKey))
    const candidateFreq = this.sketch.frequency(this.hash(candidateKey))
    return (
      candidateFreq > victimFreq ||
      (candidateFreq >= this.threshold && this.random.nextFloat() < this.probability)
    )
  }
}
