// Two-way shares with real processes: two peers and a replica converge, keep both sides of a conflict and lose
// nothing — merging trees, edits both ways, edits while offline, delete against modify, rename against edit, a kill.
import { readdir, readFile, rename, rm, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import {
  createShare,
  enrollAgent,
  findTempFiles,
  type HubKind,
  makeTempDir,
  type RunningProcess,
  runCliCaptured,
  snapshotTree,
  startAgent,
  startHubProcess,
  type TestHub,
  waitFor,
  writeFiles,
} from "../support/fleet.ts";
import { queryHubDb } from "../support/hub-secrets.ts";

type Member = { name: string; root: string; stateDir: string; deviceId: string; agent?: RunningProcess };
type TwoWay = { hub: TestHub; a: Member; b: Member; replica: Member; members: Member[] };

let running: TwoWay | undefined;
afterEach(async () => {
  if (!running) return;
  await Promise.all(running.members.map((m) => m.agent?.stop()));
  await running.hub.stop();
  running = undefined;
});

async function twoWay(
  options: {
    seed?: { a?: Record<string, string>; b?: Record<string, string> };
    debounceMsOfB?: number;
    hub?: HubKind;
  } = {},
) {
  const hub = await startHubProcess(undefined, {}, 0, options.hub);
  await createShare(hub, "docs");
  const base = await makeTempDir("fleetsync-two-way-");
  const member = async (
    name: string,
    role: "peer" | "replica",
    seed?: Record<string, string>,
    debounceMs?: number,
  ): Promise<Member> => {
    const root = join(base, name);
    if (seed) await writeFiles(root, seed);
    const enrolled = await enrollAgent(hub, "docs", role, root, {
      level: "info",
      ...(debounceMs !== undefined ? { debounceMs } : {}),
    });
    return { name, root, ...enrolled };
  };
  const a = await member("a", "peer", options.seed?.a ?? {});
  const b = await member("b", "peer", options.seed?.b ?? {}, options.debounceMsOfB);
  const replica = await member("replica", "replica");
  running = { hub, a, b, replica, members: [a, b, replica] };
  return running;
}
const start = (m: Member) => {
  m.agent = startAgent(m.stateDir);
};

/** Every member holds the same tree (content, mode, mtime, links), nothing half-written anywhere. */
async function converged(fleet: TwoWay, timeoutMs = 60_000) {
  let last = "";
  await waitFor(
    async () => {
      const trees = await Promise.all(fleet.members.map((m) => snapshotTree(m.root)));
      last = trees.map((t, i) => `${fleet.members[i]!.name}: ${Object.keys(t).join(", ")}`).join("\n");
      return trees.every((t) => JSON.stringify(t) === JSON.stringify(trees[0]));
    },
    { timeoutMs, intervalMs: 300, what: `the three trees to agree (last seen:\n${last})` },
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${last}`);
  });
  for (const m of fleet.members) expect(await findTempFiles(m.root)).toEqual([]);
}

async function head(fleet: TwoWay): Promise<number> {
  const shown = await runCliCaptured([
    "share",
    "show",
    "docs",
    "--hub",
    fleet.hub.url,
    "--admin-token",
    fleet.hub.adminToken,
    "--json",
  ]);
  return (JSON.parse(shown.stdout) as { head: number }).head;
}

const text = (m: Member, path: string) => readFile(join(m.root, path), "utf8");
const conflictCopies = async (m: Member, dir = "") =>
  (await readdir(join(m.root, dir))).filter((n) => n.includes(".sync-conflict-")).sort();

test("two peers with different trees merge into the union; same content is not a conflict, different content is kept twice", async () => {
  const fleet = await twoWay({
    seed: {
      a: { "only-a.txt": "a\n", "same.txt": "same\n", "clash.txt": "from a\n", "dir/a.txt": "in dir\n" },
      b: { "only-b.txt": "b\n", "same.txt": "same\n", "clash.txt": "from b\n" },
    },
  });
  fleet.members.forEach(start);
  await converged(fleet);
  const names = Object.keys(await snapshotTree(fleet.replica.root)).sort();
  expect(names.filter((n) => !n.includes(".sync-conflict-"))).toEqual([
    "clash.txt",
    "dir",
    "dir/a.txt",
    "only-a.txt",
    "only-b.txt",
    "same.txt",
  ]);
  const copies = await conflictCopies(fleet.replica);
  expect(copies).toHaveLength(1);
  expect(copies[0]).toMatch(/^clash\.sync-conflict-\d{8}-\d{6}-.+\.txt$/);
  const versions = [await text(fleet.replica, "clash.txt"), await text(fleet.replica, copies[0]!)].sort();
  expect(versions).toEqual(["from a\n", "from b\n"]);
  // Visible: share show and agent status list the copy, the op log has the conflict.
  const shown = await runCliCaptured([
    "share",
    "show",
    "docs",
    "--hub",
    fleet.hub.url,
    "--admin-token",
    fleet.hub.adminToken,
  ]);
  expect(shown.stdout).toContain(`conflict copies: 1`);
  expect(shown.stdout).toContain(copies[0]!);
  const status = JSON.parse(
    (await runCliCaptured(["agent", "status", "--state", fleet.replica.stateDir, "--json"])).stdout,
  ) as { shares: { conflictCopies: string[] }[] };
  expect(status.shares[0]!.conflictCopies).toEqual(copies);
  const logged = await queryHubDb(
    fleet.hub.dataDir,
    "select path, error from sync_ops where action = 'conflict'",
  );
  expect(logged).toEqual([{ path: "clash.txt", error: expect.stringContaining(copies[0]!) }]);
  // Quiet once converged: the head stays still (nothing applied is reported back).
  const settled = await head(fleet);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  expect(await head(fleet)).toBe(settled);
}, 120_000);

test("edits flow both ways; an edit made on both sides while one peer is offline leaves both versions everywhere", async () => {
  const fleet = await twoWay();
  fleet.members.forEach(start);
  await writeFiles(fleet.a.root, { "notes.txt": "v1\n" });
  await converged(fleet);
  await writeFiles(fleet.b.root, { "notes.txt": "v2 from b\n", "b-new.txt": "new\n" });
  await converged(fleet);
  expect(await text(fleet.a, "notes.txt")).toBe("v2 from b\n");

  await fleet.b.agent!.stop();
  await writeFiles(fleet.a.root, { "notes.txt": "edited on a\n" });
  await new Promise((resolve) => setTimeout(resolve, 200));
  await writeFiles(fleet.b.root, { "notes.txt": "edited on b, offline\n" });
  start(fleet.b);
  await converged(fleet);
  const versions = [await text(fleet.replica, "notes.txt")];
  for (const copy of await conflictCopies(fleet.replica)) versions.push(await text(fleet.replica, copy));
  expect(versions.sort()).toEqual(["edited on a\n", "edited on b, offline\n"]);
}, 150_000);

// On Workers too: there the agents wait on wake sockets, and a deferred operation's retry must still come due
// (the loop once waited for the 5-minute safety poll after deferring).
test.each<HubKind>(["node", "workers"])(
  "a peer that holds back another's version for its own new file, then deletes that file unreported, still gets the other's version (%s hub)",
  async (hubKind) => {
    // b's reports wait 8 s, so its own plan.txt is still unreported when a's arrives: b defers a's version.
    const fleet = await twoWay({ debounceMsOfB: 8000, hub: hubKind });
    fleet.members.forEach(start);
    await writeFiles(fleet.a.root, { "ready.txt": "ready\n" });
    await converged(fleet);
    await writeFiles(fleet.b.root, { "plan.txt": "b's draft\n" });
    await writeFiles(fleet.a.root, { "plan.txt": "a's plan\n" });
    await waitFor(async () => fleet.b.agent!.output().includes("not applying plan.txt"), {
      timeoutMs: 30_000,
      what: "b to defer a's plan.txt for its own unreported one",
    });
    // The draft goes before b ever reports it: there is nothing of b's to settle, so a's version must still land.
    await rm(join(fleet.b.root, "plan.txt"));
    await converged(fleet);
    expect(await text(fleet.b, "plan.txt")).toBe("a's plan\n");
    expect(await conflictCopies(fleet.b)).toEqual([]);
  },
  150_000,
);

test("delete on one side, modify on the other: the modified file survives everywhere", async () => {
  const fleet = await twoWay();
  fleet.members.forEach(start);
  await writeFiles(fleet.a.root, { "keep-me.txt": "original\n" });
  await converged(fleet);
  await fleet.b.agent!.stop();
  await rm(join(fleet.a.root, "keep-me.txt"));
  await waitFor(async () => (await readdir(fleet.replica.root)).includes("keep-me.txt") === false, {
    what: "the delete to reach the replica",
  });
  await writeFiles(fleet.b.root, { "keep-me.txt": "modified on b\n" });
  start(fleet.b);
  await converged(fleet);
  for (const m of fleet.members) expect(await text(m, "keep-me.txt")).toBe("modified on b\n");
}, 120_000);

test("a rename on one peer while the other edits the old path: the edit survives", async () => {
  const fleet = await twoWay();
  fleet.members.forEach(start);
  await writeFiles(fleet.a.root, { "old-name.txt": "first\n" });
  await converged(fleet);
  await fleet.b.agent!.stop();
  await rename(join(fleet.a.root, "old-name.txt"), join(fleet.a.root, "new-name.txt"));
  await waitFor(async () => (await readdir(fleet.replica.root)).includes("new-name.txt"), {
    what: "the rename to reach the replica",
  });
  await writeFiles(fleet.b.root, { "old-name.txt": "first, and edited on b\n" });
  start(fleet.b);
  await converged(fleet);
  expect(await text(fleet.replica, "new-name.txt")).toBe("first\n");
  expect(await text(fleet.replica, "old-name.txt")).toBe("first, and edited on b\n");
}, 120_000);

test("a peer SIGKILLed mid-apply while the other keeps writing converges with no partial files", async () => {
  const fleet = await twoWay();
  fleet.members.forEach(start);
  const batch = (n: number, from: string) => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 400; i++) files[`batch-${n}/f${i}.txt`] = `${from} ${n} ${i} ${"x".repeat(2000)}\n`;
    return files;
  };
  await writeFiles(fleet.a.root, batch(1, "a"));
  await waitFor(async () => (await readdir(fleet.b.root)).includes("batch-1"), {
    what: "b to start applying",
  });
  await fleet.b.agent!.kill();
  await writeFiles(fleet.a.root, batch(2, "a"));
  await writeFile(join(fleet.b.root, "written-while-dead.txt"), "b\n");
  start(fleet.b);
  await converged(fleet, 120_000);
  expect(await text(fleet.a, "written-while-dead.txt")).toBe("b\n");
  expect((await readdir(join(fleet.replica.root, "batch-2"))).length).toBe(400);
}, 180_000);

test("a peer whose clock is an hour behind (its files carry mtimes an hour old) still converges both ways", async () => {
  const fleet = await twoWay();
  fleet.members.forEach(start);
  const behind = async (path: string, content: string) => {
    await writeFiles(fleet.b.root, { [path]: content });
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(join(fleet.b.root, path), hourAgo, hourAgo);
  };
  await behind("from-b.txt", "b's clock is slow\n");
  await converged(fleet);
  await writeFiles(fleet.a.root, { "from-b.txt": "a edits it later\n" });
  await converged(fleet);
  expect(await text(fleet.b, "from-b.txt")).toBe("a edits it later\n");
  // The hub orders changes, not clocks: b's later edit (an hour "older" by its mtime) still reaches everyone.
  await behind("from-b.txt", "b edits it again\n");
  await converged(fleet);
  expect(await text(fleet.a, "from-b.txt")).toBe("b edits it again\n");
}, 120_000);
