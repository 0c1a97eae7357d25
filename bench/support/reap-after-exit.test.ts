// The bench's watchdog, against real processes: a SIGKILLed bench still leaves no process or directory behind.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { makeTempDir, REPO_ROOT, waitFor } from "../../test/support/fleet.ts";

const started: number[] = [];
const dirs: string[] = [];

/** Alive and not a zombie (a reparented child may wait a while for its new parent to reap it). */
async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return stat !== "" && !/^\d+ \(.*\) Z/.test(stat);
}

/**
 * Runs a bench stand-in that starts a long `sleep` (standing for a Pi-hole FTL, which ignores SIGINT), arms the
 * watchdog with it and a directory, adds a second `sleep` (standing for the hub), then dies by SIGKILL — no
 * handler of its own runs. Resolves with both sleeps' PIDs.
 */
async function dieAfterArming(options: { dir: string; dismiss: boolean }): Promise<number[]> {
  const work = await makeTempDir("fleetsync-reap-test-");
  dirs.push(work, options.dir);
  const script = join(work, "bench-stand-in.ts");
  await writeFile(
    script,
    `import { spawn } from "node:child_process";
import { reapAfterExit } from ${JSON.stringify(join(REPO_ROOT, "bench/support/reap-after-exit.ts"))};
const sleeper = () => {
  const child = spawn("sleep", ["600"], { detached: true, stdio: "ignore" });
  child.unref();
  return child.pid;
};
const first = sleeper();
const reaper = reapAfterExit({ pids: [first], dirs: [${JSON.stringify(options.dir)}, ${JSON.stringify(work)}] });
const later = sleeper();
reaper.add([later]);
${options.dismiss ? "reaper.dismiss();" : ""}
process.stdout.write(first + " " + later + "\\n", () => process.kill(process.pid, "SIGKILL"));
`,
  );
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (chunk) => {
    out += chunk;
  });
  const signal = await new Promise((ok) => child.once("exit", (_code, s) => ok(s)));
  expect(signal).toBe("SIGKILL");
  const pids = out.trim().split(" ").map(Number);
  expect(pids).toHaveLength(2);
  for (const pid of pids) expect(pid).toBeGreaterThan(0);
  started.push(...pids);
  return pids;
}

afterEach(async () => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("reapAfterExit", () => {
  test("stops the processes, also those added later, and removes the directories after the bench was SIGKILLed", async () => {
    const dir = await makeTempDir("fleetsync-reap-dir-");
    await mkdir(join(dir, "etc"));
    await writeFile(join(dir, "etc", "gravity.db"), "x");
    const pids = await dieAfterArming({ dir, dismiss: false });
    for (const pid of pids)
      await waitFor(async () => !(await isRunning(pid)), {
        timeoutMs: 15_000,
        what: `process ${pid} to stop`,
      });
    await waitFor(() => !existsSync(dir), { timeoutMs: 15_000, what: "the directory to be removed" });
  }, 40_000);

  test("touches nothing once the bench dismissed it after cleaning up itself", async () => {
    const dir = await makeTempDir("fleetsync-reap-dir-");
    const pids = await dieAfterArming({ dir, dismiss: true });
    // An armed watchdog notices within a second, sends SIGTERM, and removes the directories 5 s later: past all that.
    await new Promise((ok) => setTimeout(ok, 7000));
    for (const pid of pids) expect(await isRunning(pid)).toBe(true);
    expect(existsSync(dir)).toBe(true);
  }, 40_000);
});
