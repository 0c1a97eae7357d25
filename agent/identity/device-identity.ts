// The device's Ed25519 key pair (private half never leaves this machine) and the hub keys pinned at enrolment.
import { chmod, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JSONWebKeySet, type JWK } from "jose";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";

export const PRIVATE_KEY_FILE = "device.key.json";
export const PINNED_JWKS_FILE = "hub.jwks.json";

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

export async function loadDeviceKey(stateDir: string): Promise<CryptoKey> {
  const file = join(stateDir, PRIVATE_KEY_FILE);
  try {
    return (await importJWK(JSON.parse(await readFile(file, "utf8")) as JWK, "EdDSA")) as CryptoKey;
  } catch (error) {
    throw new FleetsyncError(
      "invalid",
      `cannot load the device key ${file}: ${(error as Error).message}; enroll again`,
    );
  }
}

export async function savePinnedJwks(stateDir: string, jwks: JSONWebKeySet): Promise<void> {
  await writeFile(join(stateDir, PINNED_JWKS_FILE), JSON.stringify(jwks, null, 2), { mode: 0o600 });
}

export async function loadPinnedJwks(stateDir: string): Promise<JSONWebKeySet> {
  const file = join(stateDir, PINNED_JWKS_FILE);
  try {
    return JSON.parse(await readFile(file, "utf8")) as JSONWebKeySet;
  } catch (error) {
    throw new FleetsyncError(
      "invalid",
      `cannot load the pinned hub keys ${file}: ${(error as Error).message}; enroll again`,
    );
  }
}
