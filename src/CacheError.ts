/**
 * The typed errors of effect-lru-cache. Each carries the operation that failed and a message a
 * person can act on.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * An option given to a constructor is invalid: `option` names it, `reason` says what it must be.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidOption extends Schema.TaggedError<InvalidOption>("effect-lru-cache/InvalidOption")(
  "InvalidOption",
  {
    method: Schema.String,
    option: Schema.String,
    reason: Schema.String,
    value: Schema.Unknown
  }
) {
  override get message(): string {
    return `${this.method}: invalid option "${this.option}": ${this.reason} (got ${describe(this.value)})`
  }
}

/**
 * Why a persistence operation failed.
 *
 * @since 0.1.0
 * @category errors
 */
export const PersistenceReason = Schema.Literal(
  /** The disk or the store refused a write, an fsync or a rename (full disk, permissions...). */
  "WriteFailed",
  /** A file could not be opened or read. */
  "ReadFailed",
  /** Another live process holds the file's lock. */
  "Locked",
  /** The codec could not encode a key or a value: the cache was left unchanged. */
  "Unencodable",
  /** The persistence backend was used after its scope closed. */
  "Closed"
)

/**
 * @since 0.1.0
 * @category errors
 */
export type PersistenceReason = typeof PersistenceReason.Type

/**
 * A write could not be made as durable as promised, or a store could not be opened. The in-memory
 * cache stays usable; the files on disk keep the last acknowledged state.
 *
 * @since 0.1.0
 * @category errors
 */
export class PersistenceError extends Schema.TaggedError<PersistenceError>(
  "effect-lru-cache/PersistenceError"
)("PersistenceError", {
  reason: PersistenceReason,
  method: Schema.String,
  description: Schema.String,
  path: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    const where = this.path === undefined ? "" : ` (${this.path})`
    const cause = this.cause === undefined ? "" : `: ${describeCause(this.cause)}`
    return `${this.method}${where}: ${this.reason}: ${this.description}${cause}`
  }
}

/**
 * An argument of a memoized function has no stable encoding (a function, a symbol, a cycle, a
 * class instance), or its name is already used by another function in the cache. Give the
 * function a `name` option or a `key` function.
 *
 * @since 0.1.0
 * @category errors
 */
export class KeyEncodingError extends Schema.TaggedError<KeyEncodingError>(
  "effect-lru-cache/KeyEncodingError"
)("KeyEncodingError", {
  method: Schema.String,
  path: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.method}: cannot build a cache key at ${this.path}: ${this.reason}`
  }
}

/**
 * The computation of a key asked for that same key, directly or through the computations of other
 * keys it waits for: it would wait for itself forever. `key` is the key (for `cached`, the key of
 * the call, which starts with the function's name). Compute the inner value without the cache, or
 * under another key.
 *
 * @since 0.1.0
 * @category errors
 */
export class RecursiveComputation extends Schema.TaggedError<RecursiveComputation>(
  "effect-lru-cache/RecursiveComputation"
)("RecursiveComputation", {
  method: Schema.String,
  key: Schema.Unknown
}) {
  override get message(): string {
    return `${this.method}: the computation of the key ${describe(this.key)} asked for the same key (a recursive call, directly or through other keys' computations) and would wait for itself forever; compute the inner value without the cache, or under another key`
  }
}

/**
 * The Redis tier could not reach Redis, or Redis answered with an error.
 *
 * @since 0.1.0
 * @category errors
 */
export class RedisError extends Schema.TaggedError<RedisError>("effect-lru-cache/RedisError")("RedisError", {
  method: Schema.String,
  description: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    const cause = this.cause === undefined ? "" : `: ${describeCause(this.cause)}`
    return `${this.method}: ${this.description}${cause}`
  }
}

/**
 * Every error of this package.
 *
 * @since 0.1.0
 * @category errors
 */
export type CacheError =
  | InvalidOption
  | PersistenceError
  | KeyEncodingError
  | RecursiveComputation
  | RedisError

const describe = (value: unknown): string => {
  if (typeof value === "string") return JSON.stringify(value)
  if (typeof value === "bigint") return `${value}n`
  if (typeof value === "object" && value !== null) {
    try {
      return JSON.stringify(value)
    } catch {
      return Object.prototype.toString.call(value)
    }
  }
  return String(value)
}

const describeCause = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))
