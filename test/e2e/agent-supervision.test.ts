// The daemon with real processes: one share's failure never stops the others, and a fatal error is one readable line.
import { cp, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { enrollDevice } from "../../agent/enroll-device.ts";
import {
  createShare,
  makeTempDir,
  mintToken,
  runCliCaptured,
  startAgent,
  startHubProcess,
  type TestHub,
  treesEqual,
  updateAgentConfig,
  waitFor,
  writeFiles,
} from "../support/fleet.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type TwoShares = {
  hub: TestHub;
  work: string;
  sourceState: string;
  replicaState: string;
  root: (side: string, share: string) => string;
};

/** A hub with shares a and b, one source device and one replica device, each holding both; agents not started. */
async function twoShareFleet(): Promise<TwoShares> {
  const hub = await startHubProcess();
  const work = await makeTempDir("fleetsync-supervision-");
  cleanups.push(() => rm(hub.dataDir, { recursive: true, force: true }));
  cleanups.push(() => rm(work, { recursive: true, force: true }));
  cleanups.push(() => hub.stop());
  const root = (side: string, share: string) => join(work, side, share);
  const enroll = async (side: string, role: "source" | "replica") => {
    const stateDir = join(work, `${side}-state`);
    for (const share of ["a", "b"]) await mkdir(root(side, share), { recursive: true });
    await enrollDevice({
      hub: hub.url,
      token: await mintToken(hub, [
        { name: "a", role },
        { name: "b", role },
      ]),
      stateDir,
      name: side,
      paths: { a: root(side, "a"), b: root(side, "b") },
    });
    await updateAgentConfig(stateDir, (config) => {
      config.defaults = { debounceMs: 100 };
    });
    return stateDir;
  };
  await createShare(hub, "a");
  await createShare(hub, "b");
  return {
    hub,
    work,
    sourceState: await enroll("source", "source"),
    replicaState: await enroll("replica", "replica"),
    root,
  };
}

const converged = (fleet: TwoShares, share: string) => () =>
  treesEqual(fleet.root("source", share), fleet.root("replica", share));

describe("one share's failure never stops the others", () => {
  test("a replica share whose state cannot be read is retried after a backoff while the other share syncs", async () => {
    const fleet = await twoShareFleet();
    // A directory where the state file belongs: unreadable, and not something the agent may move aside.
    const damaged = join(fleet.replicaState, "shares", "a.json");
    await mkdir(damaged, { recursive: true });
    await writeFiles(fleet.root("source", "a"), { "a.txt": "share a" });
    await writeFiles(fleet.root("source", "b"), { "b.txt": "share b" });
    const source = startAgent(fleet.sourceState);
    const replica = startAgent(fleet.replicaState);
    cleanups.push(() => source.stop());
    cleanups.push(() => replica.stop());

    await waitFor(converged(fleet, "b"), { timeoutMs: 30_000, what: "share b to reach the replica" });
    expect(replica.proc.exitCode).toBeNull();
    await rm(damaged, { recursive: true });
    await waitFor(converged(fleet, "a"), {
      timeoutMs: 45_000,
      what: "share a to reach the replica once fixed",
    });
  });

  test("a source share whose state cannot be read is restarted after a backoff while the other share syncs", async () => {
    const fleet = await twoShareFleet();
    // A directory where the state file belongs: unreadable, and not something the agent may move aside.
    const damaged = join(fleet.sourceState, "shares", "a.json");
    await mkdir(damaged, { recursive: true });
    await writeFiles(fleet.root("source", "a"), { "a.txt": "share a" });
    await writeFiles(fleet.root("source", "b"), { "b.txt": "share b" });
    const source = startAgent(fleet.sourceState);
    const replica = startAgent(fleet.replicaState);
    cleanups.push(() => source.stop());
    cleanups.push(() => replica.stop());

    await waitFor(converged(fleet, "b"), { timeoutMs: 30_000, what: "share b to reach the replica" });
    expect(source.proc.exitCode).toBeNull();
    await rm(damaged, { recursive: true });
    await waitFor(converged(fleet, "a"), {
      timeoutMs: 45_000,
      what: "share a to reach the replica once fixed",
    });
  });
});

describe("a damaged identity file stops the agent with one line naming the file and the fix", () => {
  test.each([
    [
      "agent.yaml",
      "hub: [unclosed",
      /agent\.yaml is not valid YAML: .*re-enroll with a new token: fleetsync agent enroll --force/,
    ],
    [
      "device.key.json",
      '{"kty":"OKP"',
      /the device key .*device\.key\.json is damaged \(not JSON.*agent enroll --force/,
    ],
    [
      "device.key.json",
      '{"kty":"RSA"}',
      /the device key .*device\.key\.json is damaged \(not an Ed25519 private key\).*--force/,
    ],
    [
      "hub.jwks.json",
      '{"keys":[]}',
      /the pinned hub keys .*hub\.jwks\.json are damaged .*agent enroll --force/,
    ],
  ])("%s containing %s", async (file, content, pattern) => {
    const hub = await startHubProcess();
    const work = await makeTempDir("fleetsync-damaged-identity-");
    cleanups.push(() => rm(hub.dataDir, { recursive: true, force: true }));
    cleanups.push(() => rm(work, { recursive: true, force: true }));
    cleanups.push(() => hub.stop());
    await createShare(hub, "docs");
    const stateDir = join(work, "state");
    await enrollDevice({
      hub: hub.url,
      token: await mintToken(hub, [{ name: "docs", role: "replica" }]),
      stateDir,
      paths: { docs: join(work, "docs") },
    });
    const copy = join(work, "copy");
    await cp(stateDir, copy, { recursive: true });
    await writeFile(join(copy, file), content);
    const result = await runCliCaptured(["agent", "run", "--state", copy]);
    expect(result.code, JSON.stringify(result)).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(pattern);
    expect(result.stderr).toContain(join(copy, file));
  });
});
