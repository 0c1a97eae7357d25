// Who is calling: bearer parsing, and the edges of the device-JWT time rules (clock skew, 5-minute lifetime).
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { DEVICE_JWT_MAX_LIFETIME_SECONDS, signDeviceJwt } from "../../shared/auth/device-jwt.ts";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { createTestHub, type TestDevice, type TestHub } from "../../test/support/test-hub-context.ts";
import { authenticateAdmin, authenticateDevice, bearerToken } from "./authenticate.ts";

describe("bearerToken", () => {
  test.each([
    ["Bearer abc", "abc"],
    ["bearer abc", "abc"],
    ["Bearer   abc  ", "abc"],
  ])("reads the token from %j", (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });

  test.each([undefined, "", "Bearer", "Bearer a b", "Basic abc", "abc"])("refuses %j", (header) => {
    expect(() => bearerToken(header)).toThrow(FleetsyncError);
  });
});

describe("authenticateDevice", () => {
  let hub: TestHub;
  let device: TestDevice;
  beforeEach(async () => {
    hub = await createTestHub();
    device = await hub.enroll();
  });
  afterEach(() => hub.close());

  const header = async (issuedAtOffsetSeconds: number, lifetimeSeconds?: number) => ({
    authorization: `Bearer ${await signDeviceJwt(device.privateKey, {
      deviceId: device.deviceId,
      hubId: hub.hubId,
      nowSeconds: Math.floor(hub.clock.now() / 1000) + issuedAtOffsetSeconds,
      method: "GET",
      path: "/v1/config",
      ...(lifetimeSeconds === undefined ? {} : { lifetimeSeconds }),
    })}`,
    method: "GET",
    path: "/v1/config",
  });

  test("returns the device for a JWT its key signed", async () => {
    expect(await authenticateDevice(hub.ctx, await header(0))).toEqual({
      id: device.deviceId,
      name: device.name,
    });
  });

  test("accepts the longest lifetime allowed", async () => {
    await expect(
      authenticateDevice(hub.ctx, await header(0, DEVICE_JWT_MAX_LIFETIME_SECONDS)),
    ).resolves.toBeDefined();
  });

  test("refuses one second more than the longest lifetime", async () => {
    await expect(
      authenticateDevice(hub.ctx, await header(0, DEVICE_JWT_MAX_LIFETIME_SECONDS + 1)),
    ).rejects.toThrow(/lives longer than 300 s/);
  });

  test("tolerates a device clock up to 30 s behind (token just expired)", async () => {
    // Issued 140 s ago with a 120 s lifetime: expired 20 s ago by the hub's clock.
    await expect(authenticateDevice(hub.ctx, await header(-140))).resolves.toBeDefined();
  });

  test("refuses a token expired longer ago than the skew allows", async () => {
    await expect(authenticateDevice(hub.ctx, await header(-160))).rejects.toMatchObject({
      code: "token_expired",
    });
  });

  test("tolerates a device clock 30 s ahead", async () => {
    await expect(
      authenticateDevice(hub.ctx, await header(30, DEVICE_JWT_MAX_LIFETIME_SECONDS)),
    ).resolves.toBeDefined();
  });

  test("refuses a token issued more than 30 s in the future", async () => {
    await expect(authenticateDevice(hub.ctx, await header(31, 60))).rejects.toThrow(
      /issued 31 s in the future \(more than 30 s\); is the device clock right\?/,
    );
  });

  test("refuses the same token a second time, as a replay", async () => {
    const request = await header(0);
    await expect(authenticateDevice(hub.ctx, request)).resolves.toBeDefined();
    await expect(authenticateDevice(hub.ctx, request)).rejects.toThrow(
      "device token was already used (replayed?)",
    );
  });

  test("forgets a jti once its token has expired, so the table stays small", async () => {
    await authenticateDevice(hub.ctx, await header(0));
    hub.clock.advance(10 * 60_000);
    await authenticateDevice(hub.ctx, await header(0));
    const rows = await hub.client.execute("select count(*) as n from device_jtis");
    expect(Number(rows.rows[0]?.n)).toBe(1);
  });

  test("refuses a token signed for another method or path, naming expected and got", async () => {
    const request = await header(0);
    await expect(authenticateDevice(hub.ctx, { ...request, method: "POST" })).rejects.toThrow(
      "device token is bound to another request: expected POST /v1/config, got GET /v1/config",
    );
    await expect(authenticateDevice(hub.ctx, { ...request, path: "/v1/blocks" })).rejects.toThrow(
      "expected GET /v1/blocks, got GET /v1/config",
    );
  });
});

describe("authenticateAdmin", () => {
  let hub: TestHub;
  beforeEach(async () => {
    hub = await createTestHub();
  });
  afterEach(() => hub.close());

  test("accepts the admin token and refuses its prefix alone", async () => {
    await expect(authenticateAdmin(hub.ctx, `Bearer ${hub.adminToken}`)).resolves.toBeUndefined();
    await expect(authenticateAdmin(hub.ctx, "Bearer fsa_")).rejects.toMatchObject({
      code: "unauthenticated",
    });
  });
});
