/**
 * `effect-lru-cache inspect FILE`: the entries of a cache file, most recently used first, with
 * their size and expiry, after a summary of the files they come from.
 */
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as lock from "../internal/persistence/lock.js"
import { type CodecName, decode, type Part, read, refuseIfLocked } from "./cacheFile.js"
import { brief, count, expiry, table } from "./render.js"

export interface InspectOptions {
  readonly file: string
  readonly readOnly: boolean
  readonly codec: CodecName
}

const describePart = (part: Part, what: "snapshot" | "journal", applies: boolean): string => {
  const { result, records } = part
  const counts = { set: 0, delete: 0, "delete-many": 0, clear: 0 }
  for (const record of records) counts[record.kind]++
  const kinds =
    what === "snapshot"
      ? count(counts.set, "entry", "entries")
      : `${count(records.length, "record")} (${counts.set} set, ${counts.delete} delete, ${counts["delete-many"]} delete-many, ${counts.clear} clear)`
  const generation = result.generation === undefined ? "no valid header" : `generation ${result.generation}`
  return `${part.bytes.length} bytes, ${generation}, ${kinds}, ${stateOf(part, what, applies)}`
}

/** Whether a file is damaged, and else whether a load reads it. */
const stateOf = (part: Part, what: "snapshot" | "journal", applies: boolean): string => {
  const { damage, repairs } = part
  if (damage !== undefined) {
    return `DAMAGED at byte ${damage.offset} (record ${damage.index}): ${damage.description}; run verify`
  }
  if (repairs.length === 1) return "DAMAGED: 1 record's length repaired by its checksum; run verify"
  if (repairs.length > 1) {
    return `DAMAGED: ${repairs.length} records' lengths repaired by their checksums; run verify`
  }
  if (!applies) return "stale (older than the snapshot): ignored on load"
  return what === "snapshot" ? "complete" : "applies on load"
}

/** Lists a cache file's entries with a summary; reads only. */
export const inspect = (options: InspectOptions) =>
  Effect.gen(function* () {
    yield* refuseIfLocked(options.file, options.readOnly)
    const file = yield* read(options.file)
    const now = yield* Clock.currentTimeMillis
    const holder = yield* lock.liveHolder(file.lockPath)
    const live = file.entries.filter((entry) => entry.expiresAt > now).length
    yield* Console.log(`cache file  ${file.snapshotPath}`)
    yield* Console.log(
      `snapshot    ${file.snapshot === undefined ? "none" : describePart(file.snapshot, "snapshot", true)}`
    )
    yield* Console.log(
      `journal     ${file.journal === undefined ? "none" : describePart(file.journal, "journal", file.journalApplies)}`
    )
    yield* Console.log(`lock        ${holder === undefined ? "not held" : `held by live process ${holder}`}`)
    yield* Console.log(
      `entries     ${file.entries.length}: ${live} live, ${file.entries.length - live} expired (expired ones are dropped on load)`
    )
    if (file.entries.length === 0) return
    const rows = [["KEY (most recently used first)", "BYTES", "EXPIRES"]]
    for (let i = file.entries.length - 1; i >= 0; i--) {
      const entry = file.entries[i]!
      rows.push([
        brief(decode(options.codec, entry.key), entry.key),
        String(entry.key.length + entry.value.length),
        expiry(entry.expiresAt, now)
      ])
    }
    yield* Console.log("")
    for (const line of table(rows, new Set([1]))) yield* Console.log(line)
  })
