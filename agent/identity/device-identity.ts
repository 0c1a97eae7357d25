// The device's Ed25519 key pair (private half never leaves this machine) and the hub keys pinned at enrolment.
import { chmod, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JSONWebKeySet, type JWK } from "jose";
import { z } from "zod";
import { describeZodError, FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { JwksSchema } from "../../shared/protocol/messages.ts";

export const PRIVATE_KEY_FILE = "device.key.json";
export const PINNED_JWKS_FILE = "hub.jwks.json";

const PrivateJwkSchema = z.object({
  kty: z.literal("OKP"),
  crv: z.literal("Ed25519"),
  x: z.string().min(1),
  d: z.string().min(1),
});

/** A fresh key pair in memory; `save` writes the private half (mode 0600) only once the hub has accepted it. */
export async function createDeviceKey(): Promise<{
  publicJwk: JWK;
  save: (stateDir: string) => Promise<void>;
}> {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const { kty, crv, x } = await exportJWK(publicKey);
  return {
    publicJwk: { kty, crv, x },
    async save(stateDir) {
      const file = join(stateDir, PRIVATE_KEY_FILE);
      await writeFile(`${file}.tmp`, JSON.stringify(await exportJWK(privateKey)), { mode: 0o600 });
      await chmod(`${file}.tmp`, 0o600);
      await rename(`${file}.tmp`, file);
    },
  };
}

/** The fix for a lost or damaged identity file: a new identity, replacing this one. */
function reEnroll(stateDir: string): string {
  return `re-enroll with a new token: fleetsync agent enroll --force --state ${stateDir} --hub URL --token TOKEN (then revoke the old device)`;
}

/** Reads one identity file as JSON, or throws naming the file, what is wrong with it and the fix. */
async function readIdentityFile(stateDir: string, name: string, what: string): Promise<unknown> {
  const file = join(stateDir, name);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FleetsyncError(
      "invalid",
      `cannot read ${what} ${file} (${code === "ENOENT" ? "missing" : code}); ${reEnroll(stateDir)}`,
      { cause: error },
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new FleetsyncError(
      "invalid",
      `${what} ${file} is damaged (not JSON: ${(error as Error).message}); ${reEnroll(stateDir)}`,
      { cause: error },
    );
  }
}

export async function loadDeviceKey(stateDir: string): Promise<CryptoKey> {
  const jwk = await readIdentityFile(stateDir, PRIVATE_KEY_FILE, "the device key");
  const file = join(stateDir, PRIVATE_KEY_FILE);
  const parsed = PrivateJwkSchema.safeParse(jwk);
  if (!parsed.success)
    throw new FleetsyncError(
      "invalid",
      `the device key ${file} is damaged (not an Ed25519 private key); ${reEnroll(stateDir)}`,
    );
  try {
    return (await importJWK(parsed.data as JWK, "EdDSA")) as CryptoKey;
  } catch (error) {
    throw new FleetsyncError(
      "invalid",
      `the device key ${file} is damaged (${(error as Error).message}); ${reEnroll(stateDir)}`,
      { cause: error },
    );
  }
}

export async function savePinnedJwks(stateDir: string, jwks: JSONWebKeySet): Promise<void> {
  await writeFile(join(stateDir, PINNED_JWKS_FILE), JSON.stringify(jwks, null, 2), { mode: 0o600 });
}

export async function loadPinnedJwks(stateDir: string): Promise<JSONWebKeySet> {
  const jwks = await readIdentityFile(stateDir, PINNED_JWKS_FILE, "the pinned hub keys");
  const parsed = JwksSchema.safeParse(jwks);
  if (!parsed.success)
    throw new FleetsyncError(
      "invalid",
      `the pinned hub keys ${join(stateDir, PINNED_JWKS_FILE)} are damaged (${describeZodError(parsed.error, "the file")}); ${reEnroll(stateDir)}`,
    );
  return parsed.data as JSONWebKeySet;
}
