// Reads a stopped-or-running hub's signing key from its database, to forge instructions as a compromised hub would.
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { type CryptoKey, importJWK, type JWK } from "jose";

export async function readHubSigningKey(
  dataDir: string,
): Promise<{ kid: string; hubId: string; privateKey: CryptoKey }> {
  const client = createClient({ url: `file:${join(dataDir, "hub.db")}` });
  try {
    const settings = await client.execute("select key, value from hub_settings");
    const get = (key: string) => String(settings.rows.find((r) => r.key === key)?.value ?? "");
    const kid = get("signing_kid");
    const key = await client.execute({ sql: "select private_jwk from hub_keys where kid = ?", args: [kid] });
    const privateKey = (await importJWK(
      JSON.parse(String(key.rows[0]?.private_jwk)) as JWK,
      "EdDSA",
    )) as CryptoKey;
    return { kid, hubId: get("hub_id"), privateKey };
  } finally {
    client.close();
  }
}

export async function queryHubDb(dataDir: string, sql: string, args: (string | number)[] = []) {
  const client = createClient({ url: `file:${join(dataDir, "hub.db")}` });
  try {
    return (await client.execute({ sql, args })).rows;
  } finally {
    client.close();
  }
}
