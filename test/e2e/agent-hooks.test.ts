// onApply hooks: configured only in the device's agent.yaml, run once per applied instruction that changed something,
// with the changed paths; a failing hook is reported in the op log and never retried in a loop.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import {
  enrollAgent,
  type Fleet,
  makeTempDir,
  startAgent,
  startFleet,
  updateAgentConfig,
  waitFor,
  waitForConvergence,
  writeFiles,
} from "../support/fleet.ts";
import { queryHubDb } from "../support/hub-secrets.ts";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.stop().catch(() => {});
  fleet = undefined;
});

/** Adds a replica whose share runs `onApply` (the fleet's hub and source are already running). */
async function replicaWithHook(onApply: unknown) {
  fleet ??= await startFleet({ replicas: 0 });
  const root = join(await makeTempDir("fleetsync-hooked-"), "replica");
  const enrolled = await enrollAgent(fleet.hub, fleet.share, "replica", root);
  await updateAgentConfig(enrolled.stateDir, (config) => {
    (config.shares as Record<string, Record<string, unknown>>)[fleet!.share]!.onApply = onApply;
  });
  const replica = { root, ...enrolled, agent: startAgent(enrolled.stateDir) };
  fleet.replicas.push(replica);
  return replica;
}

test("the onApply hook runs once per applied instruction that changed something, with the changed paths", async () => {
  const logDir = await makeTempDir("fleetsync-hook-log-");
  const log = join(logDir, "runs.log");
  // The first sync is one instruction: everything is on the hub before the replica starts (written while it
  // runs, the files could arrive in two reports, and rightly run the hook twice).
  fleet = await startFleet({ replicas: 0 });
  await writeFiles(fleet.sourceRoot, { "nginx.conf": "server {}\n", "sites/a.conf": "a\n" });
  await waitFor(
    async () =>
      Number((await queryHubDb(fleet!.hub.dataDir, "select head_seq from shares"))[0]?.head_seq) >= 3,
    { what: "the source's three entries on the hub" },
  );
  const replica = await replicaWithHook(
    `echo "run share=$FLEETSYNC_SHARE" >> ${log}; cat "$FLEETSYNC_CHANGED_PATHS" >> ${log}`,
  );
  await waitForConvergence(fleet!);
  await waitFor(async () => (await readFile(log, "utf8").catch(() => "")).includes("nginx.conf"), {
    what: "the hook's record of the first sync",
  });
  const first = await readFile(log, "utf8");
  expect(first.match(/^run /gm)).toHaveLength(1);
  expect(first).toContain("run share=docs");
  expect(first).toContain("sites/a.conf");

  await writeFiles(fleet!.sourceRoot, { "nginx.conf": "server { listen 80; }\n" });
  // The ack carries the hook's result, so it is sent once the hook has finished writing: wait for its row.
  const rows = await waitFor(
    async () => {
      const found = await queryHubDb(fleet!.hub.dataDir, "select ok from sync_ops where action = 'hook'");
      return found.length >= 2 ? found : undefined;
    },
    { what: "both hook runs in the op log" },
  );
  const second = (await readFile(log, "utf8")).slice(first.length);
  expect(second.split("\n").filter(Boolean)).toEqual(["run share=docs", "nginx.conf"]);
  expect(replica.agent.output()).toMatch(/onApply hook .* succeeded/);
  expect(rows.map((r) => Number(r.ok))).toEqual([1, 1]);
});

test("a failing hook is reported in the op log and the member's error, and is not retried in a loop", async () => {
  const replica = await replicaWithHook({ command: "echo reload refused >&2; exit 3", timeoutSeconds: 5 });
  await writeFiles(fleet!.sourceRoot, { "a.txt": "a\n" });
  await waitForConvergence(fleet!);
  const failed = await waitFor(
    async () => {
      const rows = await queryHubDb(
        fleet!.hub.dataDir,
        "select ok, error from sync_ops where action = 'hook'",
      );
      return rows.length > 0 ? rows : undefined;
    },
    { what: "the hook's row in the op log" },
  );
  expect(Number(failed[0]!.ok)).toBe(0);
  expect(String(failed[0]!.error)).toMatch(/failed with exit code 3 .*reload refused/);
  const [member] = await queryHubDb(
    fleet!.hub.dataDir,
    "select last_error from members where device_id = ?",
    [replica.deviceId],
  );
  expect(String(member?.last_error)).toMatch(/onApply hook/);
  // Some seconds later, nothing changed: the hook has not run again.
  await new Promise((resolve) => setTimeout(resolve, 4000));
  const rows = await queryHubDb(fleet!.hub.dataDir, "select 1 from sync_ops where action = 'hook'");
  expect(rows).toHaveLength(1);
  expect(replica.agent.output().match(/onApply hook .* failed with exit code 3/g)).toHaveLength(1);
});
