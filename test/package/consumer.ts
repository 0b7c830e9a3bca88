// Compiled against the built package (dist/, with internal declarations stripped) by
// `npm run typecheck:package`: the public types must stand without the internal ones.
import { Effect } from "effect"
import { CachePersistence, cached, Lru, LruCache, MemoCache } from "../../dist/index.js"
import * as RedisCache from "../../dist/RedisCache.js"

export const persisted = Effect.gen(function* () {
  const cache = yield* LruCache.make({
    capacity: 3,
    persistence: CachePersistence.file<string, number>({ path: "cache.bin" })
  })
  yield* cache.set("a", 1)
  return Lru.keys(Lru.empty<string, number>(1), 0)
})

export const square = cached((n: number) => Effect.succeed(n * n), { name: "square" })
export const MemoLive = MemoCache.layer({ capacity: 100 })
export const shared = RedisCache.make<string, number>({ capacity: 100, prefix: "consumer:" })
