/**
 * Captures the logs a test provokes, so that they are asserted instead of printed: a run that
 * passes prints no WARN line.
 */
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"

export interface Log {
  readonly level: string
  readonly message: string
}

/** The logs captured since the last {@link takeLogs}, from this process and from peers. */
const captured: Array<Log> = []

export const record = (log: Log): void => {
  captured.push(log)
}

const logger = Logger.make(({ logLevel, message }) =>
  record({
    level: logLevel.label,
    message: Array.isArray(message) ? message.map(String).join(" ") : String(message)
  })
)

/** Runs `effect` with its logs (and those of the fibers it starts) captured rather than printed. */
export const captureLogs = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.provide(effect, Logger.replace(Logger.defaultLogger, logger))

/** Returns the logs captured so far, and forgets them. */
export const takeLogs = (): Array<Log> => captured.splice(0, captured.length)

/** The captured logs at WARN level or above. */
export const warnings = (logs: ReadonlyArray<Log>): Array<Log> =>
  logs.filter((log) => log.level === "WARN" || log.level === "ERROR" || log.level === "FATAL")
