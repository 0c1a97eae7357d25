// Reads a stopped-or-running hub's signing key from its database, to forge instructions as a compromised hub would.
import { readdir, stat } from "node:fs/promises";
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

/** How many blocks (and bytes) a hub stores, wherever they live: block files under DATA/blocks, or the table. */
export async function hubBlockStats(dataDir: string): Promise<{ n: number; bytes: number }> {
  const [row] = await queryHubDb(
    dataDir,
    "select count(*) as n, coalesce(sum(size), 0) as bytes from blocks",
  );
  let n = Number(row?.n ?? 0);
  let bytes = Number(row?.bytes ?? 0);
  const dir = join(dataDir, "blocks");
  for (const prefix of await readdir(dir).catch(() => [] as string[])) {
    if (prefix === "tmp") continue;
    for (const name of await readdir(join(dir, prefix))) {
      n++;
      bytes += (await stat(join(dir, prefix, name))).size;
    }
  }
  return { n, bytes };
}
