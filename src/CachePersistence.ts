/**
 * Where a cache persists: backends for the `persistence` option of `LruCache.make`, and the codecs
 * that turn keys and values into bytes.
 *
 * The file backend follows Redis's RDB + AOF: an append-only journal of checksummed changes plus a
 * snapshot that the journal is compacted into when it grows. See `docs/persistence.md` for the
 * durability modes, the file format and the recovery rules.
 *
 * @since 0.1.0
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as KeyValueStore from "@effect/platform/KeyValueStore"
import type * as Path from "@effect/platform/Path"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type { InvalidOption, PersistenceError } from "./CacheError.js"
import * as codecInternal from "./internal/persistence/codec.js"
import * as fileBackend from "./internal/persistence/fileBackend.js"
import * as kvBackend from "./internal/persistence/kvBackend.js"
import * as typeId from "./internal/persistence/typeId.js"

/**
 * Brands a persistence backend: a {@link Persistence} of your own sets
 * `[PersistenceTypeId]: PersistenceTypeId`.
 *
 * @since 0.1.0
 * @category symbols
 */
export const PersistenceTypeId: unique symbol = typeId.PersistenceTypeId

/**
 * @since 0.1.0
 * @category symbols
 */
export type PersistenceTypeId = typeof PersistenceTypeId

/**
 * A persistence backend for `LruCache.make`, its `persistence` option: `E` is what a write fails
 * with when the promised durability cannot be kept, `R` what the backend needs (`FileSystem | Path`
 * for files).
 *
 * `open` runs when the cache's scope opens. It loads what the store holds, takes whatever it must
 * hold exclusively (a lock), starts its background writing, and registers in that scope (with
 * `Effect.acquireRelease` or `Effect.addFinalizer`) the final write and the release of what it
 * took: the cache's scope closing, whatever way it closes, is the backend's last chance to write.
 * It fails with an `InvalidOption` for options it cannot use, with a `PersistenceError` when the
 * store cannot be read or taken.
 *
 * The cache owns the state; a backend only records changes and writes snapshots. Every change is
 * recorded in the same synchronous step that changes the cache, so the order of the records is the
 * order of the states, whatever the number of fibers writing. The file and `KeyValueStore`
 * backends of this module are written against this interface and nothing else.
 *
 * @example
 * ```ts
 * import { Effect, Either } from "effect"
 * import { CachePersistence } from "effect-lru-cache"
 *
 * // A backend that keeps entries in a Map outlived by the caches that open it (no codec, so
 * // nothing can fail to encode: a real store encodes in prepareSet, and fails there).
 * const mapBackend = <K, V>(
 *   store: Map<K, CachePersistence.PersistedEntry<K, V>>
 * ): CachePersistence.Persistence<K, V, never, never> => ({
 *   [CachePersistence.PersistenceTypeId]: CachePersistence.PersistenceTypeId,
 *   open: (context) =>
 *     Effect.as(
 *       // On close, the cache's own order: recency changed by hits is not recorded as it goes.
 *       Effect.addFinalizer(() =>
 *         Effect.sync(() => {
 *           store.clear()
 *           for (const entry of context.entries()) store.set(entry.key, entry)
 *         })
 *       ),
 *       {
 *         loaded: Array.from(store.values()),
 *         prepareSet: (key, value, expiresAt) => Either.right({ key, value, expiresAt }),
 *         // Each record is made by the call itself; the effect returned only waits for durability
 *         // (none to wait for in memory).
 *         recordSet: (prepared) => {
 *           const entry = prepared as CachePersistence.PersistedEntry<K, V>
 *           store.delete(entry.key) // a set makes the key the most recent
 *           store.set(entry.key, entry)
 *           return Effect.void
 *         },
 *         recordDelete: (key) => {
 *           store.delete(key)
 *           return Effect.void
 *         },
 *         recordClear: () => {
 *           store.clear()
 *           return Effect.void
 *         }
 *       }
 *     )
 * })
 * ```
 *
 * See `examples/mapBackend.ts` for a backend with codecs, run by the same conformance suite as
 * the file and `KeyValueStore` backends.
 *
 * @since 0.1.0
 * @category models
 */
export interface Persistence<K, V, E, R> {
  readonly [PersistenceTypeId]: PersistenceTypeId
  readonly open: (
    context: OpenContext<K, V>
  ) => Effect.Effect<Backend<K, V, E>, PersistenceError | InvalidOption, Scope.Scope | R>
}

/**
 * One entry as persisted: `expiresAt` is absolute, in epoch milliseconds of the cache's `Clock`,
 * and `Infinity` for an entry that never expires.
 *
 * @since 0.1.0
 * @category models
 */
export interface PersistedEntry<K, V> {
  readonly key: K
  readonly value: V
  readonly expiresAt: number
}

/**
 * What the cache hands its backend when it opens.
 *
 * @since 0.1.0
 * @category models
 */
export interface OpenContext<K, V> {
  /** The cache's capacity: a backend may drop what a load would evict at once. */
  readonly capacity: number
  /**
   * The live entries of the cache, least recently used first: what a snapshot writes. Synchronous
   * on purpose: no write of the cache runs between this call and the rest of the synchronous code
   * around it, so a backend that takes its pending records in the same step gets a snapshot and a
   * journal that line up exactly. (Yielding in between would let other fibers write changes that
   * are in neither.)
   */
  readonly entries: () => ReadonlyArray<PersistedEntry<K, V>>
}

/**
 * An opened backend: what `Persistence.open` returns.
 *
 * @since 0.1.0
 * @category models
 */
export interface Backend<K, V, E> {
  /**
   * What the store held when it was opened, least recently used first. It may include entries
   * that have expired since, a key more than once, and more than the capacity: the cache drops the
   * expired ones, keeps the last of each key, and the most recent `capacity` of the rest.
   */
  readonly loaded: ReadonlyArray<PersistedEntry<K, V>>
  /**
   * Encodes a set before the cache changes: a key or value that cannot be encoded fails here (a
   * `PersistenceError` of reason `"Unencodable"`, for the backends of this module), and the cache
   * is left unchanged. Must not throw. What it returns is handed to `recordSet`.
   */
  readonly prepareSet: (key: K, value: V, expiresAt: number) => Either.Either<unknown, E>
  /**
   * Records a prepared set. Called synchronously, in the same step as the change of the cache: the
   * call itself must record the change (append it to a buffer...), so that records keep the order of
   * the changes. The effect it returns only waits: it completes once the change is as durable as the
   * backend promises, and fails if it cannot be. The cache runs it after that step, and does not run
   * it when the effect of a later record of the same step waits for as much.
   */
  readonly recordSet: (prepared: unknown) => Effect.Effect<void, E>
  /**
   * Records the removal of a key (deleted, evicted, or replaced by a set with no time to live
   * left), as `recordSet` does. Expiry is not recorded: the persisted `expiresAt` says it all.
   */
  readonly recordDelete: (key: K) => Effect.Effect<void, E>
  /**
   * Records the removal of several keys at once (what one `invalidateWhen` removed), as
   * `recordSet` does: all of them must survive a crash, or none. Optional: a backend without it
   * gets one `recordDelete` per key, in the same step, which a crash may cut between two keys.
   */
  readonly recordDeleteMany?: (keys: ReadonlyArray<K>) => Effect.Effect<void, E>
  /** Records a clear, as `recordSet` does. */
  readonly recordClear: () => Effect.Effect<void, E>
}

/**
 * @since 0.1.0
 * @category symbols
 */
export const CodecTypeId: unique symbol = codecInternal.CodecTypeId

/**
 * @since 0.1.0
 * @category symbols
 */
export type CodecTypeId = typeof CodecTypeId

/**
 * Why a codec could not encode or decode: `description` for people, `cause` the underlying error.
 *
 * @since 0.1.0
 * @category models
 */
export interface CodecFailure {
  readonly description: string
  readonly cause?: unknown
}

/**
 * Turns values into bytes and back. Both directions are total: a failure is a `Left`, never an
 * exception. Used for keys and values by every backend (files, `KeyValueStore`, Redis).
 *
 * @since 0.1.0
 * @category models
 */
export interface Codec<A> {
  readonly [CodecTypeId]: CodecTypeId
  /** A short name for messages: `"structuredClone"`, `"json"`, `"schema"`, or your own. */
  readonly name: string
  readonly encode: (value: A) => Either.Either<Uint8Array, CodecFailure>
  readonly decode: (bytes: Uint8Array) => Either.Either<A, CodecFailure>
}

/**
 * A codec that takes values of every type, as the built-in `structuredClone` and `json` do: one of
 * them must fit the `Codec<V>` of any cache, which `Codec<unknown>` would not (a codec both takes and
 * gives values, so its type parameter is invariant). The one `any` of the package's types.
 *
 * @since 0.1.0
 * @category codecs
 */
// The one `any` of the package: the codec of every value type, see above.
export type AnyCodec = Codec<any>

/**
 * The built-in codecs and a constructor for your own.
 *
 * - `structuredClone` (the default): `node:v8` serialization, the algorithm of `structuredClone`.
 *   Keeps `Date`, `Map`, `Set`, `BigInt`, typed arrays, `RegExp`, nested objects and cycles; loses
 *   prototypes (a class instance comes back a plain object, so an Effect `Data` key no longer
 *   compares by value: use `schema` for such keys). Functions and symbols fail to encode. Reading
 *   a file never runs code.
 * - `json`: `JSON.stringify` / `JSON.parse` as UTF-8. Portable and readable; `Date` comes back a
 *   string, `undefined` and `BigInt` fail to encode.
 * - `schema(schema)`: encodes through the schema to its JSON-safe form, then JSON. Typed,
 *   validated and portable: an entry that no longer decodes is skipped when loading (and counted
 *   in a warning), never returned.
 * - `make(name, encode, decode)`: your own.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { CachePersistence } from "effect-lru-cache"
 *
 * const User = Schema.Struct({ id: Schema.Number, name: Schema.String, since: Schema.Date })
 * const persistence = CachePersistence.file<string, typeof User.Type>({
 *   path: "cache/users.bin",
 *   keyCodec: CachePersistence.codec.schema(Schema.String),
 *   valueCodec: CachePersistence.codec.schema(User)
 * })
 * ```
 *
 * @since 0.1.0
 * @category codecs
 */
export const codec: {
  readonly structuredClone: AnyCodec
  readonly json: AnyCodec
  readonly schema: <A, I>(schema: Schema.Schema<A, I, never>) => Codec<A>
  readonly make: <A>(
    name: string,
    encode: (value: A) => Either.Either<Uint8Array, CodecFailure>,
    decode: (bytes: Uint8Array) => Either.Either<A, CodecFailure>
  ) => Codec<A>
} = {
  structuredClone: codecInternal.structuredClone,
  json: codecInternal.json,
  schema: codecInternal.schema,
  make: codecInternal.make
}

/**
 * @since 0.1.0
 * @category guards
 */
export const isCodec: (u: unknown) => u is Codec<unknown> = codecInternal.isCodec

/**
 * When a write counts as done, and so what a crash of the process (or of the machine) can lose.
 *
 * - `"always"`: a write's effect completes once its record is written and fsynced. Writers that
 *   arrive while an fsync runs share the next one (group commit). Loses nothing acknowledged.
 * - `"interval"`: a write completes at once; a background fiber writes and fsyncs the journal every
 *   `interval`. Loses at most the last `interval` of writes.
 * - `"close"`: a write completes at once; nothing is written until the journal would have outgrown
 *   its bound (then a snapshot is written) or the scope closes (final snapshot). Loses everything
 *   since the last snapshot.
 *
 * @since 0.1.0
 * @category models
 */
export type Durability = "always" | "interval" | "close"

/**
 * How keys and values become bytes: one `codec` for both, or `keyCodec` and `valueCodec`
 * (each defaults to `codec`, which defaults to `codec.structuredClone`).
 *
 * @since 0.1.0
 * @category models
 */
export interface CodecOptions<K, V> {
  /** Codec of keys and values alike. Default: `codec.structuredClone`. */
  readonly codec?: Codec<K | V> | undefined
  /** Codec of keys. Default: `codec`. */
  readonly keyCodec?: Codec<K> | undefined
  /** Codec of values. Default: `codec`. */
  readonly valueCodec?: Codec<V> | undefined
}

/**
 * Options of {@link file}.
 *
 * @since 0.1.0
 * @category models
 */
export interface FileOptions<K, V> extends CodecOptions<K, V> {
  /**
   * The snapshot's path; the journal is `<path>.journal` and the lock `<path>.lock`, in the same
   * directory (created if missing). Required.
   */
  readonly path: string
  /** See {@link Durability}. Default: `"interval"` (Redis's `appendfsync everysec`). */
  readonly durability?: Durability | undefined
  /** How often `"interval"` durability writes and fsyncs the journal. Default: 1 second. */
  readonly interval?: Duration.DurationInput | undefined
  /**
   * The journal is compacted into a new snapshot once it is larger than this many bytes and than
   * twice the last snapshot, so compaction costs a constant amount per write. Default: 1 MiB.
   */
  readonly compactionThreshold?: number | undefined
}

/**
 * Persists a cache to files through `@effect/platform`'s `FileSystem`: a snapshot at `path` and an
 * append-only journal next to it, modelled on Redis's RDB + AOF. The cache loads them when its
 * scope opens (snapshot, then journal; expired entries dropped; recency restored) and writes a
 * final snapshot when the scope closes, whatever way it closes. One process at a time: another
 * process opening the same path fails with a `PersistenceError` of reason `"Locked"` naming the
 * holder's pid; a lock left by a dead process is taken over. Every file is created with mode 0600;
 * temporary files get unpredictable names and are created exclusively, so a symlink planted in the
 * directory never redirects a write. A torn tail of the journal is dropped; other damage is
 * repaired where the checksums allow it, else the valid prefix is kept and the file moved aside,
 * with a warning that counts what was lost.
 *
 * Writes fail with a `PersistenceError` of reason `"WriteFailed"` when the disk refuses them (the
 * cache keeps the change in memory, the files keep the last acknowledged state; after a failed
 * background write the writer retries after 1 s, doubling up to a minute, until one succeeds), and
 * with reason `"Unencodable"` when the codec cannot encode the key or the value, or reading the
 * value throws (the cache is left unchanged).
 *
 * @example
 * ```ts
 * import { NodeContext, NodeRuntime } from "@effect/platform-node"
 * import { Effect } from "effect"
 * import { CachePersistence, LruCache } from "effect-lru-cache"
 *
 * const program = Effect.gen(function* () {
 *   // The key and value types go on the backend: make infers them, and the error a write adds.
 *   const cache = yield* LruCache.make({
 *     capacity: 1000,
 *     persistence: CachePersistence.file<string, number>({ path: ".cache/numbers.bin", durability: "always" })
 *   })
 *   yield* cache.set("answer", 42) // completes once fsynced
 * })
 *
 * program.pipe(Effect.scoped, Effect.provide(NodeContext.layer), NodeRuntime.runMain)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const file: <K, V>(
  options: FileOptions<K, V>
) => Persistence<K, V, PersistenceError, FileSystem.FileSystem | Path.Path> = fileBackend.make

/**
 * Options of {@link keyValueStore}.
 *
 * @since 0.1.0
 * @category models
 */
export interface KeyValueStoreOptions<K, V> extends CodecOptions<K, V> {
  /** The store key the snapshot is written under. Required. */
  readonly key: string
  /** How often a changed cache is written. Default: 1 second. */
  readonly interval?: Duration.DurationInput | undefined
}

/**
 * Persists a cache as one snapshot value in `@effect/platform`'s `KeyValueStore` (memory, files,
 * or `localStorage` in a browser with `@effect/platform-browser`): loaded when the scope opens,
 * written every `interval` while the cache changes and when the scope closes. Writes complete at
 * once; a crash loses at most the last `interval`. A background write that fails makes the next
 * writes fail with a `PersistenceError` of reason `"WriteFailed"` until one succeeds.
 *
 * @since 0.1.0
 * @category constructors
 */
export const keyValueStore: <K, V>(
  options: KeyValueStoreOptions<K, V>
) => Persistence<K, V, PersistenceError, KeyValueStore.KeyValueStore> = kvBackend.make
