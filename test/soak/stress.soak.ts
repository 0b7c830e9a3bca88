/**
 * The stress test of test/LruCache.test.ts at full size: five thousand fibers, under several seeds.
 */
import { describe, it } from "@effect/vitest"
import { stress } from "./stress.js"

describe("LruCache under load", () => {
  for (const seed of [12345, 1, 2, 3, 4, 5, 6, 7]) {
    it.scoped(`5,000 fibers mixing every operation keep the invariants (seed ${seed})`, () =>
      stress({ fibers: 5_000, seed })
    )
  }
})
