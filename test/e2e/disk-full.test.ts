// A replica whose disk fills up: the failure names the path and the reason, nothing half-written stays, and it
// converges once there is room again. Needs root to mount a small tmpfs (CI runs as root).
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import {
  enrollAgent,
  type Fleet,
  findTempFiles,
  makeTempDir,
  startAgent,
  startFleet,
  waitFor,
  waitForConvergence,
  writeFiles,
} from "../support/fleet.ts";
import { queryHubDb } from "../support/hub-secrets.ts";
import { canMountTmpfs, tryMount } from "../support/tmpfs.ts";

const canMount = await canMountTmpfs();

let fleet: Fleet | undefined;
let mounted: string | undefined;
afterEach(async () => {
  await fleet?.stop().catch(() => {});
  if (mounted) execFileSync("umount", ["-l", mounted]);
  fleet = undefined;
  mounted = undefined;
});

test.skipIf(!canMount)(
  "a full disk on a replica is reported with the path and reason, leaves no partial file, and heals when space returns",
  async () => {
    fleet = await startFleet({ replicas: 0 });
    const root = join(await makeTempDir("fleetsync-small-disk-"), "replica");
    await mkdir(root);
    expect(tryMount(root, "4m")).toBe(true);
    mounted = root;
    const enrolled = await enrollAgent(fleet.hub, fleet.share, "replica", root);
    fleet.replicas.push({ root, ...enrolled, agent: startAgent(enrolled.stateDir) });

    await writeFiles(fleet.sourceRoot, { "small.txt": "fits\n", "big.bin": randomBytes(6 * 1024 * 1024) });
    const failures = () =>
      queryHubDb(fleet!.hub.dataDir, "select path, error from sync_ops where ok = 0 and path = 'big.bin'");
    const [failure] = await waitFor(
      async () => {
        const rows = await failures();
        return rows.length > 0 ? rows : undefined;
      },
      { timeoutMs: 30_000, what: "the hub to record the failure" },
    );
    expect(String(failure?.error)).toMatch(/disk full \(ENOSPC\)/);
    const member = await queryHubDb(
      fleet.hub.dataDir,
      "select last_error, cursor from members where device_id = ?",
      [enrolled.deviceId],
    );
    expect(String(member[0]?.last_error)).toMatch(/^big\.bin: disk full/);
    expect(await findTempFiles(root)).toEqual([]);

    // Later changes that fit apply cleanly; the member is still not whole (big.bin keeps failing), so their acks
    // must not clear the hub's last error, which the dashboard, alerts and the relay drop rule all read.
    await writeFiles(fleet.sourceRoot, { "after.txt": "a later change\n" });
    await waitFor(
      async () => {
        const rows = await queryHubDb(
          fleet!.hub.dataDir,
          `select 1 from sync_ops o join sync_runs r on r.id = o.run_id
             where r.device_id = ? and o.path = 'after.txt' and o.ok = 1`,
          [enrolled.deviceId],
        );
        return rows.length > 0 || undefined;
      },
      { timeoutMs: 30_000, what: "the replica to acknowledge after.txt" },
    );
    const afterClean = await queryHubDb(
      fleet.hub.dataDir,
      "select last_error from members where device_id = ?",
      [enrolled.deviceId],
    );
    expect(String(afterClean[0]?.last_error)).toMatch(/^big\.bin: disk full/);

    execFileSync("mount", ["-o", "remount,size=32m", root]);
    await waitForConvergence(fleet, 60_000);
    expect(await findTempFiles(root)).toEqual([]);
  },
);
