// An ES module consumer of the packed tarball (see pack.mjs): the "import" conditions of the
// package's "exports" must give it both the code and the types.
import assert from "node:assert/strict"
import { Effect, Option } from "effect"
import { LruCache } from "effect-lru-cache"
import * as RedisCache from "effect-lru-cache/RedisCache"

// The ESM build itself, not the CommonJS one reached through Node's CJS interop.
assert.match(import.meta.resolve("effect-lru-cache"), /\/node_modules\/effect-lru-cache\/dist\/index\.js$/)
assert.match(
  import.meta.resolve("effect-lru-cache/RedisCache"),
  /\/node_modules\/effect-lru-cache\/dist\/RedisCache\.js$/
)

const program = Effect.gen(function* () {
  const cache = yield* LruCache.make<string, number>({ capacity: 2 })
  yield* cache.set("a", 1)
  yield* cache.set("b", 2)
  yield* cache.set("c", 3) // evicts "a", the least recently used
  return { a: Option.getOrUndefined(yield* cache.get("a")), c: Option.getOrUndefined(yield* cache.get("c")) }
}).pipe(Effect.scoped)

const result = await Effect.runPromise(program)
assert.deepStrictEqual(result, { a: undefined, c: 3 })
assert.equal(typeof RedisCache.make, "function")

// A string the type checker cannot follow, so that the check happens at run time.
const hidden: string = "effect-lru-cache/internal/cache.js"
await assert.rejects(import(hidden), { code: "ERR_PACKAGE_PATH_NOT_EXPORTED" })

console.log(
  `esm: import from "effect-lru-cache": a evicted, c = ${result.c}; RedisCache loads; internal/* hidden`
)
