import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { watchPiholeDir } from "./watch-pihole-dir.ts";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function until(check: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 20));
  return check();
}

describe("watchPiholeDir", () => {
  test("reports the Pi-hole dirty when FTL replaces pihole.toml or gravity.db by rename", async () => {
    dir = await mkdtemp(join(tmpdir(), "fleetsync-pihole-watch-"));
    await writeFile(join(dir, "pihole.toml"), "a");
    const dirty: string[] = [];
    const watcher = watchPiholeDir({
      configDir: dir,
      pollMs: 3_600_000,
      onDirty: (p) => dirty.push(p),
      onError: () => {},
    });
    await watcher.ready;
    try {
      await writeFile(join(dir, "pihole.toml.tmp"), "b");
      await rename(join(dir, "pihole.toml.tmp"), join(dir, "pihole.toml"));
      expect(await until(() => dirty.length > 0)).toBe(true);
      dirty.length = 0;
      await writeFile(join(dir, "gravity_temp.db"), "db");
      await rename(join(dir, "gravity_temp.db"), join(dir, "gravity.db"));
      expect(await until(() => dirty.length > 0)).toBe(true);
      expect(new Set(dirty)).toEqual(new Set([""]));
    } finally {
      await watcher.close();
    }
  });

  test("ignores files FTL keeps beside them that hold nothing synced", async () => {
    dir = await mkdtemp(join(tmpdir(), "fleetsync-pihole-watch-"));
    const dirty: string[] = [];
    const watcher = watchPiholeDir({
      configDir: dir,
      pollMs: 3_600_000,
      onDirty: (p) => dirty.push(p),
      onError: () => {},
    });
    await watcher.ready;
    try {
      await writeFile(join(dir, "pihole-FTL.db"), "queries");
      await writeFile(join(dir, "dhcp.leases"), "lease");
      expect(await until(() => dirty.length > 0, 500)).toBe(false);
    } finally {
      await watcher.close();
    }
  });

  test("polls as a safety net and reports a directory it cannot watch instead of throwing", async () => {
    const errors: Error[] = [];
    const dirty: string[] = [];
    const watcher = watchPiholeDir({
      configDir: join(tmpdir(), "fleetsync-no-such-pihole-dir"),
      pollMs: 50,
      onDirty: (p) => dirty.push(p),
      onError: (e) => errors.push(e),
    });
    try {
      expect(errors[0]?.message).toMatch(/ENOENT/);
      expect(await until(() => dirty.length > 0)).toBe(true);
    } finally {
      await watcher.close();
    }
  });
});
