/**
 * The `effect-lru-cache` command: an inspector for the files `CachePersistence.file` writes, what
 * `redis-check-aof` and `sqlite3 .dump` are to theirs. Only `compact` writes; the other commands
 * read, and all of them refuse a file that a live process holds, `--read-only` aside.
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import { CliError, codecNames } from "./cacheFile.js"
import { compact } from "./compact.js"
import { exportEntries } from "./export.js"
import { inspect } from "./inspect.js"
import { verify } from "./verify.js"

const file = Args.file({ name: "FILE" }).pipe(
  Args.withDescription(
    "The cache file: the path given to CachePersistence.file (its journal is FILE.journal)"
  )
)

const readOnly = Options.boolean("read-only").pipe(
  Options.withDescription(
    "Read the file even while a live process holds its lock (it may be in the middle of a write); takes no lock"
  )
)

const codec = Options.choice("codec", codecNames).pipe(
  Options.withDefault(codecNames[0]!),
  Options.withDescription(
    "How keys and values are decoded: auto (structured clone, the default codec, else JSON, which the json and schema codecs write), structured-clone, json, or raw (not at all; verify then checks lengths and checksums only)"
  )
)

const repair = Options.boolean("repair").pipe(
  Options.withDescription(
    "Compact a damaged file too: keep the records before the damage and move the damaged file aside, as a cache opening it would"
  )
)

const inspectCommand = Command.make("inspect", { file, readOnly, codec }, inspect).pipe(
  Command.withDescription("List the entries (key, size in bytes, expiry) after a summary of the files")
)

const verifyCommand = Command.make("verify", { file, readOnly, codec }, verify).pipe(
  Command.withDescription(
    "Check every record of the snapshot and the journal; exit non-zero on damage, saying where and what"
  )
)

const compactCommand = Command.make("compact", { file, readOnly, repair }, compact).pipe(
  Command.withDescription("Rewrite the file as one snapshot, the way a cache does when it closes")
)

const exportCommand = Command.make("export", { file, readOnly, codec }, exportEntries).pipe(
  Command.withDescription("Write the live entries to stdout as JSON lines: key, value, expiresAt")
)

const command = Command.make("effect-lru-cache", {}, () =>
  Effect.fail(new CliError({ message: "give a command: inspect, verify, compact or export (see --help)" }))
).pipe(
  Command.withDescription("Inspect, verify, compact or export a cache file of effect-lru-cache"),
  Command.withSubcommands([inspectCommand, verifyCommand, compactCommand, exportCommand])
)

// @effect/cli prints its own usage errors; ours are printed once, as one line, without a stack.
const report = (cause: Cause.Cause<CliError | ValidationError.ValidationError>) =>
  Effect.gen(function* () {
    for (const error of Cause.failures(cause)) {
      if (!ValidationError.isValidationError(error))
        yield* Console.error(`effect-lru-cache: ${error.message}`)
    }
    if (Cause.isDie(cause)) yield* Console.error(Cause.pretty(cause))
  })

/** Runs the command line `argv` (as `process.argv`) to the end of the process. */
export const main = (argv: ReadonlyArray<string>, version: string): void =>
  Command.run(command, { name: "effect-lru-cache", version })(argv).pipe(
    Effect.tapErrorCause(report),
    // Logs (the library's warnings while compacting) go to stderr, keeping stdout for the output.
    Effect.provide(Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.stringLogger))),
    Effect.provide(NodeContext.layer),
    NodeRuntime.runMain({ disableErrorReporting: true })
  )
