/**
 * Validation of constructor options shared by every constructor, so that each rejects the same
 * inputs with the same words.
 */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { InvalidOption } from "../CacheError.js"

/** @internal */
export const positiveInteger = (
  method: string,
  option: string,
  input: unknown
): Either.Either<number, InvalidOption> =>
  typeof input === "number" && Number.isSafeInteger(input) && input > 0
    ? Either.right(input)
    : Either.left(new InvalidOption({ method, option, reason: "must be a positive integer", value: input }))

/**
 * A duration greater than zero: a number of milliseconds, a `Duration`, or a string such as
 * `"5 minutes"`. `Duration.decode` would turn a negative number into zero, hiding the mistake, so
 * numbers are checked first.
 *
 * @internal
 */
export const positiveDuration = (
  method: string,
  option: string,
  input: unknown,
  { finite }: { readonly finite: boolean }
): Either.Either<Duration.Duration, InvalidOption> => {
  const reason = finite
    ? "must be a positive, finite duration"
    : "must be a positive duration (Duration.infinity for none)"
  const fail = (why: string) => Either.left(new InvalidOption({ method, option, reason: why, value: input }))
  if (
    (typeof input === "number" && (Number.isNaN(input) || input <= 0)) ||
    (typeof input === "bigint" && input <= 0n)
  ) {
    return fail(reason)
  }
  const decoded = Duration.decodeUnknown(input)
  if (Option.isNone(decoded)) {
    return fail('is not a duration (a number of milliseconds, a Duration or e.g. "5 minutes")')
  }
  if (
    Duration.lessThanOrEqualTo(decoded.value, Duration.zero) ||
    (finite && !Duration.isFinite(decoded.value))
  ) {
    return fail(reason)
  }
  return Either.right(decoded.value)
}
