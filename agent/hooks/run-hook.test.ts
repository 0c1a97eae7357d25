import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { describeHookResult } from "./describe-hook-result.ts";
import { runHook } from "./run-hook.ts";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "fleetsync-hook-root-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const hook = (command: string, timeoutMs = 10_000) => ({ command, timeoutMs });

/** Alive and not a zombie (a reaped-later orphan counts as gone). */
async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return stat !== "" && !/^\d+ \(.*\) Z/.test(stat);
}

describe("runHook", () => {
  test("runs the command in the share root with the share, root and changed paths in its environment", async () => {
    const result = await runHook({
      hook: hook(
        'echo "share=$FLEETSYNC_SHARE root=$FLEETSYNC_ROOT pwd=$(pwd)"; cat "$FLEETSYNC_CHANGED_PATHS"',
      ),
      share: "configs",
      root,
      changedPaths: ["nginx.conf", "sites/with space.conf"],
    });
    expect(result).toMatchObject({ exitCode: 0, signal: null, timedOut: false, ok: true });
    expect(result.output).toBe(`share=configs root=${root} pwd=${root}\nnginx.conf\nsites/with space.conf\n`);
  });

  test("also lists the changed paths NUL-separated, so a path with a line break survives", async () => {
    const result = await runHook({
      hook: hook('xargs -0 -n1 printf "[%s]" < "$FLEETSYNC_CHANGED_PATHS0"'),
      share: "s",
      root,
      changedPaths: ["a\nb.txt", "c.txt"],
    });
    expect(result.output).toBe("[a\nb.txt][c.txt]");
  });

  test("removes the changed-paths file once the hook is done", async () => {
    const result = await runHook({
      hook: hook('echo "$FLEETSYNC_CHANGED_PATHS"'),
      share: "s",
      root,
      changedPaths: ["a"],
    });
    await expect(readFile(result.output.trim())).rejects.toMatchObject({ code: "ENOENT" });
  });

  test("reports a failing hook's exit code and output instead of throwing", async () => {
    const result = await runHook({
      hook: hook("echo reloading; echo 'nginx: bad config' >&2; exit 3"),
      share: "s",
      root,
      changedPaths: ["a"],
    });
    expect(result).toMatchObject({ exitCode: 3, signal: null, timedOut: false, ok: false });
    expect(result.output).toContain("reloading\n");
    expect(result.output).toContain("nginx: bad config\n");
    expect(describeHookResult("nginx -s reload", result)).toMatch(
      /^onApply hook "nginx -s reload" failed with exit code 3 after \d+ ms; last output: "nginx: bad config"/,
    );
  });

  test("on timeout stops the whole process group, background children included", async () => {
    const pidFile = join(root, "bg.pid");
    const result = await runHook({
      hook: hook(`sleep 30 & echo $! > ${pidFile}; sleep 30`, 300),
      share: "s",
      root,
      changedPaths: [],
    });
    expect(result).toMatchObject({ exitCode: null, signal: "SIGTERM", timedOut: true, ok: false });
    const backgroundPid = Number(await readFile(pidFile, "utf8"));
    expect(await isRunning(backgroundPid)).toBe(false);
    expect(describeHookResult("x", result)).toContain("timed out after");
  });

  test("kills a hook that ignores SIGTERM once the grace period is over", async () => {
    const result = await runHook({
      hook: hook("trap '' TERM; echo ready; sleep 30", 300),
      share: "s",
      root,
      changedPaths: [],
      killGraceMs: 200,
    });
    expect(result).toMatchObject({ signal: "SIGKILL", timedOut: true, output: "ready\n" });
  });

  test("returns when the shell exits even if a background child keeps the output open", async () => {
    const pidFile = join(root, "bg.pid");
    const result = await runHook({
      hook: hook(`sleep 5 & echo $! > ${pidFile}; echo started`),
      share: "s",
      root,
      changedPaths: [],
    });
    const backgroundPid = Number(await readFile(pidFile, "utf8"));
    try {
      expect(result).toMatchObject({ exitCode: 0, ok: true, output: "started\n" });
      expect(await isRunning(backgroundPid)).toBe(true);
    } finally {
      process.kill(backgroundPid, "SIGKILL");
    }
  });

  test("keeps only the tail of a long output, within the limit", async () => {
    const result = await runHook({
      hook: hook("i=0; while [ $i -lt 2000 ]; do echo line-$i; i=$((i+1)); done"),
      share: "s",
      root,
      changedPaths: [],
      outputLimitBytes: 1000,
    });
    expect(result.outputTruncated).toBe(true);
    expect(Buffer.byteLength(result.output)).toBeLessThanOrEqual(1000);
    expect(result.output.endsWith("line-1999\n")).toBe(true);
  });

  test("reports a hook that cannot start (the share root is gone) without throwing", async () => {
    const result = await runHook({
      hook: hook("true"),
      share: "s",
      root: join(root, "missing"),
      changedPaths: [],
    });
    expect(result).toMatchObject({ exitCode: null, ok: false, error: expect.stringContaining("ENOENT") });
    expect(describeHookResult("true", result)).toContain("could not start");
  });

  test("stops the hook when the agent stops", async () => {
    const controller = new AbortController();
    const running = runHook({
      hook: hook("echo go; sleep 30"),
      share: "s",
      root,
      changedPaths: [],
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 200);
    expect(await running).toMatchObject({ signal: "SIGTERM", timedOut: false, ok: false });
  });
});
