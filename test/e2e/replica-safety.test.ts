// Replicas run as root: nothing planted in a share, and nothing a source sends, may reach outside the share or stall it.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmod, lstat, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import {
  enrollAgent,
  type Fleet,
  findTempFiles,
  listTrash,
  makeTempDir,
  runCliCaptured,
  setAgentHub,
  startAgent,
  updateAgentConfig,
  waitFor,
  waitForConvergence,
  writeFiles,
} from "../support/fleet.ts";
import { queryHubDb } from "../support/hub-secrets.ts";
import { useSharedHubFleets } from "../support/shared-hub-fleets.ts";
import { startTamperProxy, type TamperProxy } from "../support/tamper-proxy.ts";
import { canMountTmpfs, tryMount } from "../support/tmpfs.ts";

/** One hub for this file's tests, each fleet on it with a share of its own. */
const startFleet = useSharedHubFleets();

let fleet: Fleet | undefined;
let proxy: TamperProxy | undefined;
let mounted: string | undefined;
const outside: string[] = [];
afterEach(async () => {
  await proxy?.close();
  await fleet?.stop().catch(() => {});
  if (mounted) execFileSync("umount", ["-l", mounted]);
  for (const dir of outside.splice(0)) await rm(dir, { recursive: true, force: true });
  fleet = undefined;
  proxy = undefined;
  mounted = undefined;
});

/** A file outside every share that an attacker would like the replica (running as root) to overwrite. */
async function victimFile(): Promise<{ path: string; content: string }> {
  const dir = await makeTempDir("fleetsync-victim-");
  outside.push(dir);
  const path = join(dir, "victim.conf");
  const content = "precious: do not touch\n";
  await writeFile(path, content, { mode: 0o600 });
  return { path, content };
}

/** The temp name an older agent would have used for `path` (predictable: a hash of the path). */
function predictableTempName(path: string): string {
  return `.fleetsync.${createHash("sha256").update(path).digest("hex").slice(0, 16)}.tmp`;
}

test("a symlink planted at a temp name, or in place of a replica file, never makes the replica write outside its root", async () => {
  fleet = await startFleet({ replicas: 1 });
  const replica = fleet.replicas[0]!;
  const victim = await victimFile();
  await writeFiles(fleet.sourceRoot, { "app.conf": "v1\n", "sub/other.conf": "v1\n" });
  await waitForConvergence(fleet);

  // The attacker controls the replica's folder: links at the old predictable temp names, and the file itself.
  await symlink(victim.path, join(replica.root, predictableTempName("app.conf")));
  await symlink(victim.path, join(replica.root, "sub", predictableTempName("sub/other.conf")));
  await rm(join(replica.root, "sub", "other.conf"));
  await symlink(victim.path, join(replica.root, "sub", "other.conf"));

  await writeFiles(fleet.sourceRoot, { "app.conf": "v2 with new content\n", "sub/other.conf": "v2\n" });
  await chmod(join(fleet.sourceRoot, "app.conf"), 0o755);
  await waitFor(
    async () =>
      (await readFile(join(replica.root, "app.conf"), "utf8")) === "v2 with new content\n" &&
      (await lstat(join(replica.root, "sub", "other.conf"))).isFile() &&
      (await readFile(join(replica.root, "sub", "other.conf"), "utf8")) === "v2\n",
    { what: "the new versions on the replica" },
  );
  expect(await readFile(victim.path, "utf8")).toBe(victim.content);
  expect((await stat(victim.path)).mode & 0o7777).toBe(0o600);
  // The planted link in place of the file went to trash, as a link, untouched.
  expect(await listTrash(replica.root)).toContainEqual({
    path: "sub/other.conf",
    type: "symlink",
    target: victim.path,
  });
});

test("setuid, setgid and sticky bits are not replicated unless the replica's share opts in", async () => {
  fleet = await startFleet({ replicas: 2 });
  const [plain, optedIn] = fleet.replicas as [Fleet["replicas"][0], Fleet["replicas"][0]];
  await optedIn.agent.stop();
  await updateAgentConfig(optedIn.stateDir, (config) => {
    config.shares[fleet!.share]!.specialModeBits = true;
  });
  optedIn.agent = startAgent(optedIn.stateDir);

  await writeFiles(fleet.sourceRoot, { "bin/tool": "#!/bin/sh\necho hi\n", "shared/readme": "x\n" });
  await chmod(join(fleet.sourceRoot, "bin/tool"), 0o4755);
  await chmod(join(fleet.sourceRoot, "shared"), 0o3775);
  await waitFor(
    async () =>
      // Each replica gets the tree in its own instructions, in any order: wait for every path on both.
      (await stat(join(plain.root, "bin/tool")).catch(() => undefined)) !== undefined &&
      (await stat(join(plain.root, "shared")).catch(() => undefined)) !== undefined &&
      // The chmod may reach the hub in a later report than the file itself: wait for where it ends.
      (((await stat(join(optedIn.root, "bin/tool")).catch(() => undefined))?.mode ?? 0) & 0o7777) ===
        0o4755 &&
      (((await stat(join(optedIn.root, "shared")).catch(() => undefined))?.mode ?? 0) & 0o7777) === 0o3775,
    { what: "both replicas to have the files" },
  );
  // The plain replica ends with the special bits masked off (a chmod may arrive after the path itself).
  await waitFor(
    async () =>
      ((await stat(join(plain.root, "bin/tool"))).mode & 0o7777) === 0o755 &&
      ((await stat(join(plain.root, "shared"))).mode & 0o7777) === 0o775,
    { what: "the plain replica's tool to be 0755 and its shared dir 0775" },
  );
  expect((await stat(join(optedIn.root, "bin/tool"))).mode & 0o7777).toBe(0o4755);
  // A later rescan of the plain replica sees no drift in the masked bits: it does not re-sync forever.
  expect(plain.agent.output()).not.toMatch(/local changes found on a replica/);
});

test("a symlinked share root (/etc/app -> /opt/app/etc) is resolved once and synced below its real path", async () => {
  fleet = await startFleet({ replicas: 0 });
  const base = await makeTempDir("fleetsync-linked-root-");
  outside.push(base);
  const real = join(base, "opt-app-etc");
  await mkdir(real);
  const link = join(base, "etc-app");
  await symlink(real, link);
  const enrolled = await enrollAgent(fleet.hub, fleet.share, "replica", link);
  fleet.replicas.push({ root: link, ...enrolled, agent: startAgent(enrolled.stateDir) });

  await writeFiles(fleet.sourceRoot, { "nginx.conf": "server {}\n", "conf.d/a.conf": "a\n" });
  await waitForConvergence(fleet);
  expect(await readFile(join(real, "conf.d/a.conf"), "utf8")).toBe("a\n");
  expect((await lstat(link)).isSymbolicLink()).toBe(true);
  expect(fleet.replicas[0]!.agent.output()).not.toMatch(/is not a directory/);
});

test("a refused instruction is not retried in a tight loop: the replica backs off", async () => {
  fleet = await startFleet({ replicas: 1 });
  const replica = fleet.replicas[0]!;
  proxy = await startTamperProxy(fleet.hub.url);
  await replica.agent.stop();
  await setAgentHub(replica.stateDir, proxy.url);
  replica.agent = startAgent(replica.stateDir);
  await writeFiles(fleet.sourceRoot, { "a.txt": "one\n" });
  await waitForConvergence(fleet);
  const old = proxy.seenInstructions.at(-1)!;

  let polls = 0;
  proxy.rules.instructions = () => {
    polls++;
    return [old];
  };
  await writeFiles(fleet.sourceRoot, { "a.txt": "two\n" });
  await waitFor(() => /refused instruction .*replay/.test(replica.agent.output()), { what: "a refusal" });
  const before = polls;
  await new Promise((resolve) => setTimeout(resolve, 4000));
  // Jittered exponential backoff from 250 ms: at most a handful of polls in 4 s (it was about 120).
  expect(polls - before).toBeLessThanOrEqual(8);
  proxy.rules.instructions = undefined;
  await waitForConvergence(fleet, 40_000);
});

test("a damaged replica state file is moved aside, named in the log, and the share converges", async () => {
  fleet = await startFleet({ replicas: 1 });
  const replica = fleet.replicas[0]!;
  await writeFiles(fleet.sourceRoot, { "a.txt": "a\n", "d/b.txt": "b\n" });
  await waitForConvergence(fleet);
  await replica.agent.stop();
  const file = join(replica.stateDir, "shares", `${fleet.share}.json`);
  await writeFile(file, '{"version": 1, "cursor": 3, "index": {"a.txt": {"type": "fil');
  await writeFiles(fleet.sourceRoot, { "c.txt": "written while the replica was down\n" });
  replica.agent = startAgent(replica.stateDir);
  await waitForConvergence(fleet);
  expect(replica.agent.output()).toContain(`state file ${file} is damaged`);
  const moved = (await readdir(join(replica.stateDir, "shares"))).filter((n) => n.includes(".damaged-"));
  expect(moved).toHaveLength(1);
  // Good files already in place were not trashed or duplicated while rebuilding.
  expect((await listTrash(replica.root)).map((t) => t.path)).toEqual([]);
  expect(replica.agent.proc.exitCode).toBeNull();
});

const canMount = await canMountTmpfs();

test.skipIf(!canMount)(
  "a file the replica cannot write, followed by more than one instruction's worth of changes, stalls nothing and heals",
  async () => {
    fleet = await startFleet({ replicas: 0 });
    const root = join(await makeTempDir("fleetsync-small-disk-"), "replica");
    await mkdir(root);
    expect(tryMount(root, "12m")).toBe(true);
    mounted = root;
    const enrolled = await enrollAgent(fleet.hub, fleet.share, "replica", root, { level: "info" });
    fleet.replicas.push({ root, ...enrolled, agent: startAgent(enrolled.stateDir) });

    await writeFiles(fleet.sourceRoot, { "big.bin": randomBytes(16 * 1024 * 1024) });
    await waitFor(
      async () =>
        (await queryHubDb(fleet!.hub.dataDir, "select 1 from sync_ops where ok = 0 and path = 'big.bin'"))
          .length > 0,
      { timeoutMs: 30_000, what: "the failure of big.bin" },
    );
    // More than one instruction holds (2000 operations): every one of them must still arrive.
    const many: Record<string, string> = {};
    for (let i = 0; i < 2100; i++) many[`many/f${String(i).padStart(4, "0")}.txt`] = `${i}\n`;
    await writeFiles(fleet.sourceRoot, many);
    await waitFor(async () => (await readdir(join(root, "many")).catch(() => [])).length === 2100, {
      timeoutMs: 90_000,
      intervalMs: 500,
      what: "all 2100 later files on the replica",
    });
    // The replica's cursor reaches the head although big.bin (the first change) still fails.
    await waitFor(
      async () => {
        const [member] = await queryHubDb(
          fleet!.hub.dataDir,
          "select m.cursor, s.head_seq from members m join shares s on s.name = m.share where m.device_id = ?",
          [enrolled.deviceId],
        );
        return Number(member?.cursor) === Number(member?.head_seq);
      },
      { timeoutMs: 60_000, what: "the replica's cursor to reach the head" },
    );
    expect(await readdir(root)).not.toContain("big.bin");
    // A retry of big.bin may be writing its temp file right now; every failed attempt must remove it again.
    await waitFor(async () => (await findTempFiles(root)).length === 0, {
      timeoutMs: 30_000,
      what: "no temp file left behind by the failing big.bin",
    });

    execFileSync("mount", ["-o", "remount,size=64m", root]);
    await waitForConvergence(fleet, 90_000);
    expect(fleet.replicas[0]!.agent.output()).toMatch(/all applied now/);
  },
  180_000,
);

test("a replica paused by a missing marker says so in agent status and share show, with its lag in files and bytes", async () => {
  fleet = await startFleet({ replicas: 1 });
  const replica = fleet.replicas[0]!;
  await writeFiles(fleet.sourceRoot, { "a.txt": "a\n" });
  await waitForConvergence(fleet);
  await rm(join(replica.root, ".fleetsync"), { recursive: true });
  await writeFiles(fleet.sourceRoot, { "b.txt": "four" });

  const admin = ["--hub", fleet.hub.url, "--admin-token", fleet.hub.adminToken];
  const member = await waitFor(
    async () => {
      const shown = JSON.parse(
        (await runCliCaptured(["share", "show", fleet!.share, "--json", ...admin])).stdout,
      );
      const row = shown.members.find((m: { deviceId: string }) => m.deviceId === replica.deviceId);
      return /\.fleetsync is missing/.test(row?.lastError ?? "") ? row : undefined;
    },
    { what: "share show to name the missing marker" },
  );
  expect(member).toMatchObject({ lagFiles: 1, lagBytes: 4 });
  const status = JSON.parse(
    (await runCliCaptured(["agent", "status", "--state", replica.stateDir, "--json"])).stdout,
  );
  expect(status.shares[0]).toMatchObject({ lagFiles: 1, lagBytes: 4 });
  expect(status.shares[0].lastError).toMatch(/\.fleetsync is missing.*mkdir/);
  expect(await readdir(replica.root)).not.toContain("b.txt");

  await mkdir(join(replica.root, ".fleetsync"));
  await waitForConvergence(fleet);
  await waitFor(
    async () => {
      const shown = JSON.parse(
        (await runCliCaptured(["share", "show", fleet!.share, "--json", ...admin])).stdout,
      );
      return (
        shown.members.find((m: { deviceId: string }) => m.deviceId === replica.deviceId)?.lastError === null
      );
    },
    { what: "the error to clear once the marker is back" },
  );
});
