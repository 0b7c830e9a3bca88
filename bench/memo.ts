/**
 * The hit path of a memoized function: `cached` (key encoding + the MemoCache service) against
 * Effect's `Effect.cachedFunction` (a `Map` keyed by `Equal`, no bound, no expiry) and against
 * calling the function directly, all from the same Effect loop, in one process.
 */
import { Effect, ManagedRuntime } from "effect"
import { cached, layer } from "../src/MemoCache.js"
import { compare, report } from "./harness.js"

const OPERATIONS = 200_000
const KEYS = 64

const square = (n: number) => Effect.succeed(n * n)

const loop = <E, R>(f: (n: number) => Effect.Effect<number, E, R>) =>
  Effect.gen(function* () {
    let sum = 0
    for (let i = 0; i < OPERATIONS; i++) sum += yield* f(i % KEYS)
    return sum
  })

export const run = async (): Promise<void> => {
  const runtime = ManagedRuntime.make(layer({ capacity: 1_024 }))
  const memoized = cached(square)
  const effectCached = await Effect.runPromise(Effect.cachedFunction(square))
  const warm = <E, R>(f: (n: number) => Effect.Effect<number, E, R>) =>
    Effect.forEach(
      Array.from({ length: KEYS }, (_, i) => i),
      f,
      { discard: true }
    )
  await runtime.runPromise(warm(memoized))
  await Effect.runPromise(warm(effectCached))

  const results = await compare([
    {
      name: "cached (MemoCache)",
      run: async () => {
        await runtime.runPromise(loop(memoized))
        return OPERATIONS
      }
    },
    {
      name: "Effect.cachedFunction",
      run: async () => {
        await Effect.runPromise(loop(effectCached))
        return OPERATIONS
      }
    },
    {
      name: "direct call",
      run: async () => {
        await Effect.runPromise(loop(square))
        return OPERATIONS
      }
    }
  ])
  await runtime.dispose()
  report(`memoization hit path (${KEYS} keys, number argument, ${OPERATIONS} calls a round)`, results, [
    "Effect.cachedFunction",
    "direct call"
  ])
}
