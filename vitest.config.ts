import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Crash and Redis suites start child processes and servers; keep them from starving each other
    // on a two-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
