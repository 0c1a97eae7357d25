// Opens the hub's libSQL database (embedded file or remote URL) and applies the generated migrations.
import { type Client, createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import type { Database } from "./database.ts";
import * as schema from "./schema.ts";

export const MIGRATIONS_FOLDER = decodeURIComponent(new URL("./migrations", import.meta.url).pathname);

export type OpenedDatabase = {
  db: Database;
  client: Client;
  /**
   * The same file through a second connection that commits without waiting for the disk (synchronous = NORMAL),
   * for records whose loss in a power cut costs nothing durable: device tokens' jtis (see HubContext.replayDb).
   * Absent for a remote database.
   */
  replayDb?: Database;
  close: () => void;
};

/** How long a write waits for another process's write lock on the database file before failing. */
const BUSY_TIMEOUT_MS = 10_000;

export async function openLibsql(url: string, authToken?: string): Promise<OpenedDatabase> {
  const isFile = url.startsWith("file:");
  // A file database gets one connection: the client's pool would otherwise open more while a call awaits, and
  // those would miss the PRAGMAs below (WAL, synchronous = FULL; no busy timeout between hub
  // processes). Statements run synchronously in this thread anyway, so a second connection adds no parallelism.
  const client = createClient({
    url,
    ...(authToken ? { authToken } : {}),
    ...(isFile ? { concurrency: 1, timeout: BUSY_TIMEOUT_MS } : {}),
  });
  if (isFile) {
    await client.execute(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    await client.execute("PRAGMA journal_mode = WAL");
    // FULL: every commit is on disk before the hub answers. Agents act on the answer (a source marks its changes
    // reported, a replica's cursor moves past an ack), so a commit a power cut could take back would leave the hub
    // behind its agents: changes nobody reports again, a head below a replica's cursor. NORMAL saved nothing
    // measurable here (quick bench, 1,000 files and one 100 MiB file, 2 runs each: within the noise).
    await client.execute("PRAGMA synchronous = FULL");
  }
  const db = drizzle(client, { schema });
  await migrateWithRetry(db);
  // An in-memory database is private to its connection: a second one would be another, empty database.
  if (!isFile || url.includes(":memory:")) return { db, client, close: () => client.close() };
  // Each statement and batch runs to its end synchronously on its connection, so the two never wait on each other's
  // write lock inside this process (no interactive transactions); between hub processes the busy timeout applies.
  const replayClient = createClient({ url, concurrency: 1, timeout: BUSY_TIMEOUT_MS });
  await replayClient.execute(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  await replayClient.execute("PRAGMA synchronous = NORMAL");
  return {
    db,
    client,
    replayDb: drizzle(replayClient, { schema }),
    close: () => {
      replayClient.close();
      client.close();
    },
  };
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
