// `agent enroll` against a real hub: no state dir inside a share, no overlapping shares, no missing source, no ghosts.
import { mkdir, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parse } from "yaml";
import { packageVersion } from "../../cli/package-version.ts";
import {
  adminCall,
  type CliResult,
  createShare,
  makeTempDir,
  mintToken,
  runCliCaptured,
  startHubProcess,
  type TestHub,
} from "../support/fleet.ts";

const NO_HUB_ENV = { FLEETSYNC_HUB: undefined, FLEETSYNC_ADMIN_TOKEN: undefined };

function cli(args: string[]): Promise<CliResult> {
  return runCliCaptured(args, { env: NO_HUB_ENV });
}

/** Exit `code`, nothing on stdout, one line on stderr containing every one of `parts`. */
function expectOneLineFailure(result: CliResult, code: 1 | 2, ...parts: string[]) {
  const context = JSON.stringify(result);
  expect(result.code, context).toBe(code);
  expect(result.stdout, context).toBe("");
  expect(result.stderr.trimEnd().split("\n"), context).toHaveLength(1);
  for (const part of parts) expect(result.stderr, context).toContain(part);
}

async function tokenState(hub: TestHub, token: string): Promise<string | undefined> {
  const jti = (JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { jti: string }).jti;
  const { tokens } = (await adminCall(hub, "GET", "/v1/admin/tokens")) as {
    tokens: { jti: string; state: string }[];
  };
  return tokens.find((t) => t.jti === jti)?.state;
}

async function readConfig(stateDir: string) {
  return parse(await readFile(join(stateDir, "agent.yaml"), "utf8")) as {
    deviceId: string;
    name: string;
    shares: Record<string, { path: string }>;
  };
}

describe("agent enroll refuses what would break the machine, before the token is spent", () => {
  let hub: TestHub;
  let work: string;
  const enroll = (token: string, state: string, ...more: string[]) =>
    cli(["agent", "enroll", "--hub", hub.url, "--token", token, "--state", state, ...more]);

  beforeAll(async () => {
    hub = await startHubProcess();
    work = await makeTempDir("fleetsync-enrol-safety-");
    await createShare(hub, "docs");
    await createShare(hub, "media");
  });

  afterAll(async () => {
    await hub?.stop();
    await rm(work, { recursive: true, force: true });
    await rm(hub.dataDir, { recursive: true, force: true });
  });

  test("refuses a state dir inside, equal to, or containing a share folder, naming both paths", async () => {
    const token = await mintToken(hub, [{ name: "docs", role: "replica" }]);
    const share = join(work, "overlap", "docs");
    await mkdir(share, { recursive: true });
    const cases: [string, string, string][] = [
      [join(share, ".state"), share, "lies inside the share"],
      [share, share, "is the share"],
      [join(work, "overlap"), share, "lies inside the state dir"],
    ];
    for (const [state, root, words] of cases) {
      const result = await enroll(token, state, "--path", `docs=${root}`);
      expectOneLineFailure(result, 1, words, `the state dir ${state}`, `share "docs" folder ${root}`);
      expect(result.stderr).toContain("keep the state dir outside every share folder");
    }
    // Through a symlink: the state dir's path names no share, its real place is inside one.
    await symlink(share, join(work, "overlap-link"));
    const linked = await enroll(token, join(work, "overlap-link", "state"), "--path", `docs=${share}`);
    expectOneLineFailure(linked, 1, `really ${join(share, "state")}`, "lies inside the share");

    await expect(stat(join(share, ".state"))).rejects.toThrow(/ENOENT/);
    expect(await tokenState(hub, token)).toBe("unused");
  });

  test("refuses two share folders when one lies inside the other or both are one folder", async () => {
    const token = await mintToken(hub, [
      { name: "docs", role: "replica" },
      { name: "media", role: "replica" },
    ]);
    const state = join(work, "nested-state");
    const docs = join(work, "nested", "docs");
    const nested = await enroll(token, state, "--path", `docs=${docs}`, "--path", `media=${docs}/media`);
    expectOneLineFailure(
      nested,
      1,
      `share "media" folder ${docs}/media lies inside share "docs" folder ${docs}`,
      "give each share its own folder",
    );
    const same = await enroll(token, state, "--path", `docs=${docs}`, "--path", `media=${docs}/`);
    expectOneLineFailure(same, 1, "is the same folder as", `share "docs" folder ${docs}`);
    expect(await tokenState(hub, token)).toBe("unused");
  });

  test("refuses a source folder that does not exist; creates a replica's (mode 0755)", async () => {
    const missing = join(work, "no-such-configs");
    const sourceToken = await mintToken(hub, [{ name: "docs", role: "source" }]);
    const refused = await enroll(sourceToken, join(work, "source-state"), "--path", `docs=${missing}`);
    expectOneLineFailure(
      refused,
      1,
      `--path docs=${missing}: ${missing} does not exist; a source shares an existing folder — create it or fix the path`,
    );
    await expect(stat(missing)).rejects.toThrow(/ENOENT/);
    expect(await tokenState(hub, sourceToken)).toBe("unused");

    const replicaToken = await mintToken(hub, [{ name: "docs", role: "replica" }]);
    const root = join(work, "new-replica", "docs");
    const made = await enroll(replicaToken, join(work, "replica-state"), "--path", `docs=${root}`);
    expect(made.code, JSON.stringify(made)).toBe(0);
    const folder = await stat(root);
    expect(folder.isDirectory()).toBe(true);
    expect(folder.mode & 0o777).toBe(0o755);
  });

  test("refuses to enroll over an existing identity, naming it; --force replaces it and says to revoke the old one", async () => {
    const state = join(work, "ghost-state");
    const first = await enroll(
      await mintToken(hub, [{ name: "docs", role: "replica" }]),
      state,
      "--name",
      "pi-a",
    );
    expect(first.code, JSON.stringify(first)).toBe(0);
    const old = await readConfig(state);
    const keyBefore = await readFile(join(state, "device.key.json"), "utf8");
    await mkdir(join(state, "shares"));
    await writeFile(join(state, "shares", "docs.json"), '{"cursor":7}');

    const token = await mintToken(hub, [{ name: "docs", role: "replica" }]);
    const refused = await enroll(token, state, "--name", "pi-b");
    expectOneLineFailure(
      refused,
      1,
      `already holds the identity of device ${old.deviceId} ("pi-a")`,
      "--force",
    );
    expect(await tokenState(hub, token)).toBe("unused");
    expect(await readFile(join(state, "device.key.json"), "utf8")).toBe(keyBefore);

    const forced = await enroll(token, state, "--name", "pi-b", "--force");
    expect(forced.code, JSON.stringify(forced)).toBe(0);
    const now = await readConfig(state);
    expect(now.deviceId).not.toBe(old.deviceId);
    expect(now.name).toBe("pi-b");
    expect(forced.stdout).toContain(`enrolled "pi-b" as ${now.deviceId}`);
    expect(forced.stderr).toContain(`fleetsync device revoke ${old.deviceId}`);
    expect(await readFile(join(state, "device.key.json"), "utf8")).not.toBe(keyBefore);
    // The old device's cursors mean nothing to the new one: kept aside, not in use.
    await expect(stat(join(state, "shares", "docs.json"))).rejects.toThrow(/ENOENT/);
    const aside = (await readdir(state)).filter((name) => name.startsWith("shares.replaced-"));
    expect(aside).toHaveLength(1);
    expect(await readFile(join(state, aside[0]!, "docs.json"), "utf8")).toBe('{"cursor":7}');
    expect(await tokenState(hub, token)).toBe("used");
  });

  test("names the device by --name, else by the token's label, else by the host name, and prints that name", async () => {
    const labelled = (
      (await adminCall(hub, "POST", "/v1/admin/tokens", {
        shares: [{ name: "docs", role: "replica" }],
        ttl: "1h",
        label: "kitchen-pi",
      })) as { token: string }
    ).token;
    const byLabel = await enroll(labelled, join(work, "label-state"));
    expect(byLabel.stdout).toMatch(/^enrolled "kitchen-pi" as dev_/);
    expect((await readConfig(join(work, "label-state"))).name).toBe("kitchen-pi");

    const plain = await enroll(
      await mintToken(hub, [{ name: "docs", role: "replica" }]),
      join(work, "host-state"),
    );
    expect(plain.stdout).toContain(`enrolled "${hostname()}" as dev_`);
  });

  test("a hub URL without a scheme is a usage error naming the flag and the fix", async () => {
    const result = await cli(["agent", "enroll", "--hub", "hub.lan:8787", "--token", "t", "--state", work]);
    expectOneLineFailure(result, 2, "--hub hub.lan:8787: give the scheme, e.g. --hub http://hub.lan:8787");
  });
});

describe("fleetsync --version", () => {
  test("prints the package version with --version and -V", async () => {
    const [long, short] = await Promise.all([cli(["--version"]), cli(["-V"])]);
    for (const result of [long, short]) {
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`${packageVersion()}\n`);
    }
    expect(packageVersion()).toBe(
      (
        JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as {
          version: string;
        }
      ).version,
    );
  });
});

describe("agent run refuses share folders set later in agent.yaml that overlap", () => {
  test("exits 1 with one line when agent.yaml puts a share around the state dir", async () => {
    const hub = await startHubProcess();
    const work = await makeTempDir("fleetsync-run-overlap-");
    try {
      await createShare(hub, "docs");
      const state = join(work, "state");
      const enrolled = await cli([
        "agent",
        "enroll",
        "--hub",
        hub.url,
        "--token",
        await mintToken(hub, [{ name: "docs", role: "replica" }]),
        "--state",
        state,
      ]);
      expect(enrolled.code, JSON.stringify(enrolled)).toBe(0);
      const file = join(state, "agent.yaml");
      await writeFile(file, (await readFile(file, "utf8")).replace('path: ""', `path: ${work}`));
      const run = await cli(["agent", "run", "--state", state]);
      expectOneLineFailure(run, 1, `the state dir ${state} lies inside the share "docs" folder ${work}`);
    } finally {
      await hub.stop();
      await rm(work, { recursive: true, force: true });
      await rm(hub.dataDir, { recursive: true, force: true });
    }
  });
});
