// The hub's embedded database: WAL, and a commit on disk before the hub answers (agents act on its answers).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { expect, test } from "vitest";
import { openLibsql } from "./open-libsql.ts";
import { deviceJtis } from "./schema.ts";

test("a file database runs in WAL mode with synchronous = FULL, so an acknowledged commit survives a power cut", async () => {
  const dir = await mkdtemp(join(tmpdir(), "fleetsync-open-libsql-"));
  const opened = await openLibsql(`file:${join(dir, "hub.db")}`);
  try {
    const journal = await opened.client.execute("PRAGMA journal_mode");
    expect(String(journal.rows[0]?.[0])).toBe("wal");
    // 2 = FULL (0 OFF, 1 NORMAL, 3 EXTRA).
    const synchronous = await opened.client.execute("PRAGMA synchronous");
    expect(Number(synchronous.rows[0]?.[0])).toBe(2);
  } finally {
    opened.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("device token jtis go through a second connection that commits without an fsync, onto the same file", async () => {
  const dir = await mkdtemp(join(tmpdir(), "fleetsync-open-libsql-"));
  const opened = await openLibsql(`file:${join(dir, "hub.db")}`);
  try {
    const replay = opened.replayDb;
    expect(replay).toBeDefined();
    // 1 = NORMAL on the jti connection; the main one stays FULL.
    const sync = (await replay!.run(sql`PRAGMA synchronous`)) as unknown as { rows: unknown[][] };
    expect(Number(sync.rows[0]?.[0])).toBe(1);
    expect(Number((await opened.client.execute("PRAGMA synchronous")).rows[0]?.[0])).toBe(2);
    // What one connection records, the other reads: a jti is one row of the hub's database either way.
    await replay!.insert(deviceJtis).values({ deviceId: "dev_x", jti: "j1", expiresAt: 1 });
    const seen = await opened.client.execute("select jti from device_jtis where device_id = 'dev_x'");
    expect(seen.rows.map((r) => r[0])).toEqual(["j1"]);
  } finally {
    opened.close();
    await rm(dir, { recursive: true, force: true });
  }
});
