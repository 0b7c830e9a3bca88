// A CommonJS consumer of the packed tarball (see pack.mjs): the "require" conditions of the
// package's "exports" must give it both the code and the types. `import x = require(...)` compiles
// to a plain `const x = require(...)`.
import assert = require("node:assert/strict")
import effect = require("effect")
import lruCache = require("effect-lru-cache")
import RedisCache = require("effect-lru-cache/RedisCache")

const { Effect, Option } = effect
const { LruCache } = lruCache

// The CommonJS build itself, not the ES module one loaded through require(esm).
assert.match(require.resolve("effect-lru-cache"), /\/node_modules\/effect-lru-cache\/dist\/cjs\/index\.js$/)
assert.match(
  require.resolve("effect-lru-cache/RedisCache"),
  /\/node_modules\/effect-lru-cache\/dist\/cjs\/RedisCache\.js$/
)

const program = Effect.gen(function* () {
  const cache = yield* LruCache.make<string, number>({ capacity: 2 })
  yield* cache.set("a", 1)
  yield* cache.set("b", 2)
  yield* cache.set("c", 3) // evicts "a", the least recently used
  return { a: Option.getOrUndefined(yield* cache.get("a")), c: Option.getOrUndefined(yield* cache.get("c")) }
}).pipe(Effect.scoped)

assert.equal(typeof RedisCache.make, "function")
assert.throws(() => require("effect-lru-cache/internal/cache"), { code: "ERR_PACKAGE_PATH_NOT_EXPORTED" })

// A rejection here is unhandled, so Node exits non-zero.
void Effect.runPromise(program).then((result) => {
  assert.deepStrictEqual(result, { a: undefined, c: 3 })
  console.log(
    `cjs: require("effect-lru-cache"): a evicted, c = ${result.c}; RedisCache loads; internal/* hidden`
  )
})
