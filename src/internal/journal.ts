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
 * - end `[4][u32 entry count]`: last record of a complete snapshot.
 *
 * @internal
 */

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

const FRAME = 8
const MAGIC_LENGTH = 8

const CRC_TABLE = (() => {
  // Eight tables for slicing-by-8: the CRC of a whole file is computed once per load, so it pays.
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
 * CRC-32 (IEEE 802.3, the one of zlib and PNG) of `bytes[start, end)`. Written here because
 * `zlib.crc32` exists only from Node 22.
 *
 * @internal
 */
export const crc32 = (bytes: Uint8Array, start = 0, end = bytes.length): number => {
  const t = CRC_TABLE
  let c = -1
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
 * - `"torn"`: the last record is incomplete, or its checksum fails and nothing follows it (what a
 *   write cut short leaves);
 * - `"corrupt"`: anything else: a bad magic or header, a bad record followed by more bytes, an
 *   unknown kind, data after the end record, a wrong count.
 *
 * @internal
 */
export type Stop = "end" | "eof" | "torn" | "corrupt"

/** @internal */
export interface Visitor {
  readonly set: (key: Uint8Array, value: Uint8Array, expiresAt: number) => void
  readonly delete: (key: Uint8Array) => void
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
}

/**
 * Reads `bytes` as a file of the given kind, visiting every valid record in order and stopping at
 * the first invalid one: what has been visited is the longest valid prefix. Records are visited
 * only if `accept` takes the header's generation.
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
  const result = (generation: number | undefined, stop: Stop, validLength: number, records: number) => ({
    generation,
    stop,
    validLength,
    records
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
  while (offset < length) {
    if (offset + FRAME > length) return result(generation, "torn", offset, records)
    const bodyLength = view.getUint32(offset, true)
    const body = offset + FRAME
    const next = body + bodyLength
    if (next > length) return result(generation, "torn", offset, records)
    if (bodyLength === 0 || view.getUint32(offset + 4, true) !== crc32(bytes, body, next)) {
      return result(generation, next === length ? "torn" : "corrupt", offset, records)
    }
    switch (bytes[body]) {
      case KIND_SET: {
        if (bodyLength < 13) return result(generation, "corrupt", offset, records)
        const keyLength = view.getUint32(body + 9, true)
        if (13 + keyLength > bodyLength) return result(generation, "corrupt", offset, records)
        const expiresAt = view.getFloat64(body + 1, true)
        if (Number.isNaN(expiresAt)) return result(generation, "corrupt", offset, records)
        visitor.set(
          bytes.subarray(body + 13, body + 13 + keyLength),
          bytes.subarray(body + 13 + keyLength, next),
          expiresAt
        )
        sets++
        break
      }
      case KIND_DELETE: {
        visitor.delete(bytes.subarray(body + 1, next))
        break
      }
      case KIND_CLEAR: {
        if (bodyLength !== 1) return result(generation, "corrupt", offset, records)
        visitor.clear()
        break
      }
      case KIND_END: {
        const complete = bodyLength === 5 && next === length && view.getUint32(body + 1, true) === sets
        return result(generation, complete ? "end" : "corrupt", complete ? next : offset, records)
      }
      default:
        return result(generation, "corrupt", offset, records)
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
    case KIND_END:
      if (bodyLength !== 5) return `an end record of ${bodyLength} bytes instead of 5`
      if (next !== length) return `${length - next} bytes after the end record`
      return `the end record counts ${view.getUint32(body + 1, true)} entries, not the number of set records before it`
    default:
      return `unknown record kind ${bytes[body]}`
  }
}
