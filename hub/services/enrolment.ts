// Enrolment tokens (single-use JWTs the hub signs) and the enrolment that trades one for a device identity.
import { and, desc, eq, inArray, isNull } from "drizzle-orm";
import { createLocalJWKSet, errors, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import type { EnrollRequest, EnrollResponse } from "../../shared/protocol/messages.ts";
import { type ShareGrant, ShareGrantSchema } from "../../shared/protocol/shares.ts";
import { devices, enrolmentTokens, members, shares } from "../db/schema.ts";
import { initialApproval } from "./approval.ts";
import { auditStatement } from "./audit.ts";
import type { HubContext } from "./hub-context.ts";
import { listDeviceShares } from "./shares.ts";

export const ENROL_TOKEN_TYP = "fleetsync-enrol+jwt";
const GrantsSchema = z.array(ShareGrantSchema);

export type CreateTokenInput = {
  shares: ShareGrant[];
  ttlSeconds: number;
  label: string;
  /** Devices enrolled with this token wait for `fleetsync device approve`. */
  approval?: boolean;
};

export async function createEnrolmentToken(ctx: HubContext, input: CreateTokenInput) {
  if (input.shares.length === 0)
    throw new FleetsyncError("invalid", 'field "shares": name at least one share');
  const names = input.shares.map((s) => s.name);
  const known = new Set(
    (await ctx.db.select({ name: shares.name }).from(shares).where(inArray(shares.name, names))).map(
      (r) => r.name,
    ),
  );
  const unknown = names.find((n) => !known.has(n));
  if (unknown) {
    throw new FleetsyncError(
      "not_found",
      `share "${unknown}" does not exist; create it first: fleetsync share create ${unknown}`,
    );
  }
  const nowMs = ctx.now();
  const jti = crypto.randomUUID();
  const expiresAt = nowMs + input.ttlSeconds * 1000;
  const token = await new SignJWT({ shares: input.shares, label: input.label })
    .setProtectedHeader({ alg: "EdDSA", kid: ctx.identity.kid, typ: ENROL_TOKEN_TYP })
    .setIssuer(ctx.identity.hubId)
    .setAudience(`${ctx.identity.hubId}/enroll`)
    .setJti(jti)
    .setIssuedAt(Math.floor(nowMs / 1000))
    .setExpirationTime(Math.floor(expiresAt / 1000))
    .sign(ctx.identity.privateKey);
  await ctx.db.batch([
    ctx.db.insert(enrolmentTokens).values({
      jti,
      label: input.label,
      shares: JSON.stringify(input.shares),
      createdAt: nowMs,
      expiresAt,
      approval: input.approval ?? false,
    }),
    auditStatement(ctx, "admin", "token.create", jti, {
      shares: input.shares,
      label: input.label,
      approval: input.approval ?? false,
    }),
  ]);
  return { token, jti, expiresAt: new Date(expiresAt).toISOString() };
}

export async function enrollDevice(ctx: HubContext, input: EnrollRequest): Promise<EnrollResponse> {
  const nowMs = ctx.now();
  let jti: string;
  let grants: ShareGrant[];
  let label: string;
  try {
    const { payload } = await jwtVerify(input.token, createLocalJWKSet(ctx.identity.jwks), {
      algorithms: ["EdDSA"],
      typ: ENROL_TOKEN_TYP,
      issuer: ctx.identity.hubId,
      audience: `${ctx.identity.hubId}/enroll`,
      currentDate: new Date(nowMs),
      requiredClaims: ["exp", "jti"],
    });
    jti = payload.jti!;
    grants = GrantsSchema.parse(payload.shares);
    label = typeof payload.label === "string" ? payload.label.trim() : "";
  } catch (error) {
    if (error instanceof errors.JWTExpired) {
      throw new FleetsyncError(
        "token_expired",
        "enrolment token has expired; ask the admin for a new one (fleetsync token create)",
      );
    }
    throw new FleetsyncError(
      "unauthenticated",
      "enrolment token is not valid for this hub (forged, damaged or minted by another hub)",
    );
  }

  // An explicit name wins, then the token's label (set by the admin for this machine), then the host name.
  const name = (input.name ?? (label || input.hostname) ?? "").slice(0, 128);
  if (!name) {
    throw new FleetsyncError(
      "invalid",
      'body: send "name" (agent enroll --name) or "hostname", or mint the token with --label; the token was not used',
    );
  }
  const deviceId = `dev_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
  // The conditional update is the single point where two racing enrolments are told apart.
  const claimed = await ctx.db
    .update(enrolmentTokens)
    .set({ usedAt: nowMs, usedBy: deviceId })
    .where(
      and(eq(enrolmentTokens.jti, jti), isNull(enrolmentTokens.usedAt), isNull(enrolmentTokens.revokedAt)),
    )
    .returning({ jti: enrolmentTokens.jti, approval: enrolmentTokens.approval });
  if (claimed.length === 0) {
    const [row] = await ctx.db.select().from(enrolmentTokens).where(eq(enrolmentTokens.jti, jti));
    if (!row) throw new FleetsyncError("unauthenticated", "enrolment token is not known to this hub");
    if (row.revokedAt !== null)
      throw new FleetsyncError("unauthenticated", "enrolment token was revoked; ask the admin for a new one");
    throw new FleetsyncError(
      "token_used",
      `token already used (by device ${row.usedBy}); each token enrolls one device`,
    );
  }

  const existingShares = new Set(
    (
      await ctx.db
        .select({ name: shares.name })
        .from(shares)
        .where(
          inArray(
            shares.name,
            grants.map((g) => g.name),
          ),
        )
    ).map((r) => r.name),
  );
  const memberRows = grants
    .filter((g) => existingShares.has(g.name))
    .map((g) => ({ share: g.name, deviceId, role: g.role }));
  const approval = await initialApproval(ctx, {
    tokenRequiresApproval: claimed[0]?.approval === true,
    shares: memberRows.map((m) => m.share),
  });
  await ctx.db.batch([
    ctx.db.insert(devices).values({
      id: deviceId,
      name,
      publicJwk: JSON.stringify(input.publicKey),
      tokenJti: jti,
      createdAt: nowMs,
      lastSeenAt: nowMs,
      approval,
    }),
    ...memberRows.map((row) => ctx.db.insert(members).values(row)),
    auditStatement(ctx, `device:${deviceId}`, "device.enroll", deviceId, { name, token: jti }),
  ]);
  ctx.log.info("device enrolled", { device: deviceId, name, approval });
  return {
    deviceId,
    name,
    hubId: ctx.identity.hubId,
    jwks: ctx.identity.jwks,
    shares: await listDeviceShares(ctx, deviceId),
  };
}

export async function listTokens(ctx: HubContext) {
  const rows = await ctx.db.select().from(enrolmentTokens).orderBy(desc(enrolmentTokens.createdAt));
  const nowMs = ctx.now();
  return rows.map((row) => ({
    jti: row.jti,
    label: row.label,
    shares: JSON.parse(row.shares) as ShareGrant[],
    createdAt: new Date(row.createdAt).toISOString(),
    expiresAt: new Date(row.expiresAt).toISOString(),
    state:
      row.revokedAt !== null
        ? "revoked"
        : row.usedAt !== null
          ? "used"
          : row.expiresAt <= nowMs
            ? "expired"
            : "unused",
    usedBy: row.usedBy,
    approval: row.approval,
  }));
}

export async function revokeToken(ctx: HubContext, jti: string) {
  const updated = await ctx.db
    .update(enrolmentTokens)
    .set({ revokedAt: ctx.now() })
    .where(and(eq(enrolmentTokens.jti, jti), isNull(enrolmentTokens.revokedAt)))
    .returning({ jti: enrolmentTokens.jti });
  if (updated.length === 0)
    throw new FleetsyncError("not_found", `no unrevoked token with id ${jti}; see fleetsync token list`);
  await auditStatement(ctx, "admin", "token.revoke", jti);
  return { jti, revoked: true };
}
