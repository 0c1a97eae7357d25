// One suite, two hubs: the one-way replication scenarios against the Node hub and the Workers build under workerd.
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import {
  type Fleet,
  type HubKind,
  listTrash,
  snapshotTree,
  startAgent,
  startFleet,
  waitFor,
  waitForConvergence,
  writeFiles,
} from "../support/fleet.ts";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});

/** Share paths of the files in a replica's trash. */
async function trashedFiles(root: string): Promise<string[]> {
  return (await listTrash(root)).filter((item) => item.type === "file").map((item) => item.path);
}

/** Workers tests start wrangler and workerd: minutes, not seconds, on a shared machine. */
const TIMEOUT_MS = 300_000;

describe.each<HubKind>(["node", "workers"])("one-way replication through the %s hub", (hub) => {
  test(
    "a tree with nested dirs, an empty dir, an executable, a symlink and a 3 MiB file arrives byte-identical",
    async () => {
      fleet = await startFleet({ replicas: 2, hub });
      const src = fleet.sourceRoot;
      await writeFiles(src, {
        "notes.txt": "hello fleet\n",
        "nested/deeper/deepest/leaf.conf": "x=1\n",
        "empty.txt": "",
        "with space/file name.txt": "spaces\n",
        "big.bin": randomBytes(3 * 1024 * 1024),
      });
      await mkdir(join(src, "empty-dir"));
      await writeFile(join(src, "run.sh"), "#!/bin/sh\necho hi\n");
      await chmod(join(src, "run.sh"), 0o755);
      await symlink("nested/deeper/deepest/leaf.conf", join(src, "link-to-leaf"));

      await waitForConvergence(fleet, 90_000);
      const tree = await snapshotTree(fleet.replicas[0]!.root);
      expect(tree["run.sh"]?.mode).toBe(0o755);
      expect(tree["link-to-leaf"]).toEqual({
        type: "symlink",
        mode: 0,
        target: "nested/deeper/deepest/leaf.conf",
      });
      expect(tree["empty-dir"]?.type).toBe("dir");
      expect(tree["big.bin"]?.sha256).toBe((await snapshotTree(src))["big.bin"]?.sha256);
    },
    TIMEOUT_MS,
  );

  test(
    "modify, rename and delete are mirrored, and the replaced and deleted files wait in the replica's trash",
    async () => {
      fleet = await startFleet({ replicas: 2, hub });
      const src = fleet.sourceRoot;
      await writeFiles(src, {
        "a.txt": "version 1\n",
        "dir/b.txt": "bee\n",
        "gone.txt": "delete me\n",
        "big.dat": randomBytes(3_000_000),
      });
      await waitForConvergence(fleet, 90_000);

      await writeFile(join(src, "a.txt"), "version 2, longer\n");
      await rm(join(src, "gone.txt"));
      await rename(join(src, "big.dat"), join(src, "dir/moved.dat"));
      await waitForConvergence(fleet, 90_000);
      for (const replica of fleet.replicas) {
        expect(await readFile(join(replica.root, "a.txt"), "utf8")).toBe("version 2, longer\n");
        expect(await readdir(join(replica.root, "dir"))).toContain("moved.dat");
        const trash = await trashedFiles(replica.root);
        expect(trash).toContain("gone.txt");
        expect(trash).toContain("a.txt");
      }
    },
    TIMEOUT_MS,
  );

  test(
    "a replica that was offline during changes catches up when it returns",
    async () => {
      fleet = await startFleet({ replicas: 2, hub });
      await writeFiles(fleet.sourceRoot, { "one.txt": "1\n" });
      await waitForConvergence(fleet, 90_000);
      const offline = fleet.replicas[1]!;
      await offline.agent.stop();

      await writeFiles(fleet.sourceRoot, { "two.txt": "2\n", "sub/three.txt": "3\n" });
      await rm(join(fleet.sourceRoot, "one.txt"));
      await waitFor(
        async () =>
          JSON.stringify(await snapshotTree(fleet!.replicas[0]!.root)) ===
          JSON.stringify(await snapshotTree(fleet!.sourceRoot)),
        { what: "the online replica", timeoutMs: 90_000 },
      );
      expect(await readdir(offline.root)).toContain("one.txt");

      offline.agent = startAgent(offline.stateDir);
      await waitForConvergence(fleet, 90_000);
    },
    TIMEOUT_MS,
  );
});
