import { mkdtemp, readFile, rm, stat, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { acquireProcessLock, readLockState } from "./process-lock.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fleetsync-lock-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("acquireProcessLock", () => {
  test("refuses a second holder of the same dir, naming the first, until the first releases", async () => {
    const first = await acquireProcessLock({ kind: "agent", dir, pidFile: "agent.pid" });
    expect(await readFile(join(dir, "agent.pid"), "utf8")).toBe(`${process.pid}\n`);
    await expect(acquireProcessLock({ kind: "agent", dir })).rejects.toThrow(
      `another agent (pid ${process.pid}, since ${first.holder.startedAt}) runs on ${dir}; stop it first`,
    );
    expect(await readLockState("agent", dir)).toEqual({ running: true, holder: first.holder });
    await first.release();
    await expect(stat(join(dir, "agent.pid"))).rejects.toThrow(/ENOENT/);
    expect(await readLockState("agent", dir)).toEqual({ running: false });
    const second = await acquireProcessLock({ kind: "agent", dir });
    await second.release();
  });

  test("finds the holder through another spelling of the dir (a symlink)", async () => {
    const link = `${dir}-link`;
    await symlink(dir, link);
    const first = await acquireProcessLock({ kind: "hub", dir });
    try {
      await expect(acquireProcessLock({ kind: "hub", dir: link })).rejects.toThrow(
        `another hub (pid ${process.pid}`,
      );
      // An agent lock and a hub lock on one dir are different locks.
      const agent = await acquireProcessLock({ kind: "agent", dir: link });
      await agent.release();
    } finally {
      await first.release();
      await rm(link, { force: true });
    }
  });
});
