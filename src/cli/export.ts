/**
 * `effect-lru-cache export FILE`: the live entries of a cache file as JSON lines on stdout.
 */
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { type CodecName, decode, read, refuseIfLocked } from "./cacheFile.js"
import { toJson } from "./render.js"

export interface ExportOptions {
  readonly file: string
  readonly readOnly: boolean
  readonly codec: CodecName
}

/**
 * Writes one line per live entry, `{"key":…,"value":…,"expiresAt":…}` (`expiresAt` in epoch
 * milliseconds, `null` for never), least recently used first: the order in which setting them one
 * by one restores their recency. Reads only.
 */
export const exportEntries = (options: ExportOptions) =>
  Effect.gen(function* () {
    yield* refuseIfLocked(options.file, options.readOnly)
    const file = yield* read(options.file)
    const now = yield* Clock.currentTimeMillis
    for (const entry of file.entries) {
      if (entry.expiresAt <= now) continue
      yield* Console.log(
        JSON.stringify({
          key: toJson(decode(options.codec, entry.key), entry.key),
          value: toJson(decode(options.codec, entry.value), entry.value),
          expiresAt: entry.expiresAt === Number.POSITIVE_INFINITY ? null : entry.expiresAt
        })
      )
    }
  })
