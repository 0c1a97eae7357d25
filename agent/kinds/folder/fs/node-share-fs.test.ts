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
