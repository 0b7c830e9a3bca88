/**
 * The one way constructor options are read: a `Schema` per option set, decoded with
 * `Schema.decodeUnknownEither`, its first issue turned into an `InvalidOption` that names the
 * option. Each option schema carries the reason it gives, so every constructor rejects the same
 * inputs with the same words.
 */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { InvalidOption } from "../CacheError.js"
import type { Codec } from "../CachePersistence.js"
import * as codec from "./persistence/codec.js"

/** Annotates `schema` so that any failure of it, its own or of what it refines, reads `reason`. */
const because = <S extends Schema.Schema.Any>(schema: S, reason: string): S =>
  schema.annotations({ message: () => ({ message: reason, override: true }) }) as S

/** @internal */
export const PositiveInteger: Schema.Schema<number, number> = because(
  Schema.Number.pipe(Schema.int(), Schema.positive()),
  "must be a positive integer"
)

/** @internal */
export const NonEmptyString: Schema.Schema<string> = because(
  Schema.String.pipe(Schema.minLength(1)),
  "must be a non-empty string"
)

/** A codec made by `CachePersistence.codec`. @internal */
export const AnyCodec: Schema.Schema<Codec<unknown>> = Schema.declare(
  (u): u is Codec<unknown> => codec.isCodec(u),
  { message: () => "must be a codec from CachePersistence.codec" }
)

/** One of `values`, the reason listing them: `must be "a", "b" or "c"`. @internal */
export const oneOf = <const L extends ReadonlyArray<string>>(...values: L): Schema.Schema<L[number]> => {
  const quoted = values.map((value) => JSON.stringify(value))
  const list = `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`
  return because(Schema.Literal(...values), `must be ${list}`) as unknown as Schema.Schema<L[number]>
}

/** @internal */
export const Policy = oneOf("lru", "w-tinylfu")

/**
 * A weigher, checked to be a function: the caller keeps its own typed reference to it.
 *
 * @internal
 */
export const Weigher: Schema.Schema<(...args: ReadonlyArray<never>) => unknown> = Schema.declare(
  (u): u is (...args: ReadonlyArray<never>) => unknown => typeof u === "function",
  { message: () => "must be a function" }
)

/**
 * The one rule across two options: a weight bound (`maxSize`) needs its weigher (`sizeOf`), and the
 * other way round.
 *
 * @internal
 */
export const pairedWeigher =
  (method: string) =>
  <A extends { readonly maxSize?: number | undefined; readonly sizeOf?: unknown }>(
    decoded: A
  ): Either.Either<A, InvalidOption> =>
    (decoded.maxSize === undefined) === (decoded.sizeOf === undefined)
      ? Either.right(decoded)
      : Either.left(
          new InvalidOption({
            method,
            option: decoded.maxSize === undefined ? "sizeOf" : "maxSize",
            reason: "maxSize and sizeOf go together: give both or neither",
            value: decoded.maxSize === undefined ? decoded.sizeOf : decoded.maxSize
          })
        )

const NOT_A_DURATION = 'is not a duration (a number of milliseconds, a Duration or e.g. "5 minutes")'

/**
 * A duration greater than zero, given as a number of milliseconds, a `Duration`, or a string such
 * as `"5 minutes"`. `Duration.decode` would turn a negative number into zero, hiding the mistake,
 * so numbers are checked first.
 */
const positiveDuration = (finite: boolean): Schema.Schema<Duration.Duration, Duration.DurationInput> => {
  const reason = finite
    ? "must be a positive, finite duration"
    : "must be a positive duration (Duration.infinity for none)"
  return Schema.transformOrFail(Schema.Unknown, Schema.DurationFromSelf, {
    strict: true,
    decode: (input, _, ast) => {
      const fail = (why: string) => ParseResult.fail(new ParseResult.Type(ast, input, why))
      if (
        (typeof input === "number" && (Number.isNaN(input) || input <= 0)) ||
        (typeof input === "bigint" && input <= 0n)
      ) {
        return fail(reason)
      }
      const decoded = Duration.decodeUnknown(input)
      if (Option.isNone(decoded)) return fail(NOT_A_DURATION)
      if (
        Duration.lessThanOrEqualTo(decoded.value, Duration.zero) ||
        (finite && !Duration.isFinite(decoded.value))
      ) {
        return fail(reason)
      }
      return ParseResult.succeed(decoded.value)
    },
    encode: ParseResult.succeed
  }) as unknown as Schema.Schema<Duration.Duration, Duration.DurationInput>
}

/** A time to live or an interval: `Duration.infinity` stands for none. @internal */
export const PositiveDuration = positiveDuration(false)

/** A timing that must end (a flush interval, a lock's lease). @internal */
export const FiniteDuration = positiveDuration(true)

/**
 * A required option: its absence reads as the option's own reason (`capacity` missing says
 * "must be a positive integer", as `capacity: undefined` does).
 *
 * @internal
 */
export const required = <A, I>(schema: Schema.Schema<A, I>) =>
  Schema.propertySignature(schema).annotations({ missingMessage: () => reasonOf(schema) })

/** What `schema` says of an absent value. */
const reasonOf = <A, I>(schema: Schema.Schema<A, I>): string =>
  Either.match(Schema.decodeUnknownEither(schema)(undefined), {
    onLeft: (error) => ParseResult.ArrayFormatter.formatErrorSync(error)[0]?.message ?? "is required",
    onRight: () => "is required"
  })

/**
 * Decodes the options of `method` with `schema`: the first invalid option becomes an
 * `InvalidOption` naming it, with its reason and the value given.
 *
 * @internal
 */
export const decode =
  <A, I>(method: string, schema: Schema.Schema<A, I>) =>
  (input: unknown): Either.Either<A, InvalidOption> =>
    Either.mapLeft(Schema.decodeUnknownEither(schema)(input), (error) => {
      const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
      const option = issue?.path[0]
      return new InvalidOption({
        method,
        option: option === undefined ? "options" : String(option),
        // Without a path, the options themselves are not an object.
        reason: option === undefined ? "must be an object of options" : (issue?.message ?? String(error)),
        value:
          option === undefined || typeof input !== "object" || input === null
            ? input
            : (input as Record<PropertyKey, unknown>)[option]
      })
    })

/**
 * Milliseconds of a duration input: the one conversion every time to live goes through.
 * `Infinity` for `Duration.infinity`.
 *
 * @internal
 */
export const durationMillis = (input: Duration.DurationInput): number =>
  Duration.toMillis(Duration.decode(input))
