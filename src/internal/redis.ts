/**
 * The Redis tier: an in-process `Lru` (L1) in front of Redis (L2).
 *
 * Coherence rests on three rules. Writes go to Redis first, with an invalidation that every other
 * instance applies to its L1, then to L1. A value read from Redis is put in L1 only if no write or
 * invalidation happened while it was read (an `epoch` counter), so a read that raced a write cannot
 * leave a stale copy behind. And L1 is dropped whenever a connection comes back, since
 * invalidations may have been missed meanwhile.
 */
import { randomUUID } from "node:crypto"
import type * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { pipeArguments } from "effect/Pipeable"
import * as PubSub from "effect/PubSub"
import * as Ref from "effect/Ref"
import * as Runtime from "effect/Runtime"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { Redis, type RedisOptions } from "ioredis"
import { InvalidOption, KeyEncodingError, RedisError } from "../CacheError.js"
import type { Codec } from "../CachePersistence.js"
import type { Lru, Removal, RemovalCause } from "../Lru.js"
import * as LruCache from "../LruCache.js"
import type * as RedisCache from "../RedisCache.js"
import * as lru from "./lru.js"
import { positiveDuration, positiveInteger } from "./options.js"
import * as codec from "./persistence/codec.js"
import { decodeKey, encodeKey, keyPrefix, LOCK_NAMESPACE, matchPrefix, PREFIX_END } from "./redisKey.js"

const DEFAULT_PREFIX = "effect-lru-cache:"
const DEFAULT_LOCK_TIME_TO_LIVE = Duration.seconds(10)
const DEFAULT_LOCK_WAIT = Duration.seconds(30)
const DEFAULT_HEARTBEAT_INTERVAL = Duration.seconds(1)
/** Waiters are woken by the holder's invalidation; polling only covers a holder that died or failed. */
const LOCK_POLL_MILLIS = 50
const SCAN_COUNT = 1000
/**
 * The fewest events a subscriber that does not read can hold before the oldest are dropped; the
 * bound is at least the capacity, so that a `clear` of a full L1 reaches a subscriber that keeps up.
 */
const EVENTS_CAPACITY = 1024
const MGET_BATCH = 500

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
  renewLock(key: string, token: string, millis: number): Promise<number>
}

type Client = Redis & Scripts

/** What L1 holds under an encoded key: the key as the user gave it, for events and `keys`. */
interface Entry<K, V> {
  readonly key: K
  readonly value: V
}

/**
 * The kind of an invalidation: `s` set, `d` delete, `c` clear. On the wire a message is
 * `<instance id> <kind>[ <encoded key>]`: the id (a UUID) and the kind hold no space, so everything
 * after the second space is the key, whatever it holds.
 */
type MessageKind = "s" | "d" | "c"

/** What the cross-process part of `getOrCompute` found. */
type Claim<V> =
  | { readonly _tag: "Found"; readonly value: V }
  /** This instance holds the lock: compute, store, release. */
  | { readonly _tag: "Locked"; readonly token: string }
  /** Compute without the lock: waited too long, or Redis is unavailable and L1 serves. */
  | { readonly _tag: "Unlocked" }

interface Config<V> {
  readonly capacity: number
  readonly timeToLive: number
  /** With the credentials of a URL percent-encoded (see {@link normalizeUrl}). */
  readonly connection: string | RedisOptions
  /** What must never reach an error, a log line or a span. */
  readonly secrets: ReadonlyArray<string>
  readonly prefix: string
  readonly codec: Codec<V>
  readonly serveFromL1: boolean
  readonly lockTimeToLive: number
  readonly lockWait: number
  readonly heartbeatInterval: number
}

const millisOf = (timeToLive: Duration.DurationInput): number =>
  Duration.toMillis(Duration.decode(timeToLive))

/** Redis takes whole milliseconds; a positive time to live never rounds down to "store nothing". */
const pxOf = (millis: number): number => Math.max(1, Math.ceil(millis))

class RedisCacheImpl<K, V> implements RedisCache.RedisCache<K, V> {
  readonly [LruCache.TypeId]: LruCache.TypeId = LruCache.TypeId
  readonly capacity: number
  readonly prefix: string
  readonly instanceId = randomUUID()
  readonly timeToLive: Duration.Duration
  private readonly channel: string
  /** Where this instance sends its heartbeats to itself, through its subscription. */
  readonly heartbeatChannel: string
  /** What every Redis key of this cache begins with. */
  private readonly keyPrefix: string
  /** Bumped by every write and invalidation: a read from Redis fills L1 only if it did not move. */
  private epoch = 0
  /** Set while Redis is unavailable, so that an outage is logged once, not once per operation. */
  private degraded = false
  /**
   * Cleared when a heartbeat sent through Redis did not come back through the subscription in time:
   * invalidations may be lost, so L1 is neither read nor filled until one comes back.
   */
  private trusted = true
  /** Whether losing the trust was logged as a warning (a silent stall), so that its end is logged too. */
  private distrustLogged = false
  private heartbeats = 0
  private heartbeatArrived:
    | { readonly sequence: number; readonly arrived: Deferred.Deferred<void> }
    | undefined
  private readonly running = new Map<string, Deferred.Deferred<V, unknown>>()
  /** Computations waiting for another instance's value, by encoded key. */
  private readonly waiting = new Map<string, Set<() => void>>()
  private localHits = 0
  private remoteHits = 0
  private misses = 0
  private loadSuccesses = 0
  private loadFailures = 0
  private decodeFailures = 0
  private unavailableCount = 0
  private invalidations = 0
  private evictions = 0
  private expirations = 0
  private droppedEvents = 0

  constructor(
    private readonly config: Config<V>,
    private readonly client: Client,
    private readonly subscriber: Client,
    private readonly state: Ref.Ref<Lru<string, Entry<K, V>>>,
    private readonly removals: PubSub.PubSub<Removal<K, V>>,
    private readonly scope: Scope.Scope,
    private readonly runtime: Runtime.Runtime<never>
  ) {
    this.capacity = config.capacity
    this.timeToLive = Duration.millis(config.timeToLive)
    this.prefix = config.prefix
    this.channel = `${config.prefix}invalidations`
    // No prefix's channel can be this: a UUID does not end with "invalidations".
    this.heartbeatChannel = `${this.channel}:${this.instanceId}`
    this.keyPrefix = keyPrefix(config.prefix)
  }

  pipe() {
    // biome-ignore lint/complexity/noArguments: the pipe protocol passes its functions as arguments
    return pipeArguments(this, arguments)
  }

  // --- L1 ----------------------------------------------------------------------------------------

  private modify<A>(
    f: (state: Lru<string, Entry<K, V>>, now: number) => readonly [A, Lru<string, Entry<K, V>>],
    relabel?: RemovalCause
  ): Effect.Effect<A> {
    return Effect.clockWith((clock: Clock.Clock) =>
      Ref.modify(this.state, (state) => {
        const result = f(state, clock.unsafeCurrentTimeMillis())
        if (result[1] !== state) this.publish(result[1], relabel)
        return result
      })
    )
  }

  private read<A>(f: (state: Lru<string, Entry<K, V>>, now: number) => A): Effect.Effect<A> {
    return this.modify((state, now) => [f(state, now), state])
  }

  /** Reads L1 for a key, or answers `untrusted` while L1 may be stale (see `trusted`). */
  private readLocal<A>(
    f: (state: Lru<string, Entry<K, V>>, now: number) => A,
    untrusted: A
  ): Effect.Effect<A> {
    return Effect.suspend(() => (this.trusted ? this.read(f) : Effect.succeed(untrusted)))
  }

  /** Publishes what made `next`; `relabel` names the cause when another instance deleted a key. */
  private publish(next: Lru<string, Entry<K, V>>, relabel: RemovalCause | undefined): void {
    const removed = lru.lastRemoved(next)
    for (let i = 0; i < removed.length; i++) {
      const removal = removed[i]!
      const cause = relabel !== undefined && removal.cause === "deleted" ? relabel : removal.cause
      if (cause === "evicted") this.evictions++
      else if (cause === "expired") this.expirations++
      const event: Removal<K, V> = { key: removal.value.key, value: removal.value.value, cause }
      if (!this.removals.unsafeOffer(event) && this.removals.isActive()) {
        // A subscriber is EVENTS_CAPACITY events behind: the sliding publish drops its oldest.
        this.droppedEvents++
        Effect.runSync(PubSub.publish(this.removals, event))
      }
    }
  }

  /** After Redis took a write: L1 keeps the value only while it can trust invalidations. */
  private setConfirmed(encoded: string, key: K, value: V, expiresIn: number): Effect.Effect<void> {
    return Effect.suspend(() =>
      this.trusted ? this.setLocal(encoded, key, value, expiresIn) : this.removeLocal(encoded)
    )
  }

  private setLocal(encoded: string, key: K, value: V, expiresIn: number): Effect.Effect<void> {
    return this.modify((state, now) => [
      undefined,
      lru.setExpiresAtNext(state, encoded, { key, value }, now, now + expiresIn)
    ])
  }

  /** An L1 hit (which makes the key most recent), unless L1 cannot be trusted. */
  private getLocal(encoded: string): Effect.Effect<Option.Option<Entry<K, V>>> {
    return Effect.suspend(() =>
      this.trusted ? this.modify((state, now) => lru.get(state, encoded, now)) : Effect.succeedNone
    )
  }

  private removeLocal(encoded: string, relabel?: RemovalCause): Effect.Effect<boolean> {
    return this.modify((state, now) => {
      const [removed, next] = lru.remove(state, encoded, now)
      return [removed.length > 0 && removed[0]!.cause === "deleted", next]
    }, relabel)
  }

  private get clearLocal(): Effect.Effect<void> {
    return this.modify((state, now) => [undefined, lru.clear(state, now)[1]])
  }

  /** Puts a value read from Redis in L1, unless a write or an invalidation happened since `epoch`. */
  private fill(encoded: string, key: K, value: V, expiresIn: number, epoch: number): Effect.Effect<void> {
    return this.modify((state, now) =>
      epoch === this.epoch && this.trusted
        ? [undefined, lru.setExpiresAtNext(state, encoded, { key, value }, now, now + expiresIn)]
        : [undefined, state]
    )
  }

  // --- Redis -------------------------------------------------------------------------------------

  private command<A>(method: string, run: () => Promise<A>): Effect.Effect<A, RedisError> {
    return Effect.tap(this.attempt(method, run), () => this.answered)
  }

  private attempt<A>(method: string, run: () => Promise<A>): Effect.Effect<A, RedisError> {
    return Effect.tryPromise({
      try: run,
      catch: (cause) =>
        new RedisError({
          method: `RedisCache.${method}`,
          description:
            this.client.status === "ready"
              ? "Redis command failed"
              : `Redis is unreachable (connection ${this.client.status})`,
          cause: sanitizeCause(cause, this.config.secrets)
        })
    })
  }

  /**
   * Runs a write and publishes its invalidation, both sent at once on the one connection (so in
   * order, in one round trip); answers the write's result.
   */
  private writeAndPublish<A>(
    method: string,
    write: () => Promise<A>,
    kind: MessageKind,
    encoded: string
  ): Effect.Effect<A, RedisError> {
    return this.command(method, () =>
      Promise.all([write(), this.client.publish(this.channel, this.message(kind, encoded))]).then(
        ([result]) => result
      )
    )
  }

  /**
   * Counts an operation Redis could not serve, and logs the first of an outage. With
   * `whenUnavailable: "fail"`, drops L1 at once: a command that failed or timed out while the socket
   * stays open (a stall, a partition) means invalidations may be stuck too.
   */
  private unavailable(error: RedisError, operation = true): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (operation) this.unavailableCount++
      const drop = this.config.serveFromL1 ? Effect.void : this.dropLocal
      if (this.degraded) return drop
      this.degraded = true
      return Effect.zipRight(
        drop,
        Effect.logWarning(
          this.config.serveFromL1
            ? `${error.message}; serving from this process's cache (L1) until Redis is back`
            : `${error.message}; failing until Redis is back`
        )
      )
    })
  }

  /** `make` could not connect: the outage starts now, and is logged once, here. */
  startDegraded(error: RedisError): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.degraded = true
      return Effect.logWarning(
        `${error.message}; serving from this process's cache (L1) until Redis is reachable`
      )
    })
  }

  /**
   * A command succeeded. Ends an outage that ended without a reconnection (a stall): L1 is dropped,
   * as on reconnection, since it may hold local writes or have missed invalidations.
   */
  private get answered(): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (!this.degraded) return Effect.void
      this.degraded = false
      return Effect.zipRight(this.dropLocal, Effect.logInfo("RedisCache: Redis answers again; L1 dropped"))
    })
  }

  /** Drops L1, and keeps reads in flight from putting what they read in it. */
  private get dropLocal(): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.epoch++
      return this.clearLocal
    })
  }

  /**
   * After a failed write: with `serveFromL1`, `local` does the write in L1; otherwise `cleanup` drops
   * what L1 may hold for the key (Redis' state is unknown now) and the error goes to the caller.
   */
  private degrade<A>(error: RedisError, local: Effect.Effect<A>, cleanup: Effect.Effect<unknown>) {
    return Effect.zipRight(
      this.unavailable(error),
      this.config.serveFromL1 ? local : Effect.zipRight(cleanup, Effect.fail(error))
    )
  }

  /** For reads, which cannot fail: Redis' answer, or else `local`'s. */
  private readOrLocal<A>(remote: Effect.Effect<A, RedisError>, local: Effect.Effect<A>): Effect.Effect<A> {
    return Effect.catchAll(remote, (error) => Effect.zipRight(this.unavailable(error), local))
  }

  private redisKey(encoded: string): string {
    return this.keyPrefix + encoded
  }

  private message(kind: MessageKind, encoded?: string): string {
    return encoded === undefined ? `${this.instanceId} ${kind}` : `${this.instanceId} ${kind} ${encoded}`
  }

  /** The live value of a key in Redis, with the milliseconds it has left (`Infinity`: no expiry). */
  private lookup(
    method: string,
    encoded: string
  ): Effect.Effect<Option.Option<{ readonly value: V; readonly expiresIn: number }>, RedisError> {
    return Effect.flatMap(
      this.command(method, () => this.client.getWithTtlBuffer(this.redisKey(encoded))),
      (reply) => {
        if (reply === null) return Effect.succeedNone
        if (!Array.isArray(reply)) return this.undecodable(method, encoded, wrongType(reply))
        if (reply[1] === -2) return Effect.succeedNone
        const decoded = this.config.codec.decode(reply[0])
        if (Either.isLeft(decoded)) {
          return this.undecodable(method, encoded, decoded.left.description)
        }
        return Effect.succeedSome({ value: decoded.right, expiresIn: reply[1] < 0 ? Infinity : reply[1] })
      }
    )
  }

  private undecodable(
    method: string,
    encoded: string,
    description: string
  ): Effect.Effect<Option.Option<never>> {
    return Effect.suspend(() => {
      this.decodeFailures++
      return Effect.as(
        Effect.logWarning(
          `RedisCache.${method}: the value of ${JSON.stringify(this.redisKey(encoded))} cannot be decoded (${description}); counted as a miss`
        ),
        Option.none()
      )
    })
  }

  private encodeKey(method: string, key: K): Effect.Effect<string> {
    return Effect.suspend(() => {
      const encoded = encodeKey(key)
      return Either.isRight(encoded)
        ? Effect.succeed(encoded.right)
        : Effect.die(new KeyEncodingError({ method: `RedisCache.${method}`, ...encoded.left }))
    })
  }

  private encodeValue(method: string, value: V): Effect.Effect<Uint8Array, RedisError> {
    return Effect.suspend(() => {
      const encoded = this.config.codec.encode(value)
      return Either.isRight(encoded)
        ? Effect.succeed(encoded.right)
        : Effect.fail(
            new RedisError({
              method: `RedisCache.${method}`,
              description: `the value cannot be encoded: ${encoded.left.description}`,
              cause: encoded.left.cause
            })
          )
    })
  }

  // --- operations --------------------------------------------------------------------------------

  get(key: K): Effect.Effect<Option.Option<V>> {
    return Effect.flatMap(this.encodeKey("get", key), (encoded) =>
      Effect.flatMap(this.getLocal(encoded), (local): Effect.Effect<Option.Option<V>> => {
        if (Option.isSome(local)) {
          this.localHits++
          return Effect.succeed(Option.some(local.value.value))
        }
        const epoch = this.epoch
        return this.readOrLocal(
          Effect.flatMap(this.lookup("get", encoded), (found) => {
            if (Option.isNone(found)) {
              this.misses++
              return Effect.succeedNone
            }
            this.remoteHits++
            return Effect.as(
              this.fill(encoded, key, found.value.value, found.value.expiresIn, epoch),
              Option.some(found.value.value)
            )
          }),
          Effect.sync(() => {
            this.misses++
            return Option.none()
          })
        )
      })
    )
  }

  set(key: K, value: V, options?: LruCache.SetOptions): Effect.Effect<void, RedisError> {
    const timeToLive =
      options?.timeToLive === undefined ? this.config.timeToLive : millisOf(options.timeToLive)
    return Effect.flatMap(this.encodeKey("set", key), (encoded) =>
      this.store("set", encoded, key, value, timeToLive)
    )
  }

  /**
   * Writes Redis and publishes the invalidation (one round trip), then writes L1; a time to live of
   * zero or less deletes.
   */
  private store(
    method: string,
    encoded: string,
    key: K,
    value: V,
    timeToLive: number
  ): Effect.Effect<void, RedisError> {
    const redisKey = this.redisKey(encoded)
    const bytes =
      timeToLive > 0 ? Effect.map(this.encodeValue(method, value), Option.some) : Effect.succeedNone
    return Effect.flatMap(bytes, (encodedValue) =>
      this.written(
        encoded,
        Effect.matchEffect(
          this.writeAndPublish(
            method,
            (): Promise<unknown> => {
              if (Option.isNone(encodedValue)) return this.client.unlink(redisKey)
              const bytes = encodedValue.value
              const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
              return timeToLive === Infinity
                ? this.client.set(redisKey, buffer)
                : this.client.set(redisKey, buffer, "PX", pxOf(timeToLive))
            },
            "s",
            encoded
          ),
          {
            onFailure: (error) =>
              this.degrade(error, this.setLocal(encoded, key, value, timeToLive), this.removeLocal(encoded)),
            onSuccess: () => this.setConfirmed(encoded, key, value, timeToLive)
          }
        )
      )
    )
  }

  /** Brackets a write with epoch bumps, and wakes the computations waiting for the key. */
  private written<A, E>(encoded: string | undefined, write: Effect.Effect<A, E>): Effect.Effect<A, E> {
    return Effect.suspend(() => {
      this.epoch++
      return Effect.ensuring(
        write,
        Effect.sync(() => {
          this.epoch++
          this.wake(encoded)
        })
      )
    })
  }

  private wake(encoded: string | undefined): void {
    if (encoded === undefined) {
      for (const wakers of this.waiting.values()) for (const wake of wakers) wake()
      return
    }
    const wakers = this.waiting.get(encoded)
    if (wakers !== undefined) for (const wake of wakers) wake()
  }

  getOrCompute<E2, R>(
    key: K,
    compute: Effect.Effect<V, E2, R>,
    options?: LruCache.ComputeOptions<V, E2>
  ): Effect.Effect<V, RedisError | E2, R> {
    return Effect.flatMap(this.encodeKey("getOrCompute", key), (encoded) =>
      Effect.flatMap(this.getLocal(encoded), (local): Effect.Effect<V, RedisError | E2, R> => {
        if (Option.isSome(local)) {
          this.localHits++
          return Effect.succeed(local.value.value)
        }
        const running = this.running.get(encoded)
        if (running !== undefined) {
          this.misses++
          return Deferred.await(running as Deferred.Deferred<V, RedisError | E2>)
        }
        const deferred = Deferred.unsafeMake<V, RedisError | E2>(FiberId.none)
        this.running.set(encoded, deferred as Deferred.Deferred<V, unknown>)
        const load = Effect.uninterruptibleMask((restore) =>
          Effect.flatMap(Effect.exit(restore(this.load(encoded, key, compute, options))), (exit) => {
            this.running.delete(encoded)
            return Deferred.done(deferred, exit)
          })
        )
        return Effect.zipRight(Effect.forkIn(load, this.scope), Deferred.await(deferred))
      })
    )
  }

  /** The cross-process part of `getOrCompute`: Redis' value, or one computation under a lock. */
  private load<E2, R>(
    encoded: string,
    key: K,
    compute: Effect.Effect<V, E2, R>,
    options: LruCache.ComputeOptions<V, E2> | undefined
  ): Effect.Effect<V, RedisError | E2, R> {
    const claim = this.config.serveFromL1
      ? Effect.catchAll(this.claim(encoded, key), (error) =>
          Effect.as(this.unavailable(error), { _tag: "Unlocked" } as Claim<V>)
        )
      : this.claim(encoded, key)
    return Effect.flatMap(claim, (claimed): Effect.Effect<V, RedisError | E2, R> => {
      if (claimed._tag === "Found") {
        this.remoteHits++
        return Effect.succeed(claimed.value)
      }
      this.misses++
      const computed = Effect.onExit(compute, (exit) =>
        Effect.sync(() => (Exit.isSuccess(exit) ? this.loadSuccesses++ : this.loadFailures++))
      )
      const stored = Effect.tap(computed, (value) => {
        const ttl = options?.timeToLive
        const millis =
          ttl === undefined
            ? this.config.timeToLive
            : millisOf(typeof ttl === "function" ? ttl(Exit.succeed(value)) : ttl)
        return this.store("getOrCompute", encoded, key, value, millis)
      })
      if (claimed._tag === "Unlocked") return stored
      return Effect.scoped(
        Effect.zipRight(
          Effect.forkScoped(this.renew(encoded, claimed.token)),
          Effect.ensuring(stored, this.release(encoded, claimed.token))
        )
      )
    })
  }

  /** Finds the value in Redis, or takes the lock, or waits for the holder, within `lockWait`. */
  private claim(encoded: string, key: K): Effect.Effect<Claim<V>, RedisError> {
    const redisKey = this.redisKey(encoded)
    const lockKey = this.redisKey(LOCK_NAMESPACE + encoded)
    const token = randomUUID()
    const lockMillis = pxOf(this.config.lockTimeToLive)
    // After a value that cannot be decoded, take the lock regardless, to compute and replace it.
    const attempt = (start: number, readValue: boolean): Effect.Effect<Claim<V>, RedisError> =>
      Effect.suspend(() => {
        const epoch = this.epoch
        return Effect.flatMap(
          this.command("getOrCompute", () =>
            this.client.claimBuffer(redisKey, lockKey, token, lockMillis, readValue ? "1" : "0")
          ),
          (reply): Effect.Effect<Claim<V>, RedisError> => {
            if (reply === 1) return Effect.succeed({ _tag: "Locked", token })
            if (Buffer.isBuffer(reply)) {
              return Effect.zipRight(
                this.undecodable("getOrCompute", encoded, wrongType(reply)),
                attempt(start, false)
              )
            }
            if (reply !== 0) {
              const decoded = this.config.codec.decode(reply[0])
              if (Either.isLeft(decoded)) {
                return Effect.zipRight(
                  this.undecodable("getOrCompute", encoded, decoded.left.description),
                  attempt(start, false)
                )
              }
              const expiresIn = reply[1] < 0 ? Infinity : reply[1]
              return Effect.as(this.fill(encoded, key, decoded.right, expiresIn, epoch), {
                _tag: "Found",
                value: decoded.right
              })
            }
            return Effect.flatMap(
              Effect.clockWith((clock) => clock.currentTimeMillis),
              (now) =>
                now - start >= this.config.lockWait
                  ? Effect.as(
                      Effect.logWarning(
                        `RedisCache.getOrCompute: waited ${this.config.lockWait} ms for another instance to compute ${JSON.stringify(redisKey)}; computing here`
                      ),
                      { _tag: "Unlocked" } as const
                    )
                  : Effect.zipRight(this.waitFor(encoded), attempt(start, readValue))
            )
          }
        )
      })
    return Effect.flatMap(
      Effect.clockWith((clock) => clock.currentTimeMillis),
      (start) => attempt(start, true)
    )
  }

  /** Sleeps until an invalidation of the key arrives, or a poll interval passes. */
  private waitFor(encoded: string): Effect.Effect<void> {
    const woken = Effect.async<void>((resume) => {
      const wake = () => resume(Effect.void)
      let wakers = this.waiting.get(encoded)
      if (wakers === undefined) this.waiting.set(encoded, (wakers = new Set()))
      wakers.add(wake)
      return Effect.sync(() => {
        wakers.delete(wake)
        if (wakers.size === 0 && this.waiting.get(encoded) === wakers) this.waiting.delete(encoded)
      })
    })
    return Effect.race(woken, Effect.sleep(Duration.millis(LOCK_POLL_MILLIS)))
  }

  private renew(encoded: string, token: string): Effect.Effect<void> {
    const lockKey = this.redisKey(LOCK_NAMESPACE + encoded)
    const every = Duration.millis(Math.max(1, this.config.lockTimeToLive / 3))
    // A renewal that fails (Redis briefly away) must not end the others: the lock would lapse.
    const renewal = Effect.ignore(
      this.command("getOrCompute", () =>
        this.client.renewLock(lockKey, token, pxOf(this.config.lockTimeToLive))
      )
    )
    return Effect.asVoid(Effect.repeat(Effect.delay(renewal, every), Schedule.forever))
  }

  private release(encoded: string, token: string): Effect.Effect<void> {
    const lockKey = this.redisKey(LOCK_NAMESPACE + encoded)
    // An unreleased lock expires by itself; the others only wait longer.
    return Effect.ignore(this.command("getOrCompute", () => this.client.releaseLock(lockKey, token)))
  }

  has(key: K): Effect.Effect<boolean> {
    return Effect.flatMap(this.encodeKey("has", key), (encoded) =>
      Effect.flatMap(
        this.readLocal((state, now) => lru.has(state, encoded, now), false),
        (local) =>
          local
            ? Effect.succeed(true)
            : this.readOrLocal(Effect.map(this.lookup("has", encoded), Option.isSome), Effect.succeed(false))
      )
    )
  }

  peek(key: K): Effect.Effect<Option.Option<V>> {
    return Effect.flatMap(this.encodeKey("peek", key), (encoded) =>
      Effect.flatMap(
        this.readLocal((state, now) => lru.peek(state, encoded, now), Option.none()),
        (local) =>
          Option.isSome(local)
            ? Effect.succeed(Option.some(local.value.value))
            : this.readOrLocal(
                Effect.map(
                  this.lookup("peek", encoded),
                  Option.map((found) => found.value)
                ),
                Effect.succeedNone
              )
      )
    )
  }

  remainingTtl(key: K): Effect.Effect<Option.Option<Duration.Duration>> {
    return Effect.flatMap(this.encodeKey("remainingTtl", key), (encoded) =>
      Effect.flatMap(
        this.readLocal((state, now) => lru.remainingTtl(state, encoded, now), Option.none()),
        (local) =>
          Option.isSome(local)
            ? Effect.succeed(local)
            : this.readOrLocal(
                Effect.map(
                  this.lookup("remainingTtl", encoded),
                  Option.map(({ expiresIn }) =>
                    expiresIn === Infinity ? Duration.infinity : Duration.millis(expiresIn)
                  )
                ),
                Effect.succeedNone
              )
      )
    )
  }

  delete(key: K): Effect.Effect<boolean, RedisError> {
    return Effect.flatMap(this.encodeKey("delete", key), (encoded) =>
      this.written(
        encoded,
        Effect.matchEffect(
          this.writeAndPublish("delete", () => this.client.unlink(this.redisKey(encoded)), "d", encoded),
          {
            onFailure: (error) => this.degrade(error, this.removeLocal(encoded), this.removeLocal(encoded)),
            onSuccess: (unlinked) => Effect.as(this.removeLocal(encoded), unlinked > 0)
          }
        )
      )
    )
  }

  get clear(): Effect.Effect<void, RedisError> {
    const unlinkAll = Effect.flatMap(this.scanKeys("clear"), (keys) =>
      Effect.forEach(
        chunks(keys, SCAN_COUNT),
        (batch) => this.command("clear", () => this.client.unlink(...batch)),
        { discard: true }
      )
    )
    const remote = Effect.zipRight(
      unlinkAll,
      this.command("clear", () => this.client.publish(this.channel, this.message("c")))
    )
    return this.written(
      undefined,
      Effect.zipRight(
        Effect.catchAll(remote, (error) => this.degrade(error, Effect.void, this.clearLocal)),
        this.clearLocal
      )
    )
  }

  /** Every cache key of the prefix in Redis (lock keys left out), each once. */
  private scanKeys(method: string): Effect.Effect<ReadonlyArray<string>, RedisError> {
    const pattern = matchPrefix(this.config.prefix)
    const lockPrefix = this.keyPrefix + LOCK_NAMESPACE
    const keys = new Set<string>()
    const step = (cursor: string): Effect.Effect<ReadonlyArray<string>, RedisError> =>
      Effect.flatMap(
        this.command(method, () => this.client.scan(cursor, "MATCH", pattern, "COUNT", SCAN_COUNT)),
        ([next, batch]) => {
          for (const key of batch) if (!key.startsWith(lockPrefix)) keys.add(key)
          return next === "0" ? Effect.succeed(Array.from(keys)) : step(next)
        }
      )
    return Effect.suspend(() => step("0"))
  }

  /** Every live entry of the prefix in Redis whose value decodes. */
  private scanEntries(method: string): Effect.Effect<ReadonlyArray<readonly [K, V]>, RedisError> {
    return Effect.flatMap(this.scanKeys(method), (keys) =>
      Effect.map(
        Effect.forEach(chunks(keys, MGET_BATCH), (batch) =>
          Effect.flatMap(
            this.command(method, () => this.client.mgetBuffer(...batch)),
            (values) =>
              Effect.forEach(batch, (redisKey, i) => {
                const bytes = values[i]
                if (bytes === null || bytes === undefined) return Effect.succeedNone
                const key = this.cacheKey(redisKey)
                if (Option.isNone(key)) return Effect.succeedNone
                const decoded = this.config.codec.decode(bytes)
                return Either.isLeft(decoded)
                  ? this.undecodable(method, redisKey.slice(this.keyPrefix.length), decoded.left.description)
                  : Effect.succeedSome([key.value, decoded.right] as const)
              })
          )
        ),
        (batches) => batches.flat().flatMap(Option.toArray)
      )
    )
  }

  private get localEntries(): Effect.Effect<ReadonlyArray<readonly [K, V]>> {
    return this.read((state, now) => lru.values(state, now).map((entry) => [entry.key, entry.value] as const))
  }

  get size(): Effect.Effect<number> {
    return this.readOrLocal(
      Effect.map(this.scanKeys("size"), (keys) => keys.length),
      this.read((state, now) => lru.size(state, now))
    )
  }

  /** The cache key of a Redis key under the prefix; `None` for a key this cache did not write. */
  private cacheKey(redisKey: string): Option.Option<K> {
    try {
      return Option.some(decodeKey(redisKey.slice(this.keyPrefix.length)) as K)
    } catch {
      return Option.none()
    }
  }

  get keys(): Effect.Effect<ReadonlyArray<K>> {
    return this.readOrLocal(
      Effect.map(this.scanKeys("keys"), (keys) => keys.flatMap((key) => Option.toArray(this.cacheKey(key)))),
      Effect.map(this.localEntries, (entries) => entries.map(([key]) => key))
    )
  }

  get values(): Effect.Effect<ReadonlyArray<V>> {
    return Effect.map(this.entries, (entries) => entries.map(([, value]) => value))
  }

  get entries(): Effect.Effect<ReadonlyArray<readonly [K, V]>> {
    return this.readOrLocal(this.scanEntries("entries"), this.localEntries)
  }

  get stats(): Effect.Effect<RedisCache.RedisCacheStats> {
    return this.read((state, now) => {
      return {
        hits: this.localHits + this.remoteHits,
        misses: this.misses,
        evictions: this.evictions,
        expirations: this.expirations,
        size: lru.size(state, now),
        loadSuccesses: this.loadSuccesses,
        loadFailures: this.loadFailures,
        localHits: this.localHits,
        remoteHits: this.remoteHits,
        decodeFailures: this.decodeFailures,
        unavailable: this.unavailableCount,
        invalidations: this.invalidations,
        droppedEvents: this.droppedEvents
      }
    })
  }

  get events(): Stream.Stream<Removal<K, V>> {
    return Stream.fromPubSub(this.removals)
  }

  get subscribe() {
    return PubSub.subscribe(this.removals)
  }

  // --- connection events -------------------------------------------------------------------------

  // --- liveness of the subscription --------------------------------------------------------------

  /**
   * One heartbeat: published on this instance's own channel, it must come back through the
   * subscription within `heartbeatInterval`. If Redis took it but it did not come back, the
   * subscription is stalled and invalidations are lost: L1 is dropped and bypassed until one does.
   * If Redis did not take it, that is an outage like any other.
   */
  get heartbeat(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const sequence = ++this.heartbeats
      const arrived = Deferred.unsafeMake<void>(FiberId.none)
      this.heartbeatArrived = { sequence, arrived }
      const interval = Duration.millis(this.config.heartbeatInterval)
      return Effect.matchEffect(
        this.command("heartbeat", () => this.client.publish(this.heartbeatChannel, String(sequence))),
        {
          onFailure: (error) => this.unavailable(error, false),
          onSuccess: (receivers) =>
            receivers === 0
              ? this.distrust(`the subscription to ${JSON.stringify(this.channel)} is not in place`)
              : Effect.zipRight(
                  Effect.timeout(Deferred.await(arrived), interval).pipe(
                    Effect.ignore,
                    // After the event loop was blocked, timers run before pending I/O is read: let
                    // the I/O phase pass once, so that a heartbeat already there counts.
                    Effect.zipRight(afterPendingIo)
                  ),
                  Effect.flatMap(Deferred.isDone(arrived), (done) =>
                    done
                      ? this.trust
                      : this.distrust(
                          `invalidations from other instances did not arrive within ${this.config.heartbeatInterval} ms`
                        )
                  )
                )
        }
      )
    })
  }

  /** A heartbeat came back. Runs in the subscriber's event handler. */
  onHeartbeat(payload: string): void {
    const expected = this.heartbeatArrived
    if (expected !== undefined && payload === String(expected.sequence)) {
      Deferred.unsafeDone(expected.arrived, Exit.void)
    }
  }

  private distrust(reason: string): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (!this.trusted) return Effect.void
      this.trusted = false
      // A subscription that is reconnecting is no surprise (and L1 is dropped when it is back); one
      // whose connection looks fine but delivers nothing is.
      this.distrustLogged = this.subscriber.status === "ready"
      const message = `RedisCache: ${reason}; L1 dropped and bypassed until they arrive again`
      return Effect.zipRight(
        this.dropLocal,
        this.distrustLogged ? Effect.logWarning(message) : Effect.logDebug(message)
      )
    })
  }

  private get trust(): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.trusted) return Effect.void
      this.trusted = true
      const message = "RedisCache: invalidations arrive again; L1 in use again"
      // L1 was bypassed meanwhile, but may hold what was written locally while Redis was away.
      return Effect.zipRight(
        this.dropLocal,
        this.distrustLogged ? Effect.logInfo(message) : Effect.logDebug(message)
      )
    })
  }

  /** Applies another instance's invalidation. Runs in the subscriber's event handler. */
  onMessage(payload: string): void {
    const space = payload.indexOf(" ")
    if (space < 0 || payload.startsWith(this.instanceId)) return
    const kind = payload[space + 1]
    this.invalidations++
    this.epoch++
    if (kind === "c") {
      Runtime.runSync(this.runtime)(this.clearLocal)
      this.wake(undefined)
    } else if ((kind === "s" || kind === "d") && payload[space + 2] === " ") {
      const encoded = payload.slice(space + 3)
      Runtime.runSync(this.runtime)(this.removeLocal(encoded, kind === "s" ? "replaced" : "deleted"))
      this.wake(encoded)
    }
  }

  /** A connection is back: L1 may have missed invalidations meanwhile, so it starts over. */
  onReconnect(): void {
    this.epoch++
    const wasDegraded = this.degraded
    this.degraded = false
    Runtime.runFork(this.runtime)(
      Effect.zipRight(
        this.clearLocal,
        wasDegraded ? Effect.logInfo(`RedisCache: Redis is reachable again; L1 dropped`) : Effect.void
      )
    )
  }

  /** A connection is lost: with `whenUnavailable: "fail"`, L1 stops serving at once. */
  onDisconnect(): void {
    this.epoch++
    if (!this.config.serveFromL1) Runtime.runSync(this.runtime)(this.clearLocal)
  }
}

/** Resumes in the "check" phase of the event loop, after the I/O already pending has been read. */
const afterPendingIo: Effect.Effect<void> = Effect.async<void>((resume) => {
  const immediate = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(immediate))
})

/** Why a key of another Redis type is no value: `type` is the name `TYPE` gave. */
const wrongType = (type: Buffer): string => `it is a Redis ${type.toString()}, not a string`

const chunks = <A>(items: ReadonlyArray<A>, size: number): Array<ReadonlyArray<A>> => {
  const result: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size))
  return result
}

// --- options ---------------------------------------------------------------------------------------

const METHOD = "RedisCache.make"

const invalid = (option: string, reason: string, value: unknown) =>
  new InvalidOption({ method: METHOD, option, reason, value })

/** Decodes a duration option to milliseconds; lock timings must be finite. */
const decodeDuration = (option: string, input: unknown, allowInfinity: boolean) =>
  Either.map(positiveDuration(METHOD, option, input, { finite: !allowInfinity }), Duration.toMillis)

const decodeOptions = <V>(options: RedisCache.Options<V>): Either.Either<Config<V>, InvalidOption> =>
  Either.gen(function* () {
    const capacity = yield* positiveInteger(METHOD, "capacity", options.capacity)
    const timeToLive =
      options.timeToLive === undefined
        ? Infinity
        : yield* decodeDuration("timeToLive", options.timeToLive, true)
    const prefix: unknown = options.prefix ?? DEFAULT_PREFIX
    if (typeof prefix !== "string" || prefix.length === 0 || prefix.includes(PREFIX_END)) {
      // An empty prefix would make `clear` remove every key of the database; the character that
      // ends the prefix in Redis keys cannot be part of it.
      return yield* Either.left(
        invalid("prefix", "must be a non-empty string without the character \\u0000", prefix)
      )
    }
    const whenUnavailable: unknown = options.whenUnavailable ?? "serveFromL1"
    if (whenUnavailable !== "serveFromL1" && whenUnavailable !== "fail") {
      return yield* Either.left(
        invalid("whenUnavailable", 'must be "serveFromL1" or "fail"', whenUnavailable)
      )
    }
    const valueCodec: unknown = options.valueCodec ?? codec.structuredClone
    if (!codec.isCodec(valueCodec)) {
      return yield* Either.left(
        invalid("valueCodec", "must be a codec from CachePersistence.codec", valueCodec)
      )
    }
    const connection: unknown = options.connection ?? "redis://127.0.0.1:6379"
    if (typeof connection !== "string" && (typeof connection !== "object" || connection === null)) {
      return yield* Either.left(
        invalid("connection", "must be a redis:// URL or ioredis options", connection)
      )
    }
    const lockTimeToLive = yield* decodeDuration(
      "lockTimeToLive",
      options.lockTimeToLive ?? DEFAULT_LOCK_TIME_TO_LIVE,
      false
    )
    const lockWait = yield* decodeDuration("lockWait", options.lockWait ?? DEFAULT_LOCK_WAIT, false)
    const heartbeatInterval = yield* decodeDuration(
      "heartbeatInterval",
      options.heartbeatInterval ?? DEFAULT_HEARTBEAT_INTERVAL,
      false
    )
    return {
      capacity,
      timeToLive,
      connection: typeof connection === "string" ? normalizeUrl(connection) : (connection as RedisOptions),
      secrets: secretsOf(connection as string | RedisOptions),
      prefix,
      codec: valueCodec as Codec<V>,
      serveFromL1: whenUnavailable === "serveFromL1",
      lockTimeToLive,
      lockWait,
      heartbeatInterval
    }
  })

// --- constructors ----------------------------------------------------------------------------------

/** Opens a connection that closes with the scope; it reconnects by itself until then. */
const connect = <V>(config: Config<V>, role: string) =>
  Effect.acquireRelease(
    Effect.try({
      catch: (cause) =>
        new RedisError({
          method: METHOD,
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

const firstConnect = <V>(client: Client, config: Config<V>): Effect.Effect<void, RedisError> =>
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
const secretsOf = (connection: string | RedisOptions): ReadonlyArray<string> => {
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

/** @internal */
export const make = <K, V>(
  options: RedisCache.Options<V>
): Effect.Effect<RedisCache.RedisCache<K, V>, InvalidOption | RedisError, Scope.Scope> =>
  Effect.gen(function* () {
    const config = yield* decodeOptions(options)
    const scope = yield* Effect.scope
    const runtime = yield* Effect.runtime<never>()
    const removals = yield* Effect.acquireRelease(
      PubSub.sliding<Removal<K, V>>(Math.max(EVENTS_CAPACITY, config.capacity)),
      PubSub.shutdown
    )
    const state = yield* Ref.make(lru.empty<string, Entry<K, V>>(config.capacity))
    const client = yield* connect(config, "commands")
    const subscriber = yield* connect(config, "invalidations")
    const cache = new RedisCacheImpl<K, V>(config, client, subscriber, state, removals, scope, runtime)
    const channel = `${config.prefix}invalidations`
    subscriber.on("message", (from: string, payload: string) => {
      if (from === channel) cache.onMessage(payload)
      else if (from === cache.heartbeatChannel) cache.onHeartbeat(payload)
    })
    // Subscribed by hand on every connection rather than by ioredis' resubscription, so that a first
    // connection made after `make` returned (Redis was down at the start) subscribes too. Once `make`
    // has returned, every new connection drops L1: invalidations may have been missed meanwhile.
    let started = false
    const subscribed = Deferred.unsafeMake<void>(FiberId.none)
    subscriber.on("ready", () => {
      subscriber.subscribe(channel, cache.heartbeatChannel).then(
        () => {
          if (started) cache.onReconnect()
          Deferred.unsafeDone(subscribed, Exit.void)
        },
        () => subscriber.disconnect(true)
      )
    })
    client.on("ready", () => {
      if (started) cache.onReconnect()
    })
    for (const connection of [client, subscriber]) connection.on("close", () => cache.onDisconnect())
    const subscription = Effect.timeoutFail(Deferred.await(subscribed), {
      duration: Duration.seconds(5),
      onTimeout: () =>
        new RedisError({ method: "RedisCache.make", description: "cannot subscribe to invalidations" })
    })
    // Both connections are started, whatever happens to the other: ioredis keeps a started one
    // reconnecting until the scope closes.
    const connected = Effect.all(
      [firstConnect(client, config), Effect.zipRight(firstConnect(subscriber, config), subscription)],
      { concurrency: "unbounded", discard: true }
    )
    yield* Effect.ensuring(
      config.serveFromL1 ? Effect.catchAll(connected, (error) => cache.startDegraded(error)) : connected,
      Effect.sync(() => {
        started = true
      })
    )
    yield* Effect.forkScoped(
      Effect.repeat(cache.heartbeat, Schedule.spaced(Duration.millis(config.heartbeatInterval)))
    )
    return cache
  })

/** @internal */
export const layer = <I, K, V>(
  tag: Context.Tag<I, LruCache.LruCache<K, V, RedisError>>,
  options: RedisCache.Options<V>
): Layer.Layer<I, InvalidOption | RedisError> => Layer.scoped(tag, make<K, V>(options))
