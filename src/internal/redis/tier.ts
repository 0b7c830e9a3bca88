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
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import { KeyEncodingError, RedisError } from "../../CacheError.js"
import type { Lru, Removal, RemovalCause } from "../../Lru.js"
import * as lru from "../lru.js"
import { spanOptions } from "../metrics.js"
import { type Parts, Shell } from "../shell.js"
import { type Client, request } from "./client.js"
import * as invalidation from "./invalidation.js"
import { encodeKey, keyPrefix } from "./keyEncoding.js"
import * as lock from "./lock.js"
import type { Config } from "./options.js"

/** Effect's own tracer, the one a program has unless it installs another: it exports nothing. */
const nativeTracer = Effect.runSync(Effect.tracer)

/** What L1 holds under an encoded key: the key as the user gave it, for events and `keys`. */
export interface Entry<K, V> {
  readonly key: K
  readonly value: V
}

/**
 * The two levels of a Redis cache and their coherence: L1's changes, the commands to Redis, the
 * state of an outage and of the subscription's trust, and the invalidations from other instances.
 * The cache's operations (internal/redis/cache.ts) are built on it.
 *
 * @internal
 */
export abstract class Tier<K, V> extends Shell<string, Entry<K, V>, K, V> {
  readonly prefix: string
  readonly instanceId = randomUUID()
  readonly timeToLive: Duration.Duration
  /** Every instance's invalidations, and this instance's heartbeats to itself. */
  readonly channels: ReturnType<typeof invalidation.channels>
  /** What every Redis key of this cache begins with. */
  protected readonly keyPrefix: string
  /** Bumped by every write and invalidation: a read from Redis fills L1 only if it did not move. */
  protected epoch = 0
  /** Set while Redis is unavailable, so that an outage is logged once, not once per operation. */
  private degraded = false
  /**
   * Cleared when a heartbeat sent through Redis did not come back through the subscription in time:
   * invalidations may be lost, so L1 is neither read nor filled until one comes back.
   */
  protected trusted = true
  /** Whether losing the trust was logged as a warning (a silent stall), so that its end is logged too. */
  private distrustLogged = false
  private readonly heartbeats = new invalidation.Heartbeats()
  protected readonly waiters = new lock.Waiters()
  /** Hits found in Redis; the others were found in L1. */
  protected remoteHits = 0
  protected decodeFailures = 0
  protected unavailableCount = 0
  protected invalidations = 0

  constructor(
    protected readonly config: Config<V>,
    readonly client: Client,
    private readonly subscriber: Client,
    parts: Parts<string, Entry<K, V>, K, V>,
    private readonly runtime: Runtime.Runtime<never>
  ) {
    super(config.capacity, parts)
    this.timeToLive = Duration.millis(config.timeToLive)
    this.prefix = config.prefix
    this.channels = invalidation.channels(config.prefix, this.instanceId)
    this.keyPrefix = keyPrefix(config.prefix)
  }

  // --- counters ----------------------------------------------------------------------------------

  /** A hit in L1. */
  protected override hit(): void {
    super.hit()
    this.metrics.l1Hits.update(1)
  }

  /** A hit in Redis. */
  protected hitRemote(): void {
    super.hit()
    this.remoteHits++
    this.metrics.l2Hits.update(1)
  }

  protected override zeroCounters(): void {
    super.zeroCounters()
    this.remoteHits = 0
    this.decodeFailures = 0
    this.unavailableCount = 0
    this.invalidations = 0
  }

  // --- L1 ----------------------------------------------------------------------------------------

  protected event(removal: Removal<string, Entry<K, V>>, cause: RemovalCause): Removal<K, V> {
    return { key: removal.value.key, value: removal.value.value, cause }
  }

  /**
   * Changes L1 atomically and publishes what that removed; `deleted` names the cause of a deletion
   * when another instance deleted the key. `timeToLive` is the expiry the change brings.
   */
  private change<A>(
    f: (state: Lru<string, Entry<K, V>>, now: number) => readonly [A, Lru<string, Entry<K, V>>],
    timeToLive = Number.POSITIVE_INFINITY,
    deleted?: RemovalCause
  ): Effect.Effect<A> {
    // The step itself, in the caller's fiber: running it through `unsafeChange` (a fiber of its own
    // per change, as `Effect.runSync` makes) cost more than the rest of an L1 hit.
    return this.modify(this.published(f, deleted), timeToLive)
  }

  /** `change`, run at once: in the Redis client's event handlers, which are no fiber. */
  private unsafeChange<A>(
    f: (state: Lru<string, Entry<K, V>>, now: number) => readonly [A, Lru<string, Entry<K, V>>],
    timeToLive = Number.POSITIVE_INFINITY,
    deleted?: RemovalCause
  ): A {
    return this.unsafeModify(this.published(f, deleted), timeToLive)
  }

  /** `f`, then the publication of what it removed and the size it leaves, in the same step. */
  private published<A>(
    f: (state: Lru<string, Entry<K, V>>, now: number) => readonly [A, Lru<string, Entry<K, V>>],
    deleted: RemovalCause | undefined
  ) {
    return (state: Lru<string, Entry<K, V>>, now: number): readonly [A, Lru<string, Entry<K, V>>] => {
      const result = f(state, now)
      this.publish(state, result[1], deleted)
      if (result[1] !== state) this.sized(result[1])
      return result
    }
  }

  /** Reads L1 for a key, or answers `untrusted` while L1 may be stale (see `trusted`). */
  protected readLocal<A>(
    f: (state: Lru<string, Entry<K, V>>, now: number) => A,
    untrusted: A
  ): Effect.Effect<A> {
    return Effect.suspend(() => (this.trusted ? this.read(f) : Effect.succeed(untrusted)))
  }

  /** After Redis took a write: L1 keeps the value only while it can trust invalidations. */
  protected setConfirmed(encoded: string, key: K, value: V, expiresIn: number): Effect.Effect<void> {
    return Effect.suspend(() =>
      this.trusted ? this.setLocal(encoded, key, value, expiresIn) : this.removeLocal(encoded)
    )
  }

  protected setLocal(encoded: string, key: K, value: V, expiresIn: number): Effect.Effect<void> {
    return this.change(
      (state, now) => [undefined, lru.setExpiresAtNext(state, encoded, { key, value }, now, now + expiresIn)],
      expiresIn
    )
  }

  /** An L1 hit (which makes the key most recent), unless L1 cannot be trusted. */
  protected getLocal(encoded: string): Effect.Effect<Option.Option<Entry<K, V>>> {
    return Effect.suspend(() =>
      this.trusted ? this.change((state, now) => lru.get(state, encoded, now)) : Effect.succeedNone
    )
  }

  protected removeLocal(encoded: string): Effect.Effect<boolean> {
    return this.change(removeStep(encoded))
  }

  protected get clearLocal(): Effect.Effect<void> {
    return this.change(clearStep)
  }

  /** Puts a value read from Redis in L1, unless a write or an invalidation happened since `epoch`. */
  protected fill(encoded: string, key: K, value: V, expiresIn: number, epoch: number): Effect.Effect<void> {
    return this.change(
      (state, now) =>
        epoch === this.epoch && this.trusted
          ? [undefined, lru.setExpiresAtNext(state, encoded, { key, value }, now, now + expiresIn)]
          : [undefined, state],
      expiresIn
    )
  }

  // --- Redis -------------------------------------------------------------------------------------

  /** Runs a command; its success ends an outage (see `answered`). */
  command<A>(method: string, run: () => Promise<A>): Effect.Effect<A, RedisError> {
    const sent = Effect.tap(request(this.client, this.config.secrets, method, run), () => this.answered)
    // A span costs more than a round trip's own work in this process (a copy of the fiber's
    // context, random ids; a captured stack unless told not to): measured, a miss ran 2.7x slower
    // with one. Under effect's native tracer, the default, which exports nothing, no one can see a
    // round trip's span (it has no children), so it is made only when a tracer is installed.
    return Effect.tracerWith((tracer) =>
      tracer === nativeTracer
        ? sent
        : Effect.withSpan(sent, "RedisCache.roundTrip", spanOptions(this.name, { "cache.method": method }))
    )
  }

  /**
   * Runs a write and publishes its invalidation, both sent at once on the one connection (so in
   * order, in one round trip); answers the write's result.
   */
  protected writeAndPublish<A>(
    method: string,
    write: () => Promise<A>,
    kind: invalidation.MessageKind,
    encoded: string
  ): Effect.Effect<A, RedisError> {
    return this.command(method, () =>
      Promise.all([
        write(),
        this.client.publish(this.channels.invalidations, this.message(kind, encoded))
      ]).then(([result]) => result)
    )
  }

  /**
   * Counts an operation Redis could not serve, and logs the first of an outage. With
   * `whenUnavailable: "fail"`, drops L1 at once: a command that failed or timed out while the socket
   * stays open (a stall, a partition) means invalidations may be stuck too.
   */
  protected unavailable(error: RedisError, operation = true): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (operation) {
        this.unavailableCount++
        this.metrics.unavailable.update(1)
      }
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
  protected degrade<A>(error: RedisError, local: Effect.Effect<A>, cleanup: Effect.Effect<unknown>) {
    return Effect.zipRight(
      this.unavailable(error),
      this.config.serveFromL1 ? local : Effect.zipRight(cleanup, Effect.fail(error))
    )
  }

  /** For reads, which cannot fail: Redis' answer, or else `local`'s. */
  protected readOrLocal<A>(remote: Effect.Effect<A, RedisError>, local: Effect.Effect<A>): Effect.Effect<A> {
    return Effect.catchAll(remote, (error) => Effect.zipRight(this.unavailable(error), local))
  }

  protected redisKey(encoded: string): string {
    return this.keyPrefix + encoded
  }

  protected message(kind: invalidation.MessageKind, encoded?: string): string {
    return invalidation.message(this.instanceId, kind, encoded)
  }

  /** The live value of a key in Redis, with the milliseconds it has left (`Infinity`: no expiry). */
  protected lookup(
    method: string,
    encoded: string
  ): Effect.Effect<Option.Option<{ readonly value: V; readonly expiresIn: number }>, RedisError> {
    return Effect.flatMap(
      this.command(method, () => this.client.getWithTtlBuffer(this.redisKey(encoded))),
      (reply) =>
        reply === null || (Array.isArray(reply) && reply[1] === -2)
          ? Effect.succeedNone
          : this.decodeReply(method, encoded, reply)
    )
  }

  /**
   * A value Redis answered with its PTTL (or the name of the key's type, if it is no string),
   * decoded; `None`, counted and logged, if it cannot be.
   */
  protected decodeReply(
    method: string,
    encoded: string,
    reply: [Buffer, number] | Buffer
  ): Effect.Effect<Option.Option<{ readonly value: V; readonly expiresIn: number }>> {
    if (!Array.isArray(reply)) return this.undecodable(method, encoded, wrongType(reply))
    const decoded = this.config.codec.decode(reply[0])
    if (Either.isLeft(decoded)) return this.undecodable(method, encoded, decoded.left.description)
    return Effect.succeedSome({ value: decoded.right, expiresIn: reply[1] < 0 ? Infinity : reply[1] })
  }

  protected undecodable(
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

  protected encodeKey(method: string, key: K): Effect.Effect<string> {
    return Effect.suspend(() => {
      const encoded = encodeKey(key)
      return Either.isRight(encoded)
        ? Effect.succeed(encoded.right)
        : Effect.die(new KeyEncodingError({ method: `RedisCache.${method}`, ...encoded.left }))
    })
  }

  protected encodeValue(method: string, value: V): Effect.Effect<Uint8Array, RedisError> {
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

  // --- liveness of the subscription --------------------------------------------------------------

  /**
   * One heartbeat: published on this instance's own channel, it must come back through the
   * subscription within `heartbeatInterval`. If Redis took it but it did not come back, the
   * subscription is stalled and invalidations are lost: L1 is dropped and bypassed until one does.
   * If Redis did not take it, that is an outage like any other.
   */
  get heartbeat(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const { arrived, payload } = this.heartbeats.next()
      return Effect.matchEffect(
        this.command("heartbeat", () => this.client.publish(this.channels.heartbeats, payload)),
        {
          onFailure: (error) => this.unavailable(error, false),
          onSuccess: (receivers) =>
            receivers === 0
              ? this.distrust(
                  `the subscription to ${JSON.stringify(this.channels.invalidations)} is not in place`
                )
              : Effect.flatMap(invalidation.arrivedWithin(arrived, this.config.heartbeatInterval), (done) =>
                  done
                    ? this.trust
                    : this.distrust(
                        `invalidations from other instances did not arrive within ${this.config.heartbeatInterval} ms`
                      )
                )
        }
      )
    })
  }

  /** A heartbeat came back. Runs in the subscriber's event handler. */
  onHeartbeat(payload: string): void {
    this.heartbeats.onArrival(payload)
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
    const message = invalidation.parse(this.instanceId, payload)
    if (message === undefined) return
    this.invalidations++
    this.metrics.invalidations.update(1)
    this.epoch++
    if (message._tag === "Clear") {
      this.unsafeChange(clearStep)
      this.waiters.wake(undefined)
    } else if (message._tag === "Key") {
      const encoded = message.encoded
      const cause = message.kind === "s" ? "replaced" : "deleted"
      this.unsafeChange(removeStep(encoded), Number.POSITIVE_INFINITY, cause)
      this.waiters.wake(encoded)
    }
  }

  /** A connection is back: L1 may have missed invalidations meanwhile, so it starts over. */
  onReconnect(): void {
    this.epoch++
    this.unsafeChange(clearStep)
    // The outage ends when commands run again: the subscription may come back first, and a command
    // failing after that would otherwise be logged as a new outage.
    if (!this.degraded || this.client.status !== "ready") return
    this.degraded = false
    // Logging needs a fiber (for the program's logger), and nothing waits for it.
    Runtime.runFork(this.runtime)(Effect.logInfo("RedisCache: Redis is reachable again; L1 dropped"))
  }

  /** A connection is lost: with `whenUnavailable: "fail"`, L1 stops serving at once. */
  onDisconnect(): void {
    this.epoch++
    if (!this.config.serveFromL1) this.unsafeChange(clearStep)
  }
}

/** Removes a key from L1; whether a live entry was removed. */
const removeStep =
  (encoded: string) =>
  <A>(state: Lru<string, A>, now: number): readonly [boolean, Lru<string, A>] => {
    const [removed, next] = lru.remove(state, encoded, now)
    return [removed.length > 0 && removed[0]!.cause === "deleted", next]
  }

const clearStep = <A>(state: Lru<string, A>, now: number): readonly [undefined, Lru<string, A>] => [
  undefined,
  lru.clear(state, now)[1]
]

/** Why a key of another Redis type is no value: `type` is the name `TYPE` gave. */
const wrongType = (type: Buffer): string => `it is a Redis ${type.toString()}, not a string`
