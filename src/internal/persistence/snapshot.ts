/**
 * Snapshots, as both backends read and write them: the state records replay into, its decoding
 * into entries, and the encoding of a cache's entries into a snapshot.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { PersistedEntry } from "../../CachePersistence.js"
import type { Codecs } from "./entryCodecs.js"
import * as records from "./records.js"

/** @internal */
export interface RawEntry {
  readonly key: Uint8Array
  readonly value: Uint8Array
  readonly expiresAt: number
}

/**
 * The state records replay into, least recent first. A snapshot's entries (distinct keys, in
 * order) are only listed; the map from encoded keys (as latin1 strings, one char per byte) to
 * entries is built when a journal record needs it, so that loading a clean snapshot costs no map.
 *
 * @internal
 */
export class RawState {
  private list: Array<RawEntry> = []
  private map: Map<string, RawEntry> | undefined
  /** A visitor for a snapshot: its sets are distinct keys, listed in order. */
  readonly snapshot: records.Visitor = {
    set: (key, value, expiresAt) => {
      if (this.map === undefined) this.list.push({ key, value, expiresAt })
      else this.journal.set(key, value, expiresAt)
    },
    delete: (key) => this.journal.delete(key),
    clear: () => this.journal.clear()
  }
  /** A visitor for a records. */
  readonly journal: records.Visitor = {
    set: (key, value, expiresAt) => {
      const map = this.keyed()
      const id = keyId(key)
      map.delete(id)
      map.set(id, { key, value, expiresAt })
    },
    delete: (key) => {
      this.keyed().delete(keyId(key))
    },
    clear: () => {
      this.keyed().clear()
    }
  }
  private keyed(): Map<string, RawEntry> {
    if (this.map === undefined) {
      this.map = new Map()
      for (const entry of this.list) {
        const id = keyId(entry.key)
        this.map.delete(id)
        this.map.set(id, entry)
      }
      this.list = []
    }
    return this.map
  }
  /** Live entries, least recent first, the most recent `capacity` of them at most. */
  live(now: number, capacity: number): Array<RawEntry> {
    const out: Array<RawEntry> = []
    for (const entry of this.map === undefined ? this.list : this.map.values()) {
      if (entry.expiresAt > now) out.push(entry)
    }
    return out.length > capacity ? out.slice(out.length - capacity) : out
  }
}

const keyId = (key: Uint8Array): string => {
  if (typeof Buffer === "function")
    return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("latin1")
  let id = ""
  for (let i = 0; i < key.length; i += 8192) id += String.fromCharCode(...key.subarray(i, i + 8192))
  return id
}

/**
 * Decodes raw entries; an entry whose key or value no longer decodes is skipped, counted, and
 * reported in a warning.
 *
 * @internal
 */
export const decodeEntries = <K, V>(
  codecs: Codecs<K, V>,
  raw: ReadonlyArray<RawEntry>,
  where: string
): Effect.Effect<Array<PersistedEntry<K, V>>> =>
  Effect.suspend(() => {
    const out: Array<PersistedEntry<K, V>> = []
    let skipped = 0
    let firstFailure = ""
    for (let i = 0; i < raw.length; i++) {
      const entry = raw[i]!
      const key = codecs.key.decode(entry.key)
      if (Either.isLeft(key)) {
        if (skipped++ === 0) firstFailure = key.left.description
        continue
      }
      const value = codecs.value.decode(entry.value)
      if (Either.isLeft(value)) {
        if (skipped++ === 0) firstFailure = value.left.description
        continue
      }
      out.push({ key: key.right, value: value.right, expiresAt: entry.expiresAt })
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
