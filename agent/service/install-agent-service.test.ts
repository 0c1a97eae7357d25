import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { installSteps, runServiceSteps, uninstallSteps } from "./install-agent-service.ts";

describe("service steps", () => {
  test("install writes the unit, reloads systemd, then enables and starts the service, in that order", async () => {
    expect(installSteps("x", "/etc/systemd/system").map((s) => s.describe)).toEqual([
      "write /etc/systemd/system/fleetsync-agent.service",
      "systemctl daemon-reload",
      "systemctl enable --now fleetsync-agent.service",
    ]);
    expect(uninstallSteps("/etc/systemd/system").map((s) => s.describe)).toEqual([
      "systemctl disable --now fleetsync-agent.service",
      "remove /etc/systemd/system/fleetsync-agent.service",
      "systemctl daemon-reload",
    ]);
  });

  test("the write step writes the unit text world-readable into the unit dir", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fleetsync-unit-"));
    try {
      await installSteps("[Unit]\n", dir)[0]!.act();
      expect(await readFile(join(dir, "fleetsync-agent.service"), "utf8")).toBe("[Unit]\n");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("stops at the first failing step, naming it and what to do, and runs nothing after it", async () => {
    const ran: string[] = [];
    const step = (name: string, fail = false) => ({
      describe: name,
      act: async () => {
        ran.push(name);
        if (fail) throw Object.assign(new Error("exit 1"), { stderr: "Failed to connect to bus\n" });
      },
    });
    await expect(runServiceSteps([step("one"), step("two", true), step("three")])).rejects.toThrow(
      /^could not two: Failed to connect to bus; run it as root on a machine with systemd/,
    );
    expect(ran).toEqual(["one", "two"]);
  });
});
