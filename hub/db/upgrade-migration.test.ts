// A hub created before the security migration upgrades in place: its blocks stay readable by their shares' members.
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { afterEach, expect, test } from "vitest";
import { MIGRATIONS_FOLDER } from "./open-libsql.ts";
import * as schema from "./schema.ts";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

test("backfills share_blocks from the entries an existing hub already holds", async () => {
  dir = await mkdtemp(join(tmpdir(), "fleetsync-upgrade-"));
  // The migrations folder as it was before 0001: only the initial schema.
  const before = join(dir, "migrations-0000");
  await cp(MIGRATIONS_FOLDER, before, { recursive: true });
  const journalFile = join(before, "meta", "_journal.json");
  const journal = JSON.parse(await readFile(journalFile, "utf8")) as { entries: { tag: string }[] };
  journal.entries = journal.entries.filter((e) => e.tag === "0000_init");
  await writeFile(journalFile, JSON.stringify(journal));

  const client = createClient({ url: `file:${join(dir, "hub.db")}` });
  try {
    const db = drizzle(client, { schema });
    await migrate(db, { migrationsFolder: before });
    await client.execute(
      `insert into entries (share, path, seq, type, size, block_size, blocks, device_id, updated_at)
       values ('docs', 'a.txt', 1, 'file', 5, 131072, '["${"a".repeat(64)}","${"b".repeat(64)}"]', 'dev_x', 1000),
              ('docs', 'gone.txt', 2, 'deleted', 0, 131072, '[]', 'dev_x', 1000),
              ('media', 'b.bin', 1, 'file', 5, 131072, '["${"b".repeat(64)}"]', 'dev_y', 2000)`,
    );

    await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });

    const rows = await client.execute("select share, hash, seen_at from share_blocks order by share, hash");
    expect(rows.rows.map((r) => [r.share, String(r.hash).slice(0, 1), r.seen_at])).toEqual([
      ["docs", "a", 1000],
      ["docs", "b", 1000],
      ["media", "b", 2000],
    ]);
  } finally {
    client.close();
  }
});
