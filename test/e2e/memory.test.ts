// Syncing a 1 GiB file streams it block by block: agent and hub memory stay bounded (no whole-file buffering).
import { randomBytes } from "node:crypto";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { type Fleet, samplePeakRss, startAgent, startFleet, waitForConvergence } from "../support/fleet.ts";

const GIB = 1024 * 1024 * 1024;
/** Generous: a process that buffered the file would need more than 1 GiB. */
const RSS_BOUND_BYTES = 400 * 1024 * 1024;

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});

test("syncing a 1 GiB file keeps agent and hub RSS bounded", { timeout: 300_000 }, async () => {
  fleet = await startFleet({ replicas: 1 });
  await fleet.source.agent.stop();
  const handle = await open(join(fleet.sourceRoot, "disk.img"), "w");
  const chunk = randomBytes(16 * 1024 * 1024);
  for (let offset = 0; offset < GIB; offset += chunk.length) {
    chunk.writeUInt32BE(offset / chunk.length, 0); // every chunk differs, so no block is deduplicated
    await handle.write(chunk, 0, chunk.length, offset);
  }
  await handle.close();

  fleet.source.agent = startAgent(fleet.source.stateDir);
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
  expect(peaks.source).toBeLessThan(RSS_BOUND_BYTES);
  expect(peaks.replica).toBeLessThan(RSS_BOUND_BYTES);
  expect(peaks.hub).toBeLessThan(RSS_BOUND_BYTES);
});
