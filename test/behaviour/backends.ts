/**
 * The backends the behaviour suite runs through: how a cache is made, and made again on what the
 * last one left. One entry each.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as FileSystem from "@effect/platform/FileSystem"
import * as KeyValueStore from "@effect/platform/KeyValueStore"
import * as Path from "@effect/platform/Path"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type { PersistenceError } from "../../src/CacheError.js"
import * as CachePersistence from "../../src/CachePersistence.js"
import * as LruCache from "../../src/LruCache.js"
import * as MemoCache from "../../src/MemoCache.js"
import * as RedisCache from "../../src/RedisCache.js"
import { provide } from "../conformance/persistence.js"
import { available, type RedisServer, startServer } from "../redis/server.js"
import type { Backend, Place } from "./suite.js"

/** The name the suite's memoized function is keyed by. */
export const MEMO_NAME = "behaviour"

type AnyPersistence = <K, V>() => CachePersistence.Persistence<K, V, PersistenceError, never> | undefined

/** A place for caches made by `LruCache.make` and `MemoCache.make` with the given persistence. */
const optionsPlace = (
  persistence: AnyPersistence,
  crashed?: Effect.Effect<Place, unknown, Scope.Scope>
): Place => ({
  cache: (settings) =>
    LruCache.make<any, any, PersistenceError, never>({
      capacity: settings.capacity,
      timeToLive: settings.timeToLive,
      // Expired entries leave when touched: a sweep at a random moment is not in the model.
      sweepInterval: Duration.infinity,
      persistence: persistence()
    }),
  memoize: (settings, fn, timeToLive) =>
    Effect.map(
      MemoCache.make({
        capacity: settings.capacity,
        timeToLive: settings.timeToLive,
        sweepInterval: Duration.infinity,
        persistence: persistence<string, MemoCache.Entry>()
      }),
      (memo) => {
        const memoized = MemoCache.cached(fn, { name: MEMO_NAME, timeToLive })
        return {
          cache: memo.cache,
          call: (key) => Effect.provideService(memoized(key), MemoCache.MemoCache, memo),
          refresh: (key) => Effect.provideService(memoized.refresh(key), MemoCache.MemoCache, memo)
        }
      }
    ),
  ...(crashed === undefined ? {} : { crashed })
})

export const memory: Backend = {
  name: "in-memory",
  clock: "test",
  exactLru: true,
  persistent: false,
  crashSafe: false,
  fullStats: true,
  place: Effect.succeed(optionsPlace(() => undefined))
}

type Files = Context.Context<FileSystem.FileSystem | Path.Path>

const filePlace = (path: string, durability: CachePersistence.Durability, files: Files): Place =>
  optionsPlace(
    <K, V>() => provide(CachePersistence.file<K, V>({ path, durability }), files),
    durability === "always"
      ? Effect.map(
          // Copied synchronously, in the step right after the last acknowledged write: a copy that
          // waited for the event loop would let a late fsync catch up and hide a write acknowledged
          // too early. The lock is left behind, as a killed process's would be, in another directory.
          Effect.acquireRelease(
            Effect.sync(() => {
              const directory = mkdtempSync(join(tmpdir(), "effect-lru-cache-crash-copy-"))
              for (const suffix of ["", ".journal"]) {
                if (existsSync(path + suffix))
                  copyFileSync(path + suffix, join(directory, `cache.bin${suffix}`))
              }
              return directory
            }),
            (directory) => Effect.sync(() => rmSync(directory, { recursive: true, force: true }))
          ),
          (directory) => filePlace(join(directory, "cache.bin"), durability, files)
        )
      : undefined
  )

const file = (durability: CachePersistence.Durability): Backend => ({
  name: `file (durability "${durability}")`,
  clock: "test",
  exactLru: true,
  persistent: true,
  crashSafe: durability === "always",
  fullStats: true,
  place: Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const directory = yield* fs.makeTempDirectoryScoped()
    // Only these two services: the whole context would carry this scenario's scope into each cache.
    const files = Context.make(FileSystem.FileSystem, fs).pipe(Context.add(Path.Path, yield* Path.Path))
    return filePlace(`${directory}/cache.bin`, durability, files)
  })
})

export const fileAlways = file("always")
export const fileInterval = file("interval")
export const fileClose = file("close")

const keyValueStore = (
  name: string,
  store: Effect.Effect<
    Layer.Layer<KeyValueStore.KeyValueStore, unknown, FileSystem.FileSystem | Path.Path>,
    never,
    FileSystem.FileSystem | Scope.Scope
  >
): Backend => ({
  name: `KeyValueStore (${name})`,
  clock: "test",
  exactLru: true,
  persistent: true,
  crashSafe: false,
  fullStats: true,
  place: Effect.gen(function* () {
    const context = yield* Layer.build(yield* store)
    return optionsPlace(<K, V>() =>
      provide(CachePersistence.keyValueStore<K, V>({ key: "behaviour-cache" }), context)
    )
  })
})

export const keyValueStoreMemory = keyValueStore("layerMemory", Effect.succeed(KeyValueStore.layerMemory))

export const keyValueStoreFileSystem = keyValueStore(
  "layerFileSystem",
  Effect.map(
    Effect.flatMap(FileSystem.FileSystem, (fs) => Effect.orDie(fs.makeTempDirectoryScoped())),
    KeyValueStore.layerFileSystem
  )
)

let server: RedisServer | undefined
let prefixes = 0

const redisOptions = (
  settings: { readonly capacity: number; readonly timeToLive: Duration.DurationInput | undefined },
  prefix: string
) => ({
  capacity: settings.capacity,
  timeToLive: settings.timeToLive,
  connection: { path: server!.socket },
  prefix
})

/** Redis as the shared level, on a throwaway server; each scenario has a prefix of its own. */
export const redis: Backend = {
  name: "Redis",
  clock: "live",
  exactLru: false,
  persistent: true,
  crashSafe: false,
  fullStats: false,
  unavailable: () => (available ? undefined : "redis-server is not installed"),
  setup: {
    start: async () => {
      server = await startServer()
    },
    stop: async () => {
      await server?.stop()
    }
  },
  place: Effect.sync((): Place => {
    const prefix = `behaviour-${prefixes++}:`
    return {
      cache: (settings) => RedisCache.make<any, any>(redisOptions(settings, prefix)),
      memoize: (settings, fn, timeToLive) =>
        Effect.map(RedisCache.make<string, MemoCache.Entry>(redisOptions(settings, prefix)), (cache) => {
          const memoized = MemoCache.cachedWith(cache, fn, { name: MEMO_NAME, timeToLive })
          return { cache, call: memoized, refresh: memoized.refresh }
        })
    }
  })
}

/** Every backend, as the behaviour suites drive them. */
export const everyBackend: ReadonlyArray<Backend> = [
  memory,
  fileAlways,
  fileInterval,
  fileClose,
  keyValueStoreMemory,
  keyValueStoreFileSystem,
  redis
]
