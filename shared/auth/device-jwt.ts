// Short-lived JWTs a device signs with its own key for one request to the hub (bound to its method and path).
import { type CryptoKey, type KeyObject, SignJWT } from "jose";

export const DEVICE_JWT_MAX_LIFETIME_SECONDS = 300;
export const DEVICE_JWT_LIFETIME_SECONDS = 120;

export type DeviceJwtClaims = {
  deviceId: string;
  hubId: string;
  nowSeconds: number;
  /** The request's HTTP method (claim `htm`), e.g. "GET". */
  method: string;
  /** The request's path without query (claim `htu`), e.g. "/v1/config". */
  path: string;
  lifetimeSeconds?: number;
};

export async function signDeviceJwt(key: CryptoKey | KeyObject, claims: DeviceJwtClaims): Promise<string> {
  const lifetime = claims.lifetimeSeconds ?? DEVICE_JWT_LIFETIME_SECONDS;
  return new SignJWT({ htm: claims.method.toUpperCase(), htu: claims.path })
    .setProtectedHeader({ alg: "EdDSA", typ: "JWT" })
    .setSubject(claims.deviceId)
    .setAudience(claims.hubId)
    .setIssuedAt(claims.nowSeconds)
    .setExpirationTime(claims.nowSeconds + lifetime)
    .setJti(crypto.randomUUID())
    .sign(key);
}
