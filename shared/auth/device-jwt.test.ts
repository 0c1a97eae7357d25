import { decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, jwtVerify } from "jose";
import { describe, expect, test } from "vitest";
import { DEVICE_JWT_LIFETIME_SECONDS, DEVICE_JWT_MAX_LIFETIME_SECONDS, signDeviceJwt } from "./device-jwt.ts";

const NOW = 1_750_000_000;
const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
const claims = { deviceId: "dev-1", hubId: "hub-1", nowSeconds: NOW, method: "get", path: "/v1/config" };

describe("signDeviceJwt", () => {
  test("signs sub, aud, iat, exp, jti, htm and htu with the device key, verifiable with its public JWK", async () => {
    const token = await signDeviceJwt(privateKey, claims);
    const key = await importJWK(await exportJWK(publicKey), "EdDSA");
    const { payload } = await jwtVerify(token, key, {
      algorithms: ["EdDSA"],
      audience: "hub-1",
      subject: "dev-1",
      currentDate: new Date(NOW * 1000),
      requiredClaims: ["iat", "exp", "jti"],
    });
    expect(payload.iat).toBe(NOW);
    expect(payload.exp).toBe(NOW + DEVICE_JWT_LIFETIME_SECONDS);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect({ htm: payload.htm, htu: payload.htu }).toEqual({ htm: "GET", htu: "/v1/config" });
    expect(decodeProtectedHeader(token)).toEqual({ alg: "EdDSA", typ: "JWT" });
  });

  test("lives no longer than the hub accepts by default", () => {
    expect(DEVICE_JWT_LIFETIME_SECONDS).toBeLessThanOrEqual(DEVICE_JWT_MAX_LIFETIME_SECONDS);
    expect(DEVICE_JWT_MAX_LIFETIME_SECONDS).toBe(300);
  });

  test("honours a shorter lifetime", async () => {
    const token = await signDeviceJwt(privateKey, { ...claims, lifetimeSeconds: 30 });
    const { payload } = await jwtVerify(token, publicKey, { currentDate: new Date(NOW * 1000) });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(30);
  });

  test("gives every token its own jti", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const { payload } = await jwtVerify(await signDeviceJwt(privateKey, claims), publicKey, {
        currentDate: new Date(NOW * 1000),
      });
      ids.add(payload.jti ?? "");
    }
    expect(ids.size).toBe(50);
  });

  test("produces a token another device's key does not verify", async () => {
    const other = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const token = await signDeviceJwt(privateKey, claims);
    await expect(jwtVerify(token, other.publicKey, { currentDate: new Date(NOW * 1000) })).rejects.toThrow(
      /signature verification failed/,
    );
  });
});
