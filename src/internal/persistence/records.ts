/**
 * The on-disk record format shared by snapshots and journals.
 *
 * A file is an 8-byte magic string followed by records. A record is
 * `[u32 body length][u32 CRC-32 of the body][body]`, little-endian, and a body starts with its kind:
 *
 * - header `[0][u8 format version][f64 generation]`: always the first record;
 * - set `[1][f64 expiresAt][u32 key length][key][value]` (`expiresAt` absolute, `Infinity` = never);
 * - delete `[2][key]`;
 * - clear `[3]`;
 * - end `[4][u32 entry count]`: last record of a complete snapshot;
 * - delete many `[5][u32 key count]([u32 key length][key])*`: the keys one `invalidateWhen`
 *   removed, in one record so that a crash keeps all of them or none. A kind added to format
 *   version 1 without changing it: files without it read as before, and a reader older than this
 *   kind reports it as an unknown kind (keeping the records before it).
 *
 * Also the scan that reads records back, and the descriptions of the damage it finds.
 *
 * @internal
 */
import { nodeBuiltin } from "./nodeBuiltin.js"

/** @internal */
export const SNAPSHOT_MAGIC = "ELRUSNP1"

/** @internal */
export const JOURNAL_MAGIC = "ELRUJNL1"

/** @internal */
export const FORMAT_VERSION = 1

/** @internal */
export const KIND_HEADER = 0
/** @internal */
export const KIND_SET = 1
/** @internal */
export const KIND_DELETE = 2
/** @internal */
export const KIND_CLEAR = 3
/** @internal */
export const KIND_END = 4
/** @internal */
export const KIND_DELETE_MANY = 5

const FRAME = 8
const MAGIC_LENGTH = 8

const CRC_TABLE = (() => {
  // Eight tables for slicing-by-8: a load checks every record of a file, a million for a large cache.
  const table = new Int32Array(256 * 8)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c
  }
  for (let n = 0; n < 256; n++) {
    let c = table[n]!
    for (let k = 1; k < 8; k++) {
      c = table[c & 0xff]! ^ (c >>> 8)
      table[k * 256 + n] = c
    }
  }
  return table
})()

/**
 * CRC-32 (IEEE 802.3, the one of zlib and PNG) of `bytes[start, end)`, continuing from `initial`
 * (the CRC of the bytes before, as `zlib.crc32`'s second argument), by the table above.
 *
 * @internal
 */
export const crc32Table = (bytes: Uint8Array, start = 0, end = bytes.length, initial = 0): number => {
  const t = CRC_TABLE
  let c = initial ^ -1
  let i = start
  for (; i + 8 <= end; i += 8) {
    const a = c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))
    c =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + bytes[i + 4]!]! ^
      t[512 + bytes[i + 5]!]! ^
      t[256 + bytes[i + 6]!]! ^
      t[bytes[i + 7]!]!
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ -1) >>> 0
}

// Looked up rather than imported, so that this module loads in a browser too (the KeyValueStore
// backend over localStorage), where the table does all the work.
const zlibCrc32 = nodeBuiltin("node:zlib")?.crc32

// Below this length the table wins: a call into zlib, and the subarray it needs, cost more than the
// bytes (measured on Node 20: the table 2 to 6 times faster on records of 32 to 128 bytes, even at
// 256; zlib 2 to 4 times faster from 1 KiB, which is what a whole file or a large value is).
const ZLIB_FROM = 256

/**
 * CRC-32 (IEEE 802.3) of `bytes[start, end)`, continuing from `initial`: `zlib.crc32` for long
 * spans, the table for short ones. Both give the same values.
 *
 * @internal
 */
export const crc32 = (bytes: Uint8Array, start = 0, end = bytes.length, initial = 0): number =>
  zlibCrc32 !== undefined && end - start >= ZLIB_FROM
    ? zlibCrc32(bytes.subarray(start, end), initial)
    : crc32Table(bytes, start, end, initial)

const writeFrame = (out: Uint8Array, view: DataView, offset: number, bodyLength: number): void => {
  view.setUint32(offset, bodyLength, true)
  view.setUint32(offset + 4, crc32(out, offset + FRAME, offset + FRAME + bodyLength), true)
}

/** @internal */
export const setRecordLength = (key: Uint8Array, value: Uint8Array): number =>
  FRAME + 13 + key.length + value.length

/**
 * Writes a set record into `out` at `offset`; returns the offset after it.
 *
 * @internal
 */
export const writeSet = (
  out: Uint8Array,
  offset: number,
  key: Uint8Array,
  value: Uint8Array,
  expiresAt: number
): number => {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength)
  const body = offset + FRAME
  out[body] = KIND_SET
  view.setFloat64(body + 1, expiresAt, true)
  view.setUint32(body + 9, key.length, true)
  out.set(key, body + 13)
  out.set(value, body + 13 + key.length)
  const bodyLength = 13 + key.length + value.length
  writeFrame(out, view, offset, bodyLength)
  return offset + FRAME + bodyLength
}

/** @internal */
export const encodeSet = (key: Uint8Array, value: Uint8Array, expiresAt: number): Uint8Array => {
  const out = new Uint8Array(setRecordLength(key, value))
  writeSet(out, 0, key, value, expiresAt)
  return out
}

/** @internal */
export const encodeDelete = (key: Uint8Array): Uint8Array => {
  const out = new Uint8Array(FRAME + 1 + key.length)
  out[FRAME] = KIND_DELETE
  out.set(key, FRAME + 1)
  writeFrame(out, new DataView(out.buffer), 0, 1 + key.length)
  return out
}

/** @internal */
export const encodeDeleteMany = (keys: ReadonlyArray<Uint8Array>): Uint8Array => {
  let bodyLength = 5
  for (const key of keys) bodyLength += 4 + key.length
  const out = new Uint8Array(FRAME + bodyLength)
  const view = new DataView(out.buffer)
  out[FRAME] = KIND_DELETE_MANY
  view.setUint32(FRAME + 1, keys.length, true)
  let offset = FRAME + 5
  for (const key of keys) {
    view.setUint32(offset, key.length, true)
    out.set(key, offset + 4)
    offset += 4 + key.length
  }
  writeFrame(out, view, 0, bodyLength)
  return out
}

/** Whether the keys of a delete-many body `[body, next)` fill it exactly, as many as it says. */
const deleteManyFits = (view: DataView, body: number, next: number): boolean => {
  if (next - body < 5) return false
  let count = view.getUint32(body + 1, true)
  let offset = body + 5
  for (; count > 0 && offset + 4 <= next; count--) offset += 4 + view.getUint32(offset, true)
  return count === 0 && offset === next
}

/** @internal */
export const encodeClear = (): Uint8Array => {
  const out = new Uint8Array(FRAME + 1)
  out[FRAME] = KIND_CLEAR
  writeFrame(out, new DataView(out.buffer), 0, 1)
  return out
}

/**
 * The magic string and the header record that open a file.
 *
 * @internal
 */
export const encodeHeader = (magic: string, generation: number): Uint8Array => {
  const out = new Uint8Array(MAGIC_LENGTH + FRAME + 10)
  for (let i = 0; i < MAGIC_LENGTH; i++) out[i] = magic.charCodeAt(i)
  const view = new DataView(out.buffer)
  out[MAGIC_LENGTH + FRAME] = KIND_HEADER
  out[MAGIC_LENGTH + FRAME + 1] = FORMAT_VERSION
  view.setFloat64(MAGIC_LENGTH + FRAME + 2, generation, true)
  writeFrame(out, view, MAGIC_LENGTH, 10)
  return out
}

/** @internal */
export const encodeEnd = (count: number): Uint8Array => {
  const out = new Uint8Array(FRAME + 5)
  const view = new DataView(out.buffer)
  out[FRAME] = KIND_END
  view.setUint32(FRAME + 1, count, true)
  writeFrame(out, view, 0, 5)
  return out
}

/**
 * Where reading a file stopped.
 *
 * - `"end"`: a snapshot's end record, with the right count, closing the file;
 * - `"eof"`: the last record ended exactly at the end of the file;
 * - `"torn"`: the damage reaches the end of the file: no valid record follows it (what a write cut
 *   short leaves, possibly followed by the zeros some file systems add after a crash);
 * - `"corrupt"`: anything else: a bad magic or header, a bad record with valid records after it
 *   (damage in the middle), an unknown kind, data after the end record, a wrong count.
 *
 * @internal
 */
export type Stop = "end" | "eof" | "torn" | "corrupt"

/** @internal */
export interface Visitor {
  readonly set: (key: Uint8Array, value: Uint8Array, expiresAt: number) => void
  /**
   * Takes a set record's key `bytes[keyStart, valueStart)` and value `bytes[valueStart, end)` in
   * place of `set` when given: a load visits a million records, and two views each are garbage.
   */
  readonly setAt?: (
    bytes: Uint8Array,
    keyStart: number,
    valueStart: number,
    end: number,
    expiresAt: number
  ) => void
  readonly delete: (key: Uint8Array) => void
  /**
   * Takes a delete-many record's keys at once when given (a reader that lists records, where the
   * record is one); otherwise each key goes to `delete`, in order.
   */
  readonly deleteMany?: (keys: ReadonlyArray<Uint8Array>) => void
  readonly clear: () => void
}

/** @internal */
export interface ScanResult {
  /** The generation of the header, `undefined` when the header itself is invalid. */
  readonly generation: number | undefined
  readonly stop: Stop
  /** Bytes from the start of the file to the end of the last valid record. */
  readonly validLength: number
  /** Valid records visited. */
  readonly records: number
  /** Records visited whose length field was damaged, and restored from their checksum. */
  readonly repaired: number
  /** Where each of those records starts, in the order read. */
  readonly repairedAt: ReadonlyArray<number>
  /** Valid records found after the point where reading stopped, and not visited. */
  readonly lostAfter: number
}

/**
 * Whether the body `[body, next)` is well formed for its kind (its checksum aside).
 */
const isWellFormed = (bytes: Uint8Array, view: DataView, body: number, next: number): boolean => {
  const bodyLength = next - body
  switch (bytes[body]) {
    case KIND_SET:
      return (
        bodyLength >= 13 &&
        13 + view.getUint32(body + 9, true) <= bodyLength &&
        !Number.isNaN(view.getFloat64(body + 1, true))
      )
    case KIND_DELETE:
      return true
    case KIND_CLEAR:
      return bodyLength === 1
    case KIND_END:
      return bodyLength === 5
    case KIND_DELETE_MANY:
      return deleteManyFits(view, body, next)
    default:
      return false
  }
}

/** The end of the valid record at `offset`, or -1. */
const validRecordEnd = (bytes: Uint8Array, view: DataView, offset: number): number => {
  if (offset + FRAME > bytes.length) return -1
  const bodyLength = view.getUint32(offset, true)
  const body = offset + FRAME
  const next = body + bodyLength
  // The cheap checks first: this runs at every byte offset when looking for a record after damage.
  if (bodyLength === 0 || next > bytes.length || !isWellFormed(bytes, view, body, next)) return -1
  return view.getUint32(offset + 4, true) === crc32(bytes, body, next) ? next : -1
}

/**
 * The true end of the record at `offset` when only its length field is damaged: the first record
 * boundary after it (the end of the file, or the start of a valid record) up to which the body's
 * checksum matches the one stored. A match by chance has odds of 1 in 2^32.
 */
const repairedEnd = (bytes: Uint8Array, view: DataView, offset: number): number => {
  if (offset + FRAME > bytes.length) return -1
  const stored = view.getUint32(offset + 4, true)
  const body = offset + FRAME
  let crc = 0
  let checked = body
  for (let boundary = body + 1; boundary <= bytes.length; boundary++) {
    if (boundary < bytes.length && validRecordEnd(bytes, view, boundary) < 0) continue
    crc = crc32(bytes, checked, boundary, crc)
    checked = boundary
    if (crc === stored && isWellFormed(bytes, view, body, boundary)) return boundary
  }
  return -1
}

/** How many valid records follow one another from the first one found after `offset`. */
const countValidAfter = (bytes: Uint8Array, view: DataView, offset: number): number => {
  for (let start = offset + 1; start < bytes.length; start++) {
    let next = validRecordEnd(bytes, view, start)
    if (next < 0) continue
    let count = 0
    while (next >= 0) {
      count++
      next = next < bytes.length ? validRecordEnd(bytes, view, next) : -1
    }
    return count
  }
  return 0
}

/**
 * Reads `bytes` as a file of the given kind, visiting every valid record in order and stopping at
 * the first invalid one: what has been visited is the longest valid prefix. A record whose length
 * field alone is damaged is repaired from its checksum and visited. Records are visited only if
 * `accept` takes the header's generation.
 *
 * Reading stops at damage rather than going on after it: records applied on both sides of a lost
 * one (a delete, a clear) could make a state that never existed. The valid records after it are
 * counted, so that the loss can be reported.
 *
 * @internal
 */
export const scan = (
  bytes: Uint8Array,
  magic: string,
  visitor: Visitor,
  accept: (generation: number) => boolean = () => true
): ScanResult => {
  const length = bytes.length
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const repairedAt: Array<number> = []
  const result = (
    generation: number | undefined,
    stop: Stop,
    validLength: number,
    records: number,
    lostAfter = 0
  ): ScanResult => ({
    generation,
    stop,
    validLength,
    records,
    repaired: repairedAt.length,
    repairedAt,
    lostAfter
  })
  if (length < MAGIC_LENGTH + FRAME + 10) {
    return result(undefined, isPrefixOfHeader(bytes, magic) ? "torn" : "corrupt", 0, 0)
  }
  for (let i = 0; i < MAGIC_LENGTH; i++) {
    if (bytes[i] !== magic.charCodeAt(i)) return result(undefined, "corrupt", 0, 0)
  }
  const headerStart = MAGIC_LENGTH + FRAME
  if (
    view.getUint32(MAGIC_LENGTH, true) !== 10 ||
    view.getUint32(MAGIC_LENGTH + 4, true) !== crc32(bytes, headerStart, headerStart + 10) ||
    bytes[headerStart] !== KIND_HEADER ||
    bytes[headerStart + 1] !== FORMAT_VERSION
  ) {
    return result(undefined, "corrupt", 0, 0)
  }
  const generation = view.getFloat64(headerStart + 2, true)
  if (!Number.isSafeInteger(generation) || generation < 0) return result(undefined, "corrupt", 0, 0)
  if (!accept(generation)) return result(generation, "eof", 0, 0)
  let offset = headerStart + 10
  let records = 0
  let sets = 0
  const damaged = (stop: "torn" | "corrupt") => {
    const lostAfter = countValidAfter(bytes, view, offset)
    return result(generation, stop === "torn" && lostAfter > 0 ? "corrupt" : stop, offset, records, lostAfter)
  }
  while (offset < length) {
    const body = offset + FRAME
    let next = body + (body <= length ? view.getUint32(offset, true) : 0)
    if (
      body > length ||
      next === body ||
      next > length ||
      view.getUint32(offset + 4, true) !== crc32(bytes, body, next)
    ) {
      next = repairedEnd(bytes, view, offset)
      if (next < 0) return damaged("torn")
      repairedAt.push(offset)
    }
    const bodyLength = next - body
    switch (bytes[body]) {
      case KIND_SET: {
        if (!isWellFormed(bytes, view, body, next)) return damaged("corrupt")
        const keyEnd = body + 13 + view.getUint32(body + 9, true)
        if (visitor.setAt !== undefined)
          visitor.setAt(bytes, body + 13, keyEnd, next, view.getFloat64(body + 1, true))
        else
          visitor.set(
            bytes.subarray(body + 13, keyEnd),
            bytes.subarray(keyEnd, next),
            view.getFloat64(body + 1, true)
          )
        sets++
        break
      }
      case KIND_DELETE: {
        visitor.delete(bytes.subarray(body + 1, next))
        break
      }
      case KIND_CLEAR: {
        if (bodyLength !== 1) return damaged("corrupt")
        visitor.clear()
        break
      }
      case KIND_DELETE_MANY: {
        if (!deleteManyFits(view, body, next)) return damaged("corrupt")
        const keys: Array<Uint8Array> = []
        let key = body + 5
        while (key < next) {
          const keyEnd = key + 4 + view.getUint32(key, true)
          if (visitor.deleteMany !== undefined) keys.push(bytes.subarray(key + 4, keyEnd))
          else visitor.delete(bytes.subarray(key + 4, keyEnd))
          key = keyEnd
        }
        visitor.deleteMany?.(keys)
        break
      }
      case KIND_END: {
        const complete = bodyLength === 5 && next === length && view.getUint32(body + 1, true) === sets
        return complete ? result(generation, "end", next, records) : damaged("corrupt")
      }
      default:
        return damaged("corrupt")
    }
    records++
    offset = next
  }
  return result(generation, "eof", offset, records)
}

const isPrefixOfHeader = (bytes: Uint8Array, magic: string): boolean => {
  for (let i = 0; i < Math.min(bytes.length, MAGIC_LENGTH); i++) {
    if (bytes[i] !== magic.charCodeAt(i)) return false
  }
  return true
}

const kindOf = (magic: string) => (magic === JOURNAL_MAGIC ? "journal" : "snapshot")

const hex32 = (n: number) => `0x${n.toString(16).padStart(8, "0")}`

/**
 * Why `scan` stopped where it did, in words a person can act on: the file-level or record-level
 * check that failed. `result` is what `scan(bytes, magic, ...)` returned with a stop of `"torn"` or
 * `"corrupt"`; its `validLength` is where the bad record starts.
 *
 * @internal
 */
export const describeStop = (bytes: Uint8Array, magic: string, result: ScanResult): string => {
  const length = bytes.length
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const headerStart = MAGIC_LENGTH + FRAME
  if (result.generation === undefined) {
    if (length < headerStart + 10) {
      return result.stop === "torn"
        ? `the file ends after ${length} bytes, inside its ${headerStart + 10}-byte header`
        : `not a cache ${kindOf(magic)}: ${length} bytes, too short for a header, not starting with ${magic}`
    }
    const found = new TextDecoder("latin1").decode(bytes.subarray(0, MAGIC_LENGTH))
    if (found !== magic)
      return `not a cache ${kindOf(magic)}: it starts with ${JSON.stringify(found)}, not ${magic}`
    if (view.getUint32(MAGIC_LENGTH, true) !== 10) return "the header record has the wrong length"
    const stored = view.getUint32(MAGIC_LENGTH + 4, true)
    const computed = crc32(bytes, headerStart, headerStart + 10)
    if (stored !== computed) {
      return `the header's checksum fails (stored ${hex32(stored)}, computed ${hex32(computed)})`
    }
    if (bytes[headerStart] !== KIND_HEADER) return "the first record is not a header"
    if (bytes[headerStart + 1] !== FORMAT_VERSION) {
      return `format version ${bytes[headerStart + 1]}, this library reads version ${FORMAT_VERSION}`
    }
    return "the header's generation is not a non-negative integer"
  }
  const offset = result.validLength
  const last =
    result.stop !== "torn"
      ? ""
      : magic === JOURNAL_MAGIC
        ? " (the last record: a write cut short)"
        : " (the file is cut short)"
  if (offset + FRAME > length) {
    return `the record's 8-byte frame is cut short after ${length - offset} bytes${last}`
  }
  const bodyLength = view.getUint32(offset, true)
  const body = offset + FRAME
  const next = body + bodyLength
  if (next > length) {
    return `the record's length says ${bodyLength} bytes but the file ends ${length - body} bytes after its frame${last}`
  }
  if (bodyLength === 0) return "the record's length is zero"
  const stored = view.getUint32(offset + 4, true)
  const computed = crc32(bytes, body, next)
  if (stored !== computed) {
    return `checksum mismatch over the record's ${bodyLength} bytes (stored ${hex32(stored)}, computed ${hex32(computed)})${last}`
  }
  switch (bytes[body]) {
    case KIND_SET:
      if (bodyLength < 13) return "a set record too short for its expiry and key length"
      if (13 + view.getUint32(body + 9, true) > bodyLength) return "a set record whose key runs past its end"
      return "a set record whose expiry is NaN"
    case KIND_CLEAR:
      return `a clear record of ${bodyLength} bytes instead of 1`
    case KIND_DELETE_MANY:
      return "a delete-many record whose keys do not fill it exactly as its key count says"
    case KIND_END:
      if (bodyLength !== 5) return `an end record of ${bodyLength} bytes instead of 5`
      if (next !== length) return `${length - next} bytes after the end record`
      return `the end record counts ${view.getUint32(body + 1, true)} entries, not the number of set records before it`
    default:
      return `unknown record kind ${bytes[body]}`
  }
}

/**
 * What a load found wrong in a file, for the warning that reports it. `whole` is how a sound file of
 * this kind ends (`"end"` for a snapshot, `"eof"` for a journal).
 *
 * @internal
 */
export const describeDamage = (what: string, result: ScanResult, whole: Stop): string => {
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
