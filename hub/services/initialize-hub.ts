// First-start setup, safe to run from several processes at once: hub id, signing key, admin token.
import { eq, isNull, ne } from "drizzle-orm";
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import { toHex } from "../../shared/blocks/hex.ts";
import type { Database } from "../db/database.ts";
import { hubKeys, hubSettings } from "../db/schema.ts";
import type { HubIdentity } from "./hub-context.ts";

export const ADMIN_TOKEN_PREFIX = "fsa_";
/** A configured admin token shorter than this is refused: it would be guessable. */
export const MIN_CONFIGURED_ADMIN_TOKEN_LENGTH = 24;

export type InitializedHub = {
  identity: HubIdentity;
  /** The admin token in clear, only when this call created it (first start). */
  newAdminToken?: string;
};

export type InitializeOptions = {
  /**
   * An admin token the operator configured (a Workers secret, where nothing can be printed at first start).
   * Its hash replaces the stored one, so changing the secret rotates the token. Without it, the first start
   * generates a token and returns it once as `newAdminToken`.
   */
  adminToken?: string;
};

export async function initializeHub(
  db: Database,
  nowMs: number,
  options: InitializeOptions = {},
): Promise<InitializedHub> {
  const configuredHash =
    options.adminToken === undefined ? undefined : await hashConfiguredAdminToken(options.adminToken);
  await db.insert(hubSettings).values({ key: "hub_id", value: crypto.randomUUID() }).onConflictDoNothing();

  const active = await db.select().from(hubKeys).where(isNull(hubKeys.retiredAt));
  if (active.length === 0) {
    const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    const kid = crypto.randomUUID();
    // The settings row decides which of two racing processes' keys becomes the signing key.
    const claimed = await db
      .insert(hubSettings)
      .values({ key: "signing_kid", value: kid })
      .onConflictDoNothing()
      .returning({ key: hubSettings.key });
    if (claimed.length > 0) {
      await db.insert(hubKeys).values({
        kid,
        privateJwk: JSON.stringify(await exportJWK(privateKey)),
        publicJwk: JSON.stringify({ ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" }),
        createdAt: nowMs,
      });
    }
  }

  if (configuredHash !== undefined) {
    // An upsert of the same hash: any number of processes or isolates may run it at once.
    await db
      .insert(hubSettings)
      .values({ key: "admin_token_hash", value: configuredHash })
      .onConflictDoUpdate({
        target: hubSettings.key,
        set: { value: configuredHash },
        setWhere: ne(hubSettings.value, configuredHash),
      });
    return { identity: await loadIdentity(db) };
  }
  let newAdminToken: string | undefined;
  const candidate = `${ADMIN_TOKEN_PREFIX}${toHex(crypto.getRandomValues(new Uint8Array(24)))}`;
  const inserted = await db
    .insert(hubSettings)
    .values({ key: "admin_token_hash", value: await hashSecret(candidate) })
    .onConflictDoNothing()
    .returning({ key: hubSettings.key });
  if (inserted.length > 0) newAdminToken = candidate;

  return { identity: await loadIdentity(db), newAdminToken };
}

async function hashConfiguredAdminToken(token: string): Promise<string> {
  if (token.trim() !== token || token.length < MIN_CONFIGURED_ADMIN_TOKEN_LENGTH) {
    throw new Error(
      `the configured admin token must be at least ${MIN_CONFIGURED_ADMIN_TOKEN_LENGTH} characters without surrounding spaces; generate one with: openssl rand -hex 24`,
    );
  }
  return hashSecret(token);
}

async function loadIdentity(db: Database): Promise<HubIdentity> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const settings = new Map((await db.select().from(hubSettings)).map((row) => [row.key, row.value]));
    const hubId = settings.get("hub_id");
    const kid = settings.get("signing_kid");
    const keys = await db.select().from(hubKeys).where(isNull(hubKeys.retiredAt));
    const signing = keys.find((k) => k.kid === kid);
    if (hubId && kid && signing) {
      const privateKey = (await importJWK(JSON.parse(signing.privateJwk) as JWK, "EdDSA")) as CryptoKey;
      return { hubId, kid, privateKey, jwks: { keys: keys.map((k) => JSON.parse(k.publicJwk) as JWK) } };
    }
    // Another process claimed the key but has not written it yet.
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("hub signing key is missing from the database; was hub_keys edited by hand?");
}

export async function hashSecret(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret));
  return toHex(new Uint8Array(digest));
}

export async function readSetting(db: Database, key: string): Promise<string | undefined> {
  const rows = await db.select().from(hubSettings).where(eq(hubSettings.key, key));
  return rows[0]?.value;
}
