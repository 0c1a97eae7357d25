// The hub's embedded database: WAL, and a commit on disk before the hub answers (agents act on its answers).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { openLibsql } from "./open-libsql.ts";

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
