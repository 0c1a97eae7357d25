import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeShareFs } from "./node-share-fs.ts";
import { describeShareFsContract } from "./share-fs.contract.ts";

describeShareFsContract("Node adapter on a real directory", async () => {
  const base = await mkdtemp(join(tmpdir(), "fleetsync-sharefs-"));
  const { mkdir } = await import("node:fs/promises");
  await mkdir(join(base, "share"));
  await mkdir(join(base, "outside"));
  return { fs: createNodeShareFs(join(base, "share")), outside: join(base, "outside") };
});

describeShareFsContract("Node adapter keeping directory handles for a run (forRun)", async () => {
  const base = await mkdtemp(join(tmpdir(), "fleetsync-sharefs-kept-"));
  const { mkdir } = await import("node:fs/promises");
  await mkdir(join(base, "share"));
  await mkdir(join(base, "outside"));
  const run = createNodeShareFs(join(base, "share")).forRun?.();
  if (!run) throw new Error("the Node adapter offers forRun");
  return { fs: run.fs, outside: join(base, "outside") };
});
