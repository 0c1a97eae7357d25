// One process per directory, with real processes: a second agent on a state dir and a second hub on a data dir refuse.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterEach, describe, expect, test } from "vitest";
import {
  adminCall,
  type CliResult,
  createShare,
  enrollAgent,
  makeTempDir,
  mintToken,
  type RunningProcess,
  runCliCaptured,
  startAgent,
  startHubProcess,
  type TestHub,
  waitFor,
} from "../support/fleet.ts";
import { hubDbFile } from "../support/hub-secrets.ts";

function expectRefusal(result: CliResult, pattern: RegExp) {
  const context = JSON.stringify(result);
  expect(result.code, context).toBe(1);
  expect(result.stderr.trimEnd().split("\n"), context).toHaveLength(1);
  expect(result.stderr, context).toMatch(pattern);
}

async function waitForStart(agent: RunningProcess): Promise<void> {
  await waitFor(
    () => {
      if (agent.proc.exitCode !== null) throw new Error(`agent exited: ${agent.output()}`);
      return agent.output().includes("agent started");
    },
    { what: "the agent to start" },
  );
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function hubWithShare(): Promise<TestHub> {
  const hub = await startHubProcess();
  cleanups.push(() => rm(hub.dataDir, { recursive: true, force: true }));
  cleanups.push(() => hub.stop());
  await createShare(hub, "docs");
  return hub;
}

describe("one agent per state dir", () => {
  test("a second agent on a running agent's state dir refuses at once, naming it; after a SIGKILL a new one starts", async () => {
    const hub = await hubWithShare();
    const work = await makeTempDir("fleetsync-lock-agent-");
    cleanups.push(() => rm(work, { recursive: true, force: true }));
    const { stateDir } = await enrollAgent(hub, "docs", "replica", join(work, "docs"));

    const first = startAgent(stateDir);
    cleanups.push(() => first.kill());
    await waitForStart(first);
    expect(await readFile(join(stateDir, "agent.pid"), "utf8")).toBe(`${first.proc.pid}\n`);

    const second = await runCliCaptured(["agent", "run", "--state", stateDir]);
    expectRefusal(
      second,
      new RegExp(
        `^fleetsync: another agent \\(pid ${first.proc.pid}, since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\) runs on ${stateDir}; stop it first$`,
        "m",
      ),
    );
    expect(first.proc.exitCode).toBeNull();
    // Nor may an enrolment replace the identity under a running agent.
    const token = await mintToken(hub, [{ name: "docs", role: "replica" }]);
    const enrol = ["agent", "enroll", "--hub", hub.url, "--token", token, "--state", stateDir, "--force"];
    expectRefusal(await runCliCaptured(enrol), new RegExp(`another agent \\(pid ${first.proc.pid}, `));

    await first.kill();
    const third = startAgent(stateDir);
    cleanups.push(() => third.stop());
    await waitForStart(third);
    expect(await readFile(join(stateDir, "agent.pid"), "utf8")).toBe(`${third.proc.pid}\n`);
  });
});

describe("one hub per data dir", () => {
  test("a second hub on a running hub's data dir refuses, naming it; after a SIGKILL a new one starts", async () => {
    const first = await startHubProcess();
    cleanups.push(() => rm(first.dataDir, { recursive: true, force: true }));
    cleanups.push(() => first.kill());
    const second = await runCliCaptured(["hub", "--data", first.dataDir, "--port", "0"]);
    expectRefusal(
      second,
      new RegExp(
        `another hub \\(pid ${first.proc.pid}, since [^)]+\\) runs on data dir ${first.dataDir}; stop it first`,
      ),
    );
    expect(second.stdout).not.toMatch(/ready at/);
    expect((await fetch(new URL("/healthz", first.url))).status).toBe(200);

    await first.kill();
    const third = await startHubProcess(first.dataDir);
    cleanups.push(() => third.stop());
    expect((await fetch(new URL("/healthz", third.url))).status).toBe(200);
  });
});

describe("agent status", () => {
  type Status = {
    agent: { running: boolean; pid?: number; since?: string };
    shares: { name: string; lastError: string | null }[];
  };

  test("says whether the agent runs, and does not refresh the hub's last seen for a stopped agent", async () => {
    const hub = await hubWithShare();
    const work = await makeTempDir("fleetsync-lock-status-");
    cleanups.push(() => rm(work, { recursive: true, force: true }));
    const { stateDir, deviceId } = await enrollAgent(hub, "docs", "replica", join(work, "docs"));
    const status = async () => {
      const result = await runCliCaptured(["agent", "status", "--state", stateDir, "--json"]);
      expect(result.code, JSON.stringify(result)).toBe(0);
      return JSON.parse(result.stdout) as Status;
    };

    // A damaged state file shows as the share's last error, naming the file.
    await mkdir(join(stateDir, "shares"));
    await writeFile(join(stateDir, "shares", "docs.json"), "{ not json");
    const damaged = await status();
    expect(damaged.shares[0]?.lastError).toContain(`state file ${join(stateDir, "shares", "docs.json")}`);
    await rm(join(stateDir, "shares", "docs.json"));

    const agent = startAgent(stateDir);
    cleanups.push(() => agent.kill());
    await waitForStart(agent);
    const running = await status();
    expect(running.agent).toEqual({ running: true, pid: agent.proc.pid, since: expect.any(String) });
    const table = await runCliCaptured(["agent", "status", "--state", stateDir]);
    expect(table.stdout.split("\n")[1]).toBe(
      `agent running (pid ${agent.proc.pid}, since ${running.agent.since})`,
    );
    await agent.stop();

    // The device was last seen long ago; a look at its status must not make it look alive.
    const db = createClient({ url: `file:${await hubDbFile(hub.dataDir)}` });
    try {
      await db.execute({ sql: "update devices set last_seen_at = ? where id = ?", args: [1000, deviceId] });
    } finally {
      db.close();
    }
    const stopped = await status();
    expect(stopped.agent).toEqual({ running: false });
    const text = await runCliCaptured(["agent", "status", "--state", stateDir]);
    expect(text.stdout.split("\n")[1]).toBe(
      `agent not running; start it: fleetsync agent run --state ${stateDir}`,
    );
    const { devices } = (await adminCall(hub, "GET", "/v1/admin/devices")) as {
      devices: { id: string; lastSeenAt: string | null }[];
    };
    expect(devices.find((d) => d.id === deviceId)?.lastSeenAt).toBe(new Date(1000).toISOString());
  });
});
