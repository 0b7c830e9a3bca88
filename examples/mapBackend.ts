/**
 * A persistence backend of one's own, written against the public contract of `CachePersistence`
 * alone: the cache's entries, encoded by the cache's codecs, kept in a `Map` that outlives the
 * caches that open it. The `Map` stands for a store of your own (a table, a remote service): put
 * your store's writes where this file writes to the `Map`.
 *
 * It keeps the promises of the built-in backends, and the conformance suite that they pass runs it
 * too (test/CachePersistence.test.ts):
 * - a key or value the codec cannot encode fails the set, and the cache is left unchanged;
 * - every change is recorded in the step that makes it, so the store follows the cache's order;
 * - when the cache's scope closes, the store is rewritten from the cache's entries, so that the
 *   recency changed by hits (which are not recorded one by one) survives a close and an open;
 * - an entry that no longer decodes is skipped on load, with a warning, never returned.
 *
 * A program that uses it: examples/customBackend.ts.
 */
import { Clock, Effect, Either } from "effect"
import { CacheError, CachePersistence } from "../src/index.js"

/** An entry as the store keeps it: key and value encoded, `expiresAt` absolute (epoch ms). */
export interface StoredEntry {
  readonly key: Uint8Array
  readonly value: Uint8Array
  readonly expiresAt: number
}

/** Entries by their encoded key, least recently used first (a `Map` keeps the order of insertion). */
export type MapStore = Map<string, StoredEntry>

const METHOD = "mapBackend"

const idOf = (encodedKey: Uint8Array): string => Buffer.from(encodedKey).toString("base64")

const unencodable = (what: string, failure: CachePersistence.CodecFailure) =>
  new CacheError.PersistenceError({
    reason: "Unencodable",
    method: METHOD,
    description: `cannot encode this ${what}: ${failure.description}; the cache was left unchanged`,
    cause: failure.cause
  })

export const mapBackend = <K, V>(
  store: MapStore,
  options: CachePersistence.CodecOptions<K, V> = {}
): CachePersistence.Persistence<K, V, CacheError.PersistenceError, never> => {
  const shared = options.codec ?? CachePersistence.codec.structuredClone
  const keyCodec = options.keyCodec ?? (shared as CachePersistence.Codec<K>)
  const valueCodec = options.valueCodec ?? (shared as CachePersistence.Codec<V>)
  // The cache finds `0` under `-0`, so the store must see one key too.
  const encodeKey = (key: K) => keyCodec.encode((key === 0 ? 0 : key) as K)

  const encode = (
    key: K,
    value: V,
    expiresAt: number
  ): Either.Either<StoredEntry, CacheError.PersistenceError> => {
    const keyBytes = encodeKey(key)
    if (Either.isLeft(keyBytes)) return Either.left(unencodable("key", keyBytes.left))
    const valueBytes = valueCodec.encode(value)
    if (Either.isLeft(valueBytes)) return Either.left(unencodable("value", valueBytes.left))
    return Either.right({ key: keyBytes.right, value: valueBytes.right, expiresAt })
  }

  const load = (capacity: number, now: number) =>
    Effect.gen(function* () {
      const loaded: Array<CachePersistence.PersistedEntry<K, V>> = []
      let skipped = 0
      for (const [id, stored] of store) {
        const key = keyCodec.decode(stored.key)
        const value = valueCodec.decode(stored.value)
        if (Either.isLeft(key) || Either.isLeft(value) || stored.expiresAt <= now) {
          if (Either.isLeft(key) || Either.isLeft(value)) skipped++
          store.delete(id)
        } else {
          loaded.push({ key: key.right, value: value.right, expiresAt: stored.expiresAt })
        }
      }
      // What the cache cannot hold leaves the store too, or a later open with a larger capacity
      // would bring back entries that this cache never had.
      for (const dropped of loaded.splice(0, Math.max(0, loaded.length - capacity))) {
        const key = encodeKey(dropped.key)
        if (Either.isRight(key)) store.delete(idOf(key.right))
      }
      if (skipped > 0) yield* Effect.logWarning(`skipped ${skipped} persisted entries that no longer decode`)
      return loaded
    })

  /** The cache's entries, in its order, replace the store's: run when the cache's scope closes. */
  const rewrite = (entries: ReadonlyArray<CachePersistence.PersistedEntry<K, V>>) =>
    Effect.suspend(() => {
      store.clear()
      let unencodable = 0
      for (const entry of entries) {
        const stored = encode(entry.key, entry.value, entry.expiresAt)
        if (Either.isLeft(stored)) unencodable++
        else store.set(idOf(stored.right.key), stored.right)
      }
      return unencodable === 0
        ? Effect.void
        : Effect.logWarning(`${unencodable} entries no longer encode and were left out of the store`)
    })

  return {
    [CachePersistence.PersistenceTypeId]: CachePersistence.PersistenceTypeId,
    open: (context) =>
      Effect.gen(function* () {
        const loaded = yield* load(context.capacity, yield* Clock.currentTimeMillis)
        yield* Effect.addFinalizer(() => rewrite(context.entries()))
        // Each record is made by the call itself, in the cache's step; the effect returned only
        // waits for durability, and a Map has nothing to wait for.
        const backend: CachePersistence.Backend<K, V, CacheError.PersistenceError> = {
          loaded,
          prepareSet: encode,
          recordSet: (prepared) => {
            const stored = prepared as StoredEntry
            const id = idOf(stored.key)
            store.delete(id) // a set makes the key the most recent
            store.set(id, stored)
            return Effect.void
          },
          recordDelete: (key) => {
            const encoded = encodeKey(key)
            // A key that does not encode was never stored: there is nothing to remove.
            if (Either.isRight(encoded)) store.delete(idOf(encoded.right))
            return Effect.void
          },
          recordClear: () => {
            store.clear()
            return Effect.void
          }
        }
        return backend
      })
  }
}
