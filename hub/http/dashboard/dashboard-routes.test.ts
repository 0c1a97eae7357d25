// The dashboard through app.request(): login and its cookie, logout, CSRF refusal, pages, actions and live events.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { createTestHub, type TestHub } from "../../../test/support/test-hub-context.ts";

const ORIGIN = "http://localhost";

let hub: TestHub;
beforeEach(async () => {
  hub = await createTestHub();
});
afterEach(() => hub.close());

function form(fields: Record<string, string>) {
  return new URLSearchParams(fields).toString();
}

/** A browser-like request: form body, the dashboard's own Origin unless told otherwise, the session cookie. */
function browser(
  method: string,
  path: string,
  options: {
    cookie?: string;
    fields?: Record<string, string>;
    headers?: Record<string, string>;
    withoutOrigin?: boolean;
  } = {},
) {
  const headers: Record<string, string> = {
    ...(method === "GET" || options.withoutOrigin ? {} : { origin: ORIGIN }),
    ...(options.cookie ? { cookie: options.cookie } : {}),
    ...(options.fields ? { "content-type": "application/x-www-form-urlencoded" } : {}),
    ...options.headers,
  };
  return hub.app.request(path, {
    method,
    headers,
    body: options.fields ? form(options.fields) : undefined,
    redirect: "manual",
  });
}

async function logIn(): Promise<string> {
  const response = await browser("POST", "/login", { fields: { token: hub.adminToken } });
  expect(response.status).toBe(303);
  const cookie = /^(fleetsync_session=[^;]+)/.exec(response.headers.get("set-cookie") ?? "")?.[1];
  if (!cookie) throw new Error("no session cookie");
  return cookie;
}

describe("login", () => {
  test("GET / sends a person who is not logged in to /login", async () => {
    const response = await browser("GET", "/");
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/login");
  });

  test("GET /login shows a form that posts the token to /login", async () => {
    const response = await browser("GET", "/login");
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toMatch(/<form method="post" action="\/login"/);
    expect(html).toMatch(/<input type="password" name="token"/);
  });

  test("with the admin token sets an HttpOnly, SameSite=Strict, expiring session cookie and opens the fleet", async () => {
    const response = await browser("POST", "/login", { fields: { token: hub.adminToken } });

    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/");
    const setCookie = response.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/^fleetsync_session=[^;]+;/);
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; SameSite=Strict/);
    expect(setCookie).toMatch(/; Max-Age=43200/);
    expect(setCookie).toMatch(/; Path=\//);
    expect(setCookie).not.toContain(hub.adminToken);
    const sessions = await hub.client.execute("select count(*) as n from dashboard_sessions");
    expect(Number(sessions.rows[0]?.n)).toBe(1);

    const cookie = setCookie.split(";")[0]!;
    const fleet = await browser("GET", "/", { cookie });
    expect(fleet.status).toBe(200);
    expect(await fleet.text()).toContain("<h1>Fleet</h1>");
  });

  test("with a wrong token answers 401 with the CLI's message and sets no cookie", async () => {
    const response = await browser("POST", "/login", { fields: { token: "fsa_wrong" } });
    expect(response.status).toBe(401);
    expect(response.headers.get("set-cookie")).toBeNull();
    expect(await response.text()).toContain("admin token is not valid for this hub");
  });

  test("a cookie whose signature was tampered with is not a session", async () => {
    const cookie = await logIn();
    const forged = cookie.replace(/.$/, (ch) => (ch === "A" ? "B" : "A"));
    const response = await browser("GET", "/", { cookie: forged });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/login");
  });

  test("a session expires after 12 hours", async () => {
    const cookie = await logIn();
    hub.clock.advance(12 * 3600_000 + 1000);
    const response = await browser("GET", "/", { cookie });
    expect(response.status).toBe(302);
  });

  test("POST /logout ends the session on the hub, not only in the browser", async () => {
    const cookie = await logIn();
    const response = await browser("POST", "/logout", { cookie });
    expect(response.status).toBe(303);
    expect(response.headers.get("set-cookie")).toMatch(/fleetsync_session=;.*Max-Age=0/);

    const replayed = await browser("GET", "/", { cookie });
    expect(replayed.status).toBe(302);
  });
});

describe("CSRF", () => {
  test("refuses a cross-origin POST with 403 and does not act on it", async () => {
    const cookie = await logIn();
    const device = await hub.enroll();
    const response = await browser("POST", `/devices/${device.deviceId}/revoke`, {
      cookie,
      fields: {},
      headers: { origin: "http://evil.example" },
    });

    expect(response.status).toBe(403);
    expect(await response.text()).toContain("cross-origin POST refused");
    expect((await hub.deviceFetch(device, "GET", "/v1/config")).status).toBe(200);
  });

  test("refuses a POST with neither Origin nor Sec-Fetch-Site (403)", async () => {
    const cookie = await logIn();
    const response = await browser("POST", "/logout", { cookie, withoutOrigin: true });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("no Origin header shows it came from this hub's dashboard");
  });

  test("refuses a cross-site login attempt (403)", async () => {
    const response = await browser("POST", "/login", {
      fields: { token: hub.adminToken },
      headers: { origin: "https://attacker.example" },
    });
    expect(response.status).toBe(403);
    expect(response.headers.get("set-cookie")).toBeNull();
  });

  test("accepts a same-origin POST a browser marks only with Sec-Fetch-Site", async () => {
    const response = await hub.app.request("/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "same-origin" },
      body: form({ token: hub.adminToken }),
      redirect: "manual",
    });
    expect(response.status).toBe(303);
  });
});

describe("pages", () => {
  test("the fleet page lists shares and devices, problems first", async () => {
    await hub.createShare("docs");
    await hub.createShare("media");
    await hub.enroll(await hub.mintToken([{ name: "docs", role: "replica" }]), "pi-ok");
    const failing = await hub.enroll(await hub.mintToken([{ name: "media", role: "replica" }]), "pi-broken");
    await hub.client.execute({
      sql: "update members set last_error = 'big.bin: disk full (ENOSPC)' where device_id = ?",
      args: [failing.deviceId],
    });
    const cookie = await logIn();

    const html = await (await browser("GET", "/", { cookie })).text();

    expect(html.indexOf('data-share="media"')).toBeLessThan(html.indexOf('data-share="docs"'));
    expect(html.indexOf("pi-broken")).toBeLessThan(html.indexOf("pi-ok"));
    expect(html).toContain("erroring");
    // The why, at a glance: the agent's own words, as `share show` prints them.
    expect(html).toContain('<div class="error">big.bin: disk full (ENOSPC)</div>');
  });

  test("the share page shows each member's cursor, lag and last error, and the sync runs", async () => {
    await hub.createShare("docs");
    const source = await hub.enroll(await hub.mintToken([{ name: "docs", role: "source" }]), "nas");
    const replica = await hub.enroll(await hub.mintToken([{ name: "docs", role: "replica" }]), "pi-kitchen");
    await hub.deviceFetch(source, "POST", "/v1/shares/docs/reports", {
      entries: [
        { path: "notes", type: "dir" },
        { path: "photos", type: "dir" },
      ],
    });
    const cookie = await logIn();

    const html = await (await browser("GET", "/shares/docs", { cookie })).text();

    expect(html).toContain("pi-kitchen");
    expect(html).toContain(`data-member="${replica.deviceId}"`);
    expect(html).toContain("2 ops, 2 files, 0 B");
    expect(html).toContain("<code>photos</code>");
    expect(html).toMatch(/report-dir <code>notes<\/code>/);
  });

  test("a Pi-hole share's page says what it syncs; a folder share's page has no such line", async () => {
    await hub.adminJson("POST", "/v1/admin/shares", {
      name: "dns",
      kind: "pihole",
      pihole: { sync: ["groups", "domains"], config: ["dns.upstreams"] },
    });
    await hub.createShare("docs");
    const cookie = await logIn();
    const pihole = await (await browser("GET", "/shares/dns", { cookie })).text();
    expect(pihole).toContain(
      '<p data-pihole-items="true">syncs groups, domains · config keys dns.upstreams</p>',
    );
    const folder = await (await browser("GET", "/shares/docs", { cookie })).text();
    expect(folder).not.toContain("data-pihole-items");
  });

  test("the share page names the share's hub storage policy", async () => {
    await hub.createShare("docs");
    await hub.adminJson("POST", "/v1/admin/shares", { name: "media", storage: "relay" });
    const cookie = await logIn();
    const docs = await (await browser("GET", "/shares/docs", { cookie })).text();
    const media = await (await browser("GET", "/shares/media", { cookie })).text();
    expect(docs).toContain('storage <span data-storage="true">full</span>');
    expect(media).toContain('storage <span data-storage="true">relay</span>');
  });

  test("a share that does not exist answers 404 with the CLI's hint", async () => {
    const cookie = await logIn();
    const response = await browser("GET", "/shares/nope", { cookie });
    expect(response.status).toBe(404);
    expect(await response.text()).toContain(
      "share &quot;nope&quot; does not exist; see fleetsync share list",
    );
  });

  test("pages escape what devices send (a name cannot inject markup)", async () => {
    await hub.enroll(undefined, "<script>alert(1)</script>");
    const cookie = await logIn();
    const html = await (await browser("GET", "/", { cookie })).text();
    expect(html).not.toContain("<script>alert(1)</script>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });

  test("pages carry a content security policy that allows only the hub's own script", async () => {
    const cookie = await logIn();
    const response = await browser("GET", "/", { cookie });
    expect(response.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  });
});

describe("actions", () => {
  test("a pending device is refused data until approved on the pending page", async () => {
    await hub.createShare("docs");
    const token = await hub.adminJson<{ token: string }>("POST", "/v1/admin/tokens", {
      shares: [{ name: "docs", role: "replica" }],
      approval: true,
    });
    const device = await hub.enroll(token.token, "new-pi");
    expect((await hub.deviceFetch(device, "GET", "/v1/instructions?wait=0")).status).toBe(403);
    const cookie = await logIn();
    const pendingPage = await (await browser("GET", "/pending", { cookie })).text();
    expect(pendingPage).toContain(`data-device="${device.deviceId}"`);
    expect(pendingPage).toContain(">Pending (1)</a>");

    const approved = await browser("POST", `/devices/${device.deviceId}/approve`, {
      cookie,
      fields: { back: "/pending" },
    });

    expect(approved.status).toBe(303);
    expect(approved.headers.get("location")).toMatch(/^\/pending\?notice=device%20dev_/);
    expect((await hub.deviceFetch(device, "GET", "/v1/instructions?wait=0")).status).toBe(200);
  });

  test("a refused action shows the same message the CLI prints, with its status", async () => {
    const device = await hub.enroll();
    const cookie = await logIn();
    const response = await browser("POST", `/devices/${device.deviceId}/approve`, { cookie, fields: {} });
    expect(response.status).toBe(409);
    expect(await response.text()).toContain(
      `device ${device.deviceId} is not waiting for approval (it is approved)`,
    );
  });

  test("revoke, rename and remove a device", async () => {
    const device = await hub.enroll(undefined, "old-name");
    const cookie = await logIn();
    expect(
      (await browser("POST", `/devices/${device.deviceId}/rename`, { cookie, fields: { name: "pi-hall" } }))
        .status,
    ).toBe(303);
    expect(await (await browser("GET", `/devices/${device.deviceId}`, { cookie })).text()).toContain(
      "Device pi-hall",
    );

    expect((await browser("POST", `/devices/${device.deviceId}/revoke`, { cookie, fields: {} })).status).toBe(
      303,
    );
    expect((await hub.deviceFetch(device, "GET", "/v1/config")).status).toBe(401);

    expect((await browser("POST", `/devices/${device.deviceId}/remove`, { cookie, fields: {} })).status).toBe(
      303,
    );
    expect((await browser("GET", `/devices/${device.deviceId}`, { cookie })).status).toBe(404);
  });

  test("minting a token shows the exact enroll command, and the token enrolls a device", async () => {
    await hub.createShare("docs");
    const cookie = await logIn();
    const response = await browser("POST", "/tokens", {
      cookie,
      fields: { share: "docs", role: "replica", ttl: "1h", label: "kitchen" },
    });
    expect(response.status).toBe(201);
    const html = await response.text();
    const command = /<pre id="enroll-command">([^<]+)<\/pre>/.exec(html)?.[1] ?? "";
    expect(command).toMatch(
      /^npx fleetsync agent enroll --hub http:\/\/localhost --token \S+ --state \.\/fleetsync-agent --path docs=\/path\/to\/docs$/,
    );
    const token = /--token (\S+)/.exec(command)?.[1] ?? "";
    const device = await hub.enroll(token, "kitchen-pi");
    expect(device.enrolment.shares).toEqual([expect.objectContaining({ name: "docs", role: "replica" })]);
  });

  test("a token form with a bad duration is refused naming the field", async () => {
    await hub.createShare("docs");
    const cookie = await logIn();
    const response = await browser("POST", "/tokens", {
      cookie,
      fields: { share: "docs", role: "replica", ttl: "forever" },
    });
    expect(response.status).toBe(422);
    expect(await response.text()).toContain("field &quot;ttl&quot;");
  });
});

describe("live updates", () => {
  test("GET /events needs a session (401)", async () => {
    expect((await browser("GET", "/events")).status).toBe(401);
  });

  test("the event stream says change when a report moves a share's head", async () => {
    await hub.createShare("docs");
    const source = await hub.enroll(await hub.mintToken([{ name: "docs", role: "source" }]), "nas");
    const cookie = await logIn();
    const abort = new AbortController();
    const response = await hub.app.request("/events", { headers: { cookie }, signal: abort.signal });
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let seen = "";
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(seen)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}: ${seen}`);
        seen += decoder.decode(value);
      }
    };
    await readUntil(/event: hello/);

    await hub.deviceFetch(source, "POST", "/v1/shares/docs/reports", {
      entries: [{ path: "a", type: "dir" }],
    });

    await readUntil(/event: change/);
    abort.abort();
    await reader.cancel().catch(() => {});
  });

  test("a browser that reconnects with an old Last-Event-ID is told at once that it missed a change", async () => {
    const cookie = await logIn();
    const first = await hub.app.request("/events", { headers: { cookie } });
    const reader = first.body!.getReader();
    const hello = new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const id = /^id: (\w+)$/m.exec(hello)?.[1];
    expect(hello).toMatch(/^retry: 1000$/m);
    expect(id).toBeDefined();

    await hub.createShare("new-share");

    const again = await hub.app.request("/events", { headers: { cookie, "last-event-id": id! } });
    const next = again.body!.getReader();
    let seen = "";
    while (!/event: change/.test(seen)) seen += new TextDecoder().decode((await next.read()).value);
    await next.cancel();
  });

  test("a stream ends after the longest long-poll, so the browser reconnects (and Workers stay in budget)", async () => {
    await hub.close();
    hub = await createTestHub({ limits: { maxWaitSeconds: 1 } });
    const cookie = await logIn();
    const response = await hub.app.request("/events", { headers: { cookie } });
    const text = await response.text();
    expect(text).toContain("event: hello");
  });
});
