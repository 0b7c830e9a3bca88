import { defineConfig } from "vitest/config"

// The opt-in soak tier (npm run test:soak): the long crash loop, the full-size stress test and the
// behaviour suite with many more scenarios. Minutes, not seconds.
export default defineConfig({
  test: {
    include: ["test/soak/**/*.soak.ts"],
    testTimeout: 600_000,
    hookTimeout: 60_000
  }
})
