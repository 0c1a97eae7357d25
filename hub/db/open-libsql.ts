// Opens the hub's libSQL database (embedded file or remote URL) and applies the generated migrations.
import { type Client, createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import type { Database } from "./database.ts";
import * as schema from "./schema.ts";

export const MIGRATIONS_FOLDER = decodeURIComponent(new URL("./migrations", import.meta.url).pathname);

export type OpenedDatabase = { db: Database; client: Client; close: () => void };

export async function openLibsql(url: string, authToken?: string): Promise<OpenedDatabase> {
  const client = createClient(authToken ? { url, authToken } : { url });
  if (url.startsWith("file:")) {
    await client.execute("PRAGMA busy_timeout = 10000");
    await client.execute("PRAGMA journal_mode = WAL");
    await client.execute("PRAGMA synchronous = NORMAL");
  }
  const db = drizzle(client, { schema });
  await migrateWithRetry(db);
  return { db, client, close: () => client.close() };
}

/** Two processes starting at once may race on the migrations table; the loser retries and finds them applied. */
async function migrateWithRetry(db: Database): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
      return;
    } catch (error) {
      if (attempt >= 20)
        throw new Error(`applying database migrations failed: ${(error as Error).message}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200));
    }
  }
}
