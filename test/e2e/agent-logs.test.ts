// The agent's log under journald: a real agent process whose stdout is the stream JOURNAL_STREAM names.
import { spawn } from "node:child_process";
import { fstatSync } from "node:fs";
import { mkdir, open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import {
  CLI,
  createShare,
  enrollAgent,
  makeTempDir,
  REPO_ROOT,
  type RunningProcess,
  startHubProcess,
  superviseProcess,
  type TestHub,
  waitFor,
} from "../support/fleet.ts";

let hub: TestHub | undefined;
let agent: RunningProcess | undefined;
let dir: string | undefined;
afterEach(async () => {
  await agent?.stop();
  await hub?.stop();
  for (const d of [dir, hub?.dataDir]) if (d) await rm(d, { recursive: true, force: true });
  hub = agent = dir = undefined;
});

test("under journald every agent line starts with its priority: <3> for an error, <6> for info", async () => {
  hub = await startHubProcess();
  await createShare(hub, "docs");
  dir = await makeTempDir("fleetsync-journald-");
  const root = join(dir, "source");
  await mkdir(root);
  const { stateDir } = await enrollAgent(hub, "docs", "source", root, { level: "info" });
  // The share's folder vanishes (a disk not mounted): the agent says so at error level and keeps running.
  await rm(root, { recursive: true });

  // journald hands a service a stream and names it in JOURNAL_STREAM (device:inode); a file stands in for it.
  const streamFile = join(dir, "journal-stream");
  const stream = await open(streamFile, "w");
  const st = fstatSync(stream.fd);
  agent = superviseProcess(
    spawn(process.execPath, [CLI, "agent", "run", "--state", stateDir], {
      cwd: REPO_ROOT,
      env: { ...process.env, JOURNAL_STREAM: `${st.dev}:${st.ino}` },
      stdio: ["ignore", stream.fd, "pipe"],
    }),
  );
  await stream.close();
  const lines = await waitFor(
    async () => {
      const all = (await readFile(streamFile, "utf8")).split("\n").filter(Boolean);
      return all.some((l) => l.startsWith("<3>")) && all.some((l) => l.startsWith("<6>")) ? all : undefined;
    },
    { timeoutMs: 20_000, what: "an error and an info line in the journal stream" },
  );
  expect(
    lines.every((l) => /^<[3467]>/.test(l)),
    lines.join("\n"),
  ).toBe(true);
  expect(lines.find((l) => l.startsWith("<6>"))).toMatch(/^<6>INFO {2}agent started {2}device=\S+/);
  expect(lines.find((l) => l.startsWith("<3>"))).toMatch(/^<3>ERROR .*share=docs/);
});
