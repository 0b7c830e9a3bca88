// `npm run test:package`: the package as a user gets it. `npm pack` (whose prepack script builds
// dist/ in both formats) makes the tarball; a scratch project installs it with no network; then an
// ES module consumer and a CommonJS consumer are type-checked against the types their "exports"
// condition resolves to, compiled, and run.
//
// The scratch project takes the peer dependencies (effect, @effect/platform, ioredis) as file:
// links to this repository's node_modules, so `npm install --offline` finds everything it needs on
// disk whatever the state of the npm cache.
//
// KEEP_SCRATCH=1 keeps the scratch project and prints where it is.
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const repo = path.resolve(import.meta.dirname, "../..")
const modules = fs.realpathSync(path.join(repo, "node_modules"))
const work = fs.mkdtempSync(path.join(os.tmpdir(), "effect-lru-cache-package-"))
const scratch = path.join(work, "project")

const run = (command, args, cwd) => {
  const line = [command, ...args].join(" ")
  console.log(`$ ${line}   (in ${cwd})`)
  try {
    execFileSync(command, args, { cwd, stdio: "inherit" })
  } catch (error) {
    // Its own output, just above, says why; a stack trace of this script would not.
    fail(`\`${line}\` exited with ${error.status ?? error.signal} (output above)`)
  }
}

const fail = (message) => {
  throw new Error(`test:package: ${message}`)
}

try {
  run("npm", ["pack", "--pack-destination", work], repo)
  const tarballs = fs.readdirSync(work).filter((name) => name.endsWith(".tgz"))
  if (tarballs.length !== 1) fail(`expected one tarball in ${work}, found ${JSON.stringify(tarballs)}`)
  const tarball = path.join(work, tarballs[0])

  // An empty or half-built dist/ (say, packed with ignore-scripts set) would fail further down with
  // a resolution error; say what is missing instead.
  const packed = new Set(execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n"))
  for (const file of ["dist/index.js", "dist/index.d.ts", "dist/cjs/index.js", "dist/cjs/index.d.ts"]) {
    if (!packed.has(`package/${file}`))
      fail(`the tarball has no ${file}: was the package built (npm run build)?`)
  }
  if (!packed.has("package/dist/cjs/package.json")) {
    fail("the tarball has no dist/cjs/package.json, so Node would read dist/cjs/*.js as ES modules")
  }

  fs.mkdirSync(path.join(scratch, "src"), { recursive: true })
  const link = (name) => `file:${path.join(modules, name)}`
  fs.writeFileSync(
    path.join(scratch, "package.json"),
    `${JSON.stringify(
      {
        name: "effect-lru-cache-scratch",
        private: true,
        dependencies: {
          effect: link("effect"),
          "@effect/platform": link("@effect/platform"),
          ioredis: link("ioredis")
        }
      },
      null,
      2
    )}\n`
  )
  run("npm", ["install", "--offline", "--no-audit", "--no-fund", tarball], scratch)

  const installed = path.join(scratch, "node_modules", "effect-lru-cache")
  const cjsManifest = JSON.parse(fs.readFileSync(path.join(installed, "dist", "cjs", "package.json"), "utf8"))
  if (cjsManifest.type !== "commonjs")
    fail(`dist/cjs/package.json says type ${JSON.stringify(cjsManifest.type)}`)

  for (const consumer of ["esm-consumer.mts", "cjs-consumer.cts"]) {
    fs.copyFileSync(path.join(import.meta.dirname, consumer), path.join(scratch, "src", consumer))
  }
  // skipLibCheck off: the CommonJS declarations, which typecheck:package does not see, must stand
  // on their own as much as the ES module ones.
  fs.writeFileSync(
    path.join(scratch, "tsconfig.json"),
    `${JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          // DOM as in the repository: @effect/platform's KeyValueStore mentions `Storage`.
          lib: ["ES2022", "DOM"],
          // Node16, not NodeNext: NodeNext lets CommonJS require ES modules (as Node 20.19 and later
          // do), which would let the "require" condition hand out ES module types unnoticed; the
          // engines range starts at Node 20.16, where require() of an ES module throws.
          module: "Node16",
          moduleResolution: "Node16",
          strict: true,
          exactOptionalPropertyTypes: true,
          verbatimModuleSyntax: true,
          skipLibCheck: false,
          typeRoots: [path.join(modules, "@types")],
          types: ["node"],
          rootDir: "src",
          outDir: "out"
        },
        include: ["src"]
      },
      null,
      2
    )}\n`
  )
  run(process.execPath, [path.join(modules, "typescript", "bin", "tsc"), "-p", "tsconfig.json"], scratch)

  run(process.execPath, ["out/esm-consumer.mjs"], scratch)
  run(process.execPath, ["out/cjs-consumer.cjs"], scratch)
  console.log("test:package: the tarball works from import and from require")
} catch (error) {
  console.error(error.message)
  process.exitCode = 1
} finally {
  if (process.env.KEEP_SCRATCH === "1") console.log(`test:package: scratch project kept in ${scratch}`)
  else fs.rmSync(work, { recursive: true, force: true })
}
