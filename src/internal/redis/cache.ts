/**
 * The Redis cache's operations, on the tier of internal/redis/tier.ts, and its constructors.
 */

import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import type * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { InvalidOption, RecursiveComputation, RedisError } from "../../CacheError.js"
import type { Lru } from "../../Lru.js"
import type * as LruCache from "../../LruCache.js"
import type * as RedisCache from "../../RedisCache.js"
import * as lru from "../lru.js"
import { weigh } from "../lruOptions.js"
import { durationMillis } from "../options.js"
import { makeParts } from "../shell.js"
import { connect, firstConnect, pxOf } from "./client.js"
import * as invalidation from "./invalidation.js"
import { decodeKey, LOCK_NAMESPACE } from "./keyEncoding.js"
import * as lock from "./lock.js"
import { decodeOptions } from "./options.js"
import * as scan from "./scan.js"
import { type Entry, Tier } from "./tier.js"

/**
 * The fewest events a subscriber that does not read can hold before the oldest are dropped; the
 * bound is at least the capacity, so that a `clear` of a full L1 reaches a subscriber that keeps up.
 */
const EVENTS_CAPACITY = 1024

/** An entry read from Redis by a scan. */
interface Scanned<K, V> {
  readonly redisKey: string
  readonly bytes: Buffer
  readonly key: K
  readonly value: V
}

class RedisCacheImpl<K, V> extends Tier<K, V> implements RedisCache.RedisCache<K, V> {
  get(key: K): Effect.Effect<Option.Option<V>> {
    return Effect.flatMap(this.encodeKey("get", key), (encoded) =>
      Effect.flatMap(this.getLocal(encoded), (local): Effect.Effect<Option.Option<V>> => {
        if (Option.isSome(local)) {
          this.hit()
          return Effect.succeed(Option.some(local.value.value))
        }
        const epoch = this.epoch
        return this.readOrLocal(
          Effect.flatMap(this.lookup("get", encoded), (found) => {
            if (Option.isNone(found)) {
              this.miss()
              return Effect.succeedNone
            }
            this.hitRemote()
            return Effect.as(
              this.fill(encoded, key, found.value.value, found.value.expiresIn, epoch),
              Option.some(found.value.value)
            )
          }),
          Effect.sync(() => {
            this.miss()
            return Option.none()
          })
        )
      })
    )
  }

  set(key: K, value: V, options?: LruCache.SetOptions): Effect.Effect<void, RedisError> {
    const timeToLive =
      options?.timeToLive === undefined ? this.config.timeToLive : durationMillis(options.timeToLive)
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
    const weigher = this.config.weigher
    // A weigher's bad answer is a defect of the write, raised before Redis takes it: raised in L1's
    // step, after, it would leave L1 with the key's old value, which this instance would never hear
    // invalidated (it ignores its own invalidations).
    const weighed =
      weigher === undefined || timeToLive <= 0 ? Effect.void : Effect.sync(() => weigh(weigher, key, value))
    const bytes = Effect.zipRight(
      weighed,
      timeToLive > 0 ? Effect.map(this.encodeValue(method, value), Option.some) : Effect.succeedNone
    )
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
        ),
        this.removeLocal(encoded)
      )
    )
  }

  /**
   * Brackets a write with epoch bumps, and wakes the computations waiting for the key. A caller
   * interrupted once its commands are sent leaves Redis' state unknown, as a failed write does:
   * `interrupted` then drops what L1 may hold of it, which nothing else would (an instance never
   * hears its own invalidations).
   */
  private written<A, E>(
    encoded: string | undefined,
    write: Effect.Effect<A, E>,
    interrupted: Effect.Effect<unknown>
  ): Effect.Effect<A, E> {
    return Effect.suspend(() => {
      this.epoch++
      return Effect.ensuring(
        Effect.onInterrupt(write, () => interrupted),
        Effect.sync(() => {
          this.epoch++
          this.waiters.wake(encoded)
        })
      )
    })
  }

  getOrCompute<E2, R>(
    key: K,
    compute: Effect.Effect<V, E2, R>,
    options?: LruCache.ComputeOptions<V, E2>
  ): Effect.Effect<V, RedisError | E2 | RecursiveComputation, R> {
    return Effect.flatMap(this.encodeKey("getOrCompute", key), (encoded) =>
      this.singleFlight(
        "RedisCache.getOrCompute",
        key,
        encoded,
        (state, now): readonly [Option.Option<V>, Lru<string, Entry<K, V>>] => {
          // While L1 cannot be trusted it is not read (see `trusted`).
          if (!this.trusted) return [Option.none(), state]
          const [found, next] = lru.get(state, encoded, now)
          return [Option.map(found, (entry) => entry.value), next]
        },
        // The miss is counted once Redis has missed too.
        "onJoin",
        this.load(encoded, key, compute, options),
        (exit, deferred: Deferred.Deferred<V, RedisError | E2>) =>
          Effect.suspend(() => {
            this.unregister(encoded, deferred)
            return Deferred.done(deferred, exit)
          })
      )
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
          Effect.as(this.unavailable(error), { _tag: "Unlocked" } as lock.Claim<V>)
        )
      : this.claim(encoded, key)
    return Effect.flatMap(claim, (claimed): Effect.Effect<V, RedisError | E2, R> => {
      if (claimed._tag === "Found") {
        this.hitRemote()
        return Effect.succeed(claimed.value)
      }
      this.miss()
      const stored = this.computeAndStore("getOrCompute", encoded, key, compute, options)
      if (claimed._tag === "Unlocked") return stored
      const lockKey = this.redisKey(LOCK_NAMESPACE + encoded)
      return lock.holding(this, lockKey, claimed.token, this.config.lockTimeToLive, stored)
    })
  }

  /** Runs a computation, counts its outcome, and stores a success as `set` would. */
  private computeAndStore<E2, R>(
    method: string,
    encoded: string,
    key: K,
    compute: Effect.Effect<V, E2, R>,
    options: LruCache.ComputeOptions<V, E2> | undefined
  ): Effect.Effect<V, RedisError | E2, R> {
    const computed = Effect.onExit(compute, (exit) => Effect.sync(() => this.loaded(Exit.isSuccess(exit))))
    return Effect.tap(computed, (value) => {
      const ttl = options?.timeToLive
      const millis =
        ttl === undefined
          ? this.config.timeToLive
          : durationMillis(typeof ttl === "function" ? ttl(Exit.succeed(value)) : ttl)
      return this.store(method, encoded, key, value, millis)
    })
  }

  refresh<E2, R>(key: K, compute: Effect.Effect<V, E2, R>, options?: LruCache.ComputeOptions<V, E2>) {
    // The single flight of this instance's getOrCompute, with a lookup that never hits; no lock in
    // Redis: the old value stays there, for every instance, until the new one replaces it.
    return Effect.flatMap(this.encodeKey("refresh", key), (encoded) =>
      Effect.asVoid(
        this.singleFlight(
          "RedisCache.refresh",
          key,
          encoded,
          (state) => [Option.none(), state],
          "never",
          this.computeAndStore("refresh", encoded, key, compute, options),
          (exit, deferred: Deferred.Deferred<V, RedisError | E2>) =>
            Effect.suspend(() => {
              this.unregister(encoded, deferred)
              return Deferred.done(deferred, exit)
            })
        )
      )
    )
  }

  /** Finds the value in Redis, or takes the lock, or waits for the holder, within `lockWait`. */
  private claim(encoded: string, key: K): Effect.Effect<lock.Claim<V>, RedisError> {
    const redisKey = this.redisKey(encoded)
    const lockKey = this.redisKey(LOCK_NAMESPACE + encoded)
    const lockMillis = pxOf(this.config.lockTimeToLive)
    const attempt = (token: string, readValue: boolean): Effect.Effect<lock.Attempt<V>, RedisError> =>
      Effect.suspend(() => {
        const epoch = this.epoch
        return Effect.flatMap(
          this.command("getOrCompute", () =>
            this.client.claimBuffer(redisKey, lockKey, token, lockMillis, readValue ? "1" : "0")
          ),
          (reply): Effect.Effect<lock.Attempt<V>> => {
            if (reply === 1) return Effect.succeed({ _tag: "Locked" })
            if (reply === 0) return Effect.succeed({ _tag: "Held" })
            return Effect.flatMap(
              this.decodeReply("getOrCompute", encoded, reply),
              (found): Effect.Effect<lock.Attempt<V>> =>
                Option.isNone(found)
                  ? Effect.succeed({ _tag: "Undecodable" } as const)
                  : Effect.as(this.fill(encoded, key, found.value.value, found.value.expiresIn, epoch), {
                      _tag: "Found",
                      value: found.value.value
                    } as const)
            )
          }
        )
      })
    return lock.claim(attempt, this.waiters.woken(encoded), this.config.lockWait, redisKey)
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
        ),
        this.removeLocal(encoded)
      )
    )
  }

  get clear(): Effect.Effect<void, RedisError> {
    const unlinkAll = Effect.flatMap(this.scanKeys("clear"), (keys) => scan.unlinkAll(this, "clear", keys))
    const remote = Effect.zipRight(
      unlinkAll,
      this.command("clear", () => this.client.publish(this.channels.invalidations, this.message("c")))
    )
    return this.written(
      undefined,
      Effect.zipRight(
        Effect.catchAll(remote, (error) => this.degrade(error, Effect.void, this.clearLocal)),
        this.clearLocal
      ),
      this.clearLocal
    )
  }

  invalidateWhen(predicate: (key: K, value: V) => boolean): Effect.Effect<number, RedisError> {
    const method = "invalidateWhen"
    const remote = Effect.flatMap(this.scanDecoded(method), (entries) => {
      const matching = entries.filter((entry) => predicate(entry.key, entry.value))
      return Effect.map(
        scan.deleteUnchanged(
          this,
          method,
          matching.map((entry) => [entry.redisKey, entry.bytes] as const),
          this.channels.invalidations,
          (redisKey) => this.message("d", this.encodedOf(redisKey))
        ),
        (deleted) => deleted.map((redisKey) => this.encodedOf(redisKey))
      )
    })
    return this.written(
      undefined,
      Effect.matchEffect(remote, {
        // Redis may have deleted some of the keys: L1 drops every match, whether or not it serves.
        onFailure: (error) => {
          const local = this.removeLocalWhere(predicate, [])
          return this.degrade(error, local, local)
        },
        onSuccess: (deleted) => Effect.as(this.removeLocalWhere(predicate, deleted), deleted.length)
      }),
      this.removeLocalWhere(predicate, [])
    )
  }

  /**
   * Removes from L1, in one step, the entries for which `predicate` holds and those of `encoded`
   * (deleted from Redis by this instance); answers how many it removed.
   */
  private removeLocalWhere(
    predicate: (key: K, value: V) => boolean,
    encoded: ReadonlyArray<string>
  ): Effect.Effect<number> {
    const deleted = new Set(encoded)
    return this.modify((state, now): readonly [number, Lru<string, Entry<K, V>>] => {
      const matching: Array<string> = []
      for (const [id, entry] of lru.entries(state, now)) {
        if (deleted.has(id) || predicate(entry.key, entry.value)) matching.push(id)
      }
      let next = state
      for (let i = 0; i < matching.length; i++) {
        const before = next
        next = lru.remove(before, matching[i]!, now)[1]
        this.publish(before, next)
      }
      return [matching.length, next]
    })
  }

  private scanKeys(method: string): Effect.Effect<ReadonlyArray<string>, RedisError> {
    return scan.scanKeys(this, method, this.config.prefix)
  }

  /** Every live entry of the prefix in Redis whose value decodes, with its Redis key and bytes. */
  private scanDecoded(method: string): Effect.Effect<ReadonlyArray<Scanned<K, V>>, RedisError> {
    return Effect.flatMap(this.scanKeys(method), (keys) =>
      Effect.flatMap(scan.readAll(this, method, keys), (values) =>
        Effect.map(
          Effect.forEach(values, ([redisKey, bytes]): Effect.Effect<Option.Option<Scanned<K, V>>> => {
            const key = this.cacheKey(redisKey)
            if (Option.isNone(key)) return Effect.succeedNone
            const decoded = this.config.codec.decode(bytes)
            return Either.isLeft(decoded)
              ? this.undecodable(method, redisKey.slice(this.keyPrefix.length), decoded.left.description)
              : Effect.succeedSome({ redisKey, bytes, key: key.value, value: decoded.right })
          }),
          (entries) => entries.flatMap(Option.toArray)
        )
      )
    )
  }

  /** Every live entry of the prefix in Redis whose value decodes. */
  private scanEntries(method: string): Effect.Effect<ReadonlyArray<readonly [K, V]>, RedisError> {
    return Effect.map(this.scanDecoded(method), (entries) =>
      entries.map(({ key, value }) => [key, value] as const)
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

  /** The encoded cache key of a Redis key under the prefix. */
  private encodedOf(redisKey: string): string {
    return redisKey.slice(this.keyPrefix.length)
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
    return this.read((state, now) => ({
      ...this.counters(lru.size(state, now)),
      ...(this.config.weigher === undefined ? {} : { totalSize: lru.totalSize(state, now) }),
      localHits: this.hits - this.remoteHits,
      remoteHits: this.remoteHits,
      decodeFailures: this.decodeFailures,
      unavailable: this.unavailableCount,
      invalidations: this.invalidations
    }))
  }
}

/** @internal */
export const make = <K, V>(
  options: RedisCache.Options<V, K>
): Effect.Effect<RedisCache.RedisCache<K, V>, InvalidOption | RedisError, Scope.Scope> =>
  Effect.gen(function* () {
    const config = yield* decodeOptions(options)
    const runtime = yield* Effect.runtime<never>()
    const weigher = config.weigher
    const parts = yield* makeParts<string, Entry<K, V>, K, V>(
      config.capacity,
      Math.max(EVENTS_CAPACITY, config.capacity),
      config.name,
      weigher === undefined
        ? { policy: config.policy }
        : {
            policy: config.policy,
            maxSize: weigher.maxSize,
            // L1 holds the key as the user gave it beside the value: the weigher sees both.
            sizeOf: (entry) => weigher.sizeOf(entry.value, entry.key)
          }
    )
    const client = yield* connect(config, "commands")
    const subscriber = yield* connect(config, "invalidations")
    const cache = new RedisCacheImpl<K, V>(config, client, subscriber, parts, runtime)
    // Once `make` has returned, every new connection drops L1: invalidations may have been missed
    // meanwhile.
    const { started, subscribed } = invalidation.listen(client, subscriber, cache.channels, cache)
    // Both connections are started, whatever happens to the other: ioredis keeps a started one
    // reconnecting until the scope closes.
    const connected = Effect.all(
      [firstConnect(client, config), Effect.zipRight(firstConnect(subscriber, config), subscribed)],
      { concurrency: "unbounded", discard: true }
    )
    yield* Effect.ensuring(
      config.serveFromL1 ? Effect.catchAll(connected, (error) => cache.startDegraded(error)) : connected,
      Effect.sync(started)
    )
    yield* Effect.forkScoped(
      Effect.repeat(cache.heartbeat, Schedule.spaced(Duration.millis(config.heartbeatInterval)))
    )
    return cache
  })

/** @internal */
export const layer = <I, K, V>(
  tag: Context.Tag<I, LruCache.LruCache<K, V, RedisError>>,
  options: RedisCache.Options<V, K>
): Layer.Layer<I, InvalidOption | RedisError> => Layer.scoped(tag, make<K, V>(options))

/** @internal */
export const layerConfig = <I, K, V>(
  tag: Context.Tag<I, LruCache.LruCache<K, V, RedisError>>,
  config: Config.Config.Wrap<RedisCache.Options<V, K>>
): Layer.Layer<I, ConfigError.ConfigError | InvalidOption | RedisError> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), (options) => Layer.scoped(tag, make<K, V>(options))))
