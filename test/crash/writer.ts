/**
 * The child process of the crash suite. Usage:
 *
 *   node <bundle of test/crash/writer.ts> <path> <durability> <prefix>   sets keys until killed
 *   node <bundle of test/crash/writer.ts> <path> hold                     holds the lock until killed
 *
 * Prints `ready`, then, in "write" mode, one line per key once its `set` has completed, written with
 * a synchronous write so that a line on the pipe always means an acknowledged set.
 */
import { writeSync } from "node:fs"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import * as CachePersistence from "../../src/CachePersistence.js"
import * as LruCache from "../../src/LruCache.js"
import { expectedValue } from "./values.js"

const [path, mode, prefix = "k"] = process.argv.slice(2)
// stdout is a non-blocking pipe: when the parent is slow to read, a write fails with EAGAIN and must
// be tried again.
const say = (line: string) => {
  const bytes = Buffer.from(`${line}\n`)
  for (let offset = 0; offset < bytes.length; ) {
    try {
      offset += writeSync(1, bytes, offset)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error
    }
  }
}

const program = Effect.gen(function* () {
  const cache = yield* LruCache.make({
    capacity: 1_000_000,
    persistence: CachePersistence.file<string, ReturnType<typeof expectedValue>>({
      path: path!,
      durability: mode === "hold" ? "always" : (mode as CachePersistence.Durability),
      interval: "100 millis"
    })
  })
  say("ready")
  if (mode === "hold") return yield* Effect.never
  // Four writers at once, so that "always" commits groups of records, not only single ones.
  yield* Effect.forEach(
    [0, 1, 2, 3],
    (writer) =>
      Effect.gen(function* () {
        for (let n = 0; ; n++) {
          const key = `${prefix}-${writer}-${n}`
          yield* cache.set(key, expectedValue(key))
          say(key)
        }
      }),
    { concurrency: "unbounded", discard: true }
  )
})

program.pipe(Effect.scoped, Effect.provide(NodeContext.layer), NodeRuntime.runMain)
