/**
 * One suite every persistence backend must pass: what a user sees of a cache that is closed and
 * opened again.
 */
import { describe, expect, it } from "@effect/vitest"
import {
  Clock,
  type Context,
  Duration,
  Effect,
  Exit,
  Layer,
  Option,
  Schema,
  type Scope,
  TestClock
} from "effect"
import type { PersistenceError } from "../../src/CacheError.js"
import * as CachePersistence from "../../src/CachePersistence.js"
import * as LruCache from "../../src/LruCache.js"
import { at, withLogs } from "../fixtures/persistence/logs.js"

/** Makes persistences that all share one place (a file path, a store key). */
export type Place = <K, V>(
  codecs?: CachePersistence.CodecOptions<K, V>
) => CachePersistence.Persistence<K, V, PersistenceError, never>

export interface Backend {
  readonly name: string
  /** A fresh place, living in the test's scope. */
  readonly place: Effect.Effect<Place, never, Scope.Scope>
}

/** Gives a persistence what it needs, so that the suite can treat every backend alike. */
export const provide = <K, V, E, R>(
  persistence: CachePersistence.Persistence<K, V, E, R>,
  context: Context.Context<R>
): CachePersistence.Persistence<K, V, E, never> => ({
  ...persistence,
  open: (openContext) => Effect.provide(persistence.open(openContext), context)
})

/** Provides `layer` to every persistence that `make` builds. */
export const placeWith =
  <R>(layer: Layer.Layer<R>, make: (id: string) => Place) =>
  (id: string): Effect.Effect<Place, never, Scope.Scope> =>
    Effect.map(Layer.build(layer), (context) => {
      const place = make(id)
      return ((codecs) => provide(place(codecs), context)) as Place
    })

const session = <K, V, A, E>(
  persistence: CachePersistence.Persistence<K, V, PersistenceError, never>,
  use: (cache: LruCache.LruCache<K, V, PersistenceError>) => Effect.Effect<A, E>,
  capacity = 10
) =>
  Effect.scoped(
    Effect.flatMap(LruCache.make<K, V, PersistenceError, never>({ capacity, persistence }), (cache) =>
      use(cache)
    )
  )

const Point = Schema.Struct({ x: Schema.Number, at: Schema.Date })

export const persistenceConformance = (backends: ReadonlyArray<Backend>): void => {
  for (const backend of backends) {
    describe(`persistence conformance: ${backend.name}`, () => {
      it.scoped("values, keys and recency survive a close and an open", () =>
        Effect.gen(function* () {
          const place = yield* backend.place
          const rich = {
            date: new Date(86_400_000),
            map: new Map([["k", 1n]]),
            set: new Set([1, 2]),
            bytes: new Uint8Array([1, 2, 3])
          }
          yield* session(place<string, unknown>(), (cache) =>
            Effect.gen(function* () {
              yield* cache.set("a", 1)
              yield* cache.set("b", "two")
              yield* cache.set("c", rich)
              yield* cache.get("a")
            })
          )
          const entries = yield* session(place<string, unknown>(), (cache) => cache.entries)
          expect(entries).toEqual([
            ["a", 1],
            ["c", rich],
            ["b", "two"]
          ])
        })
      )

      it.scoped("deletes, evictions and clears are persisted", () =>
        Effect.gen(function* () {
          const place = yield* backend.place
          yield* session(
            place<string, number>(),
            (cache) =>
              Effect.gen(function* () {
                for (const [key, value] of [
                  ["a", 1],
                  ["b", 2],
                  ["c", 3],
                  ["d", 4]
                ] as const)
                  yield* cache.set(key, value)
                yield* cache.delete("c")
              }),
            3
          )
          expect(yield* session(place<string, number>(), (cache) => cache.entries, 3)).toEqual([
            ["d", 4],
            ["b", 2]
          ])
          yield* session(place<string, number>(), (cache) => cache.clear, 3)
          expect(yield* session(place<string, number>(), (cache) => cache.size, 3)).toBe(0)
        })
      )

      it.scoped("the removals of invalidateWhen are persisted", () =>
        Effect.gen(function* () {
          const place = yield* backend.place
          yield* session(place<string, number>(), (cache) =>
            Effect.gen(function* () {
              for (const [key, value] of [
                ["a", 1],
                ["b", 2],
                ["c", 3],
                ["d", 4]
              ] as const)
                yield* cache.set(key, value)
              expect(yield* cache.invalidateWhen((key, value) => key === "a" || value === 3)).toBe(2)
            })
          )
          expect(yield* session(place<string, number>(), (cache) => cache.entries)).toEqual([
            ["d", 4],
            ["b", 2]
          ])
        })
      )

      it.scoped("remaining time to live is restored and expired entries are dropped on load", () =>
        Effect.gen(function* () {
          const place = yield* backend.place
          yield* session(place<string, number>(), (cache) =>
            Effect.gen(function* () {
              yield* cache.set("short", 1, { timeToLive: Duration.seconds(2) })
              yield* cache.set("long", 2, { timeToLive: Duration.seconds(10) })
              yield* cache.set("forever", 3)
            })
          )
          yield* TestClock.adjust(Duration.seconds(4))
          const after = yield* session(place<string, number>(), (cache) =>
            Effect.all([cache.keys, cache.remainingTtl("long"), cache.remainingTtl("forever")])
          )
          expect(after[0]).toEqual(["forever", "long"])
          expect(after[1]).toEqual(Option.some(Duration.seconds(6)))
          expect(after[2]).toEqual(Option.some(Duration.infinity))
        })
      )

      it.scoped(
        "opened directly, a backend gives what it holds in `loaded`, and a wrapper of it restores",
        () =>
          Effect.gen(function* () {
            // The cache restores from what a backend loaded; `loaded` is the public face of that,
            // which a backend that wraps another (a user's own, say) reads and passes on.
            const place = yield* backend.place
            yield* session(place<string, number>(), (cache) =>
              Effect.gen(function* () {
                yield* cache.set("a", 1)
                yield* cache.set("b", 2, { timeToLive: Duration.seconds(10) })
                yield* cache.set("c", 3)
                yield* cache.get("a")
              })
            )
            const now = yield* Clock.currentTimeMillis
            // Opened by hand, the backend writes what `entries` gives when it closes: here, what it loaded.
            let held: ReadonlyArray<CachePersistence.PersistedEntry<string, number>> = []
            const loaded = yield* Effect.scoped(
              Effect.map(place<string, number>().open({ capacity: 10, entries: () => held }), (opened) => {
                held = opened.loaded
                return [...opened.loaded]
              })
            )
            const inf = Number.POSITIVE_INFINITY
            expect(loaded.map(({ key, value, expiresAt }) => [key, value, expiresAt])).toEqual([
              ["b", 2, now + 10_000],
              ["c", 3, inf],
              ["a", 1, inf]
            ])
            const inner = place<string, number>()
            const wrapper: CachePersistence.Persistence<string, number, PersistenceError, never> = {
              ...inner,
              open: (context) => Effect.map(inner.open(context), (opened) => ({ ...opened }))
            }
            const keys = yield* session(wrapper, (cache) => cache.keys)
            expect(keys).toEqual(["a", "c", "b"])
          })
      )

      it.scoped(
        "a wrapper that changes what the backend loaded restores what it passes on, however it wraps",
        () =>
          Effect.gen(function* () {
            // A user's backend around this one that drops some loaded entries (say, of an old
            // schema) may copy the opened backend, derive from it, proxy it, or change it or its
            // loaded entries in place.
            const current = (entry: CachePersistence.PersistedEntry<string, number>) =>
              !entry.key.startsWith("old:")
            const wrappers: ReadonlyArray<
              (
                opened: CachePersistence.Backend<string, number, PersistenceError>
              ) => CachePersistence.Backend<string, number, PersistenceError>
            > = [
              (opened) => ({ ...opened, loaded: opened.loaded.filter(current) }),
              (opened) => Object.assign(Object.create(opened), { loaded: opened.loaded.filter(current) }),
              (opened) =>
                new Proxy(opened, {
                  get: (target, property, receiver) =>
                    property === "loaded"
                      ? target.loaded.filter(current)
                      : Reflect.get(target, property, receiver)
                }),
              (opened) => Object.assign(opened, { loaded: opened.loaded.filter(current) }),
              (opened) => {
                // In place, in the array it was given (typed readonly, but JavaScript lets it).
                const loaded = opened.loaded as Array<CachePersistence.PersistedEntry<string, number>>
                for (let i = loaded.length - 1; i >= 0; i--) if (!current(loaded[i]!)) loaded.splice(i, 1)
                return opened
              }
            ]
            for (const wrap of wrappers) {
              // A place each: closing a cache writes what it holds, without the dropped entries.
              const place = yield* backend.place
              yield* session(place<string, number>(), (cache) =>
                Effect.forEach(["a", "b", "old:c", "d"], (key, i) => cache.set(key, i), { discard: true })
              )
              const inner = place<string, number>()
              const wrapper: CachePersistence.Persistence<string, number, PersistenceError, never> = {
                ...inner,
                open: (context) => Effect.map(inner.open(context), wrap)
              }
              const keys = yield* session(wrapper, (cache) => cache.keys)
              expect(keys, String(wrap)).toEqual(["d", "b", "a"])
            }
          })
      )

      it.scoped("a smaller capacity keeps the most recently used entries", () =>
        Effect.gen(function* () {
          const place = yield* backend.place
          yield* session(place<number, number>(), (cache) =>
            Effect.forEach([1, 2, 3, 4, 5], (n) => cache.set(n, n * 10), { discard: true })
          )
          expect(yield* session(place<number, number>(), (cache) => cache.keys, 2)).toEqual([5, 4])
        })
      )

      it.scoped("a value the codec cannot encode fails the set and leaves the cache unchanged", () =>
        Effect.gen(function* () {
          const place = yield* backend.place
          const exits = yield* session(place<string, unknown>(), (cache) =>
            Effect.gen(function* () {
              yield* cache.set("kept", "before")
              const replaced = yield* Effect.exit(cache.set("kept", () => "a function"))
              const added = yield* Effect.exit(cache.set("new", Symbol("nope")))
              // Reading these runs code that throws: still a typed failure, not a defect.
              const getter = yield* Effect.exit(
                cache.set("getter", {
                  get boom(): never {
                    throw new Error("getter boom")
                  }
                })
              )
              const proxy = yield* Effect.exit(
                cache.set(
                  "proxy",
                  new Proxy(
                    {},
                    {
                      ownKeys: () => {
                        throw new Error("trap boom")
                      }
                    }
                  )
                )
              )
              return {
                replaced,
                added,
                getter,
                proxy,
                kept: yield* cache.get("kept"),
                has: yield* cache.has("new")
              }
            })
          )
          for (const exit of [exits.replaced, exits.added, exits.getter, exits.proxy]) {
            expect(Exit.isFailure(exit)).toBe(true)
            if (Exit.isFailure(exit)) {
              const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
              expect(error?._tag).toBe("PersistenceError")
              expect(error?.reason).toBe("Unencodable")
            }
          }
          expect(exits.kept).toEqual(Option.some("before"))
          expect(exits.has).toBe(false)
          expect(yield* session(place<string, unknown>(), (cache) => cache.entries)).toEqual([
            ["kept", "before"]
          ])
        })
      )

      it.scoped("every codec round-trips", () =>
        Effect.gen(function* () {
          const place = yield* backend.place
          const point = { x: 1.5, at: new Date(1_000) }
          const codecs = {
            keyCodec: CachePersistence.codec.json,
            valueCodec: CachePersistence.codec.schema(Point)
          }
          yield* session(place<{ id: number }, typeof Point.Type>(codecs), (cache) =>
            cache.set({ id: 1 }, point)
          )
          const values = yield* session(
            place<{ id: number }, typeof Point.Type>(codecs),
            (cache) => cache.values
          )
          expect(values).toEqual([point])
          expect(values[0]!.at).toBeInstanceOf(Date)
        })
      )

      it.scoped("entries that no longer decode are skipped, not returned", () =>
        Effect.gen(function* () {
          const place = yield* backend.place
          yield* session(place<string, unknown>({ codec: CachePersistence.codec.json }), (cache) =>
            Effect.all([cache.set("number", 1), cache.set("text", "not a number")])
          )
          const { result: entries, logs } = yield* withLogs(
            session(
              place<string, number>({
                keyCodec: CachePersistence.codec.json,
                valueCodec: CachePersistence.codec.schema(Schema.Number)
              }),
              (cache) => cache.entries
            )
          )
          expect(entries).toEqual([["number", 1]])
          expect(at(logs, "WARN")).toEqual([
            expect.stringMatching(/^skipped 1 persisted entries that no longer decode/)
          ])
        })
      )
    })
  }
}
