// `npm run deploy` builds offline: wrangler's dry run bundles the Worker that `hub --workers` runs, with its bindings.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, test } from "vitest";
import { localWranglerEnv } from "../../cli/start-workers-hub.ts";
import { REPO_ROOT } from "../support/fleet.ts";

const WRANGLER = join(REPO_ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
/** Cloudflare's limit on a Worker's compressed size on the free plan (the paid plan allows 10 MiB). */
const FREE_PLAN_GZIP_BYTES = 3 * 1024 * 1024;

let tempDir = "";
afterAll(async () => {
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
});

describe("the Workers build that npm run deploy uploads", () => {
  test("bundles offline into one self-contained module with the D1, R2 and Durable Object bindings wrangler.toml names", async () => {
    tempDir = await mkdtemp(join(tmpdir(), "fleetsync-deploy-"));
    const outDir = join(tempDir, "out");
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [WRANGLER, "deploy", "--dry-run", "--outdir", outDir, "--config", join(REPO_ROOT, "wrangler.toml")],
      { cwd: REPO_ROOT, env: localWranglerEnv(tempDir), timeout: 120_000 },
    );
    expect(stdout).toContain("--dry-run: exiting now");
    for (const binding of [
      /env\.DB \(fleetsync\)\s+D1 Database/,
      /env\.BLOCKS \(fleetsync-blocks\)\s+R2 Bucket/,
      /env\.WAKE \(ShareWakeups\)\s+Durable Object/,
      /env\.LIMITS \(RateWindow\)\s+Durable Object/,
    ]) {
      expect(stdout).toMatch(binding);
    }

    const bundle = await readFile(join(outDir, "main.worker.js"), "utf8");
    // Self-contained: no module is left for the runtime to resolve (the Worker runs without nodejs_compat).
    expect(bundle).not.toMatch(/^\s*import\s[^;]*from\s*["']/m);
    expect(bundle).not.toMatch(/\brequire\(["']node:/);
    // The Durable Object classes wrangler.toml binds are exported beside the fetch/scheduled handler.
    const exported = /export\s*{([^}]*)}\s*;?\s*(\/\/# sourceMappingURL=\S+\s*)?$/.exec(bundle)?.[1] ?? "";
    expect(exported).toMatch(/\bShareWakeups\b/);
    expect(exported).toMatch(/\bRateWindow\b/);
    expect(exported).toMatch(/as default\b/);
    expect(gzipSync(bundle).length).toBeLessThan(FREE_PLAN_GZIP_BYTES);
  });
});
