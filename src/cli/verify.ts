/**
 * `effect-lru-cache verify FILE`: checks every record of the snapshot and the journal (length,
 * checksum, structure, and that keys and values decode) and fails, naming the file, the byte
 * offset, the record and what is wrong, when anything is damaged.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { CliError, type CodecName, decode, type Part, read, refuseIfLocked } from "./cacheFile.js"
import { count } from "./render.js"

export interface VerifyOptions {
  readonly file: string
  readonly readOnly: boolean
  readonly codec: CodecName
}

/** Decoding failures listed before the rest are only counted. */
const SHOWN = 20

const problemsOf = (part: Part, codec: CodecName): Array<string> => {
  const problems: Array<string> = []
  const { damage } = part
  if (damage !== undefined) {
    const consequence = damage.stale
      ? "the journal is stale and ignored on load"
      : damage.movedAside
        ? `a cache opening it keeps ${damage.index === 0 ? "none of its records" : `the ${count(damage.index, "record")} before it`} and moves the file aside`
        : "a cache opening it drops this last record, which was never acknowledged"
    problems.push(
      `${part.path}: byte offset ${damage.offset}, record ${damage.index}: ${damage.description} (${consequence})`
    )
  }
  for (const repair of part.repairs) {
    const consequence = repair.movedAside
      ? "a cache opening it keeps this record and moves the file aside"
      : "the journal is stale and ignored on load"
    problems.push(
      `${part.path}: byte offset ${repair.offset}, record ${repair.index}: ${repair.description} (${consequence})`
    )
  }
  if (codec === "raw") return problems
  for (const record of part.records) {
    if (record.kind === "clear") continue
    const keys = record.kind === "delete-many" ? record.keys : [record.key]
    for (let i = 0; i < keys.length; i++) {
      const key = decode(codec, keys[i]!)
      if (Either.isLeft(key)) {
        const which = record.kind === "delete-many" ? `key ${i + 1} of ${keys.length}` : "key"
        problems.push(
          `${part.path}: byte offset ${record.offset}, record ${record.index}: the ${record.kind} record's ${which} does not decode: ${key.left}`
        )
      }
    }
    if (record.kind === "set") {
      const value = decode(codec, record.value)
      if (Either.isLeft(value)) {
        problems.push(
          `${part.path}: byte offset ${record.offset}, record ${record.index}: the set record's value does not decode: ${value.left}`
        )
      }
    }
  }
  return problems
}

const summary = (part: Part | undefined, what: string): string =>
  part === undefined
    ? `${what}: none`
    : `${what}: ${part.path}, ${part.bytes.length} bytes, ${part.result.generation === undefined ? "no valid header" : `generation ${part.result.generation}`}, ${count(part.records.length, "valid record")}`

/** Checks every record; fails with a `CliError` after listing the problems, if there are any. */
export const verify = (options: VerifyOptions) =>
  Effect.gen(function* () {
    yield* refuseIfLocked(options.file, options.readOnly)
    const file = yield* read(options.file)
    yield* Console.log(summary(file.snapshot, "snapshot"))
    yield* Console.log(summary(file.journal, "journal"))
    const problems = [
      ...(file.snapshot === undefined ? [] : problemsOf(file.snapshot, options.codec)),
      ...(file.journal === undefined ? [] : problemsOf(file.journal, options.codec))
    ]
    const checked = (file.snapshot?.records.length ?? 0) + (file.journal?.records.length ?? 0)
    const checks =
      options.codec === "raw"
        ? "lengths, checksums and structure"
        : `lengths, checksums, structure and decoding (codec ${options.codec})`
    if (problems.length === 0) {
      yield* Console.log(`ok: ${count(checked, "record")}, ${checks}`)
      return
    }
    for (const problem of problems.slice(0, SHOWN)) yield* Console.log(`DAMAGED ${problem}`)
    if (problems.length > SHOWN) yield* Console.log(`… and ${problems.length - SHOWN} more problems`)
    return yield* new CliError({
      message: `${file.snapshotPath} is damaged: ${count(problems.length, "problem")} found checking ${checks}`
    })
  })
