/**
 * The `KeyValueStore` backend: the whole cache as one snapshot value (the file backend's snapshot
 * format, checksummed), written on an interval while the cache changes and when the scope closes.
 */
import * as KeyValueStore from "@effect/platform/KeyValueStore"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { PersistenceError } from "../../CacheError.js"
import type { KeyValueStoreOptions, OpenContext, Persistence } from "../../CachePersistence.js"
import { currentCacheName, observeWrite } from "../metrics.js"
import { decode, FiniteDuration, NonEmptyString, required } from "../options.js"
import * as entryCodecs from "./entryCodecs.js"
import { withColumns } from "./loadedColumns.js"
import * as records from "./records.js"
import * as snapshots from "./snapshot.js"
import { PersistenceTypeId } from "./typeId.js"

const METHOD = "CachePersistence.keyValueStore"

/** @internal */
export const make = <K, V>(
  options: KeyValueStoreOptions<K, V>
): Persistence<K, V, PersistenceError, KeyValueStore.KeyValueStore> => ({
  [PersistenceTypeId]: PersistenceTypeId,
  open: (context) => open(options, context)
})

const decodeSettings = decode(
  METHOD,
  Schema.Struct({
    key: required(NonEmptyString),
    interval: Schema.optionalWith(FiniteDuration, { default: () => Duration.seconds(1) })
  })
)

const open = <K, V>(options: KeyValueStoreOptions<K, V>, context: OpenContext<K, V>) =>
  Effect.gen(function* () {
    const { interval, key } = yield* decodeSettings(options)
    const codecs = yield* entryCodecs.resolveCodecs(METHOD, options)
    const store = yield* KeyValueStore.KeyValueStore
    const failure = (reason: "ReadFailed" | "WriteFailed", description: string) => (cause: unknown) =>
      new PersistenceError({ reason, method: METHOD, description, path: key, cause })

    const moveAside = (value: string | Uint8Array, damage: string) =>
      Effect.gen(function* () {
        const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
        const target = `${key}.corrupt-${now}`
        const moved = yield* Effect.either(store.set(target, value))
        yield* Effect.logWarning(
          Either.isRight(moved)
            ? `${damage}; moved it aside to key ${target}`
            : `${damage}; it could not be moved aside`
        ).pipe(Effect.annotateLogs({ key }))
      })

    const state = new snapshots.RawState()
    const stored = yield* Effect.either(store.getUint8Array(key))
    if (Either.isLeft(stored)) {
      // A string store holds bytes as base64: a value that is not base64 is damage, not an outage.
      const text = yield* store
        .get(key)
        .pipe(Effect.mapError(failure("ReadFailed", "cannot read the snapshot")))
      if (Option.isSome(text))
        yield* moveAside(text.value, "the stored snapshot is damaged: it is not base64")
    } else if (Option.isSome(stored.right)) {
      const result = records.scan(stored.right.value, records.SNAPSHOT_MAGIC, state.snapshot)
      if (result.stop !== "end" || result.repaired > 0) {
        yield* moveAside(stored.right.value, records.describeDamage("the stored snapshot", result, "end"))
      }
    }
    const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
    const loaded = yield* state.decode(codecs, state.liveRows(now, context.capacity), key)

    const observe = observeWrite(yield* FiberRef.get(currentCacheName))
    let dirty = false
    let error: PersistenceError | undefined
    let closed = false
    const write = Effect.gen(function* () {
      dirty = false
      const entries = context.entries()
      const chunks: Array<Uint8Array> = []
      let unencodable = 0
      const raw = snapshots.encodeEntries(codecs, entries, () => unencodable++)
      const size = yield* snapshots.encodeSnapshot(0, raw, (chunk) =>
        Effect.sync(() => chunks.push(chunk.slice()))
      )
      if (unencodable > 0) {
        yield* Effect.logWarning(`${unencodable} entries no longer encode and were left out of the snapshot`)
      }
      const bytes = new Uint8Array(size)
      for (let i = 0, offset = 0; i < chunks.length; offset += chunks[i]!.length, i++)
        bytes.set(chunks[i]!, offset)
      const written = yield* Effect.either(
        observe("CachePersistence.flush", store.set(key, bytes), () => bytes.length)
      )
      if (Either.isLeft(written)) {
        dirty = true
        error = failure("WriteFailed", "cannot write the snapshot")(written.left)
        return false
      }
      error = undefined
      return true
    })
    const flusher = yield* Effect.forkDaemon(
      Effect.interruptible(
        Effect.forever(
          Effect.zipRight(
            Effect.sleep(interval),
            Effect.when(write, () => dirty)
          )
        )
      )
    )
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        yield* Fiber.interrupt(flusher)
        if (!(yield* write)) {
          yield* Effect.logError(
            "cannot write the final snapshot: changes since the last one are lost",
            error
          ).pipe(Effect.annotateLogs({ key }))
        }
        closed = true
      }).pipe(Effect.uninterruptible)
    )
    const record = (): Effect.Effect<void, PersistenceError> => {
      if (closed) {
        return Effect.fail(
          new PersistenceError({
            reason: "Closed",
            method: METHOD,
            description: "the cache's scope has closed; this write was not persisted",
            path: key
          })
        )
      }
      dirty = true
      return error === undefined ? Effect.void : Effect.fail(error)
    }
    const backend = withColumns<K, V, PersistenceError>(
      {
        prepareSet: (k, value, expiresAt) => entryCodecs.encodeSetRecord(codecs, METHOD, k, value, expiresAt),
        recordSet: record,
        recordDelete: record,
        recordDeleteMany: record,
        recordClear: record
      },
      loaded
    )
    return backend
  })
