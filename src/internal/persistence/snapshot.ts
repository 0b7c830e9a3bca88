/**
 * Snapshots, as both backends read and write them: the state records replay into, its decoding
 * into entries, and the encoding of a cache's entries into a snapshot.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { PersistedEntry } from "../../CachePersistence.js"
import * as codec from "./codec.js"
import type { Codecs } from "./entryCodecs.js"
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
  private sources: Array<Uint8Array> = []
  private keyStarts: Array<number> = []
  private valueStarts: Array<number> = []
  private ends: Array<number> = []
  private expiries: Array<number> = []
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
      this.keyStarts = []
      this.valueStarts = []
      this.ends = []
      this.expiries = []
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
    this.sources.push(bytes)
    this.keyStarts.push(keyStart)
    this.valueStarts.push(valueStart)
    this.ends.push(end)
    return this.expiries.push(expiresAt) - 1
  }
  private cut(row: number | undefined): void {
    if (row !== undefined) this.ends[row] = -1
  }
  private keyed(): Map<string, number> {
    if (this.index === undefined) {
      const index = new Map<string, number>()
      for (let row = 0; row < this.ends.length; row++) {
        const id = keyId(this.sources[row]!, this.keyStarts[row]!, this.valueStarts[row]!)
        // A snapshot written by this library has distinct keys; should one not, the later one counts.
        this.cut(index.get(id))
        index.set(id, row)
      }
      this.index = index
    }
    return this.index
  }
  /** The rows of live entries, least recent first, the most recent `capacity` of them at most. */
  liveRows(now: number, capacity: number): Array<number> {
    const out: Array<number> = []
    for (let row = 0; row < this.ends.length; row++) {
      if (this.ends[row]! >= 0 && this.expiries[row]! > now) out.push(row)
    }
    return out.length > capacity ? out.slice(out.length - capacity) : out
  }
  /** Live entries, least recent first, the most recent `capacity` of them at most. */
  live(now: number, capacity: number): Array<RawEntry> {
    return this.liveRows(now, capacity).map((row) => this.entry(row))
  }
  /** The entries of `rows`, as views of the bytes they were read from. */
  entries(rows: ReadonlyArray<number>): Iterable<RawEntry> {
    const self = this
    return {
      *[Symbol.iterator]() {
        for (const row of rows) yield self.entry(row)
      }
    }
  }
  private entry(row: number): RawEntry {
    const bytes = this.sources[row]!
    return {
      key: bytes.subarray(this.keyStarts[row]!, this.valueStarts[row]!),
      value: bytes.subarray(this.valueStarts[row]!, this.ends[row]!),
      expiresAt: this.expiries[row]!
    }
  }
  /**
   * Decodes the entries of `rows`; an entry whose key or value no longer decodes is skipped,
   * counted, and reported in a warning.
   */
  decode<K, V>(
    codecs: Codecs<K, V>,
    rows: ReadonlyArray<number>,
    where: string
  ): Effect.Effect<Array<PersistedEntry<K, V>>> {
    return Effect.suspend(() => {
      const decodeKey = codec.rangeDecoder(codecs.key)
      const decodeValue = codec.rangeDecoder(codecs.value)
      const { sources, keyStarts, valueStarts, ends, expiries } = this
      const out: Array<PersistedEntry<K, V>> = []
      let skipped = 0
      let firstFailure = ""
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i]!
        const bytes = sources[row]!
        const key = decodeKey(bytes, keyStarts[row]!, valueStarts[row]!)
        if (key instanceof codec.DecodeFailure) {
          if (skipped++ === 0) firstFailure = key.failure.description
          continue
        }
        const value = decodeValue(bytes, valueStarts[row]!, ends[row]!)
        if (value instanceof codec.DecodeFailure) {
          if (skipped++ === 0) firstFailure = value.failure.description
          continue
        }
        out.push({ key, value, expiresAt: expiries[row]! })
      }
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
