// /v1/admin: shares, enrolment tokens and devices as the admin manages them.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { expectError } from "../../test/support/security-cases.ts";
import { createTestHub, type TestHub } from "../../test/support/test-hub-context.ts";

let hub: TestHub;
beforeEach(async () => {
  hub = await createTestHub();
});
afterEach(() => hub.close());

describe("shares", () => {
  test("are created with default policies and listed", async () => {
    const response = await hub.admin("POST", "/v1/admin/shares", { name: "docs" });

    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({
      name: "docs",
      kind: "folder",
      deletes: "propagate",
      conflicts: "keep-both",
      storage: "full",
      approval: "none",
      head: 0,
    });
    expect(await hub.adminJson("GET", "/v1/admin/shares")).toEqual({
      shares: [
        {
          name: "docs",
          kind: "folder",
          deletes: "propagate",
          conflicts: "keep-both",
          storage: "full",
          head: 0,
          members: 0,
        },
      ],
    });
  });

  test("keep the policies they were created with", async () => {
    await hub.createShare("pihole", { kind: "pihole", deletes: "keep" });
    expect(await hub.adminJson("GET", "/v1/admin/shares/pihole")).toMatchObject({
      kind: "pihole",
      deletes: "keep",
      members: [],
      entries: 0,
    });
  });

  test("cannot be created twice (409)", async () => {
    await hub.createShare("docs");
    await expectError(
      await hub.admin("POST", "/v1/admin/shares", { name: "docs" }),
      409,
      "conflict",
      /share "docs" already exists/,
    );
  });

  test.each([
    [{ name: "Docs" }, "name"],
    [{ name: "../etc" }, "name"],
    [{ name: "docs", kind: "nfs" }, "kind"],
    [{ name: "docs", deletes: "sometimes" }, "deletes"],
  ])("refuses %j with 422 naming %s", async (body, field) => {
    await expectError(
      await hub.admin("POST", "/v1/admin/shares", body),
      422,
      "invalid",
      new RegExp(`body field "${field}"`),
    );
  });

  test("that do not exist answer 404 with a hint", async () => {
    await expectError(
      await hub.admin("GET", "/v1/admin/shares/nope"),
      404,
      "not_found",
      /share "nope" does not exist; see fleetsync share list/,
    );
  });

  test("show each member's role, cursor and lag", async () => {
    await hub.createShare("docs");
    const source = await hub.enroll(await hub.mintToken([{ name: "docs", role: "source" }]), "a-source");
    const replica = await hub.enroll(await hub.mintToken([{ name: "docs", role: "replica" }]), "b-replica");
    await hub.deviceFetch(source, "POST", "/v1/shares/docs/reports", {
      entries: [{ path: "d", type: "dir" }],
    });

    const shown = await hub.adminJson<{ head: number; members: unknown[] }>("GET", "/v1/admin/shares/docs");

    expect(shown.head).toBe(1);
    expect(shown.members).toEqual([
      expect.objectContaining({
        deviceId: source.deviceId,
        role: "source",
        cursor: 1,
        lag: 0,
        revoked: false,
      }),
      expect.objectContaining({
        deviceId: replica.deviceId,
        role: "replica",
        cursor: 0,
        lag: 1,
        revoked: false,
      }),
    ]);
  });
});

describe("enrolment tokens", () => {
  beforeEach(() => hub.createShare("docs"));

  test("are created as single-use JWTs with an expiry", async () => {
    const response = await hub.admin("POST", "/v1/admin/tokens", {
      shares: [{ name: "docs", role: "replica" }],
      ttl: "30m",
      label: "kitchen",
    });

    expect(response.status).toBe(201);
    const body = (await response.json()) as { token: string; jti: string; expiresAt: string };
    expect(body.token.split(".")).toHaveLength(3);
    expect(body.expiresAt).toBe(new Date(hub.clock.now() + 30 * 60_000).toISOString());
    const { tokens } = await hub.adminJson<{ tokens: unknown[] }>("GET", "/v1/admin/tokens");
    expect(tokens).toEqual([
      expect.objectContaining({
        jti: body.jti,
        label: "kitchen",
        state: "unused",
        shares: [{ name: "docs", role: "replica" }],
      }),
    ]);
  });

  test("are not created for a share that does not exist (404)", async () => {
    await expectError(
      await hub.admin("POST", "/v1/admin/tokens", { shares: [{ name: "nope", role: "replica" }] }),
      404,
      "not_found",
      /share "nope" does not exist; create it first/,
    );
  });

  test.each([
    [{ shares: [] }, "shares"],
    [{ shares: [{ name: "docs", role: "replica" }], ttl: "forever" }, "ttl"],
    [{ shares: [{ name: "docs" }] }, "shares.0.role"],
  ])("refuses %j with 422 naming %s", async (body, field) => {
    await expectError(
      await hub.admin("POST", "/v1/admin/tokens", body),
      422,
      "invalid",
      new RegExp(`body field "${field.replaceAll(".", "\\.")}"`),
    );
  });

  test("are listed as unused, used, expired or revoked", async () => {
    const create = (ttl: string, label: string) =>
      hub.adminJson<{ token: string; jti: string }>("POST", "/v1/admin/tokens", {
        shares: [{ name: "docs", role: "replica" }],
        ttl,
        label,
      });
    await create("1h", "unused");
    const used = await create("1h", "used");
    await hub.enroll(used.token);
    await create("1m", "expired");
    const revoked = await create("1h", "revoked");
    await hub.adminJson("POST", `/v1/admin/tokens/${revoked.jti}/revoke`);
    hub.clock.advance(2 * 60_000);

    const { tokens } = await hub.adminJson<{ tokens: { label: string; state: string }[] }>(
      "GET",
      "/v1/admin/tokens",
    );

    expect(Object.fromEntries(tokens.map((t) => [t.label, t.state]))).toEqual({
      unused: "unused",
      used: "used",
      expired: "expired",
      revoked: "revoked",
    });
  });

  test("cannot be revoked twice (404)", async () => {
    const { jti } = await hub.adminJson<{ jti: string }>("POST", "/v1/admin/tokens", {
      shares: [{ name: "docs", role: "replica" }],
    });
    await hub.adminJson("POST", `/v1/admin/tokens/${jti}/revoke`);

    await expectError(
      await hub.admin("POST", `/v1/admin/tokens/${jti}/revoke`),
      404,
      "not_found",
      /no unrevoked token/,
    );
  });
});

describe("a revoked device", () => {
  test("is refused with 401 on its very next request", async () => {
    const device = await hub.enroll();
    expect((await hub.deviceFetch(device, "GET", "/v1/config")).status).toBe(200);

    const revoke = await hub.admin("POST", `/v1/admin/devices/${device.deviceId}/revoke`);
    expect(await revoke.json()).toEqual({ id: device.deviceId, revoked: true });

    await expectError(
      await hub.deviceFetch(device, "GET", "/v1/config"),
      401,
      "unauthenticated",
      new RegExp(`device ${device.deviceId} was revoked at ${new Date(hub.clock.now()).toISOString()}`),
    );
  });

  test("shows as revoked in the device list and its shares", async () => {
    const device = await hub.enroll();
    await hub.adminJson("POST", `/v1/admin/devices/${device.deviceId}/revoke`);

    const { devices } = await hub.adminJson<{ devices: unknown[] }>("GET", "/v1/admin/devices");
    expect(devices).toEqual([expect.objectContaining({ id: device.deviceId, state: "revoked" })]);
    const lobby = await hub.adminJson<{ members: unknown[] }>("GET", "/v1/admin/shares/lobby");
    expect(lobby.members).toEqual([expect.objectContaining({ deviceId: device.deviceId, revoked: true })]);
  });

  test("cannot be revoked twice (404)", async () => {
    const device = await hub.enroll();
    await hub.adminJson("POST", `/v1/admin/devices/${device.deviceId}/revoke`);

    await expectError(
      await hub.admin("POST", `/v1/admin/devices/${device.deviceId}/revoke`),
      404,
      "not_found",
      /no active device with id/,
    );
  });

  test("can come back only by enrolling again, as a new device", async () => {
    const device = await hub.enroll();
    await hub.adminJson("POST", `/v1/admin/devices/${device.deviceId}/revoke`);

    const again = await hub.enroll();

    expect(again.deviceId).not.toBe(device.deviceId);
    expect((await hub.deviceFetch(again, "GET", "/v1/config")).status).toBe(200);
    expect((await hub.deviceFetch(device, "GET", "/v1/config")).status).toBe(401);
  });

  test("does not affect other devices", async () => {
    const revoked = await hub.enroll();
    const other = await hub.enroll();
    await hub.adminJson("POST", `/v1/admin/devices/${revoked.deviceId}/revoke`);

    expect((await hub.deviceFetch(other, "GET", "/v1/config")).status).toBe(200);
  });
});

describe("devices", () => {
  test("record when they were last seen", async () => {
    const device = await hub.enroll();
    hub.clock.advance(60_000);

    await hub.deviceFetch(device, "GET", "/v1/config");

    const { devices } = await hub.adminJson<{ devices: unknown[] }>("GET", "/v1/admin/devices");
    expect(devices).toEqual([
      expect.objectContaining({ lastSeenAt: new Date(hub.clock.now()).toISOString() }),
    ]);
  });
});

describe("unknown admin paths", () => {
  test("answer 404 to the admin", async () => {
    await expectError(await hub.admin("DELETE", "/v1/admin/shares"), 404, "not_found", /no route for DELETE/);
  });

  test("answer 401 to anyone else, revealing nothing", async () => {
    await expectError(await hub.request("GET", "/v1/admin/secret-things"), 401, "unauthenticated");
  });
});
