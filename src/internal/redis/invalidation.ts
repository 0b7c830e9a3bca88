/**
 * The invalidation protocol between instances, over Redis pub/sub: the messages a write publishes,
 * the subscription that receives the other instances' messages, and the heartbeats an instance
 * sends itself through that subscription to tell a live one from a stalled one.
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import { RedisError } from "../../CacheError.js"
import type { Client } from "./client.js"

/**
 * The kind of an invalidation: `s` set, `d` delete, `c` clear. On the wire a message is
 * `<instance id> <kind>[ <encoded key>]`: the id (a UUID) and the kind hold no space, so everything
 * after the second space is the key, whatever it holds.
 */
export type MessageKind = "s" | "d" | "c"

/** The channels of an instance: every instance's invalidations, and its own heartbeats. */
export const channels = (prefix: string, instanceId: string) => {
  const invalidations = `${prefix}invalidations`
  // No prefix's channel can be this: a UUID does not end with "invalidations".
  return { invalidations, heartbeats: `${invalidations}:${instanceId}` }
}

export const message = (instanceId: string, kind: MessageKind, encoded?: string): string =>
  encoded === undefined ? `${instanceId} ${kind}` : `${instanceId} ${kind} ${encoded}`

/** Another instance's message, read. */
export type Invalidation =
  | { readonly _tag: "Clear" }
  | { readonly _tag: "Key"; readonly kind: "s" | "d"; readonly encoded: string }
  /** A kind this version does not know: it still counts as an invalidation. */
  | { readonly _tag: "Other" }

/** Reads a message; `undefined` for this instance's own and for what is no message. */
export const parse = (instanceId: string, payload: string): Invalidation | undefined => {
  const space = payload.indexOf(" ")
  if (space < 0 || payload.startsWith(instanceId)) return undefined
  const kind = payload[space + 1]
  if (kind === "c") return { _tag: "Clear" }
  if ((kind === "s" || kind === "d") && payload[space + 2] === " ") {
    return { _tag: "Key", kind, encoded: payload.slice(space + 3) }
  }
  return { _tag: "Other" }
}

/** The heartbeats of an instance: numbered, so that a late one does not count for the next. */
export class Heartbeats {
  private sent = 0
  private expected: { readonly sequence: number; readonly arrived: Deferred.Deferred<void> } | undefined

  /** Starts the next heartbeat: the payload to publish, and what completes when it comes back. */
  next(): { readonly payload: string; readonly arrived: Deferred.Deferred<void> } {
    const sequence = ++this.sent
    const arrived = Deferred.unsafeMake<void>(FiberId.none)
    this.expected = { sequence, arrived }
    return { payload: String(sequence), arrived }
  }

  /** A heartbeat came back. Runs in the subscriber's event handler. */
  onArrival(payload: string): void {
    const expected = this.expected
    if (expected !== undefined && payload === String(expected.sequence)) {
      Deferred.unsafeDone(expected.arrived, Exit.void)
    }
  }
}

/** Whether a heartbeat came back within `interval` milliseconds. */
export const arrivedWithin = (arrived: Deferred.Deferred<void>, interval: number): Effect.Effect<boolean> =>
  Effect.zipRight(
    Effect.timeout(Deferred.await(arrived), Duration.millis(interval)).pipe(
      Effect.ignore,
      // After the event loop was blocked, timers run before pending I/O is read: let the I/O phase
      // pass once, so that a heartbeat already there counts.
      Effect.zipRight(afterPendingIo)
    ),
    Deferred.isDone(arrived)
  )

/** Resumes in the "check" phase of the event loop, after the I/O already pending has been read. */
const afterPendingIo: Effect.Effect<void> = Effect.async<void>((resume) => {
  const immediate = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(immediate))
})

/** What the connections' events are handed to. They run in ioredis' event handlers. */
export interface Listener {
  readonly onMessage: (payload: string) => void
  readonly onHeartbeat: (payload: string) => void
  /** A connection is back after `started` was called. */
  readonly onReconnect: () => void
  readonly onDisconnect: () => void
}

/**
 * Listens to both connections. Subscribes by hand on every connection rather than by ioredis'
 * resubscription, so that a first connection made after `make` returned (Redis was down at the
 * start) subscribes too. Once `started` is called, every new connection is a reconnection.
 * `subscribed` completes when the first subscription is in place.
 */
export const listen = (
  client: Client,
  subscriber: Client,
  names: ReturnType<typeof channels>,
  listener: Listener
): { readonly subscribed: Effect.Effect<void, RedisError>; readonly started: () => void } => {
  let started = false
  const subscribed = Deferred.unsafeMake<void>(FiberId.none)
  subscriber.on("message", (from: string, payload: string) => {
    if (from === names.invalidations) listener.onMessage(payload)
    else if (from === names.heartbeats) listener.onHeartbeat(payload)
  })
  subscriber.on("ready", () => {
    subscriber.subscribe(names.invalidations, names.heartbeats).then(
      () => {
        if (started) listener.onReconnect()
        Deferred.unsafeDone(subscribed, Exit.void)
      },
      () => subscriber.disconnect(true)
    )
  })
  client.on("ready", () => {
    if (started) listener.onReconnect()
  })
  for (const connection of [client, subscriber]) connection.on("close", () => listener.onDisconnect())
  return {
    subscribed: Effect.timeoutFail(Deferred.await(subscribed), {
      duration: Duration.seconds(5),
      onTimeout: () =>
        new RedisError({ method: "RedisCache.make", description: "cannot subscribe to invalidations" })
    }),
    started: () => {
      started = true
    }
  }
}
