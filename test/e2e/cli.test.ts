// The CLI end to end against a real hub process: shares, tokens, enrolment, devices, revocation, errors, help.
import { readFile, rm, stat } from "node:fs/promises";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parse } from "yaml";
import { HubClient } from "../../agent/hub/hub-client.ts";
import { loadDeviceKey } from "../../agent/identity/device-identity.ts";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import {
  type CliResult,
  makeTempDir,
  runCliCaptured,
  startHubProcess,
  type TestHub,
} from "../support/fleet.ts";

/** Env that cannot leak a hub or admin token from the developer's shell into a test. */
const NO_HUB_ENV = { FLEETSYNC_HUB: undefined, FLEETSYNC_ADMIN_TOKEN: undefined };

function cli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> {
  return runCliCaptured(args, { ...options, env: { ...NO_HUB_ENV, ...options.env } });
}

function lines(text: string): string[] {
  return text.split("\n").filter((line) => line.trim() !== "");
}

/** Exit code `code`, nothing on stdout, one line on stderr matching `pattern`, no stack trace. */
function expectOneLineFailure(result: CliResult, code: 1 | 2, pattern: RegExp) {
  const context = JSON.stringify(result);
  expect(result.code, context).toBe(code);
  expect(result.stdout, context).toBe("");
  expect(lines(result.stderr), context).toHaveLength(1);
  expect(result.stderr, context).toMatch(/^fleetsync: /);
  expect(result.stderr, context).toMatch(pattern);
  expect(result.stderr, context).not.toMatch(/^\s+at /m);
}

function expectOk(result: CliResult): string {
  expect(result.code, JSON.stringify(result)).toBe(0);
  return result.stdout;
}

/** The jti claim of an enrolment token (the CLI prints only the token). */
function jtiOf(token: string): string {
  const payload = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8")) as {
    jti: string;
  };
  return payload.jti;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const address = server.address();
  await new Promise((done) => server.close(done));
  return typeof address === "object" && address ? address.port : 0;
}

describe("fleetsync CLI against a real hub process", () => {
  let hub: TestHub;
  let work: string;
  let data: string[];
  let token: string;
  let stateDir: string;
  let shareRoot: string;
  let deviceId: string;
  let hubId: string;

  beforeAll(async () => {
    hub = await startHubProcess();
    work = await makeTempDir("fleetsync-cli-");
    data = ["--data", hub.dataDir];
    stateDir = join(work, "agent-state");
    shareRoot = join(work, "docs");
    hubId = ((await (await fetch(new URL("/healthz", hub.url))).json()) as { hubId: string }).hubId;
  });

  afterAll(async () => {
    await hub?.stop();
    await rm(work, { recursive: true, force: true });
    await rm(hub.dataDir, { recursive: true, force: true });
  });

  test("creates a share and lists it, as a table and as JSON", async () => {
    const created = expectOk(await cli(["share", "create", "docs", ...data]));
    expect(created).toMatch(/share "docs" created/);

    const [table, json] = await Promise.all([
      cli(["share", "list", ...data]),
      cli(["share", "list", "--json", ...data]),
    ]);
    const rows = lines(expectOk(table));
    expect(rows[0]).toMatch(/^NAME\s+KIND\s+DELETES\s+CONFLICTS\s+HEAD\s+MEMBERS$/);
    expect(rows[1]).toMatch(/^docs\s+folder\s+propagate\s+keep-both\s+0\s+0$/);
    const answer = JSON.parse(expectOk(json)) as { shares: { name: string; kind: string }[] };
    expect(answer.shares).toEqual([expect.objectContaining({ name: "docs", kind: "folder" })]);
  });

  test("token create prints only the token; with --command the whole agent enroll line", async () => {
    const [plain, command] = await Promise.all([
      cli(["token", "create", "--share", "docs:replica", "--label", "pi-1", ...data]),
      cli(["token", "create", "--share", "docs:replica", "--command", ...data]),
    ]);
    expect(plain.stderr).toBe("");
    const printed = expectOk(plain);
    expect(printed).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    token = printed.trim();
    expect(jtiOf(token)).toMatch(/^[0-9a-f-]{36}$/);

    const line = expectOk(command);
    expect(lines(line)).toHaveLength(1);
    expect(line).toMatch(/^npx fleetsync agent enroll /);
    expect(line).toContain(`--hub ${hub.url}`);
    expect(line).toMatch(/--token [\w-]+\.[\w-]+\.[\w-]+ /);
    expect(line).toContain("--path docs=");
  });

  test("agent enroll writes agent.yaml and a private key only its owner can read, and prints one line", async () => {
    const result = await cli([
      "agent",
      "enroll",
      "--hub",
      hub.url,
      "--token",
      token,
      "--state",
      stateDir,
      "--name",
      "pi-1",
      "--path",
      `docs=${shareRoot}`,
    ]);
    const out = expectOk(result);
    expect(lines(out)).toHaveLength(1);
    expect(out).toMatch(/enrolled "pi-1" as dev_\w+/);

    const config = parse(await readFile(join(stateDir, "agent.yaml"), "utf8")) as {
      hub: string;
      hubId: string;
      deviceId: string;
      name: string;
      shares: Record<string, { path: string; role: string }>;
    };
    deviceId = config.deviceId;
    expect(out).toContain(deviceId);
    expect(config).toMatchObject({ hub: hub.url, hubId, name: "pi-1" });
    expect(deviceId).toMatch(/^dev_\w+$/);
    expect(config.shares.docs).toMatchObject({ path: resolve(shareRoot), role: "replica" });
    expect((await stat(join(stateDir, "device.key.json"))).mode & 0o777).toBe(0o600);
    const key = JSON.parse(await readFile(join(stateDir, "device.key.json"), "utf8")) as Record<
      string,
      string
    >;
    expect(key).toMatchObject({ kty: "OKP", crv: "Ed25519" });
    expect(key.d).toBeTruthy();
  });

  test("a used token cannot enroll a second device", async () => {
    const again = await cli([
      "agent",
      "enroll",
      "--hub",
      hub.url,
      "--token",
      token,
      "--state",
      join(work, "second-state"),
      "--name",
      "pi-2",
    ]);
    expectOneLineFailure(again, 1, /token already used/);
  });

  test("a failed enrolment into an enrolled state dir leaves its key and config untouched", async () => {
    const keyBefore = await readFile(join(stateDir, "device.key.json"), "utf8");
    const configBefore = await readFile(join(stateDir, "agent.yaml"), "utf8");
    const failed = await cli(["agent", "enroll", "--hub", hub.url, "--token", token, "--state", stateDir]);
    expectOneLineFailure(failed, 1, /already holds the identity of device dev_\w+ \("pi-1"\)/);
    expect(await readFile(join(stateDir, "device.key.json"), "utf8")).toBe(keyBefore);
    expect(await readFile(join(stateDir, "agent.yaml"), "utf8")).toBe(configBefore);
  });

  test("device list, share show and token list show the enrolled device", async () => {
    const [table, json, show, tokens] = await Promise.all([
      cli(["device", "list", ...data]),
      cli(["device", "list", "--json", ...data]),
      cli(["share", "show", "docs", ...data]),
      cli(["token", "list", ...data]),
    ]);
    const deviceRows = lines(expectOk(table));
    expect(deviceRows[0]).toMatch(/^ID\s+NAME\s+STATE\s+SHARES\s+LAST SEEN$/);
    expect(deviceRows.slice(1)).toEqual([
      expect.stringMatching(new RegExp(`^${deviceId}\\s+pi-1\\s+active\\s+docs:replica\\s`)),
    ]);

    const { devices } = JSON.parse(expectOk(json)) as {
      devices: { id: string; name: string; state: string }[];
    };
    expect(devices).toEqual([expect.objectContaining({ id: deviceId, name: "pi-1", state: "active" })]);

    const showText = expectOk(show);
    expect(showText).toMatch(
      /^share docs: folder, deletes propagate, conflicts keep-both, storage full, head 0/,
    );
    expect(showText).toMatch(/DEVICE\s+NAME\s+ROLE\s+LAST SEEN\s+CURSOR\s+LAG\s+LAST ERROR/);
    expect(showText).toMatch(
      new RegExp(`${deviceId}\\s+pi-1\\s+replica\\s+\\S+\\s+0\\s+0 \\(0 files, 0 B\\)\\s+-`),
    );

    const tokenRow = lines(expectOk(tokens)).find((line) => line.startsWith(jtiOf(token)));
    expect(tokenRow).toMatch(/\spi-1\s+docs:replica\s+used\s/);
    expect(tokenRow).toContain(deviceId);
  });

  test("agent status reaches the hub", async () => {
    const [table, json] = await Promise.all([
      cli(["agent", "status", "--state", stateDir]),
      cli(["agent", "status", "--state", stateDir, "--json"]),
    ]);
    const text = expectOk(table);
    expect(lines(text)[0]).toBe(`device ${deviceId} (pi-1) → ${hub.url}`);
    expect(text).toMatch(/docs\s+replica\s/);
    const status = JSON.parse(expectOk(json)) as {
      hubError?: string;
      shares: { name: string; head: number }[];
    };
    expect(status.hubError).toBeUndefined();
    expect(status.shares).toEqual([expect.objectContaining({ name: "docs", head: 0, lag: 0 })]);
  });

  test("device revoke refuses the revoked device's next request", async () => {
    const client = new HubClient({ hubUrl: hub.url, hubId, deviceId, key: await loadDeviceKey(stateDir) });
    await expect(client.config()).resolves.toMatchObject({ deviceId });

    const revoked = expectOk(await cli(["device", "revoke", deviceId, ...data]));
    expect(revoked.trim()).toBe(`device ${deviceId} revoked`);

    const error = await client.config().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FleetsyncError);
    expect((error as FleetsyncError).status).toBe(401);
    expect((error as Error).message).toMatch(/hub answered 401: .*revoked/);

    const status = JSON.parse(expectOk(await cli(["agent", "status", "--state", stateDir, "--json"]))) as {
      hubError?: string;
    };
    expect(status.hubError).toMatch(/401.*revoked/);
    const devices = expectOk(await cli(["device", "list", ...data]));
    expect(devices).toMatch(new RegExp(`${deviceId}\\s+pi-1\\s+revoked\\s`));

    // Revoking twice is a plain failure, not a crash.
    expectOneLineFailure(await cli(["device", "revoke", deviceId, ...data]), 1, /no active device/);
  });

  test("a revoked token cannot enroll", async () => {
    const unused = expectOk(await cli(["token", "create", "--share", "docs:source", ...data])).trim();
    const jti = jtiOf(unused);
    expect(expectOk(await cli(["token", "revoke", jti, ...data])).trim()).toBe(`token ${jti} revoked`);

    const enroll = await cli([
      "agent",
      "enroll",
      "--hub",
      hub.url,
      "--token",
      unused,
      "--state",
      join(work, "revoked-token-state"),
    ]);
    expectOneLineFailure(enroll, 1, /revoked/);
    const { tokens } = JSON.parse(expectOk(await cli(["token", "list", "--json", ...data]))) as {
      tokens: { jti: string; state: string }[];
    };
    expect(tokens.find((t) => t.jti === jti)?.state).toBe("revoked");
  });

  test("finds the hub from FLEETSYNC_HUB and FLEETSYNC_ADMIN_TOKEN without a data dir", async () => {
    const elsewhere = await makeTempDir("fleetsync-cli-cwd-");
    try {
      const env = { FLEETSYNC_HUB: hub.url, FLEETSYNC_ADMIN_TOKEN: hub.adminToken };
      const [withEnv, withFlags, without] = await Promise.all([
        cli(["share", "list", "--json"], { env, cwd: elsewhere }),
        cli(["share", "list", "--json", "--hub", hub.url, "--admin-token", hub.adminToken], {
          cwd: elsewhere,
        }),
        cli(["share", "list"], { cwd: elsewhere }),
      ]);
      for (const result of [withEnv, withFlags]) {
        const { shares } = JSON.parse(expectOk(result)) as { shares: { name: string }[] };
        expect(shares.map((s) => s.name)).toEqual(["docs"]);
      }
      expectOneLineFailure(without, 2, /no hub given/);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  test("usage errors exit 2 with one line", async () => {
    const cases: [string[], RegExp][] = [
      [["share", "create", ...data], /expected exactly one share name/],
      [["bogus"], /unknown command "bogus"/],
      [["share", "bogus", ...data], /unknown command "share bogus"/],
      [["share", "list", "--bogus", ...data], /Unknown option '--bogus'; see --help$/m],
      [["token", "create", "--share", "docs:owner", ...data], /--share docs:owner: expected NAME:ROLE/],
      [["token", "create", ...data], /at least one --share/],
      [["token", "create", "--share", "docs:replica", "--ttl", "forever", ...data], /--ttl forever/],
      [["share", "create", "media", "--kind", "nfs", ...data], /--kind nfs: use one of folder, pihole/],
      [
        ["share", "create", "media", "--storage", "cloud", ...data],
        /--storage cloud: use one of full, relay/,
      ],
      [["agent", "enroll", "--hub", hub.url], /needs --hub, --token and --state/],
      [["agent", "enroll", "--hub", hub.url, "--token", "t", "--state", work, "--path", "docs"], /SHARE=DIR/],
      [["share", "list", "--hub", "localhost:8787", "--admin-token", "x"], /not an http\(s\) URL/],
      [["hub", "--port", "http"], /not a port number/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    for (const [i, result] of results.entries()) expectOneLineFailure(result, 2, cases[i]![1]);

    const [bare, group] = await Promise.all([cli([]), cli(["token"])]);
    for (const result of [bare, group]) {
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(/Usage: fleetsync/);
    }
  });

  test("a hub error is one readable line with exit 1: wrong admin token, dead hub, unknown share", async () => {
    const closedPort = await freePort();
    const [wrongToken, badPort, refused, unknownShare, hubError] = await Promise.all([
      cli(["share", "list", "--hub", hub.url, "--admin-token", "fsa_not-the-token"]),
      cli(["device", "list", "--hub", "http://127.0.0.1:1", "--admin-token", "x"]),
      cli(["token", "list", "--hub", `http://127.0.0.1:${closedPort}`, "--admin-token", "x"]),
      cli(["share", "show", "nope", ...data]),
      cli(["token", "create", "--share", "nope:replica", ...data]),
    ]);
    expectOneLineFailure(wrongToken, 1, /401: admin token is not valid/);
    expectOneLineFailure(badPort, 1, /hub http:\/\/127\.0\.0\.1:1 is unreachable/);
    expectOneLineFailure(refused, 1, /is unreachable \(ECONNREFUSED\); is it running\?/);
    expectOneLineFailure(unknownShare, 1, /404/);
    expectOneLineFailure(hubError, 1, /share "nope" does not exist/);
  });
});

describe("every command has --help with an example", () => {
  const commands = [
    [],
    ["hub"],
    ["share"],
    ["share", "create"],
    ["share", "list"],
    ["share", "show"],
    ["device", "list"],
    ["device", "revoke"],
    ["token", "create"],
    ["token", "list"],
    ["token", "revoke"],
    ["agent", "enroll"],
    ["agent", "run"],
    ["agent", "status"],
  ];

  test("exits 0 and prints usage and an example for each", async () => {
    // A few at a time: each is a node + tsx start.
    const results: CliResult[] = [];
    for (let i = 0; i < commands.length; i += 4) {
      results.push(...(await Promise.all(commands.slice(i, i + 4).map((c) => cli([...c, "--help"])))));
    }
    for (const [i, result] of results.entries()) {
      const name = `fleetsync ${commands[i]!.join(" ")} --help`;
      expect(result.code, name).toBe(0);
      expect(result.stderr, name).toBe("");
      expect(result.stdout, name).toMatch(/Usage: fleetsync/);
      expect(result.stdout, name).toMatch(/Example/);
      expect(result.stdout, name).toMatch(/npx fleetsync /);
    }
  });
});
