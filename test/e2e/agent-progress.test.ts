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

type Progress = {
  direction: string;
  doneFiles: number;
  totalFiles: number;
  doneBytes: number;
  totalBytes: number;
} | null;

/** Samples `agent status --json` of `stateDir` until `stop()`; the progress figures seen. */
function sampleProgress(stateDir: string) {
  const seen: Progress[] = [];
  let done = false;
  const sampling = (async () => {
    while (!done) {
      const status = await runCliCaptured(["agent", "status", "--state", stateDir, "--json"]);
      if (status.code === 0) {
        const share = (JSON.parse(status.stdout) as { shares: { progress: Progress }[] }).shares[0];
        if (share?.progress) seen.push(share.progress);
      }
      // Each sample is a CLI process: back to back they would take a core from the agents being watched.
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  })();
  return {
    seen,
    async stop() {
      done = true;
      await sampling;
    },
  };
}

test("a first upload and a replica's first sync of 2,400 files report progress in the log and in agent status", async () => {
  fleet = await startFleet({ replicas: 0, source: { level: "info" } });
  // The source's first full scan finds the files already there: its upload is the long first sync.
  await fleet.source.agent.stop();
  const files: Record<string, string> = {};
  for (let i = 0; i < 2400; i++) files[`d${i % 30}/f${i}.txt`] = `${"x".repeat(i % 900)}${i}\n`;
  await writeFiles(fleet.sourceRoot, files);
  fleet.source.agent = startAgent(fleet.source.stateDir);
  const uploading = sampleProgress(fleet.source.stateDir);
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
  await waitFor(async () => /uploaded: 2430 files/.test(fleet!.source.agent.output()), {
    what: "the source to say its upload is done",
  });
  await uploading.stop();
  const sourceLog = fleet.source.agent.output();
  expect(sourceLog).toMatch(/upload progress: 0\/2430 files, 0\.0 MiB\/[\d.]+ MiB/);
  for (const p of uploading.seen) {
    expect(p).toMatchObject({ direction: "sending", totalFiles: 2430 });
    expect(p!.doneFiles).toBeLessThanOrEqual(2430);
  }
  const sourceAfter = await runCliCaptured(["agent", "status", "--state", fleet.source.stateDir, "--json"]);
  expect(
    (JSON.parse(sourceAfter.stdout) as { shares: { progress: Progress }[] }).shares[0]!.progress,
  ).toBeNull();

  const root = join(await makeTempDir("fleetsync-progress-"), "replica");
  const enrolled = await enrollAgent(fleet.hub, fleet.share, "replica", root, { level: "info" });
  const replica = { root, ...enrolled, agent: startAgent(enrolled.stateDir) };
  fleet.replicas.push(replica);
  const catchingUp = sampleProgress(enrolled.stateDir);
  await waitForConvergence(fleet, 180_000);
  await catchingUp.stop();
  const seen = catchingUp.seen;

  const output = replica.agent.output();
  expect(output).toMatch(/progress: \d+\/2430 files, [\d.]+ MiB\/[\d.]+ MiB, [\d.]+ MiB\/s/);
  expect(output).toMatch(/caught up: 2430 files/);
  expect(seen.length).toBeGreaterThan(0);
  for (const p of seen) {
    expect(p).toMatchObject({ direction: "receiving", totalFiles: 2430 });
    expect(p!.doneFiles).toBeLessThanOrEqual(p!.totalFiles);
    expect(p!.totalBytes).toBeGreaterThan(900_000);
  }
  // Caught up: the figures are gone from agent status.
  const after = await runCliCaptured(["agent", "status", "--state", enrolled.stateDir, "--json"]);
  expect((JSON.parse(after.stdout) as { shares: { progress: Progress }[] }).shares[0]!.progress).toBeNull();
}, 300_000);
