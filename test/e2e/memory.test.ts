// Memory stays bounded: a 1 GiB file streams block by block, and a restart on an unchanged tree costs no memory per file.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { bundleAgent } from "../../scripts/bundle-agent.ts";
import {
  type Fleet,
  ON_WORKERS_HUB,
  REPO_ROOT,
  samplePeakRss,
  startAgent,
  startFleet,
  type TestHub,
  waitFor,
  waitForConvergence,
} from "../support/fleet.ts";

const GIB = 1024 * 1024 * 1024;
/** The hub's bound: generous, a process that buffered the file would need more than 1 GiB. */
const RSS_BOUND_BYTES = 400 * 1024 * 1024;
/** The target for the agent: peak RSS under 150 MB (143 MiB) during a 1 GiB sync, as shipped (bundled). */
const AGENT_PEAK_BOUND_BYTES = 150e6;

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});

/** The agents whose memory is measured run as shipped: node with the agent bundled from the current sources. */
let bundleDir: string;
let bundled: string[];
beforeAll(async () => {
  bundleDir = await mkdtemp(join(tmpdir(), "fleetsync-memory-bundle-"));
  const outFile = join(bundleDir, "fleetsync-agent.cjs");
  await bundleAgent({ repoRoot: REPO_ROOT, outFile, version: "test" });
  bundled = [process.execPath, outFile];
});
afterAll(async () => {
  await rm(bundleDir, { recursive: true, force: true });
});

test("syncing a 1 GiB file keeps the bundled source and replica under 150 MB of RSS, and the hub bounded", {
  timeout: 300_000,
}, async () => {
  fleet = await startFleet({ replicas: 1 });
  await fleet.source.agent.stop();
  const handle = await open(join(fleet.sourceRoot, "disk.img"), "w");
  const chunk = randomBytes(16 * 1024 * 1024);
  for (let offset = 0; offset < GIB; offset += chunk.length) {
    chunk.writeUInt32BE(offset / chunk.length, 0); // every chunk differs, so no block is deduplicated
    await handle.write(chunk, 0, chunk.length, offset);
  }
  await handle.close();

  const replica = fleet.replicas[0]!;
  await replica.agent.stop();
  replica.agent = startAgent(replica.stateDir, {}, { command: bundled });
  await waitFor(() => replica.agent.output().includes('"replica ready"'), {
    timeoutMs: 30_000,
    what: "the bundled replica to be ready",
  });
  fleet.source.agent = startAgent(fleet.source.stateDir, {}, { command: bundled });
  const sampler = samplePeakRss({
    source: fleet.source.agent.proc.pid,
    replica: fleet.replicas[0]!.agent.proc.pid,
    hub: fleet.hub.proc.pid,
  });
  await waitForConvergence(fleet, 280_000);
  const peaks = sampler.stop();
  console.log(
    "peak RSS MiB",
    Object.fromEntries(Object.entries(peaks).map(([k, v]) => [k, Math.round(v / 1048576)])),
  );
  expect(peaks.source).toBeGreaterThan(0);
  expect(peaks.source).toBeLessThan(AGENT_PEAK_BOUND_BYTES);
  expect(peaks.replica).toBeLessThan(AGENT_PEAK_BOUND_BYTES);
  // The bound is the Node hub's; under FLEETSYNC_TEST_HUB=workers the hub is workerd, whose own footprint is
  // measured by the fleet benchmark (README), and the pid here is only the command that started it.
  if (!ON_WORKERS_HUB) expect(peaks.hub).toBeLessThan(RSS_BOUND_BYTES);
});

/** Request body bytes the hub received for reports and block uploads (its /metrics counters). */
async function reportAndBlockBytes(hub: TestHub): Promise<number> {
  const text = await (
    await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${hub.adminToken}` } })
  ).text();
  let total = 0;
  for (const m of text.matchAll(/^fleetsync_http_received_bytes_total\{[^}]*route="([^"]+)"\} (\d+)$/gm))
    if (m[1]!.includes("/reports") || m[1]!.includes("/blocks")) total += Number(m[2]);
  return total;
}

const RESTART_FILES = 10_000;
/**
 * The bound for a restart on 10,000 unchanged files: the agent as the tests run it (node + the tsx loader) idles at
 * ~90-110 MiB and peaked at 120-125 MiB on twice this tree on a loaded 2-core machine. chokidar's start-up walk
 * alone took ~780 MiB at 100,000 files (issue 10), ~75 MiB at this size, on top of that idle figure. The bound is
 * the target figure (< 150 MB at 100,000 files for the shipped agent, which the bench's restartUnchanged
 * measures); 10,000 files keep the first sync, most of this test's time, to a minute or two on CI.
 */
const RESTART_RSS_BOUND_BYTES = 150e6;

test("a source restarted on an unchanged, synced 10,000-file tree sends nothing and its RSS stays near idle", {
  timeout: 600_000,
}, async () => {
  fleet = await startFleet({ replicas: 0, source: { level: "info" } });
  await fleet.source.agent.stop();
  for (let d = 0; d < RESTART_FILES / 100; d++) {
    const dir = join(fleet.sourceRoot, `d${String(d).padStart(3, "0")}`);
    await mkdir(dir);
    for (let f = 0; f < 100; f++) await writeFile(join(dir, `f${f}.txt`), `${d}/${f}\n`);
  }
  fleet.source.agent = startAgent(fleet.source.stateDir);
  await waitFor(() => fleet!.source.agent.output().includes('"full scan finished"'), {
    timeoutMs: 500_000,
    intervalMs: 250,
    what: "the first sync of the tree to the hub",
  });
  await fleet.source.agent.stop();

  const before = await reportAndBlockBytes(fleet.hub);
  fleet.source.agent = startAgent(fleet.source.stateDir);
  const sampler = samplePeakRss({ source: fleet.source.agent.proc.pid }, 50);
  await waitFor(() => fleet!.source.agent.output().includes('"full scan finished"'), {
    timeoutMs: 60_000,
    what: "the start-up scan after the restart",
  });
  await new Promise((r) => setTimeout(r, 500));
  const peaks = sampler.stop();
  console.log("restart peak RSS MiB", Math.round(peaks.source! / 1048576));
  expect(fleet.source.agent.output()).toMatch(/"full scan finished".*"entries":10100/);
  expect(fleet.source.agent.output()).not.toContain('"changes reported"');
  expect(await reportAndBlockBytes(fleet.hub)).toBe(before);
  expect(peaks.source).toBeGreaterThan(0);
  expect(peaks.source).toBeLessThan(RESTART_RSS_BOUND_BYTES);
});
