/**
 * Captures the logs a test provokes, so that they are asserted instead of printed: a run that
 * passes prints no WARN line. Each test's logs go to that test's own record, so that a log line
 * that comes late (from a cache, fiber or peer that outlived its test) is reported against the test
 * that started it, not against whichever test runs next.
 */
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"

export interface Log {
  readonly level: string
  readonly message: string
}

interface TestLogs {
  readonly test: string
  readonly logs: Array<Log>
  ended: boolean
}

let current: TestLogs = { test: "(outside any test)", logs: [], ended: false }

/** Warnings logged after the test that provoked them had ended, with that test's name. */
const late: Array<Log & { readonly test: string }> = []

/** Starts recording the logs of the test `test`. */
export const beginTest = (test: string): void => {
  current = { test, logs: [], ended: false }
}

/** Ends the current test's record: returns the logs not taken yet; later ones count as late. */
export const endTest = (): Array<Log> => {
  current.ended = true
  return current.logs.splice(0, current.logs.length)
}

/** The warnings that came after their test had ended (see {@link endTest}), and forgets them. */
export const takeLateWarnings = (): Array<Log & { readonly test: string }> => late.splice(0, late.length)

/** A sink for the current test's logs, this process's and its peers'; it stays that test's. */
export const recorder = (): ((log: Log) => void) => {
  const owner = current
  return (log) => {
    if (!owner.ended) owner.logs.push(log)
    else if (isWarning(log)) late.push({ ...log, test: owner.test })
  }
}

/** Runs `effect` with its logs (and those of the fibers it starts) captured rather than printed. */
export const captureLogs = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  const record = recorder()
  const logger = Logger.make(({ logLevel, message }) =>
    record({
      level: logLevel.label,
      message: Array.isArray(message) ? message.map(String).join(" ") : String(message)
    })
  )
  return Effect.provide(effect, Logger.replace(Logger.defaultLogger, logger))
}

/** Returns the current test's logs captured so far, and forgets them. */
export const takeLogs = (): Array<Log> => current.logs.splice(0, current.logs.length)

const isWarning = (log: Log): boolean =>
  log.level === "WARN" || log.level === "ERROR" || log.level === "FATAL"

/** The captured logs at WARN level or above. */
export const warnings = (logs: ReadonlyArray<Log>): Array<Log> => logs.filter(isWarning)
