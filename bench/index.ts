/**
 * Every benchmark, in one process so that the ratios compare like with like. `npm run bench`; pass
 * names to run some only (`npm run bench -- lru memo`).
 */
const suites: Record<string, () => Promise<{ run: () => Promise<void> }>> = {
  lru: () => import("./lru.js"),
  // An experiment behind a design decision (bench/layout.ts says which); not run by default.
  layout: () => import("./layout.js"),
  memory: () => import("./memory.js"),
  memo: () => import("./memo.js"),
  persistence: () => import("./persistence.js"),
  policy: () => import("./policy.js"),
  redis: () => import("./redis.js")
}

const wanted = process.argv.slice(2)
const byDefault = Object.keys(suites).filter((name) => name !== "layout")
const chosen = wanted.length === 0 ? byDefault : wanted
console.log(`# effect-lru-cache benchmarks (node ${process.version}, medians of interleaved rounds)`)
for (const name of chosen) {
  const suite = suites[name]
  if (suite === undefined) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(suites).join(", ")}`)
    process.exit(1)
  }
  await (await suite()).run()
}
