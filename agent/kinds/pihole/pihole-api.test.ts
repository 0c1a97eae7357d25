// The Pi-hole API client against real Pi-hole FTL v6.4.1, in a state FTL gets into by itself and does not leave.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import Database from "libsql";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { waitFor } from "../../../test/support/fleet.ts";
import { type FtlInstance, piholeUnavailable, startFtl } from "../../../test/support/pihole.ts";
import { withPiholeApi } from "./pihole-api.ts";

const unavailable = piholeUnavailable();
if (unavailable) console.log(unavailable);

/** One request in a session of its own, sent once: no retry that could make FTL reload gravity.db again. */
async function sendOnce(ftl: FtlInstance, method: string, path: string, body?: unknown) {
  const login = await fetch(`${ftl.url}/api/auth`, {
    method: "POST",
    body: JSON.stringify({ password: ftl.password }),
  });
  const { sid } = ((await login.json()) as { session: { sid: string } }).session;
  try {
    const r = await fetch(`${ftl.url}/api${path}`, {
      method,
      headers: { sid },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, text: await r.text() };
  } finally {
    await fetch(`${ftl.url}/api/auth`, { method: "DELETE", headers: { sid } });
  }
}

describe.skipIf(unavailable !== undefined)("Pi-hole API client against real FTL", () => {
  let ftl: FtlInstance;

  beforeAll(async () => {
    ftl = await startFtl({ password: "api-test-pw", memoryBacked: true });
    await ftl.call("GET", "/groups");
  }, 120_000);

  afterAll(async () => {
    await ftl?.remove();
  });

  test("a read that waits for gravity.db which a reload lost to a write lock rides out an FTL restart meanwhile", async () => {
    // FTL reloads gravity.db after every list write, with no busy timeout: while another connection holds a write
    // lock, the reload's last query fails and FTL closes the handle. No read opens it again; the next reload does.
    // The lock is held until FTL's log shows the reload failing on it: a fixed wait lost the race on a busy machine
    // (FTL reloaded after the lock was gone, and the database stayed open).
    // Only the reload's own failure counts (e.g. check_restored_gravity … database is locked): the API's read of
    // the new group fails on the lock too, earlier, and is logged as well.
    const lockedLines = async () =>
      (await readFile(join(ftl.dir, "log", "FTL.log"), "utf8"))
        .split("\n")
        .filter((line) => line.includes("database is locked") && !/readTableGetRow|API:/.test(line)).length;
    const lock = new Database(join(ftl.dir, "etc", "gravity.db"));
    try {
      lock.exec("BEGIN EXCLUSIVE");
      const before = await lockedLines();
      await sendOnce(ftl, "POST", "/groups", { name: "reload-trigger", enabled: true });
      await waitFor(async () => (await lockedLines()) > before, {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: "FTL's reload of gravity.db to fail on the held lock (FTL.log: database is locked)",
      });
    } finally {
      lock.exec("ROLLBACK");
      lock.close();
    }
    await new Promise((ok) => setTimeout(ok, 1000));
    const stuck = await sendOnce(ftl, "GET", "/groups");
    expect(stuck.status).toBe(400);
    expect(stuck.text).toContain("Database not available");

    const starts = await ftl.startCount();
    const groups = withPiholeApi(
      {
        url: ftl.url,
        credential: { password: ftl.password, shareName: "dns" },
        userAgent: "fleetsync-api-test",
      },
      (api) => api.request<{ groups: Array<{ name: string }> }>({ method: "GET", path: "/groups" }),
    );
    // Someone else restarts FTL while the read waits (a config change, another client): it refuses connections.
    await new Promise((ok) => setTimeout(ok, 1500));
    expect((await sendOnce(ftl, "POST", "/action/restartdns")).status).toBe(200);
    expect((await groups).groups.map((g) => g.name)).toContain("Default");
    expect(await ftl.startCount()).toBe(starts + 1);
  }, 60_000);
});
