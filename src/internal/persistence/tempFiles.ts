/**
 * Names of the temporary files written next to a cache file (snapshot, journal, lock).
 */

/**
 * Sixteen random hex digits from the platform's cryptographic generator: temporary names that
 * another user of the machine cannot predict (the Effect `Random` service is a seeded PRNG).
 *
 * @internal
 */
export const randomSuffix = (): string => {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(8))
  let out = ""
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0")
  return out
}

/**
 * What goes between a file's name and the random suffix of a temporary file written for it.
 *
 * @internal
 */
export const TEMPORARY_INFIX = ".tmp-"

/**
 * Whether `name`, in the cache file's directory, is a temporary file of the cache file named
 * `base`: the names written now (`<base>.tmp-<random>`, `<base>.journal.tmp-<random>`,
 * `<base>.lock.tmp-<random>`) and the fixed ones of earlier versions (`<base>.tmp`,
 * `<base>.journal.tmp`, `<base>.lock.<pid>.tmp`).
 *
 * @internal
 */
export const isTemporaryOf = (base: string, name: string): boolean => {
  if (!name.startsWith(base)) return false
  const rest = name.slice(base.length)
  return /^(\.journal|\.lock)?\.tmp(-[0-9a-f]{16})?$/.test(rest) || /^\.lock\.\d+\.tmp$/.test(rest)
}
