/**
 * The Redis connections: ioredis' client typed with the Lua scripts the cache defines, connecting
 * and closing with a scope, and errors and descriptions of a connection that hold no credential.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { Redis, type RedisOptions } from "ioredis"
import { RedisError } from "../../CacheError.js"

const CONNECTION_DEFAULTS: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  connectTimeout: 1000,
  commandTimeout: 1000,
  retryStrategy: (attempt) => Math.min(attempt * 50, 1000)
}

/**
 * A key of another Redis type (a hash, a list...) is answered with its type's name rather than
 * read: `GET` would fail with WRONGTYPE, which is a bad value, not an outage.
 */
const SCRIPTS = {
  /** The value with its PTTL; false if there is none; the type's name if it is not a string. */
  getWithTtl: {
    numberOfKeys: 1,
    lua: `local t = redis.call("TYPE", KEYS[1]).ok
if t == "none" then return false end
if t ~= "string" then return t end
return {redis.call("GET", KEYS[1]), redis.call("PTTL", KEYS[1])}`
  },
  /**
   * If ARGV[3] is "1": the value with its PTTL, or the type's name if it is not a string. Else (or
   * if there is no value) 1 if the lock was taken, 0 if not.
   */
  claim: {
    numberOfKeys: 2,
    lua: `if ARGV[3] == "1" then
  local t = redis.call("TYPE", KEYS[1]).ok
  if t == "string" then return {redis.call("GET", KEYS[1]), redis.call("PTTL", KEYS[1])} end
  if t ~= "none" then return t end
end
if redis.call("SET", KEYS[2], ARGV[1], "PX", ARGV[2], "NX") then return 1 end
return 0`
  },
  releaseLock: {
    numberOfKeys: 1,
    lua: `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0`
  },
  /**
   * Deletes the key if it still holds the value ARGV[1], and publishes the invalidation ARGV[3] on
   * the channel ARGV[2] in the same step; 1 if it did, 0 if not.
   */
  deleteUnchanged: {
    numberOfKeys: 1,
    lua: `if redis.call("GET", KEYS[1]) == ARGV[1] then
  redis.call("UNLINK", KEYS[1])
  redis.call("PUBLISH", ARGV[2], ARGV[3])
  return 1
end
return 0`
  },
  renewLock: {
    numberOfKeys: 1,
    lua: `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end
return 0`
  }
}

/** The commands `defineCommand` adds for {@link SCRIPTS}. */
interface Scripts {
  getWithTtlBuffer(key: string): Promise<[Buffer, number] | Buffer | null>
  claimBuffer(
    key: string,
    lockKey: string,
    token: string,
    lockMillis: number,
    readValue: "1" | "0"
  ): Promise<[Buffer, number] | Buffer | 0 | 1>
  releaseLock(key: string, token: string): Promise<number>
  deleteUnchanged(key: string, value: Buffer, channel: string, message: string): Promise<number>
  renewLock(key: string, token: string, millis: number): Promise<number>
}

export type Client = Redis & Scripts

/** Where to connect, and what must never reach an error, a log line or a span. */
export interface Connection {
  /** With the credentials of a URL percent-encoded (see {@link normalizeUrl}). */
  readonly connection: string | RedisOptions
  readonly secrets: ReadonlyArray<string>
}

/** A client with the way the cache runs its commands (which notices when Redis answers again). */
export interface Commands {
  readonly client: Client
  readonly command: <A>(method: string, run: () => Promise<A>) => Effect.Effect<A, RedisError>
}

/** Redis takes whole milliseconds; a positive time to live never rounds down to "store nothing". */
export const pxOf = (millis: number): number => Math.max(1, Math.ceil(millis))

/** Runs a command; a failure becomes a `RedisError` that says whether Redis is reachable. */
export const request = <A>(
  client: Client,
  secrets: ReadonlyArray<string>,
  method: string,
  run: () => Promise<A>
): Effect.Effect<A, RedisError> =>
  Effect.tryPromise({
    try: run,
    catch: (cause) =>
      new RedisError({
        method: `RedisCache.${method}`,
        description:
          client.status === "ready"
            ? "Redis command failed"
            : `Redis is unreachable (connection ${client.status})`,
        cause: sanitizeCause(cause, secrets)
      })
  })

/** Opens a connection that closes with the scope; it reconnects by itself until then. */
export const connect = (config: Connection, role: string): Effect.Effect<Client, RedisError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.try({
      catch: (cause) =>
        new RedisError({
          method: "RedisCache.make",
          description: `invalid connection ${describeConnection(config.connection)}`,
          cause: sanitizeCause(cause, config.secrets)
        }),
      try: () => {
        const options: RedisOptions = {
          ...CONNECTION_DEFAULTS,
          connectionName: `effect-lru-cache:${role}`,
          autoResubscribe: false
        }
        const client =
          typeof config.connection === "string"
            ? new Redis(config.connection, { ...options, lazyConnect: true })
            : // ioredis' own `keyPrefix` would not apply to SCAN patterns: `prefix` is the way.
              new Redis({ ...options, ...config.connection, keyPrefix: "", lazyConnect: true })
        for (const [name, script] of Object.entries(SCRIPTS)) client.defineCommand(name, script)
        // Failures reach the operations as typed errors; without a listener ioredis would print them.
        client.on("error", () => {})
        return client as Client
      }
    }),
    (client) =>
      client.status === "ready"
        ? Effect.promise(() => client.quit()).pipe(
            Effect.timeout(Duration.seconds(1)),
            Effect.catchAll(() => Effect.sync(() => client.disconnect()))
          )
        : Effect.sync(() => client.disconnect())
  )

export const firstConnect = (client: Client, config: Connection): Effect.Effect<void, RedisError> =>
  Effect.tryPromise({
    try: () => {
      // ioredis rejects with "Connection is closed."; the reason (ECONNREFUSED...) comes as an event.
      let reason: unknown
      const onError = (error: unknown) => {
        reason = error
      }
      client.on("error", onError)
      return client
        .connect()
        .catch((error) => {
          throw reason ?? error
        })
        .finally(() => client.off("error", onError))
    },
    catch: (cause) =>
      new RedisError({
        method: "RedisCache.make",
        description: `cannot connect to Redis at ${describeConnection(config.connection)}`,
        cause: sanitizeCause(cause, config.secrets)
      })
  })

// --- credentials -----------------------------------------------------------------------------------

/**
 * A URL cut around its credentials. They lie between "//" and the LAST "@": a password written
 * unencoded may hold "@", ":", "/", "#" or "?", which a URL parser would take for the end of the
 * credentials or of the host, leaking the rest into the host name and into error messages.
 */
const splitUrl = (
  url: string
): { readonly scheme: string; readonly credentials: string; readonly rest: string } | undefined => {
  // A unix socket path: ioredis reads no credentials from it.
  if (url.startsWith("/") && !url.startsWith("//")) return undefined
  // ioredis reads "user:password@host:port", without a scheme, as a URL too.
  const start = url.indexOf("//") < 0 ? 0 : url.indexOf("//") + 2
  const at = url.lastIndexOf("@")
  if (at < start) return undefined
  return { scheme: url.slice(0, start), credentials: url.slice(start, at), rest: url.slice(at + 1) }
}

const decodeLeniently = (text: string): string => {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/**
 * The URL with its user name and password percent-encoded, as ioredis' parser needs them; those that
 * were already encoded stay as they were.
 *
 * @internal
 */
export const normalizeUrl = (url: string): string => {
  const parts = splitUrl(url)
  if (parts === undefined) return url
  const colon = parts.credentials.indexOf(":")
  const encode = (text: string) => encodeURIComponent(decodeLeniently(text))
  const credentials =
    colon < 0
      ? encode(parts.credentials)
      : `${encode(parts.credentials.slice(0, colon))}:${encode(parts.credentials.slice(colon + 1))}`
  return `${parts.scheme}${credentials}@${parts.rest}`
}

/** The passwords of a connection, in every spelling they may take in a message. */
export const secretsOf = (connection: string | RedisOptions): ReadonlyArray<string> => {
  const found = new Set<string>()
  const add = (secret: unknown) => {
    if (typeof secret !== "string" || secret.length === 0) return
    found.add(secret)
    found.add(decodeLeniently(secret))
    found.add(encodeURIComponent(decodeLeniently(secret)))
  }
  if (typeof connection === "string") {
    const parts = splitUrl(connection)
    if (parts !== undefined) {
      const colon = parts.credentials.indexOf(":")
      add(colon < 0 ? parts.credentials : parts.credentials.slice(colon + 1))
    }
    // ioredis also reads options, a password among them, from the query string.
    const query = connection.indexOf("?", parts === undefined ? 0 : connection.length - parts.rest.length)
    if (query >= 0) for (const [, value] of new URLSearchParams(connection.slice(query + 1))) add(value)
  } else {
    add(connection.password)
    add(connection.sentinelPassword)
  }
  // Longest first, so that a secret holding another is removed whole.
  return Array.from(found).sort((a, b) => b.length - a.length)
}

/**
 * A cause that is safe to keep in an error and to log: the message (with every secret replaced),
 * the name and the code of the original. Not the original itself: ioredis' errors carry the
 * command that failed with its arguments, and `AUTH`'s argument is the password.
 *
 * @internal
 */
export const sanitizeCause = (cause: unknown, secrets: ReadonlyArray<string>): Error => {
  const scrub = (text: string) =>
    secrets.reduce((scrubbed, secret) => scrubbed.split(secret).join("***"), text)
  const safe = new Error(scrub(cause instanceof Error ? cause.message : String(cause)))
  if (cause instanceof Error) safe.name = cause.name
  const code: unknown =
    typeof cause === "object" && cause !== null ? (cause as { code?: unknown }).code : undefined
  if (typeof code === "string" || typeof code === "number") Object.assign(safe, { code })
  return safe
}

/**
 * Where a connection goes, for messages: a URL without its credentials or query string (which may
 * hold a password), or a socket path, or a host and port.
 *
 * @internal
 */
export const describeConnection = (connection: string | RedisOptions): string => {
  if (typeof connection !== "string") {
    return connection.path !== undefined
      ? connection.path
      : `${connection.host ?? "127.0.0.1"}:${connection.port ?? 6379}`
  }
  const parts = splitUrl(connection)
  const address = parts === undefined ? connection : `${parts.scheme}***@${parts.rest}`
  const end = address.search(/[?#]/)
  return end < 0 ? address : `${address.slice(0, end)}?***`
}
