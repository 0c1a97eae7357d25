// Alert rules through /v1/admin/alerts, and the monitor that turns the hub's state into webhook calls.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { expectError } from "../../test/support/security-cases.ts";
import { createTestHub, type TestDevice, type TestHub } from "../../test/support/test-hub-context.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../../test/support/webhook-receiver.ts";
import { createWindowRateLimiter } from "../adapters/window-rate-limiter.ts";
import { createAlertMonitor } from "../services/alert-monitor.ts";

let hub: TestHub;
let receiver: WebhookReceiver;
beforeEach(async () => {
  hub = await createTestHub();
  receiver = await startWebhookReceiver();
});
afterEach(async () => {
  await receiver.close();
  await hub.close();
});

function monitor(perMinute = 30) {
  return createAlertMonitor(hub.ctx, {
    limiter: createWindowRateLimiter(perMinute, 60_000),
    retryDelaysMs: [0],
    attemptTimeoutMs: 5000,
  });
}

/** A replica that received one instruction and acknowledged it with a failed write. */
async function failingReplica(): Promise<TestDevice> {
  await hub.createShare("docs");
  const source = await hub.enroll(await hub.mintToken([{ name: "docs", role: "source" }]), "nas");
  const replica = await hub.enroll(await hub.mintToken([{ name: "docs", role: "replica" }]), "pi-kitchen");
  await hub.deviceFetch(source, "POST", "/v1/shares/docs/reports", {
    entries: [{ path: "big", type: "dir" }],
  });
  await ack(replica, false);
  return replica;
}

async function ack(replica: TestDevice, ok: boolean) {
  const poll = await hub.deviceFetch(replica, "GET", "/v1/instructions?wait=0");
  const { instructions } = (await poll.json()) as { instructions: string[] };
  const { jti, fromSeq } = JSON.parse(
    Buffer.from(instructions[0]!.split(".")[1]!, "base64url").toString(),
  ) as {
    jti: string;
    fromSeq: number;
  };
  const response = await hub.deviceFetch(replica, "POST", `/v1/instructions/${jti}/ack`, {
    reachedSeq: ok ? fromSeq + 1 : fromSeq,
    results: [
      ok
        ? { seq: fromSeq + 1, path: "big", action: "mkdir", ok: true }
        : { seq: fromSeq + 1, path: "big", action: "mkdir", ok: false, error: "permission denied (EACCES)" },
    ],
  });
  expect(response.status).toBe(200);
}

describe("/v1/admin/alerts", () => {
  test("adds an alert with every event and a 5 minute offline limit by default, lists and removes it", async () => {
    const added = await hub.adminJson<{ id: string }>("POST", "/v1/admin/alerts", { url: receiver.url });
    expect(added).toMatchObject({
      url: receiver.url,
      on: ["error", "offline", "conflict", "recovered"],
      offlineAfterSeconds: 300,
    });
    expect(await hub.adminJson("GET", "/v1/admin/alerts")).toEqual({
      alerts: [expect.objectContaining({ id: added.id })],
    });

    expect(await hub.adminJson("DELETE", `/v1/admin/alerts/${added.id}`)).toEqual({
      id: added.id,
      removed: true,
    });
    expect(await hub.adminJson("GET", "/v1/admin/alerts")).toEqual({ alerts: [] });
  });

  test.each([
    [{ url: "ftp://example.org/x" }, /field "url": use an http\(s\) URL, not ftp:/],
    [{ url: "not a url" }, /field "url": "not a url" is not a URL/],
    [
      { url: "http://127.0.0.1/x", offlineAfter: "10s" },
      /field "offlineAfter": "10s" must be a duration from 1m to 30d/,
    ],
    [{ url: "http://127.0.0.1/x", on: ["explode"] }, /body field "on.0"/],
  ])("refuses %j with 422 naming the field", async (body, message) => {
    await expectError(await hub.admin("POST", "/v1/admin/alerts", body), 422, "invalid", message);
  });

  test("removing an alert that does not exist answers 404 with a hint", async () => {
    await expectError(
      await hub.admin("DELETE", "/v1/admin/alerts/al_nope"),
      404,
      "not_found",
      /no alert with id al_nope; see fleetsync alert list/,
    );
  });

  test("need the admin token", async () => {
    await expectError(await hub.request("GET", "/v1/admin/alerts"), 401, "unauthenticated");
  });
});

describe("the alert monitor", () => {
  test("posts error with the replica's reason once, then recovered when it applies again", async () => {
    await hub.adminJson("POST", "/v1/admin/alerts", { url: receiver.url });
    const replica = await failingReplica();

    expect(await monitor().check()).toEqual({ sent: 1, failed: 0, dropped: 0 });
    expect(receiver.events()).toEqual([
      expect.objectContaining({
        what: "error",
        share: "docs",
        device: { id: replica.deviceId, name: "pi-kitchen" },
        why: "big: permission denied (EACCES)",
        when: new Date(hub.clock.now()).toISOString(),
      }),
    ]);

    expect(await monitor().check()).toEqual({ sent: 0, failed: 0, dropped: 0 });

    await ack(replica, true);
    await monitor().check();
    expect(receiver.events().map((e) => e.what)).toEqual(["error", "recovered"]);
  });

  test("posts offline for a device silent past --offline-after, and recovered when it is back", async () => {
    await hub.adminJson("POST", "/v1/admin/alerts", {
      url: receiver.url,
      on: ["offline", "recovered"],
      offlineAfter: "2m",
    });
    const device = await hub.enroll(undefined, "pi-shed");
    const m = monitor();
    await m.check();
    expect(receiver.received).toHaveLength(0);

    hub.clock.advance(2 * 60_000 + 1000);
    await m.check();
    expect(receiver.events()).toEqual([
      expect.objectContaining({ what: "offline", device: { id: device.deviceId, name: "pi-shed" } }),
    ]);

    await hub.deviceFetch(device, "GET", "/v1/config");
    await m.check();
    expect(receiver.events().map((e) => [e.what, e.why])).toEqual([
      ["offline", expect.stringMatching(/^no contact for 2 min/)],
      ["recovered", "back online"],
    ]);
  });

  test("two hub processes over one database send each event once", async () => {
    await hub.adminJson("POST", "/v1/admin/alerts", { url: receiver.url, on: ["error"] });
    await failingReplica();
    const second = await createTestHub({
      sameDatabaseAs: { dir: hub.dir, adminToken: hub.adminToken, clock: hub.clock },
    });
    try {
      const other = createAlertMonitor(second.ctx, {
        limiter: createWindowRateLimiter(30, 60_000),
        retryDelaysMs: [0],
      });
      await Promise.all([monitor().check(), other.check()]);
      expect(receiver.received).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  test("drops events past the per-alert rate limit", async () => {
    await hub.adminJson("POST", "/v1/admin/alerts", {
      url: receiver.url,
      on: ["offline"],
      offlineAfter: "1m",
    });
    for (const name of ["a", "b", "c"]) await hub.enroll(undefined, name);
    hub.clock.advance(5 * 60_000);
    expect(await monitor(2).check()).toEqual({ sent: 2, failed: 0, dropped: 1 });
    expect(receiver.received).toHaveLength(2);
  });
});
