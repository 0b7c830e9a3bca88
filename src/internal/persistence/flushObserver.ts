/**
 * A hook on the background writer of the file backend, for tests.
 */
import * as FiberRef from "effect/FiberRef"
import type { PersistenceError } from "../../CacheError.js"

/**
 * What a backend's background writer reports after each round of writing: the error it ended
 * with, if any.
 *
 * @internal
 */
export interface FlushRound {
  readonly error: PersistenceError | undefined
}

/**
 * Observes the rounds of the background writer of every cache opened where it is set (read when
 * the cache opens). For tests: a test that moves the `TestClock` waits for the round that the move
 * started, instead of waiting some real time and hoping the disk was fast enough.
 *
 * @internal
 */
export const currentFlushObserver: FiberRef.FiberRef<(round: FlushRound) => void> = FiberRef.unsafeMake(
  (_round: FlushRound) => {}
)
