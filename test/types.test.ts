/**
 * Compile-time tests: `tsc` checks the `expectTypeOf` lines (and fails on an unused
 * `@ts-expect-error`); at run time they only make sure the programs they type are built.
 */
import type { FileSystem } from "@effect/platform/FileSystem"
import type { KeyValueStore } from "@effect/platform/KeyValueStore"
import type { Path } from "@effect/platform/Path"
import { describe, expectTypeOf, it } from "@effect/vitest"
import { Context, Effect, type Layer, type Scope } from "effect"
import type {
  InvalidOption,
  KeyEncodingError,
  PersistenceError,
  RecursiveComputation
} from "../src/CacheError.js"
import * as CachePersistence from "../src/CachePersistence.js"
import * as LruCache from "../src/LruCache.js"
import * as MemoCache from "../src/MemoCache.js"

/** The parts of an effect's type, to compare one at a time. */
type Parts<T> = T extends Effect.Effect<infer A, infer E, infer R> ? { a: A; e: E; r: R } : never
type LayerParts<T> = T extends Layer.Layer<infer A, infer E, infer R> ? { a: A; e: E; r: R } : never

class Scores extends Context.Tag("test/Scores")<Scores, LruCache.LruCache<string, number>>() {}

describe("precise types", () => {
  it("a cache without persistence cannot fail, and making it fails with InvalidOption only", () => {
    const made = LruCache.make<string, number>({ capacity: 10 })
    expectTypeOf<Parts<typeof made>>().toEqualTypeOf<{
      a: LruCache.LruCache<string, number, never>
      e: InvalidOption
      r: Scope.Scope
    }>()
    type Cache = Parts<typeof made>["a"]
    expectTypeOf<Parts<ReturnType<Cache["set"]>>["e"]>().toEqualTypeOf<never>()
    expectTypeOf<Parts<ReturnType<Cache["delete"]>>["e"]>().toEqualTypeOf<never>()
    expectTypeOf<Parts<Cache["clear"]>["e"]>().toEqualTypeOf<never>()
  })

  it("a cache with persistence fails its writes and its making with PersistenceError, and needs the backend's services", () => {
    const file = LruCache.make({
      capacity: 10,
      persistence: CachePersistence.file<string, number>({ path: "cache.bin" })
    })
    expectTypeOf<Parts<typeof file>>().toEqualTypeOf<{
      a: LruCache.LruCache<string, number, PersistenceError>
      e: InvalidOption | PersistenceError
      r: Scope.Scope | FileSystem | Path
    }>()
    const store = LruCache.make({
      capacity: 10,
      persistence: CachePersistence.keyValueStore<string, number>({ key: "cache" })
    })
    expectTypeOf<Parts<typeof store>["r"]>().toEqualTypeOf<Scope.Scope | KeyValueStore>()
  })

  it("a tag typed LruCache<string, number> takes a layer without persistence, with no annotation", () => {
    const live = LruCache.layer(Scores, { capacity: 100 })
    expectTypeOf<LayerParts<typeof live>>().toEqualTypeOf<{ a: Scores; e: InvalidOption; r: never }>()
    // @ts-expect-error: the tag's cache cannot fail, a persisted one can.
    LruCache.layer(Scores, { capacity: 100, persistence: CachePersistence.file({ path: "scores.bin" }) })
  })

  it("MemoCache without persistence is made and layered with InvalidOption only", () => {
    const live = MemoCache.layer({ capacity: 100 })
    expectTypeOf<LayerParts<typeof live>>().toEqualTypeOf<{
      a: MemoCache.MemoCache
      e: InvalidOption
      r: never
    }>()
    const made = MemoCache.make({ capacity: 100 })
    expectTypeOf<Parts<typeof made>["e"]>().toEqualTypeOf<InvalidOption>()
  })

  it("cached over arguments that always encode carries no KeyEncodingError", () => {
    const lookup = MemoCache.cached((id: string, page: number, exact: boolean, big: bigint) =>
      Effect.succeed(`${id}${page}${exact}${big}`)
    )
    expectTypeOf<Parts<ReturnType<typeof lookup>>["e"]>().toEqualTypeOf<
      InvalidOption | RecursiveComputation | PersistenceError
    >()
    expectTypeOf<Parts<ReturnType<typeof lookup.invalidate>>["e"]>().toEqualTypeOf<
      InvalidOption | PersistenceError
    >()
    const optional = MemoCache.cached((id?: string | null) => Effect.succeed(id), { name: "optional" })
    expectTypeOf<Parts<ReturnType<typeof optional>>["e"]>().not.toMatchTypeOf<KeyEncodingError>()
  })

  it("cached over arguments that may not encode (objects) keeps KeyEncodingError", () => {
    const search = MemoCache.cached((query: { readonly text: string }) => Effect.succeed(query.text), {
      name: "search"
    })
    expectTypeOf<Parts<ReturnType<typeof search>>["e"]>().toEqualTypeOf<
      InvalidOption | KeyEncodingError | RecursiveComputation | PersistenceError
    >()
  })
})
