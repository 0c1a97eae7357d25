// The new admin commands through the real CLI against a real hub: share show, delete, confirm-delete, device rename/remove.
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  adminCall,
  type CliResult,
  createShare,
  enrollAgent,
  makeTempDir,
  mintToken,
  runCliCaptured,
  startAgent,
  startHubProcess,
  type TestHub,
  waitFor,
  writeFiles,
} from "../support/fleet.ts";

let hub: TestHub;
beforeAll(async () => {
  hub = await startHubProcess();
});
afterAll(() => hub.stop());

const cli = (args: string[]): Promise<CliResult> =>
  runCliCaptured([...args, "--hub", hub.url, "--admin-token", hub.adminToken]);

describe("device rename and remove", () => {
  test("renames a device, refuses to remove it while active, and removes it once revoked", async () => {
    await createShare(hub, "names");
    const root = join(await makeTempDir("fleetsync-cli-names-"), "replica");
    await mkdir(root);
    const { deviceId } = await enrollAgent(hub, "names", "replica", root);

    const renamed = await cli(["device", "rename", deviceId, "pi-kitchen"]);
    expect(renamed).toMatchObject({ code: 0, stdout: `device ${deviceId} is now called pi-kitchen\n` });
    expect((await cli(["device", "list"])).stdout).toMatch(new RegExp(`${deviceId}\\s+pi-kitchen\\s+active`));

    const refused = await cli(["device", "remove", deviceId]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      new RegExp(
        `409: device ${deviceId} is still active; revoke it first: fleetsync device revoke ${deviceId}`,
      ),
    );

    expect((await cli(["device", "revoke", deviceId])).code).toBe(0);
    const shown = await cli(["share", "show", "names"]);
    expect(shown.stdout).toMatch(/pi-kitchen \(revoked\)/);
    const removed = await cli(["device", "remove", deviceId]);
    expect(removed).toMatchObject({ code: 0 });
    expect(removed.stdout).toMatch(/removed \(was in names\); its history stays in the op log/);
    expect((await cli(["device", "list"])).stdout).not.toMatch(deviceId);
  });

  test("a hub URL without a scheme is a usage error naming the flag and the fix", async () => {
    const result = await runCliCaptured(["device", "list", "--hub", "hub.lan:8787", "--admin-token", "x"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /--hub hub\.lan:8787 is not an http\(s\) URL \(no scheme\); use --hub http:\/\/hub\.lan:8787 \(or https:\/\/hub\.lan:8787/,
    );
  });

  test("a rename without a name is a usage error (exit 2)", async () => {
    const result = await cli(["device", "rename", "dev_x"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/expected a device id and a new name; see --help/);
  });
});

describe("share delete", () => {
  test("without --yes says what would be deleted and deletes nothing; with --yes deletes it", async () => {
    await createShare(hub, "old");
    const dry = await cli(["share", "delete", "old"]);
    expect(dry.code).toBe(2);
    expect(dry.stderr).toMatch(
      /share delete old would delete share "old" from the hub: 0 entries, 0 members .*run it again with --yes/,
    );
    expect((await cli(["share", "list"])).stdout).toMatch(/^old\s/m);

    const done = await cli(["share", "delete", "old", "--yes"]);
    expect(done).toMatchObject({ code: 0 });
    expect(done.stdout).toMatch(/share "old" deleted \(0 entries, 0 members\)/);
    expect((await cli(["share", "list"])).stdout).not.toMatch(/^old\s/m);
  });
});

describe("a Pi-hole share's items on the command line", () => {
  test("create and set take comma lists, name a wrong flag value, and share show prints the choice", async () => {
    const wrongKind = await cli(["share", "create", "nokind", "--pihole-sync", "groups"]);
    expect(wrongKind.code).toBe(2);
    expect(wrongKind.stderr).toMatch(
      /--pihole-sync and --pihole-config belong to a Pi-hole share: add --kind pihole/,
    );
    const refused = await cli([
      "share",
      "create",
      "dns",
      "--kind",
      "pihole",
      "--pihole-config",
      "webserver.port",
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /--pihole-config: config key "webserver.port" is host-specific \(webserver\)/,
    );
    const created = await cli([
      "share",
      "create",
      "dns",
      "--kind",
      "pihole",
      "--pihole-sync",
      "groups, domains",
    ]);
    expect(created).toMatchObject({ code: 0 });
    expect(created.stdout).toMatch(
      /share "dns" created \(pihole, .*\); it syncs groups, domains; config keys none/,
    );
    const set = await cli(["share", "set", "dns", "--pihole-config", "dns.upstreams"]);
    expect(set.stdout).toMatch(/share "dns" now syncs groups, domains; config keys dns\.upstreams/);
    expect((await cli(["share", "show", "dns"])).stdout).toMatch(
      /^pihole: syncs groups, domains; config keys dns\.upstreams$/m,
    );
    const none = await cli(["share", "set", "dns"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/share set: name --pihole-sync ITEMS or --pihole-config KEYS/);
    expect((await cli(["share", "list"])).stdout).not.toMatch(/^nokind\s/m);
  });
});

describe("share show and confirm-delete", () => {
  test("shows lag in files and bytes, a member's own error, a held delete and how to confirm it", async () => {
    await createShare(hub, "media");
    const root = join(await makeTempDir("fleetsync-cli-media-"), "replica");
    await mkdir(root);
    const { deviceId } = await enrollAgent(hub, "media", "replica", root);
    await adminCall(hub, "POST", "/v1/admin/shares/media/confirm-delete");

    const shown = await cli(["share", "show", "media"]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/mass delete confirmed: mass deletes are let through until \d{4}-/);
    expect(shown.stdout).toMatch(
      new RegExp(`${deviceId}\\s+replica-\\S+\\s+replica\\s+\\S+\\s+0\\s+0 \\(0 files, 0 B\\)`),
    );

    const confirmed = await cli(["share", "confirm-delete", "media"]);
    expect(confirmed.code).toBe(0);
    expect(confirmed.stdout).toMatch(/share "media": the next mass delete is allowed until \d{4}-\d\d-\d\dT/);
    const token = await mintToken(hub, [{ name: "media", role: "replica" }]);
    expect(token).toMatch(/^eyJ/);
  });

  test("a real source agent's mass delete is held and shown by share show, with the command to confirm it", async () => {
    await createShare(hub, "photos");
    const root = join(await makeTempDir("fleetsync-cli-photos-"), "source");
    await mkdir(root);
    const files: Record<string, string> = { "keep.txt": "kept\n" };
    for (let i = 0; i < 12; i++) files[`p${i}.jpg`] = `photo ${i}\n`;
    await writeFiles(root, files);
    const { stateDir } = await enrollAgent(hub, "photos", "source", root);
    const agent = startAgent(stateDir);
    try {
      const show = () => cli(["share", "show", "photos"]);
      await waitFor(async () => /head 13, 13 entries/.test((await show()).stdout), {
        timeoutMs: 30_000,
        what: "the source's 13 files on the hub",
      });
      for (let i = 0; i < 12; i++) await rm(join(root, `p${i}.jpg`));
      const held = await waitFor(
        async () => {
          const out = (await show()).stdout;
          return /held delete/.test(out) ? out : undefined;
        },
        { timeoutMs: 30_000, what: "the hub to hold the mass delete" },
      );
      expect(held).toMatch(
        /held delete: 12 entries \(of 13\) from device dev_\w+, since \d{4}-.*; nothing was deleted\. If intended, confirm with: fleetsync share confirm-delete photos/,
      );
      expect(held).toMatch(/head 13, 13 entries/);
    } finally {
      await agent.stop();
    }
  }, 90_000);

  test("lists every new command with --help and an example", async () => {
    const commands = [
      ["share", "delete"],
      ["share", "set"],
      ["share", "confirm-delete"],
      ["device", "rename"],
      ["device", "remove"],
      ["hub"],
    ];
    const results = await Promise.all(commands.map((c) => runCliCaptured([...c, "--help"])));
    for (const [i, result] of results.entries()) {
      const name = commands[i]!.join(" ");
      expect(result.code, name).toBe(0);
      expect(result.stdout, name).toMatch(/Usage: fleetsync/);
      expect(result.stdout, name).toMatch(/Example/);
    }
    expect(results[5]!.stdout).toMatch(/--tls-cert FILE/);
    expect(results[5]!.stdout).toMatch(/TLS-terminating proxy/);
  });
});
