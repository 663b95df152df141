import { defineConfig } from "vitest/config"

/** The vitest settings every package shares; each package's vitest.config.ts re-exports this. */
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", ["json", { outputFile: ".test-results/vitest.json" }]],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    sequence: { concurrent: false }
  }
})
