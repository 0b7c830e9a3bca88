/**
 * Snapshots, as both backends read and write them: the state records replay into, its decoding
 * into entries, and the encoding of a cache's entries into a snapshot.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { PersistedEntry } from "../../CachePersistence.js"
import * as codec from "./codec.js"
import type { Codecs } from "./entryCodecs.js"
import type { LoadedColumns } from "./loadedColumns.js"
import * as records from "./records.js"

/** @internal */
export interface RawEntry {
  readonly key: Uint8Array
  readonly value: Uint8Array
  readonly expiresAt: number
}

/**
 * The state records replay into, least recent first, as columns with one row per set record kept:
 * the bytes it was read from, and its key's and value's offsets in them. A load reads a million
 * rows: columns of numbers cost no object per record, and the bytes are never copied.
 *
 * A snapshot's rows (distinct keys, in order) are only listed; the index from encoded keys (as
 * latin1 strings, one char per byte) to rows is built when a journal record needs it, so that
 * loading a clean snapshot costs no map. A row that a later record replaces or deletes is cut
 * (its end set to -1) and skipped.
 *
 * @internal
 */
export class RawState {
  /** The bytes rows were read from: a file's, as a rule one or two. */
  private sources: Array<Uint8Array> = []
  /** `WIDTH` numbers a row: its source, key start, value start, end (-1 once cut), expiry. */
  private columns = new Float64Array(WIDTH * 1024)
  private rows = 0
  private index: Map<string, number> | undefined
  /** A visitor for a snapshot: its sets are distinct keys, listed in order. */
  readonly snapshot: records.Visitor = {
    set: (key, value, expiresAt) => this.snapshot.setAt!(...joined(key, value), expiresAt),
    setAt: (bytes, keyStart, valueStart, end, expiresAt) => {
      if (this.index === undefined) this.push(bytes, keyStart, valueStart, end, expiresAt)
      else this.journal.setAt!(bytes, keyStart, valueStart, end, expiresAt)
    },
    delete: (key) => this.journal.delete(key),
    clear: () => this.journal.clear()
  }
  /** A visitor for a journal. */
  readonly journal: records.Visitor = {
    set: (key, value, expiresAt) => this.journal.setAt!(...joined(key, value), expiresAt),
    setAt: (bytes, keyStart, valueStart, end, expiresAt) => {
      const index = this.keyed()
      const id = keyId(bytes, keyStart, valueStart)
      this.cut(index.get(id))
      index.set(id, this.push(bytes, keyStart, valueStart, end, expiresAt))
    },
    delete: (key) => {
      const index = this.keyed()
      const id = keyId(key, 0, key.length)
      this.cut(index.get(id))
      index.delete(id)
    },
    clear: () => {
      this.sources = []
      this.rows = 0
      this.index = new Map()
    }
  }
  private push(
    bytes: Uint8Array,
    keyStart: number,
    valueStart: number,
    end: number,
    expiresAt: number
  ): number {
    const sources = this.sources
    if (sources[sources.length - 1] !== bytes) sources.push(bytes)
    let columns = this.columns
    const at = this.rows * WIDTH
    if (at === columns.length) {
      columns = new Float64Array(columns.length * 2)
      columns.set(this.columns)
      this.columns = columns
    }
    columns[at] = sources.length - 1
    columns[at + 1] = keyStart
    columns[at + 2] = valueStart
    columns[at + 3] = end
    columns[at + 4] = expiresAt
    return this.rows++
  }
  private cut(row: number | undefined): void {
    if (row !== undefined) this.columns[row * WIDTH + 3] = -1
  }
  private keyed(): Map<string, number> {
    if (this.index === undefined) {
      const index = new Map<string, number>()
      const columns = this.columns
      for (let row = 0, at = 0; row < this.rows; row++, at += WIDTH) {
        const id = keyId(this.sources[columns[at]!]!, columns[at + 1]!, columns[at + 2]!)
        // A snapshot written by this library has distinct keys; should one not, the later one counts.
        this.cut(index.get(id))
        index.set(id, row)
      }
      this.index = index
    }
    return this.index
  }
  /** The rows of live entries, least recent first, the most recent `capacity` of them at most. */
  liveRows(now: number, capacity: number): Int32Array {
    const out = new Int32Array(this.rows)
    const columns = this.columns
    let live = 0
    for (let row = 0, at = 0; row < this.rows; row++, at += WIDTH) {
      if (columns[at + 3]! >= 0 && columns[at + 4]! > now) out[live++] = row
    }
    return out.subarray(Math.max(0, live - capacity), live)
  }
  /** Live entries, least recent first, the most recent `capacity` of them at most. */
  live(now: number, capacity: number): Array<RawEntry> {
    return Array.from(this.liveRows(now, capacity), (row) => this.entry(row))
  }
  /** The entries of `rows`, as views of the bytes they were read from. */
  entries(rows: ArrayLike<number>): Iterable<RawEntry> {
    const self = this
    return {
      *[Symbol.iterator]() {
        for (let i = 0; i < rows.length; i++) yield self.entry(rows[i]!)
      }
    }
  }
  private entry(row: number): RawEntry {
    const at = row * WIDTH
    const columns = this.columns
    const bytes = this.sources[columns[at]!]!
    return {
      key: bytes.subarray(columns[at + 1]!, columns[at + 2]!),
      value: bytes.subarray(columns[at + 2]!, columns[at + 3]!),
      expiresAt: columns[at + 4]!
    }
  }
  /**
   * Decodes the entries of `rows`, into columns (loadedColumns.ts says why); an entry whose key or value no longer decodes is skipped,
   * counted, and reported in a warning.
   */
  decode<K, V>(
    codecs: Codecs<K, V>,
    rows: ArrayLike<number>,
    where: string
  ): Effect.Effect<LoadedColumns<K, V>> {
    return Effect.suspend(() => {
      const decodeKey = codec.rangeDecoder(codecs.key)
      const decodeValue = codec.rangeDecoder(codecs.value)
      const { sources, columns } = this
      // Sized once: growing two arrays of a million by doubling would copy them about twice over.
      const keys = new Array<K>(rows.length)
      const values = new Array<V>(rows.length)
      const expiries = new Float64Array(rows.length)
      let count = 0
      let skipped = 0
      let firstFailure = ""
      for (let i = 0; i < rows.length; i++) {
        const at = rows[i]! * WIDTH
        const bytes = sources[columns[at]!]!
        const key = decodeKey(bytes, columns[at + 1]!, columns[at + 2]!)
        if (key instanceof codec.DecodeFailure) {
          if (skipped++ === 0) firstFailure = key.failure.description
          continue
        }
        const value = decodeValue(bytes, columns[at + 2]!, columns[at + 3]!)
        if (value instanceof codec.DecodeFailure) {
          if (skipped++ === 0) firstFailure = value.failure.description
          continue
        }
        keys[count] = key
        values[count] = value
        expiries[count++] = columns[at + 4]!
      }
      keys.length = count
      values.length = count
      const out: LoadedColumns<K, V> = { keys, values, expiries: expiries.subarray(0, count), length: count }
      return skipped === 0
        ? Effect.succeed(out)
        : Effect.as(
            Effect.logWarning(
              `skipped ${skipped} persisted entries that no longer decode (first: ${firstFailure})`
            ).pipe(Effect.annotateLogs({ path: where, skipped })),
            out
          )
    })
  }
}

const WIDTH = 5

/** A key and a value given as separate views, as one row's bytes (a copy: not the load's path). */
const joined = (key: Uint8Array, value: Uint8Array): [Uint8Array, number, number, number] => {
  const bytes = new Uint8Array(key.length + value.length)
  bytes.set(key)
  bytes.set(value, key.length)
  return [bytes, 0, key.length, bytes.length]
}

const keyId = (bytes: Uint8Array, start: number, end: number): string => {
  if (typeof Buffer === "function") return Buffer.prototype.latin1Slice.call(bytes, start, end)
  let id = ""
  for (let i = start; i < end; i += 8192)
    id += String.fromCharCode(...bytes.subarray(i, Math.min(i + 8192, end)))
  return id
}

const CHUNK = 1 << 20

/**
 * Encodes a snapshot into chunks of about 1 MiB, handing each to `emit` as it fills, so that a
 * large cache never needs one buffer of its whole size. Returns the number of bytes.
 *
 * @internal
 */
export const encodeSnapshot = <E, R>(
  generation: number,
  entries: Iterable<RawEntry>,
  emit: (chunk: Uint8Array) => Effect.Effect<void, E, R>
): Effect.Effect<number, E, R> =>
  Effect.gen(function* () {
    const header = records.encodeHeader(records.SNAPSHOT_MAGIC, generation)
    let chunk = new Uint8Array(CHUNK)
    chunk.set(header)
    let offset = header.length
    let total = 0
    let count = 0
    for (const entry of entries) {
      const length = records.setRecordLength(entry.key, entry.value)
      if (offset + length > chunk.length) {
        yield* emit(chunk.subarray(0, offset))
        total += offset
        chunk = new Uint8Array(Math.max(CHUNK, length))
        offset = 0
      }
      offset = records.writeSet(chunk, offset, entry.key, entry.value, entry.expiresAt)
      count++
    }
    const end = records.encodeEnd(count)
    if (offset + end.length > chunk.length) {
      yield* emit(chunk.subarray(0, offset))
      total += offset
      chunk = new Uint8Array(end.length)
      offset = 0
    }
    chunk.set(end, offset)
    offset += end.length
    yield* emit(chunk.subarray(0, offset))
    return total + offset
  })

/**
 * The live entries of a cache as raw entries; an entry that no longer encodes (a value mutated
 * since it was set) is left out of the snapshot and reported.
 *
 * @internal
 */
export const encodeEntries = <K, V>(
  codecs: Codecs<K, V>,
  entries: ReadonlyArray<PersistedEntry<K, V>>,
  onFailure: () => void
): Iterable<RawEntry> => ({
  *[Symbol.iterator]() {
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!
      const key = codecs.key.encode(entry.key)
      const value = codecs.value.encode(entry.value)
      if (Either.isLeft(key) || Either.isLeft(value)) {
        onFailure()
        continue
      }
      yield { key: key.right, value: value.right, expiresAt: entry.expiresAt }
    }
  }
})
