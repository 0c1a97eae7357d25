// A long first sync shows its progress: files and bytes done of total, rate and time left, in the log and in
// `agent status --json`, and says when it has caught up.
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import {
  enrollAgent,
  type Fleet,
  makeTempDir,
  runCliCaptured,
  startAgent,
  startFleet,
  waitFor,
  waitForConvergence,
  writeFiles,
} from "../support/fleet.ts";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.stop().catch(() => {});
  fleet = undefined;
});

type Progress = { doneFiles: number; totalFiles: number; doneBytes: number; totalBytes: number } | null;

test("a replica's first sync of 2,400 files reports progress in the log and in agent status", async () => {
  fleet = await startFleet({ replicas: 0 });
  const files: Record<string, string> = {};
  for (let i = 0; i < 2400; i++) files[`d${i % 30}/f${i}.txt`] = `${"x".repeat(i % 900)}${i}\n`;
  await writeFiles(fleet.sourceRoot, files);
  await waitFor(
    async () => {
      const shown = await runCliCaptured([
        "share",
        "show",
        fleet!.share,
        "--hub",
        fleet!.hub.url,
        "--admin-token",
        fleet!.hub.adminToken,
        "--json",
      ]);
      return shown.code === 0 && (JSON.parse(shown.stdout) as { head: number }).head >= 2430;
    },
    { timeoutMs: 120_000, intervalMs: 1000, what: "the source to report every file" },
  );

  const root = join(await makeTempDir("fleetsync-progress-"), "replica");
  const enrolled = await enrollAgent(fleet.hub, fleet.share, "replica", root, { level: "info" });
  const replica = { root, ...enrolled, agent: startAgent(enrolled.stateDir) };
  fleet.replicas.push(replica);
  const seen: Progress[] = [];
  let done = false;
  const sampling = (async () => {
    while (!done) {
      const status = await runCliCaptured(["agent", "status", "--state", enrolled.stateDir, "--json"]);
      if (status.code === 0) {
        const share = (JSON.parse(status.stdout) as { shares: { progress: Progress }[] }).shares[0];
        if (share?.progress) seen.push(share.progress);
      }
    }
  })();
  await waitForConvergence(fleet, 180_000);
  done = true;
  await sampling;

  const output = replica.agent.output();
  expect(output).toMatch(/progress: \d+\/2430 files, [\d.]+ MiB\/[\d.]+ MiB, [\d.]+ MiB\/s/);
  expect(output).toMatch(/caught up: 2430 files/);
  expect(seen.length).toBeGreaterThan(0);
  for (const p of seen) {
    expect(p!.totalFiles).toBe(2430);
    expect(p!.doneFiles).toBeLessThanOrEqual(p!.totalFiles);
    expect(p!.totalBytes).toBeGreaterThan(900_000);
  }
  // Caught up: the figures are gone from agent status.
  const after = await runCliCaptured(["agent", "status", "--state", enrolled.stateDir, "--json"]);
  expect((JSON.parse(after.stdout) as { shares: { progress: Progress }[] }).shares[0]!.progress).toBeNull();
}, 300_000);
