// One API session on a real Pi-hole, held for a whole bench run, so changes and tight polls cost no login each.
import type { FtlInstance } from "../../test/support/pihole.ts";

/** Distinct from the agent's user agent, so the agents never reap the bench's session as one of their own. */
const BENCH_USER_AGENT = "fleetsync-bench";

export type PiholeAnswer = { status: number; body: unknown };

export type PiholeSession = {
  /** One request below /api; a session FTL ended is logged in again once. Network errors reject. */
  request(method: string, path: string, body?: unknown): Promise<PiholeAnswer>;
  /** Like request, but retried while FTL's database is busy; anything else but 2xx is an error naming the call. */
  expectOk(method: string, path: string, body?: unknown): Promise<unknown>;
  /** API sessions this Pi-hole holds for clients other than the bench (the agents' ones, when any are left). */
  countOtherSessions(): Promise<number>;
  /** Logs out (never throws). */
  close(): Promise<void>;
};

function isDatabaseBusy(answer: PiholeAnswer): boolean {
  return (answer.body as { error?: { key?: string } } | undefined)?.error?.key === "database_error";
}

export async function openPiholeSession(ftl: FtlInstance): Promise<PiholeSession> {
  let sid: string | undefined;
  const login = async () => {
    if (!ftl.password) return;
    const answer = await fetch(`${ftl.url}/api/auth`, {
      method: "POST",
      headers: { "User-Agent": BENCH_USER_AGENT, "Content-Type": "application/json" },
      body: JSON.stringify({ password: ftl.password }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await answer.json().catch(() => ({}))) as { session?: { sid?: string } };
    sid = body.session?.sid;
    if (answer.status !== 200 || !sid)
      throw new Error(`Pi-hole at ${ftl.url} refused the bench's login: HTTP ${answer.status}`);
  };
  const send = async (method: string, path: string, body?: unknown): Promise<PiholeAnswer> => {
    const answer = await fetch(`${ftl.url}/api${path}`, {
      method,
      headers: {
        "User-Agent": BENCH_USER_AGENT,
        ...(sid ? { sid } : {}),
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await answer.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: answer.status, body: parsed };
  };
  await login();
  const session: PiholeSession = {
    async request(method, path, body) {
      const answer = await send(method, path, body);
      if (answer.status !== 401 || !ftl.password) return answer;
      await login();
      return send(method, path, body);
    },
    async expectOk(method, path, body) {
      let answer = await session.request(method, path, body);
      // FTL closes gravity.db for a moment after each write; a call refused meanwhile was not carried out.
      for (let attempt = 0; isDatabaseBusy(answer) && attempt < 50; attempt++) {
        await new Promise((ok) => setTimeout(ok, 100));
        answer = await session.request(method, path, body);
      }
      if (answer.status >= 300)
        throw new Error(`${method} ${ftl.url}/api${path} → ${answer.status} ${JSON.stringify(answer.body)}`);
      return answer.body;
    },
    async countOtherSessions() {
      const { sessions } = (await session.expectOk("GET", "/auth/sessions")) as {
        sessions: { user_agent: string | null }[];
      };
      return sessions.filter((s) => s.user_agent !== BENCH_USER_AGENT).length;
    },
    async close() {
      if (!sid) return;
      await fetch(`${ftl.url}/api/auth`, {
        method: "DELETE",
        headers: { "User-Agent": BENCH_USER_AGENT, sid },
        signal: AbortSignal.timeout(5000),
      }).catch(() => {});
      sid = undefined;
    },
  };
  return session;
}
