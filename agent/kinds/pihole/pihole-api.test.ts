// The Pi-hole API client against real Pi-hole FTL v6.4.1, in a state FTL gets into by itself and does not leave.
import { join } from "node:path";
import Database from "libsql";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
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
    const lock = new Database(join(ftl.dir, "etc", "gravity.db"));
    try {
      lock.exec("BEGIN EXCLUSIVE");
      await sendOnce(ftl, "POST", "/groups", { name: "reload-trigger", enabled: true });
      await new Promise((ok) => setTimeout(ok, 1000));
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
