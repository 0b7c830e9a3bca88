/** The operations on every key of a cache in Redis: SCAN, and MGET and UNLINK in batches. */
import * as Effect from "effect/Effect"
import type { RedisError } from "../../CacheError.js"
import type { Commands } from "./client.js"
import { keyPrefix, LOCK_NAMESPACE, matchPrefix } from "./keyEncoding.js"

const SCAN_COUNT = 1000
const MGET_BATCH = 500

const chunks = <A>(items: ReadonlyArray<A>, size: number): Array<ReadonlyArray<A>> => {
  const result: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size))
  return result
}

/** Every cache key of the prefix in Redis (lock keys left out), each once. */
export const scanKeys = (
  commands: Commands,
  method: string,
  prefix: string
): Effect.Effect<ReadonlyArray<string>, RedisError> => {
  const pattern = matchPrefix(prefix)
  const lockPrefix = keyPrefix(prefix) + LOCK_NAMESPACE
  const step = (keys: Set<string>, cursor: string): Effect.Effect<ReadonlyArray<string>, RedisError> =>
    Effect.flatMap(
      commands.command(method, () => commands.client.scan(cursor, "MATCH", pattern, "COUNT", SCAN_COUNT)),
      ([next, batch]) => {
        for (const key of batch) if (!key.startsWith(lockPrefix)) keys.add(key)
        return next === "0" ? Effect.succeed(Array.from(keys)) : step(keys, next)
      }
    )
  return Effect.suspend(() => step(new Set(), "0"))
}

/** The values of `keys` that are still there, with their keys, in the order of `keys`. */
export const readAll = (
  commands: Commands,
  method: string,
  keys: ReadonlyArray<string>
): Effect.Effect<ReadonlyArray<readonly [string, Buffer]>, RedisError> =>
  Effect.map(
    Effect.forEach(chunks(keys, MGET_BATCH), (batch) =>
      Effect.map(
        commands.command(method, () => commands.client.mgetBuffer(...batch)),
        (values) =>
          batch.flatMap((key, i) => {
            const bytes = values[i]
            return bytes === null || bytes === undefined ? [] : [[key, bytes] as const]
          })
      )
    ),
    (batches) => batches.flat()
  )

export const unlinkAll = (
  commands: Commands,
  method: string,
  keys: ReadonlyArray<string>
): Effect.Effect<void, RedisError> =>
  Effect.forEach(
    chunks(keys, SCAN_COUNT),
    (batch) => commands.command(method, () => commands.client.unlink(...batch)),
    { discard: true }
  )

/**
 * Deletes each of `entries` (Redis key, value as read) unless its value has changed since it was
 * read, publishing the invalidation `messageOf` gives its key on `channel` in the same step, in
 * batches of one round trip; answers the keys deleted. A key another instance wrote in between
 * keeps that newer value.
 */
export const deleteUnchanged = (
  commands: Commands,
  method: string,
  entries: ReadonlyArray<readonly [string, Buffer]>,
  channel: string,
  messageOf: (key: string) => string
): Effect.Effect<ReadonlyArray<string>, RedisError> =>
  Effect.map(
    Effect.forEach(chunks(entries, MGET_BATCH), (batch) =>
      Effect.map(
        commands.command(method, () =>
          Promise.all(
            batch.map(([key, bytes]) => commands.client.deleteUnchanged(key, bytes, channel, messageOf(key)))
          )
        ),
        (deleted) => batch.flatMap(([key], i) => (deleted[i] === 1 ? [key] : []))
      )
    ),
    (batches) => batches.flat()
  )
