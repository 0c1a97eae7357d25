// Short-lived JWTs a device signs with its own key to authenticate each request to the hub.
import { type CryptoKey, type KeyObject, SignJWT } from "jose";

export const DEVICE_JWT_MAX_LIFETIME_SECONDS = 300;
export const DEVICE_JWT_LIFETIME_SECONDS = 120;

export async function signDeviceJwt(
  key: CryptoKey | KeyObject,
  claims: { deviceId: string; hubId: string; nowSeconds: number; lifetimeSeconds?: number },
): Promise<string> {
  const lifetime = claims.lifetimeSeconds ?? DEVICE_JWT_LIFETIME_SECONDS;
  return new SignJWT({})
    .setProtectedHeader({ alg: "EdDSA", typ: "JWT" })
    .setSubject(claims.deviceId)
    .setAudience(claims.hubId)
    .setIssuedAt(claims.nowSeconds)
    .setExpirationTime(claims.nowSeconds + lifetime)
    .setJti(crypto.randomUUID())
    .sign(key);
}
