/**
 * The contract between the cache service and a persistence backend.
 *
 * The service owns the state; a backend only journals changes and writes snapshots. Every change
 * is recorded synchronously, in the same atomic step that changes the state, so that the order of
 * the journal is the order of the states, whatever the number of fibers writing.
 *
 * Not marked internal: `CachePersistence.Persistence` extends these types, so the built package's
 * declarations need them (and a backend of one's own can be written against them).
 */
import type * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import * as FiberRef from "effect/FiberRef"
import type * as Scope from "effect/Scope"
import type { InvalidOption, PersistenceError } from "../../CacheError.js"

/** Brands a persistence backend. */
export const PersistenceTypeId: unique symbol = Symbol.for("effect-lru-cache/CachePersistence")

/** Brands a persistence backend. */
export type PersistenceTypeId = typeof PersistenceTypeId

/**
 * One entry as persisted: `expiresAt` is absolute, in epoch milliseconds of the cache's `Clock`,
 * and `Infinity` for an entry that never expires.
 */
export interface PersistedEntry<K, V> {
  readonly key: K
  readonly value: V
  readonly expiresAt: number
}

/**
 * What the service hands a backend when the cache opens.
 */
export interface OpenContext<K, V> {
  readonly capacity: number
  /**
   * The live entries of the cache, least recently used first: what a snapshot writes. One
   * consistent state, read atomically.
   */
  readonly entries: Effect.Effect<ReadonlyArray<PersistedEntry<K, V>>>
}

/**
 * An opened backend.
 */
export interface Backend<K, V, E> {
  /**
   * What the store held when it was opened, least recently used first. It may include entries
   * that have expired since; the service drops them.
   */
  readonly loaded: ReadonlyArray<PersistedEntry<K, V>>
  /**
   * Encodes a set before the cache changes: a key or value the codec cannot encode fails here, and
   * the cache is left unchanged.
   */
  readonly prepareSet: (key: K, value: V, expiresAt: number) => Either.Either<unknown, E>
  /**
   * Journals a prepared set. Called synchronously in the same step as the state change; returns an
   * effect that completes once the change is as durable as the backend promises.
   */
  readonly recordSet: (prepared: unknown) => Effect.Effect<void, E>
  /** Journals the removal of a key (deleted, evicted, replaced by a set with no time to live left). */
  readonly recordDelete: (key: K) => Effect.Effect<void, E>
  /** Journals a clear. */
  readonly recordClear: () => Effect.Effect<void, E>
}

/**
 * A persistence backend, given to `LruCache.make` as its `persistence` option. `open` runs when the
 * cache's scope opens (load, lock, start background flushing) and registers in that scope the
 * final flush and the release of its files.
 */
export interface Persistence<K, V, E, R> {
  readonly [PersistenceTypeId]: PersistenceTypeId
  readonly open: (
    context: OpenContext<K, V>
  ) => Effect.Effect<Backend<K, V, E>, PersistenceError | InvalidOption, Scope.Scope | R>
}

/**
 * What a backend's background writer reports after each round of writing: the error it ended
 * with, if any.
 */
export interface FlushRound {
  readonly error: PersistenceError | undefined
}

/**
 * Observes the rounds of the background writer of every cache opened where it is set (read when
 * the cache opens). For tests: a test that moves the `TestClock` waits for the round that the move
 * started, instead of waiting some real time and hoping the disk was fast enough.
 *
 * @internal
 */
export const currentFlushObserver: FiberRef.FiberRef<(round: FlushRound) => void> = FiberRef.unsafeMake(
  (_round: FlushRound) => {}
)
