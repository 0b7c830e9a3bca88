/**
 * A throwaway `redis-server` for the Redis tests and benchmark: on a unix socket in a temporary
 * directory, without persistence, stopped afterwards. Also spawns peer processes
 * (`test/redis/peer.ts`) that drive a `RedisCache` over stdin/stdout.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { Redis } from "ioredis"

/** Whether a `redis-server` binary is on the PATH. */
export const available: boolean = spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0

if (!available) {
  console.warn(
    "\n*** redis-server is not installed: the Redis tests are SKIPPED. Install it (.ci/install-redis.sh, or " +
      "`apt-get install -y redis-server`) to run them. ***\n"
  )
}

export interface RedisServer {
  /** The unix socket the server listens on. */
  readonly socket: string
  /** A plain client for checks behind the cache's back. */
  readonly client: () => Redis
  /** Kills the server at once (SIGKILL), as a crash would. */
  readonly kill: () => Promise<void>
  /** Starts a new, empty server on the same socket. */
  readonly restart: () => Promise<void>
  /** Starts a new, empty server if this one was killed (a test that failed mid-outage leaves it so). */
  readonly ensureStarted: () => Promise<void>
  /** Stops the server and removes its directory. */
  readonly stop: () => Promise<void>
}

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

const exited = (process: ChildProcess): Promise<void> =>
  process.exitCode !== null || process.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => process.once("exit", () => resolve()))

/** Servers still running: killed if this process exits without stopping them (a failed run). */
const running = new Set<ChildProcess>()
process.once("exit", () => {
  for (const server of running) server.kill("SIGKILL")
})

/**
 * Starts `redis-server` and resolves once it answers PING (within 10 s); with `requirepass`, clients
 * must authenticate with that password.
 */
export const startServer = async (options: { readonly requirepass?: string } = {}): Promise<RedisServer> => {
  const auth = options.requirepass === undefined ? {} : { password: options.requirepass }
  const directory = mkdtempSync(join(tmpdir(), "effect-lru-cache-redis-"))
  const socket = join(directory, "redis.sock")
  const clients: Array<Redis> = []
  let server: ChildProcess
  const launch = async () => {
    server = spawn(
      "redis-server",
      [
        "--port",
        "0",
        "--unixsocket",
        socket,
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        ...(options.requirepass === undefined ? [] : ["--requirepass", options.requirepass])
      ],
      { cwd: directory, stdio: "ignore" }
    )
    const started = server
    running.add(started)
    started.once("exit", () => running.delete(started))
    const probe = new Redis({
      ...auth,
      path: socket,
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0
    })
    probe.on("error", () => {})
    try {
      for (let attempt = 0; attempt < 200; attempt++) {
        if (server.exitCode !== null) throw new Error(`redis-server exited with code ${server.exitCode}`)
        try {
          if (probe.status !== "ready") await probe.connect()
          if ((await probe.ping()) === "PONG") return
        } catch {
          probe.disconnect()
          await sleep(50)
        }
      }
      throw new Error("redis-server did not answer PING within 10 s")
    } finally {
      probe.disconnect()
    }
  }
  await launch()
  return {
    socket,
    client: () => {
      const client = new Redis({ ...auth, path: socket })
      client.on("error", () => {})
      clients.push(client)
      return client
    },
    kill: async () => {
      server.kill("SIGKILL")
      await exited(server)
    },
    restart: launch,
    ensureStarted: () =>
      server.exitCode === null && server.signalCode === null ? Promise.resolve() : launch(),
    stop: async () => {
      for (const client of clients) client.disconnect()
      server.kill("SIGTERM")
      await exited(server)
      rmSync(directory, { recursive: true, force: true })
    }
  }
}

/** A request to a peer: see `test/redis/peer.ts`. */
export type PeerRequest =
  | { readonly op: "get" | "delete" | "peek" | "has"; readonly key: string }
  | { readonly op: "set"; readonly key: string; readonly value: unknown; readonly timeToLive?: number }
  | { readonly op: "getOrCompute"; readonly key: string; readonly computeMillis: number }
  | { readonly op: "clear" | "stats" | "computations" }

export interface Peer {
  readonly pid: number
  readonly request: (request: PeerRequest) => Promise<any>
  /** Kills the peer at once (SIGKILL). */
  readonly kill: () => Promise<void>
  /** Ends the peer normally (closes stdin) and waits for it. */
  readonly close: () => Promise<void>
}

const peerProgram = fileURLToPath(new URL("./peer.ts", import.meta.url))

/** A log line of a peer, with its level (`WARN`, `INFO`...). */
export type PeerLogSink = (level: string, line: string) => void

const printPeerLog: PeerLogSink = (_level, line) => process.stderr.write(`${line}\n`)

/**
 * Spawns a peer process running a `RedisCache` with the given options, once it is ready. Its log
 * lines go to `onLog` (printed on stderr by default).
 */
export const spawnPeer = async (
  socket: string,
  options: Record<string, unknown>,
  onLog: PeerLogSink = printPeerLog
): Promise<Peer> => {
  const child = spawn(process.execPath, ["--import", "tsx", peerProgram, socket, JSON.stringify(options)], {
    stdio: ["pipe", "pipe", "inherit"]
  })
  const pending = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>()
  let ready: () => void
  const started = new Promise<void>((resolve) => (ready = resolve))
  createInterface({ input: child.stdout! }).on("line", (line) => {
    if (!line.startsWith("{")) {
      // The peer's log lines (Effect's logger writes to stdout).
      onLog(/level=(\w+)/.exec(line)?.[1] ?? "INFO", `[peer ${child.pid}] ${line}`)
      return
    }
    const message = JSON.parse(line)
    if (message.ready === true) return ready()
    const waiter = pending.get(message.id)
    pending.delete(message.id)
    if (message.error !== undefined) waiter?.reject(new Error(message.error))
    else waiter?.resolve(message.result)
  })
  child.once("exit", (code, signal) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`peer exited (${code ?? signal})`))
    pending.clear()
  })
  const timeout = setTimeout(() => child.kill("SIGKILL"), 20_000)
  await Promise.race([
    started,
    exited(child).then(() => {
      throw new Error("peer exited before it was ready")
    })
  ])
  clearTimeout(timeout)
  let nextId = 0
  return {
    pid: child.pid!,
    request: (request) =>
      new Promise((resolve, reject) => {
        const id = nextId++
        pending.set(id, { resolve, reject })
        child.stdin!.write(`${JSON.stringify({ id, ...request })}\n`)
      }),
    kill: async () => {
      child.kill("SIGKILL")
      await exited(child)
    },
    close: async () => {
      child.stdin!.end()
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000)
      await exited(child)
      clearTimeout(timer)
    }
  }
}
