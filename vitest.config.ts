import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**", ".wrangler/**"],
    // Generous: CI's 2 cores run four files at once, and an e2e test that passes in 30 s alone may take twice that
    // there. A timeout only decides how long a real failure takes to show.
    testTimeout: 150_000,
    hookTimeout: 150_000,
    pool: "forks",
    // Most test files wait on real processes (hub, agents, Chromium, workerd) far more than they compute: on a
    // 2-core machine one file per core leaves the CPU idle. Four at a time keep the suite well under 15 minutes.
    maxWorkers: 4,
  },
});
