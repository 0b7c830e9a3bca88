/**
 * What the file and `KeyValueStore` backends share: codecs resolved from options, the replay of
 * records into a state, the decoding of that state into entries, and snapshot encoding.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Equal from "effect/Equal"
import { InvalidOption, PersistenceError } from "../../CacheError.js"
import type { Codec, CodecOptions, PersistedEntry } from "../../CachePersistence.js"
import * as codec from "./codec.js"
import * as journal from "./records.js"

/** @internal */
export interface Codecs<K, V> {
  readonly key: Codec<K>
  readonly value: Codec<V>
}

/** @internal */
export const resolveCodecs = <K, V>(
  method: string,
  options: CodecOptions<K, V>
): Effect.Effect<Codecs<K, V>, InvalidOption> => {
  for (const name of ["codec", "keyCodec", "valueCodec"] as const) {
    const value = options[name]
    if (value !== undefined && !codec.isCodec(value)) {
      return Effect.fail(
        new InvalidOption({
          method,
          option: name,
          reason: "must be a codec from CachePersistence.codec",
          value
        })
      )
    }
  }
  const shared: Codec<K | V> = options.codec ?? codec.structuredClone
  return Effect.succeed({
    key: keyCodecOf(options.keyCodec ?? (shared as Codec<K>)),
    value: options.valueCodec ?? (shared as Codec<V>)
  })
}

/**
 * Keys must come back as keys the cache finds again:
 * - the cache finds `0` under `-0` (keys compare as in a `Map`), so on disk they are one key too,
 *   or a delete of one would not match a set of the other when the journal is replayed;
 * - a key compared by `Equal` (a `Data` struct...) would come back from the structured-clone or
 *   JSON codec as a plain object, compared by identity: never found again. Such keys fail to encode
 *   (the set fails with "Unencodable" and the cache is unchanged) with those two codecs.
 */
const keyCodecOf = <K>(keyCodec: Codec<K>): Codec<K> => {
  const dropsPrototypes = keyCodec === codec.structuredClone || keyCodec === codec.json
  return {
    ...keyCodec,
    encode: (key) =>
      dropsPrototypes && Equal.isEqual(key)
        ? Either.left({
            description: `a key compared by Equal (a Data struct...) would not come back as itself from the ${keyCodec.name} codec: give keyCodec a CachePersistence.codec.schema`
          })
        : keyCodec.encode((key === 0 ? 0 : key) as K)
  }
}

/**
 * Encodes a set record, or fails with reason "Unencodable".
 *
 * @internal
 */
export const encodeSetRecord = <K, V>(
  codecs: Codecs<K, V>,
  method: string,
  key: K,
  value: V,
  expiresAt: number
): Either.Either<Uint8Array, PersistenceError> => {
  const keyBytes = codecs.key.encode(key)
  if (Either.isLeft(keyBytes)) return Either.left(unencodable(codecs.key.name, method, "key", keyBytes.left))
  const valueBytes = codecs.value.encode(value)
  if (Either.isLeft(valueBytes)) {
    return Either.left(unencodable(codecs.value.name, method, "value", valueBytes.left))
  }
  return Either.right(journal.encodeSet(keyBytes.right, valueBytes.right, expiresAt))
}

const unencodable = (
  codecName: string,
  method: string,
  what: string,
  failure: { readonly description: string; readonly cause?: unknown }
) =>
  new PersistenceError({
    reason: "Unencodable",
    method,
    description: `the ${codecName} codec cannot encode this ${what}: ${failure.description}; the cache was left unchanged`,
    cause: failure.cause
  })

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
  readonly snapshot: journal.Visitor = {
    set: (key, value, expiresAt) => {
      if (this.map === undefined) this.list.push({ key, value, expiresAt })
      else this.journal.set(key, value, expiresAt)
    },
    delete: (key) => this.journal.delete(key),
    clear: () => this.journal.clear()
  }
  /** A visitor for a journal. */
  readonly journal: journal.Visitor = {
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
    const header = journal.encodeHeader(journal.SNAPSHOT_MAGIC, generation)
    let chunk = new Uint8Array(CHUNK)
    chunk.set(header)
    let offset = header.length
    let total = 0
    let count = 0
    for (const entry of entries) {
      const length = journal.setRecordLength(entry.key, entry.value)
      if (offset + length > chunk.length) {
        yield* emit(chunk.subarray(0, offset))
        total += offset
        chunk = new Uint8Array(Math.max(CHUNK, length))
        offset = 0
      }
      offset = journal.writeSet(chunk, offset, entry.key, entry.value, entry.expiresAt)
      count++
    }
    const end = journal.encodeEnd(count)
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

/**
 * Sixteen random hex digits from the platform's cryptographic generator: temporary names that
 * another user of the machine cannot predict (the Effect `Random` service is a seeded PRNG).
 *
 * @internal
 */
export const randomSuffix = (): string => {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(8))
  let out = ""
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0")
  return out
}

/**
 * What goes between a file's name and the random suffix of a temporary file written for it.
 *
 * @internal
 */
export const TEMPORARY_INFIX = ".tmp-"

/**
 * Whether `name`, in the cache file's directory, is a temporary file of the cache file named
 * `base`: the names written now (`<base>.tmp-<random>`, `<base>.journal.tmp-<random>`,
 * `<base>.lock.tmp-<random>`) and the fixed ones of earlier versions (`<base>.tmp`,
 * `<base>.journal.tmp`, `<base>.lock.<pid>.tmp`).
 *
 * @internal
 */
export const isTemporaryOf = (base: string, name: string): boolean => {
  if (!name.startsWith(base)) return false
  const rest = name.slice(base.length)
  return /^(\.journal|\.lock)?\.tmp(-[0-9a-f]{16})?$/.test(rest) || /^\.lock\.\d+\.tmp$/.test(rest)
}

/**
 * What a load found wrong in a file, for the warning that reports it. `whole` is how a sound file of
 * this kind ends (`"end"` for a snapshot, `"eof"` for a journal).
 *
 * @internal
 */
export const describeDamage = (what: string, result: journal.ScanResult, whole: journal.Stop): string => {
  const lost = result.stop !== whole
  const parts: Array<string> = []
  if (result.repaired === 1) {
    parts.push("repaired 1 record whose length was damaged (its checksum confirms it)")
  } else if (result.repaired > 1) {
    parts.push(`repaired ${result.repaired} records whose length was damaged (their checksums confirm them)`)
  }
  if (lost) {
    parts.push(`kept the ${result.records} records before it`)
    if (result.lostAfter > 0) {
      parts.push(`lost the damaged record and the ${result.lostAfter} valid records after it`)
    }
  }
  return `${what} is damaged${lost ? ` at byte ${result.validLength}` : ""}: ${parts.join("; ")}`
}
