/**
 * How the inspector writes keys, values and times: JSON, with tagged objects for what structured
 * clone keeps and JSON lacks, so that every line of `export` parses.
 */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import type { Decoded } from "./cacheFile.js"

const base64 = (bytes: ArrayBufferView | ArrayBuffer): string =>
  (ArrayBuffer.isView(bytes)
    ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    : Buffer.from(bytes)
  ).toString("base64")

const replacer = (_key: string, value: unknown): unknown => {
  if (value === undefined) return null
  if (typeof value === "bigint") return { $bigint: value.toString() }
  if (typeof value === "number" && !Number.isFinite(value)) return { $number: String(value) }
  if (value instanceof Map) return { $map: [...value] }
  if (value instanceof Set) return { $set: [...value] }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return { $bytes: base64(value) }
  if (value instanceof RegExp) return { $regexp: String(value) }
  if (value instanceof Error) return { $error: { name: value.name, message: value.message } }
  return value
}

/**
 * A decoded key or value as JSON. Dates become ISO strings (their `toJSON`); bigints, non-finite
 * numbers, maps, sets, byte arrays, regular expressions and errors become `{ "$bigint": "12" }`,
 * `{ "$number": "NaN" }`, `{ "$map": [[k, v], ...] }`, `{ "$set": [...] }`, `{ "$bytes": base64 }`,
 * `{ "$regexp": "/a/g" }`, `{ "$error": { name, message } }`; `undefined` becomes `null`. What did
 * not decode is `{ "$encoded": base64 }`, its bytes as stored.
 */
export const toJson = (decoded: Decoded, bytes: Uint8Array): unknown =>
  Either.isRight(decoded)
    ? JSON.parse(JSON.stringify(decoded.right, replacer) ?? "null")
    : { $encoded: base64(bytes) }

/** A short, one-line form of a key or value for a listing. */
export const brief = (decoded: Decoded, bytes: Uint8Array, width = 60): string => {
  const text = Either.isRight(decoded)
    ? (JSON.stringify(decoded.right, replacer) ?? "null")
    : `<not decoded, ${bytes.length} bytes: ${Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 16)).toString("hex")}${bytes.length > 16 ? "…" : ""}>`
  return text.length > width ? `${text.slice(0, width - 1)}…` : text
}

/** `count` and the noun, singular or plural: "1 entry", "2 entries". */
export const count = (n: number, singular: string, plural = `${singular}s`): string =>
  `${n} ${n === 1 ? singular : plural}`

/** An absolute expiry as a person reads it, relative to `now`. */
export const expiry = (expiresAt: number, now: number): string => {
  if (expiresAt === Number.POSITIVE_INFINITY) return "never"
  const when = new Date(expiresAt).toISOString()
  const distance = Duration.format(Duration.millis(Math.abs(Math.round(expiresAt - now))))
  return expiresAt > now ? `${when} (in ${distance})` : `${when} (expired ${distance} ago)`
}

/** Lines of columns, each padded to its widest cell; numbers (`right`) aligned right. */
export const table = (
  rows: ReadonlyArray<ReadonlyArray<string>>,
  right: ReadonlySet<number>
): Array<string> => {
  const widths: Array<number> = []
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length)
    })
  }
  return rows.map((row) =>
    row
      .map((cell, i) =>
        i === row.length - 1 ? cell : right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)
      )
      .join("  ")
  )
}
