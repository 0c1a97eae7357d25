import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**", ".wrangler/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Most test files wait on real processes (hub, agents, Chromium, workerd) far more than they compute: on a
    // 2-core machine one file per core leaves the CPU idle. Four at a time keep the suite well under 15 minutes.
    maxWorkers: 4,
  },
});
