#!/usr/bin/env node
/**
 * The package's `effect-lru-cache` bin. Its own dependencies (@effect/cli and its printers,
 * @effect/platform-node) are optional peers of the package, which programs use without them: when
 * one is missing, say what to install instead of failing with a module-not-found stack.
 */
import { readFileSync } from "node:fs"

const peers = ["@effect/cli", "@effect/printer", "@effect/printer-ansi", "@effect/platform-node"]

// `export FILE | head` closes stdout early: stop quietly, as Unix tools do, rather than crash.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error
  process.exit(0)
})

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  readonly version: string
}

try {
  const { main } = await import("./main.js")
  main(process.argv, version)
} catch (error) {
  const missing = peers.find(
    (name) =>
      (error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" &&
      String((error as Error).message).includes(`'${name}'`)
  )
  if (missing === undefined) throw error
  console.error(
    `effect-lru-cache: the command needs ${missing}, an optional peer dependency of effect-lru-cache. Install the command's dependencies with:\n  npm install --save-dev ${peers.join(" ")}`
  )
  process.exitCode = 1
}
