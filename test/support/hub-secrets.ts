// Reads a stopped-or-running hub's signing key from its database, to forge instructions as a compromised hub would.
import { access, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { type CryptoKey, importJWK, type JWK } from "jose";

/** The SQLite file under DATA/workers/state that Miniflare keeps for one binding's objects (local D1 or R2), if any. */
async function workersStateFile(dataDir: string, kind: "d1" | "r2"): Promise<string | undefined> {
  const object = kind === "d1" ? "miniflare-D1DatabaseObject" : "miniflare-R2BucketObject";
  const dir = join(dataDir, "workers", "state", "v3", kind, object);
  const file = (await readdir(dir).catch(() => [] as string[])).find(
    (name) => name.endsWith(".sqlite") && name !== "metadata.sqlite",
  );
  return file === undefined ? undefined : join(dir, file);
}

/**
 * The hub's database file: DATA/hub.db for the Node hub, the local D1 database for `hub --workers` (the same schema,
 * applied by the same migrations), so a test reads either hub's state with one query.
 */
export async function hubDbFile(dataDir: string): Promise<string> {
  const nodeFile = join(dataDir, "hub.db");
  const isNodeHub = await access(nodeFile).then(
    () => true,
    () => false,
  );
  if (isNodeHub) return nodeFile;
  return (await workersStateFile(dataDir, "d1")) ?? nodeFile;
}

export async function readHubSigningKey(
  dataDir: string,
): Promise<{ kid: string; hubId: string; privateKey: CryptoKey }> {
  const client = createClient({ url: `file:${await hubDbFile(dataDir)}` });
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
  const client = createClient({ url: `file:${await hubDbFile(dataDir)}` });
  try {
    return (await client.execute({ sql, args })).rows;
  } finally {
    client.close();
  }
}

/**
 * How many blocks (and bytes) a hub stores, wherever they live: the pack index (DATA/packs), block files under
 * DATA/blocks, R2 objects, or the table.
 */
export async function hubBlockStats(dataDir: string): Promise<{ n: number; bytes: number }> {
  const [row] = await queryHubDb(
    dataDir,
    "select count(*) as n, coalesce(sum(size), 0) as bytes from blocks",
  );
  let n = Number(row?.n ?? 0);
  let bytes = Number(row?.bytes ?? 0);
  const [packed] = await queryHubDb(
    dataDir,
    "select count(*) as n, coalesce(sum(size), 0) as bytes from pack_blocks",
  );
  n += Number(packed?.n ?? 0);
  bytes += Number(packed?.bytes ?? 0);
  const dir = join(dataDir, "blocks");
  for (const prefix of await readdir(dir).catch(() => [] as string[])) {
    if (prefix === "tmp") continue;
    for (const name of await readdir(join(dir, prefix))) {
      n++;
      bytes += (await stat(join(dir, prefix, name))).size;
    }
  }
  const r2File = await workersStateFile(dataDir, "r2");
  if (r2File) {
    const client = createClient({ url: `file:${r2File}` });
    try {
      const r2 = await client.execute(
        "select count(*) as n, coalesce(sum(size), 0) as bytes from _mf_objects where key like 'blocks/%'",
      );
      n += Number(r2.rows[0]?.n ?? 0);
      bytes += Number(r2.rows[0]?.bytes ?? 0);
    } finally {
      client.close();
    }
  }
  return { n, bytes };
}
