/**
 * Kills a writing child process with SIGKILL at a random moment and checks what survives: with
 * "always" durability every acknowledged set, with "interval" every set older than the interval.
 * `npm test` runs a few rounds (`crash.test.ts`), `npm run test:soak` many (`test/soak/`).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as FileSystem from "@effect/platform/FileSystem"
import { NodeContext } from "@effect/platform-node"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Logger, LogLevel } from "effect"
import type { PersistenceError } from "../../src/CacheError.js"
import * as CachePersistence from "../../src/CachePersistence.js"
import * as LruCache from "../../src/LruCache.js"
import { expectedValue } from "./values.js"

// The writer is bundled once into one CommonJS file: on a busy two-core machine, a child started
// through the tsx loader takes seconds to get ready, a bundled one a fraction of a second.
const bundleDirectory = mkdtempSync(join(tmpdir(), "effect-lru-cache-crash-"))
const writer = join(bundleDirectory, "writer.cjs")
beforeAll(async () => {
  const esbuild = await import("esbuild")
  await esbuild.build({
    entryPoints: [new URL("./writer.ts", import.meta.url).pathname],
    bundle: true,
    platform: "node",
    format: "cjs",
    outfile: writer,
    logLevel: "error"
  })
})
afterAll(() => rmSync(bundleDirectory, { recursive: true, force: true }))

interface Child {
  readonly process: ChildProcess
  /** Lines printed so far, with the time each arrived. */
  readonly lines: Array<{ readonly line: string; readonly at: number }>
  readonly ready: Promise<void>
  readonly exited: Promise<void>
}

const start = (...args: Array<string>): Child => {
  const child = spawn(process.execPath, [writer, ...args], { stdio: ["ignore", "pipe", "pipe"] })
  const lines: Array<{ line: string; at: number }> = []
  let partial = ""
  let stderr = ""
  let onReady: () => void = () => {}
  let onFail: (error: Error) => void = () => {}
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve
    onFail = reject
  })
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n")
    partial = parts.pop()!
    const at = Date.now()
    for (const line of parts) {
      if (line === "ready") onReady()
      else lines.push({ line, at })
    }
  })
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<void>((resolve) =>
    child.on("close", () => {
      onFail(new Error(`the writer exited before it was ready: ${stderr}`))
      resolve()
    })
  )
  return { process: child, lines, ready, exited }
}

const kill = (child: Child) =>
  Effect.promise(async () => {
    child.process.kill("SIGKILL")
    await child.exited
  })

const open = (path: string) =>
  LruCache.make({
    capacity: 1_000_000,
    persistence: CachePersistence.file<string, ReturnType<typeof expectedValue>>({
      path,
      durability: "close"
    })
  }).pipe(Effect.provide(NodeContext.layer))

const sleep = (millis: number) => Effect.promise(() => new Promise((resolve) => setTimeout(resolve, millis)))

/**
 * Runs `effect` with its logs captured instead of printed: the opens below take over the lock of a
 * killed writer, which logs a warning on purpose.
 */
const capturingLogs = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const logs: Array<{ readonly level: LogLevel.LogLevel; readonly message: string }> = []
    const logger = Logger.make(({ logLevel, message }) => {
      logs.push({ level: logLevel, message: (Array.isArray(message) ? message : [message]).join(" ") })
    })
    return Effect.map(Effect.provide(effect, Logger.replace(Logger.defaultLogger, logger)), (result) => ({
      result,
      warnings: logs
        .filter(({ level }) => LogLevel.greaterThanEqual(level, LogLevel.Warning))
        .map(({ message }) => message)
    }))
  })

/** Opens the cache a killed writer left, and returns its entries and the warnings of the open. */
const reopenAfterKill = (path: string) =>
  capturingLogs(Effect.scoped(Effect.flatMap(open(path), (cache) => cache.entries)))

/** The one warning an open after a SIGKILL gives: the dead writer's lock is taken over. */
const takeover = (child: Child) => [`taking over the lock of dead process ${child.process.pid}`]

export interface CrashOptions {
  /** Writers killed with "always" durability, one after another on the same file. */
  readonly alwaysRounds: number
  /** Writers killed with "interval" durability. */
  readonly intervalRounds: number
  /**
   * Time allowed per round: generous, since on a loaded machine, loading what a writer wrote in a
   * second of "interval" durability takes several.
   */
  readonly roundTimeout: number
}

export const crashSuite = (options: CrashOptions): void => {
  describe(`crash (writers killed: ${options.alwaysRounds} "always", ${options.intervalRounds} "interval")`, () => {
    it.live(
      '"always": every set acknowledged before a SIGKILL is on disk',
      () =>
        Effect.gen(function* () {
          const fs = yield* FileSystem.FileSystem
          const path = `${yield* fs.makeTempDirectoryScoped()}/cache.bin`
          const rounds = options.alwaysRounds
          const acknowledged: Array<string> = []
          for (let round = 0; round < rounds; round++) {
            const child = start(path, "always", `r${round}`)
            yield* Effect.promise(() => child.ready)
            // Real time: the writer must be killed at a random moment of its real work.
            yield* sleep(Math.floor(Math.random() * 300))
            yield* kill(child)
            acknowledged.push(...child.lines.map(({ line }) => line))
            const { result: entries, warnings } = yield* reopenAfterKill(path)
            expect(warnings).toEqual(takeover(child))
            const stored = new Map(entries)
            for (const key of acknowledged) expect(stored.get(key), key).toEqual(expectedValue(key))
            for (const [key, value] of stored) expect(value).toEqual(expectedValue(key))
          }
          expect(acknowledged.length).toBeGreaterThan(rounds)
        }).pipe(Effect.scoped, Effect.provide(NodeContext.layer)),
      10_000 + options.alwaysRounds * options.roundTimeout
    )

    it.live(
      '"interval": a SIGKILL loses at most the last interval of sets',
      () =>
        Effect.gen(function* () {
          const fs = yield* FileSystem.FileSystem
          const path = `${yield* fs.makeTempDirectoryScoped()}/cache.bin`
          for (let round = 0; round < options.intervalRounds; round++) {
            const child = start(path, "interval", `r${round}`)
            yield* Effect.promise(() => child.ready)
            // Real time: what "interval" promises is measured in wall-clock time.
            yield* sleep(800 + Math.floor(Math.random() * 400))
            const killedAt = Date.now()
            yield* kill(child)
            const { result: entries, warnings } = yield* reopenAfterKill(path)
            expect(warnings).toEqual(takeover(child))
            const stored = new Map(entries)
            // The interval is 100 ms; the rest of the margin is for the fsyncs of a busy two-core machine.
            const old = child.lines.filter(({ at }) => at < killedAt - 600)
            expect(old.length).toBeGreaterThan(0)
            for (const { line } of old) expect(stored.get(line), line).toEqual(expectedValue(line))
            for (const [key, value] of stored) expect(value).toEqual(expectedValue(key))
          }
        }).pipe(Effect.scoped, Effect.provide(NodeContext.layer)),
      10_000 + options.intervalRounds * options.roundTimeout
    )

    it.live(
      "a lock held by another live process refuses the open; a dead one's is taken over",
      () =>
        Effect.gen(function* () {
          const fs = yield* FileSystem.FileSystem
          const path = `${yield* fs.makeTempDirectoryScoped()}/cache.bin`
          const child = start(path, "hold")
          yield* Effect.promise(() => child.ready)
          const error = yield* Effect.flip(Effect.scoped(open(path)))
          expect(error._tag).toBe("PersistenceError")
          expect((error as PersistenceError).reason).toBe("Locked")
          expect(error.message).toContain(`process ${child.process.pid}`)
          yield* kill(child)
          const { result: size, warnings } = yield* capturingLogs(
            Effect.scoped(Effect.flatMap(open(path), (cache) => cache.size))
          )
          expect(size).toBe(0)
          expect(warnings).toEqual(takeover(child))
        }).pipe(Effect.scoped, Effect.provide(NodeContext.layer)),
      30_000
    )
  })
}
