/**
 * A stallable proxy between the cache and `redis-server`, on a unix socket: while a connection is
 * stalled, the bytes it carries (both ways) are held, not lost, and they flow again, in order, on
 * `resume`. This is what a partition or a stalled server looks like to a client: the socket stays
 * open and nothing arrives.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { createConnection, createServer, type Socket } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

export interface ProxiedConnection {
  /** What the client sent so far (its first 64 KiB), to tell connections apart. */
  readonly sent: string
}

export interface RedisProxy {
  /** The unix socket to connect to instead of the server's. */
  readonly socket: string
  /** A TCP port on 127.0.0.1 to connect to instead, for `redis://` URLs. */
  readonly port: number
  /** Holds the traffic of the connections `which` selects (all by default), now and from now on. */
  readonly stall: (which?: (connection: ProxiedConnection) => boolean) => void
  /** Lets every held byte through, and the traffic flow again. */
  readonly resume: () => void
  readonly close: () => Promise<void>
}

/** Selects the connection that has subscribed to a channel: the cache's invalidations. */
export const subscriber = (connection: ProxiedConnection): boolean =>
  /\*\d+\r\n\$9\r\nsubscribe\r\n/i.test(connection.sent)

interface Link extends ProxiedConnection {
  sent: string
  readonly held: Array<{ readonly to: Socket; readonly data: Buffer }>
  readonly sockets: readonly [Socket, Socket]
}

export const startProxy = async (target: string): Promise<RedisProxy> => {
  const directory = mkdtempSync(join(tmpdir(), "effect-lru-cache-proxy-"))
  const socket = join(directory, "proxy.sock")
  const links = new Set<Link>()
  let stalled: ((connection: ProxiedConnection) => boolean) | undefined
  const isStalled = (link: Link) => link.held.length > 0 || stalled?.(link) === true
  const forward = (link: Link, to: Socket, data: Buffer) => {
    if (isStalled(link)) link.held.push({ to, data })
    else to.write(data)
  }
  const server = createServer((client) => {
    const upstream = createConnection(target)
    const link: Link = { sent: "", held: [], sockets: [client, upstream] }
    links.add(link)
    client.on("data", (data) => {
      if (link.sent.length < 65_536) link.sent += data.toString("latin1")
      forward(link, upstream, data)
    })
    upstream.on("data", (data) => forward(link, client, data))
    const end = () => {
      links.delete(link)
      client.destroy()
      upstream.destroy()
    }
    for (const side of link.sockets) {
      side.on("error", end)
      side.on("close", end)
    }
  })
  const tcp = createServer((client) => server.emit("connection", client))
  await new Promise<void>((resolve) => server.listen(socket, resolve))
  await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve))
  const address = tcp.address()
  return {
    socket,
    port: typeof address === "object" && address !== null ? address.port : 0,
    stall: (which = () => true) => {
      stalled = which
    },
    resume: () => {
      stalled = undefined
      for (const link of links) {
        for (const { to, data } of link.held.splice(0)) to.write(data)
      }
    },
    close: async () => {
      for (const link of links) for (const side of link.sockets) side.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await new Promise<void>((resolve) => tcp.close(() => resolve()))
      rmSync(directory, { recursive: true, force: true })
    }
  }
}
