// `fleetsync agent install --dry-run` prints a unit that systemd itself accepts (systemd-analyze verify).
import { execFile } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, test } from "vitest";
import { stringify } from "yaml";
import { agentServiceCommand } from "../../agent/service/agent-service-command.ts";
import { CLI, makeTempDir, runCliCaptured } from "../support/fleet.ts";

const run = promisify(execFile);
let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A state dir with an agent.yaml naming two shares (no hub needed: install reads only the file). */
async function stateWithShares() {
  dir = await makeTempDir("fleetsync-service-");
  const stateDir = join(dir, "state");
  const shares = { configs: join(dir, "etc nginx"), media: join(dir, "media") };
  await mkdir(stateDir);
  await Promise.all(Object.values(shares).map((p) => mkdir(p)));
  await writeFile(
    join(stateDir, "agent.yaml"),
    stringify({
      hub: "http://127.0.0.1:8787",
      hubId: "hub_test",
      deviceId: "dev_test",
      name: "pi",
      shares: {
        configs: { path: shares.configs, role: "replica" },
        media: { path: shares.media, role: "source" },
      },
    }),
  );
  return { stateDir, shares };
}

describe("agent install", () => {
  test("--dry-run prints a sandboxed unit that passes systemd-analyze verify and changes nothing", async () => {
    const { stateDir, shares } = await stateWithShares();
    const result = await runCliCaptured([
      "agent",
      "install",
      "--state",
      stateDir,
      "--user",
      "root",
      "--dry-run",
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("would write /etc/systemd/system/fleetsync-agent.service");
    const unit = result.stdout;
    // node with the bundled agent when dist/ holds one of these sources, else this CLI with a warning saying so
    const chosen = await agentServiceCommand({ isSea: false, execPath: process.execPath, script: CLI });
    expect(unit).toContain(`ExecStart=${chosen.command.join(" ")} agent run --state ${stateDir}\n`);
    if (chosen.runs === "sources") expect(result.stderr).toContain("npm run build -- --bundle-only");
    expect(unit).toContain(`ReadWritePaths=${stateDir} "-${shares.configs}" -${shares.media}\n`);
    expect(unit).toContain("User=root\n");

    const file = join(dir!, "fleetsync-agent.service");
    await writeFile(file, unit);
    const verified = await run("systemd-analyze", ["verify", file]).then(
      (r) => ({ code: 0, stderr: r.stderr }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );
    expect(verified, verified.stderr).toEqual({
      code: 0,
      stderr: expect.not.stringContaining("fleetsync-agent"),
    });
  });

  test("systemd-analyze verify rejects the unit when its ExecStart does not exist, so the check above means something", async () => {
    const { stateDir } = await stateWithShares();
    const { stdout } = await runCliCaptured(["agent", "install", "--state", stateDir, "--dry-run"]);
    const file = join(dir!, "fleetsync-agent.service");
    await writeFile(
      file,
      stdout.replace(`ExecStart=${process.execPath}`, "ExecStart=/nonexistent/fleetsync"),
    );
    await expect(run("systemd-analyze", ["verify", file])).rejects.toMatchObject({
      stderr: expect.stringContaining("/nonexistent/fleetsync"),
    });
  });

  test("refuses an unknown --user and a relative share path, saying what to fix", async () => {
    const { stateDir } = await stateWithShares();
    const user = "no-such-user-fs";
    const noUser = await runCliCaptured([
      "agent",
      "install",
      "--state",
      stateDir,
      "--user",
      user,
      "--dry-run",
    ]);
    expect(noUser).toMatchObject({ code: 2, stdout: "" });
    expect(noUser.stderr).toContain(`--user ${user}: no such user on this machine`);

    await writeFile(
      join(stateDir, "agent.yaml"),
      stringify({
        hub: "http://127.0.0.1:8787",
        hubId: "hub_test",
        deviceId: "dev_test",
        name: "pi",
        shares: { configs: { path: "etc/nginx", role: "replica" } },
      }),
    );
    const refused = await runCliCaptured(["agent", "install", "--state", stateDir, "--dry-run"]);
    expect(refused).toMatchObject({ code: 2, stdout: "" });
    expect(refused.stderr).toContain('share "configs": path "etc/nginx"');
    expect(refused.stderr).toContain("is relative; write it as an absolute path");
  });

  test("without --state it names the missing option; uninstall --dry-run lists its steps", async () => {
    const missing = await runCliCaptured(["agent", "install", "--dry-run"]);
    expect(missing).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("agent install needs --state DIR"),
    });
    const uninstall = await runCliCaptured(["agent", "uninstall", "--dry-run"]);
    expect(uninstall.code).toBe(0);
    expect(uninstall.stdout).toContain("systemctl disable --now fleetsync-agent.service");
  });
});
