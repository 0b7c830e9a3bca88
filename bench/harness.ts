/**
 * A small benchmark harness: every contender runs the same workload in the same process, several
 * rounds interleaved (so drift hurts all alike), and the report gives medians and ratios.
 */

export interface Contender {
  readonly name: string
  /** Runs the workload once and returns the number of operations it did. */
  readonly run: () => Promise<number>
}

export interface Result {
  readonly name: string
  /** Median throughput over the rounds, operations per second. */
  readonly opsPerSecond: number
  readonly samples: ReadonlyArray<number>
}

export const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** Runs each contender `warmup` times unmeasured, then `rounds` times interleaved. */
export const compare = async (
  contenders: ReadonlyArray<Contender>,
  options: { readonly rounds?: number; readonly warmup?: number } = {}
): Promise<Array<Result>> => {
  const rounds = options.rounds ?? 7
  const warmup = options.warmup ?? 2
  for (const contender of contenders) {
    for (let i = 0; i < warmup; i++) await contender.run()
  }
  const samples = contenders.map(() => [] as Array<number>)
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < contenders.length; i++) {
      const start = performance.now()
      const operations = await contenders[i]!.run()
      const seconds = (performance.now() - start) / 1000
      samples[i]!.push(operations / seconds)
    }
  }
  return contenders.map((contender, i) => ({
    name: contender.name,
    opsPerSecond: median(samples[i]!),
    samples: samples[i]!
  }))
}

const formatRate = (opsPerSecond: number): string =>
  opsPerSecond >= 1e6 ? `${(opsPerSecond / 1e6).toFixed(2)} M/s` : `${(opsPerSecond / 1e3).toFixed(1)} k/s`

/** Prints a table of medians with each contender's ratio against `baseline` (a contender's name). */
export const report = (
  title: string,
  results: ReadonlyArray<Result>,
  baselines: ReadonlyArray<string>
): void => {
  console.log(`\n## ${title}`)
  const header = ["contender", "median", ...baselines.map((b) => `vs ${b}`)]
  const rows = results.map((result) => [
    result.name,
    formatRate(result.opsPerSecond),
    ...baselines.map((baseline) => {
      const base = results.find((r) => r.name === baseline)
      return base === undefined ? "-" : `${(result.opsPerSecond / base.opsPerSecond).toFixed(2)}x`
    })
  ])
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => row[column]!.length)))
  const line = (row: ReadonlyArray<string>) =>
    `| ${row.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ")} |`
  console.log(line(header))
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`)
  for (const row of rows) console.log(line(row))
}
