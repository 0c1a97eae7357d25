// Who is calling: the admin (by token hash) or an enrolled device (by a JWT its own key signed).
import { eq, lt } from "drizzle-orm";
import { decodeJwt, errors, importJWK, type JWK, jwtVerify } from "jose";
import { DEVICE_JWT_MAX_LIFETIME_SECONDS } from "../../shared/auth/device-jwt.ts";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { deviceJtis, devices } from "../db/schema.ts";
import { requireApproved } from "./approval.ts";
import type { HubContext } from "./hub-context.ts";
import { hashSecret, readSetting } from "./initialize-hub.ts";

const CLOCK_SKEW_SECONDS = 30;
const LAST_SEEN_RESOLUTION_MS = 15_000;
/** Expired jtis are pruned at most this often per hub process. */
const JTI_PRUNE_INTERVAL_MS = 60_000;
const lastJtiPrune = new WeakMap<HubContext, number>();
/** Device public keys already imported, by their JWK text (a changed key is another entry); bounded per hub. */
const importedKeys = new WeakMap<HubContext, Map<string, Promise<CryptoKey | Uint8Array>>>();
const MAX_IMPORTED_KEYS = 10_000;

/**
 * The device's key, imported once per hub process instead of once per request (importing an Ed25519 key was ~3 %
 * of a busy hub's CPU). Keyed by the stored JWK itself, so a re-enrolled device's new key is imported afresh; the
 * device row (revocation, approval) is still read on every request.
 */
function importDeviceKey(ctx: HubContext, publicJwk: string): Promise<CryptoKey | Uint8Array> {
  const keys = importedKeys.get(ctx) ?? new Map<string, Promise<CryptoKey | Uint8Array>>();
  importedKeys.set(ctx, keys);
  const known = keys.get(publicJwk);
  if (known) return known;
  if (keys.size >= MAX_IMPORTED_KEYS) keys.clear();
  const importing = importJWK(JSON.parse(publicJwk) as JWK, "EdDSA");
  keys.set(publicJwk, importing);
  importing.catch(() => keys.delete(publicJwk));
  return importing;
}

export function bearerToken(header: string | undefined): string {
  if (!header)
    throw new FleetsyncError("unauthenticated", "missing Authorization header; send 'Bearer <token>'");
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new FleetsyncError("unauthenticated", "Authorization header is not 'Bearer <token>'");
  return match[1]!;
}

export async function authenticateAdmin(ctx: HubContext, header: string | undefined): Promise<void> {
  const token = bearerToken(header);
  const expected = await readSetting(ctx.db, "admin_token_hash");
  const actual = await hashSecret(token);
  if (!expected || !timingSafeEqual(expected, actual)) {
    throw new FleetsyncError(
      "unauthenticated",
      "admin token is not valid for this hub; see DATA/admin.token on the hub machine (on Workers: the ADMIN_TOKEN secret)",
    );
  }
}

export type AuthenticatedDevice = { id: string; name: string };

/** What a device token is checked against: the Authorization header and the request it came with. */
export type DeviceRequest = {
  authorization: string | undefined;
  method: string;
  path: string;
  /** False for a look that is not the agent running (`agent status`): "last seen" stays as it was. */
  touchLastSeen?: boolean;
};

export async function authenticateDevice(
  ctx: HubContext,
  request: DeviceRequest,
): Promise<AuthenticatedDevice> {
  const token = bearerToken(request.authorization);
  let subject: string | undefined;
  try {
    subject = decodeJwt(token).sub;
  } catch {
    throw new FleetsyncError("unauthenticated", "device token is not a JWT");
  }
  if (!subject) throw new FleetsyncError("unauthenticated", "device token has no subject (device id)");
  const [device] = await ctx.db.select().from(devices).where(eq(devices.id, subject));
  if (!device) throw new FleetsyncError("unauthenticated", `device ${subject} is not enrolled at this hub`);
  if (device.revokedAt !== null) {
    throw new FleetsyncError(
      "unauthenticated",
      `device ${subject} was revoked at ${new Date(device.revokedAt).toISOString()}; enroll it again with a new token`,
    );
  }
  const nowSeconds = Math.floor(ctx.now() / 1000);
  let jti: string;
  let expiresAtSeconds: number;
  try {
    const key = await importDeviceKey(ctx, device.publicJwk);
    const { payload } = await jwtVerify(token, key, {
      algorithms: ["EdDSA"],
      audience: ctx.identity.hubId,
      currentDate: new Date(nowSeconds * 1000),
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ["exp", "iat", "jti", "sub", "aud", "htm", "htu"],
    });
    if ((payload.iat ?? 0) > nowSeconds + CLOCK_SKEW_SECONDS) {
      throw new FleetsyncError(
        "unauthenticated",
        `device token was issued ${(payload.iat ?? 0) - nowSeconds} s in the future (more than ${CLOCK_SKEW_SECONDS} s); is the device clock right?`,
      );
    }
    if ((payload.exp ?? 0) - (payload.iat ?? 0) > DEVICE_JWT_MAX_LIFETIME_SECONDS) {
      throw new FleetsyncError(
        "unauthenticated",
        `device token lives longer than ${DEVICE_JWT_MAX_LIFETIME_SECONDS} s`,
      );
    }
    const method = request.method.toUpperCase();
    if (payload.htm !== method || payload.htu !== request.path) {
      throw new FleetsyncError(
        "unauthenticated",
        `device token is bound to another request: expected ${method} ${request.path}, got ${String(payload.htm)} ${String(payload.htu)}`,
      );
    }
    jti = String(payload.jti);
    expiresAtSeconds = payload.exp ?? nowSeconds;
  } catch (error) {
    if (error instanceof FleetsyncError) throw error;
    if (error instanceof errors.JWTExpired) {
      throw new FleetsyncError("token_expired", "device token has expired; is the device clock right?");
    }
    if (error instanceof errors.JWTClaimValidationFailed && error.claim === "aud") {
      throw new FleetsyncError("unauthenticated", "device token is for another hub (aud does not match)");
    }
    throw new FleetsyncError("unauthenticated", `device token does not verify: ${(error as Error).message}`);
  }
  await recordJti(ctx, device.id, jti, expiresAtSeconds);
  const nowMs = ctx.now();
  const isStale = device.lastSeenAt === null || nowMs - device.lastSeenAt > LAST_SEEN_RESOLUTION_MS;
  if (request.touchLastSeen !== false && isStale) {
    await ctx.db.update(devices).set({ lastSeenAt: nowMs }).where(eq(devices.id, device.id));
  }
  // After last-seen, so the dashboard shows a pending device as online while it waits.
  requireApproved(device);
  return { id: device.id, name: device.name };
}

/** Records a token's jti until it expires (plus the skew); a second use of it, on any hub process, is a replay. */
async function recordJti(ctx: HubContext, deviceId: string, jti: string, expiresAtSeconds: number) {
  const nowMs = ctx.now();
  const db = ctx.replayDb ?? ctx.db;
  if (nowMs - (lastJtiPrune.get(ctx) ?? 0) > JTI_PRUNE_INTERVAL_MS) {
    lastJtiPrune.set(ctx, nowMs);
    await db.delete(deviceJtis).where(lt(deviceJtis.expiresAt, nowMs));
  }
  const inserted = await db
    .insert(deviceJtis)
    .values({ deviceId, jti, expiresAt: (expiresAtSeconds + CLOCK_SKEW_SECONDS) * 1000 })
    .onConflictDoNothing()
    .returning({ jti: deviceJtis.jti });
  if (inserted.length === 0)
    throw new FleetsyncError("unauthenticated", "device token was already used (replayed?)");
}

function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
