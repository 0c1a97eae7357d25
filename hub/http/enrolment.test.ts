// POST /v1/enroll: trading a single-use enrolment token and a public key for a device identity.
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { EnrollResponseSchema } from "../../shared/protocol/messages.ts";
import { expectError } from "../../test/support/security-cases.ts";
import { createTestHub, type TestHub } from "../../test/support/test-hub-context.ts";
import { ENROL_TOKEN_TYP } from "../services/enrolment.ts";

let hub: TestHub;
beforeEach(async () => {
  hub = await createTestHub();
  await hub.createShare("docs");
  await hub.createShare("media");
});
afterEach(() => hub.close());

describe("a valid token", () => {
  test("enrolls the device with its shares and the hub keys to pin", async () => {
    const token = await hub.mintToken([
      { name: "docs", role: "source" },
      { name: "media", role: "replica" },
    ]);
    const { response } = await hub.enrollRequest(token, "kitchen-pi");

    expect(response.status).toBe(201);
    const answer = EnrollResponseSchema.parse(await response.json());
    expect(answer.deviceId).toMatch(/^dev_[0-9a-f]{20}$/);
    expect(answer.hubId).toBe(hub.hubId);
    expect(answer.jwks).toEqual(await (await hub.request("GET", "/.well-known/jwks.json")).json());
    expect(answer.shares).toEqual([
      {
        name: "docs",
        role: "source",
        kind: "folder",
        deletes: "propagate",
        conflicts: "keep-both",
        head: 0,
        cursor: 0,
        lagFiles: 0,
        lagBytes: 0,
        lastError: null,
      },
      {
        name: "media",
        role: "replica",
        kind: "folder",
        deletes: "propagate",
        conflicts: "keep-both",
        head: 0,
        cursor: 0,
        lagFiles: 0,
        lagBytes: 0,
        lastError: null,
      },
    ]);
  });

  test("makes the device appear in the admin device list, active, with its shares", async () => {
    const device = await hub.enroll(await hub.mintToken([{ name: "docs", role: "replica" }]), "den-pi");

    const { devices } = await hub.adminJson<{ devices: Record<string, unknown>[] }>(
      "GET",
      "/v1/admin/devices",
    );
    expect(devices).toEqual([
      expect.objectContaining({
        id: device.deviceId,
        name: "den-pi",
        state: "active",
        shares: ["docs:replica"],
        enrolledAt: new Date(hub.clock.now()).toISOString(),
      }),
    ]);
  });

  test("lets the new device call the hub with a JWT its own key signed", async () => {
    const device = await hub.enroll(await hub.mintToken([{ name: "docs", role: "peer" }]));

    const response = await hub.deviceFetch(device, "GET", "/v1/config");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      deviceId: device.deviceId,
      hubId: hub.hubId,
      shares: [{ name: "docs", role: "peer" }],
    });
  });

  test("marks the token used by the device in the admin token list", async () => {
    const device = await hub.enroll(await hub.mintToken([{ name: "docs", role: "replica" }]));

    const { tokens } = await hub.adminJson<{ tokens: Record<string, unknown>[] }>("GET", "/v1/admin/tokens");
    expect(tokens).toEqual([expect.objectContaining({ state: "used", usedBy: device.deviceId })]);
  });
});

describe("a token used twice", () => {
  test("is refused the second time with 409 token_used", async () => {
    const token = await hub.mintToken([{ name: "docs", role: "replica" }]);
    const first = await hub.enroll(token);

    const { response } = await hub.enrollRequest(token);
    const error = await expectError(response, 409, "token_used", /token already used/);
    expect(error.message).toContain(first.deviceId);
  });

  test("enrolls exactly one of two concurrent requests", async () => {
    const token = await hub.mintToken([{ name: "docs", role: "replica" }]);

    const [a, b] = await Promise.all([
      hub.enrollRequest(token, "racer-a"),
      hub.enrollRequest(token, "racer-b"),
    ]);

    const statuses = [a.response.status, b.response.status].sort();
    expect(statuses).toEqual([201, 409]);
    const loser = a.response.status === 409 ? a.response : b.response;
    await expectError(loser, 409, "token_used", /token already used/);
    const { devices } = await hub.adminJson<{ devices: unknown[] }>("GET", "/v1/admin/devices");
    expect(devices).toHaveLength(1);
  });

  test("enrolls exactly one of many concurrent requests", async () => {
    const token = await hub.mintToken([{ name: "docs", role: "replica" }]);

    const attempts = await Promise.all(
      Array.from({ length: 8 }, (_, i) => hub.enrollRequest(token, `racer-${i}`)),
    );

    expect(attempts.map((a) => a.response.status).sort()).toEqual([201, ...Array(7).fill(409)]);
    const { devices } = await hub.adminJson<{ devices: unknown[] }>("GET", "/v1/admin/devices");
    expect(devices).toHaveLength(1);
  });
  test("enrolls exactly one of two requests racing through two hub processes over one database", async () => {
    const second = await createTestHub({ sameDatabaseAs: hub });
    try {
      const token = await hub.mintToken([{ name: "docs", role: "replica" }]);

      const [a, b] = await Promise.all([
        hub.enrollRequest(token, "via-a"),
        second.enrollRequest(token, "via-b"),
      ]);

      expect([a.response.status, b.response.status].sort()).toEqual([201, 409]);
      const { devices } = await second.adminJson<{ devices: unknown[] }>("GET", "/v1/admin/devices");
      expect(devices).toHaveLength(1);
    } finally {
      await second.close();
    }
  });
});

describe("a bad token", () => {
  test("is refused with 401 token_expired once its ttl has passed", async () => {
    const token = await hub.mintToken([{ name: "docs", role: "replica" }], "10m");
    hub.clock.advance(11 * 60_000);

    const { response } = await hub.enrollRequest(token);
    await expectError(
      response,
      401,
      "token_expired",
      /enrolment token has expired; ask the admin for a new one/,
    );
  });

  test("still works just before its ttl has passed", async () => {
    const token = await hub.mintToken([{ name: "docs", role: "replica" }], "10m");
    hub.clock.advance(9 * 60_000);

    const { response } = await hub.enrollRequest(token);
    expect(response.status).toBe(201);
  });

  test("is refused with 401 when it is not a JWT at all", async () => {
    const { response } = await hub.enrollRequest("garbage");
    await expectError(response, 401, "unauthenticated", /enrolment token is not valid for this hub/);
  });

  test("is refused with 401 when it is forged with another key", async () => {
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const now = Math.floor(hub.clock.now() / 1000);
    const forged = await new SignJWT({ shares: [{ name: "docs", role: "source" }], label: "" })
      .setProtectedHeader({ alg: "EdDSA", kid: hub.ctx.identity.kid, typ: ENROL_TOKEN_TYP })
      .setIssuer(hub.hubId)
      .setAudience(`${hub.hubId}/enroll`)
      .setJti(crypto.randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(privateKey);

    const { response } = await hub.enrollRequest(forged);
    await expectError(
      response,
      401,
      "unauthenticated",
      /not valid for this hub \(forged, damaged or minted by another hub\)/,
    );
  });

  test("is refused with 401 when it is damaged (one character of the signature changed)", async () => {
    const token = await hub.mintToken([{ name: "docs", role: "replica" }]);
    const damaged = `${token.slice(0, -4)}${token.slice(-4) === "AAAA" ? "BBBB" : "AAAA"}`;

    const { response } = await hub.enrollRequest(damaged);
    await expectError(response, 401, "unauthenticated", /not valid for this hub/);
    expect((await hub.enrollRequest(token)).response.status).toBe(201);
  });

  test("is refused with 401 when another hub minted it", async () => {
    const other = await createTestHub();
    try {
      await other.createShare("docs");
      const foreign = await other.mintToken([{ name: "docs", role: "source" }]);

      const { response } = await hub.enrollRequest(foreign);
      await expectError(response, 401, "unauthenticated", /minted by another hub/);
    } finally {
      await other.close();
    }
  });

  test("is refused with 401 when the admin revoked it", async () => {
    const { token, jti } = await hub.adminJson<{ token: string; jti: string }>("POST", "/v1/admin/tokens", {
      shares: [{ name: "docs", role: "replica" }],
    });
    await hub.adminJson("POST", `/v1/admin/tokens/${jti}/revoke`);

    const { response } = await hub.enrollRequest(token);
    await expectError(response, 401, "unauthenticated", /enrolment token was revoked/);
  });

  test("does not enroll anything when refused", async () => {
    const before = await hub.digest();
    await hub.enrollRequest("garbage");
    expect(await hub.digest()).toBe(before);
  });
});

describe("an invalid enrolment request", () => {
  test("is refused with 422 naming publicKey.x, and does not use up the token", async () => {
    const token = await hub.mintToken([{ name: "docs", role: "replica" }]);

    const response = await hub.request("POST", "/v1/enroll", {
      token,
      name: "pi",
      publicKey: { kty: "OKP", crv: "Ed25519", x: "too-short" },
    });
    await expectError(
      response,
      422,
      "invalid",
      /body field "publicKey\.x": must be a base64url Ed25519 public key/,
    );
    expect((await hub.enrollRequest(token)).response.status).toBe(201);
  });

  test("is refused with 422 naming the key type when it is not an Ed25519 key", async () => {
    const { publicKey } = await generateKeyPair("ES256");
    const token = await hub.mintToken([{ name: "docs", role: "replica" }]);

    const response = await hub.request("POST", "/v1/enroll", {
      token,
      name: "pi",
      publicKey: await exportJWK(publicKey),
    });
    await expectError(response, 422, "invalid", /body field "publicKey\.kty"/);
  });

  test("is refused with 422 naming an unknown field", async () => {
    const token = await hub.mintToken([{ name: "docs", role: "replica" }]);
    const { publicJwk } = await hub.newDeviceKey();

    const response = await hub.request("POST", "/v1/enroll", {
      token,
      name: "pi",
      publicKey: publicJwk,
      admin: true,
    });
    await expectError(response, 422, "invalid", /admin/);
  });

  test("is refused with 422 naming an empty device name", async () => {
    const token = await hub.mintToken([{ name: "docs", role: "replica" }]);
    const { publicJwk } = await hub.newDeviceKey();

    const response = await hub.request("POST", "/v1/enroll", { token, name: "", publicKey: publicJwk });
    await expectError(response, 422, "invalid", /body field "name"/);
  });
});

describe("enrolment attempts from one address", () => {
  test("are answered 429 with Retry-After past the limit, even with a good token", async () => {
    const limited = await createTestHub({ enrolAttemptsPerMinute: 3 });
    try {
      await limited.createShare("docs");
      const token = await limited.mintToken([{ name: "docs", role: "replica" }]);
      for (let i = 0; i < 3; i++) {
        await expectError((await limited.enrollRequest("garbage")).response, 401, "unauthenticated");
      }

      const { response } = await limited.enrollRequest(token);
      const retryAfter = response.headers.get("retry-after");
      await expectError(
        response,
        429,
        "rate_limited",
        /too many enrolment attempts from this address; retry in 60 s/,
      );
      expect(retryAfter).toBe("60");
      const { tokens } = await limited.adminJson<{ tokens: { state: string }[] }>("GET", "/v1/admin/tokens");
      expect(tokens.map((t) => t.state)).toEqual(["unused"]);
    } finally {
      await limited.close();
    }
  });

  test("are allowed again once the window has passed, and Retry-After counts down to it", async () => {
    const limited = await createTestHub({ enrolAttemptsPerMinute: 1 });
    try {
      await limited.createShare("docs");
      const token = await limited.mintToken([{ name: "docs", role: "replica" }]);
      await limited.enrollRequest("garbage");
      await expectError((await limited.enrollRequest(token)).response, 429, "rate_limited", /retry in 60 s/);
      limited.clock.advance(45_000);
      const later = (await limited.enrollRequest(token)).response;
      expect(later.headers.get("retry-after")).toBe("15");
      await expectError(later, 429, "rate_limited", /retry in 15 s/);

      limited.clock.advance(15_000);
      expect((await limited.enrollRequest(token)).response.status).toBe(201);
    } finally {
      await limited.close();
    }
  });

  test("do not count against another address", async () => {
    const limited = await createTestHub({
      enrolAttemptsPerMinute: 1,
      clientAddress: (c) => c.req.header("x-test-client") ?? "203.0.113.9",
    });
    try {
      await limited.createShare("docs");
      const token = await limited.mintToken([{ name: "docs", role: "replica" }]);
      await limited.enrollRequest("garbage");
      await expectError((await limited.enrollRequest(token)).response, 429, "rate_limited");

      const { response } = await limited.enrollRequest(token, "other", {
        headers: { "x-test-client": "198.51.100.7" },
      });
      expect(response.status).toBe(201);
    } finally {
      await limited.close();
    }
  });
});
