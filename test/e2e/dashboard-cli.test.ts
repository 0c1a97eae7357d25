// The CLI for steering the fleet, against a real hub process: approval, metrics tokens, alerts.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { enrollDevice } from "../../agent/enroll-device.ts";
import {
  type CliResult,
  fetchFromHub,
  makeTempDir,
  runCliCaptured,
  startHubProcess,
  type TestHub,
} from "../support/fleet.ts";

const NO_HUB_ENV = { FLEETSYNC_HUB: undefined, FLEETSYNC_ADMIN_TOKEN: undefined };

let hub: TestHub;
beforeAll(async () => {
  hub = await startHubProcess();
});
afterAll(() => hub.stop());

function cli(...args: string[]): Promise<CliResult> {
  return runCliCaptured([...args, "--data", hub.dataDir], { env: NO_HUB_ENV });
}

function ok(result: CliResult): string {
  expect(result.code, JSON.stringify(result)).toBe(0);
  return result.stdout;
}

async function enrollWith(token: string, name: string, share: string) {
  const stateDir = await makeTempDir("fleetsync-cli-approval-");
  // Beside the state dir, never inside it: an agent refuses to sync its own state.
  const root = `${await makeTempDir("fleetsync-cli-approval-root-")}/root`;
  return enrollDevice({
    hub: hub.url,
    token,
    stateDir,
    name,
    paths: { [share]: root },
  }) as Promise<{
    deviceId: string;
  }>;
}

describe("device approval", () => {
  test("share create --approval required holds a new device until device approve", async () => {
    expect(ok(await cli("share", "create", "held", "--approval", "required"))).toContain("approval required");
    const token = ok(await cli("token", "create", "--share", "held:replica")).trim();
    const { deviceId } = await enrollWith(token, "pi-held", "held");

    expect(ok(await cli("device", "list"))).toMatch(new RegExp(`${deviceId}\\s+pi-held\\s+pending`));
    expect(ok(await cli("device", "approve", deviceId))).toBe(
      `device ${deviceId} approved; it starts syncing on its next poll\n`,
    );
    expect(ok(await cli("device", "list"))).toMatch(new RegExp(`${deviceId}\\s+pi-held\\s+active`));
  });

  test("token create --approval holds the device; device deny refuses it for good", async () => {
    await cli("share", "create", "open");
    const token = ok(await cli("token", "create", "--share", "open:replica", "--approval")).trim();
    const { deviceId } = await enrollWith(token, "stranger", "open");

    expect(ok(await cli("device", "deny", deviceId))).toBe(`device ${deviceId} denied\n`);
    expect(ok(await cli("device", "list"))).toMatch(new RegExp(`${deviceId}\\s+stranger\\s+denied`));
    const again = await cli("device", "approve", deviceId);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is not waiting for approval \(it is denied\)/);
  });

  test("share create --approval with a bad value is a usage error", async () => {
    const result = await cli("share", "create", "x", "--approval", "maybe");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--approval maybe: use one of none, required/);
  });
});

describe("metrics tokens", () => {
  test("token create --metrics prints a token that reads /metrics and nothing else", async () => {
    const token = ok(await cli("token", "create", "--metrics", "--label", "prometheus")).trim();
    expect(token).toMatch(/^fsm_[0-9a-f]{48}$/);

    const metrics = await fetchFromHub(`${hub.url}/metrics`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain("# TYPE fleetsync_share_head_sequence gauge");
    expect((await fetchFromHub(`${hub.url}/metrics`)).status).toBe(401);
    const admin = await fetchFromHub(`${hub.url}/v1/admin/shares`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(admin.status).toBe(401);

    const listed = ok(await cli("token", "list"));
    const id = /^(mt_\w+)\s+prometheus\s+metrics\s+active/m.exec(listed)?.[1];
    expect(id, listed).toBeDefined();
    expect(ok(await cli("token", "revoke", id!))).toBe(`token ${id} revoked\n`);
    const after = await fetchFromHub(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(after.status).toBe(401);
  });
});

describe("alerts", () => {
  test("alert add, list and remove", async () => {
    const added = ok(
      await cli(
        "alert",
        "add",
        "--url",
        "https://ntfy.sh/my-fleet",
        "--on",
        "error,offline",
        "--offline-after",
        "10m",
      ),
    );
    const id =
      /^alert (al_\w+) added: error,offline → https:\/\/ntfy\.sh\/my-fleet \(offline after 10m\)$/m.exec(
        added,
      )?.[1];
    expect(id, added).toBeDefined();
    expect(ok(await cli("alert", "list"))).toMatch(
      new RegExp(`${id}\\s+error,offline\\s+10m\\s+https://ntfy.sh/my-fleet`),
    );
    expect(ok(await cli("alert", "remove", id!))).toBe(`alert ${id} removed\n`);
    expect(ok(await cli("alert", "list"))).not.toContain(id);
  });

  test.each([
    [["alert", "add"], /name the URL to call: --url/],
    [["alert", "add", "--url", "ftp://x"], /--url ftp:\/\/x: use an http\(s\) URL/],
    [
      ["alert", "add", "--url", "https://x.example", "--on", "fire"],
      /"fire" is not one of error, offline, conflict, recovered/,
    ],
    [
      ["alert", "add", "--url", "https://x.example", "--offline-after", "soon"],
      /--offline-after soon: use a duration/,
    ],
  ])("%j is a usage error naming the flag", async (args, message) => {
    const result = await cli(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  test("an offline limit the hub refuses is one readable line with exit 1", async () => {
    const result = await cli("alert", "add", "--url", "https://x.example", "--offline-after", "5s");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/"5s" must be a duration from 1m to 30d/);
  });

  test("alert --help shows usage and an example", async () => {
    const result = await runCliCaptured(["alert", "add", "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: fleetsync alert add --url URL/);
    expect(result.stdout).toMatch(/Example:\n {2}npx fleetsync alert add --url https:\/\/ntfy\.sh\/my-fleet/);
  });
});
