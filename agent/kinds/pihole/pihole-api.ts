// One authenticated run against the local Pi-hole's API: login, requests with the session id, logout, reaping.
import { readFile } from "node:fs/promises";
import { FleetsyncError } from "../../../shared/errors/fleetsync-error.ts";
import { type HubResponse, isStaleConnection } from "../../hub/hub-fetch.ts";
import { nodeHttpFetch } from "../../hub/node-http-fetch.ts";

export type PiholeCredential = { password?: string; passwordFile?: string; shareName: string };

export type PiholeRequest = {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path below /api, e.g. "/groups" or "/lists?type=block". */
  path: string;
  body?: unknown;
  /** Milliseconds; 0 for none (gravity). */
  timeoutMs?: number;
  /** Return the body as text instead of JSON (gravity's transcript). */
  asText?: boolean;
  /** Return the body as bytes (a Teleporter archive). */
  asBytes?: boolean;
};

export type PiholeApi = {
  readonly url: string;
  /** Sends one request in this run's session; throws a FleetsyncError saying what FTL refused and why. */
  request<T = unknown>(request: PiholeRequest): Promise<T>;
  /** Ends the session (a no-op for a Pi-hole without a password). Never throws. */
  close(): Promise<void>;
};

export const PIHOLE_USER_AGENT = "fleetsync-agent (pihole share)";
const RETRY_DELAYS_MS = [250, 1000, 2500];
const DATABASE_WAIT_MS = 30_000;
const LOGOUT_ATTEMPTS = 20;

/** FTL refused a request because gravity.db is closed for a moment (reload, gravity swap, start). */
class DatabaseBusyError extends FleetsyncError {
  constructor(message: string) {
    super("unavailable", message, { retryable: true });
  }
}

type FtlError = { error?: { key?: string; message?: string; hint?: string | null } };
type AuthBody = { session?: { valid?: boolean; sid?: string | null; message?: string | null } } & FtlError;

function describeCredential(credential: PiholeCredential): string {
  if (credential.passwordFile) return `the password in ${credential.passwordFile}`;
  if (credential.password)
    return `the password in agent.yaml (shares.${credential.shareName}.pihole.password)`;
  return "no password (none is configured for this share)";
}

async function readPassword(credential: PiholeCredential, url: string): Promise<string | undefined> {
  if (credential.password) return credential.password;
  if (!credential.passwordFile) return undefined;
  try {
    return (await readFile(credential.passwordFile, "utf8")).trim();
  } catch (error) {
    throw new FleetsyncError(
      "invalid",
      `cannot read the password file ${credential.passwordFile} for the Pi-hole at ${url} (${(error as Error).message}); create it with the web or app password, readable by the agent`,
      { cause: error, retryable: false },
    );
  }
}

function ftlReason(body: FtlError | undefined, status: number): string {
  const e = body?.error;
  if (!e) return `HTTP ${status}`;
  return `${e.message ?? e.key ?? `HTTP ${status}`}${e.hint ? ` (${e.hint})` : ""}`;
}

/** The innermost error code of a failed fetch (ECONNREFUSED, UND_ERR_SOCKET, TimeoutError …). */
function causeCode(error: unknown): string {
  let node = error as { cause?: unknown; code?: string; name?: string; errors?: unknown[] } | undefined;
  let code = (error as Error).name === "TimeoutError" ? "timed out" : (error as Error).message;
  for (let depth = 0; node && depth < 5; depth++) {
    if (node.name === "TimeoutError") return "timed out";
    if (typeof node.code === "string") code = node.code;
    else if (depth > 0 && (node as Error).message) code = (node as Error).message;
    node = (node.cause ?? node.errors?.[0]) as typeof node;
  }
  return code;
}

async function send(
  url: string,
  request: PiholeRequest,
  sid: string | undefined,
  userAgent = PIHOLE_USER_AGENT,
): Promise<{ status: number; text: string; bytes: Uint8Array }> {
  const headers: Record<string, string> = { "User-Agent": userAgent, Accept: "application/json" };
  if (sid) headers.sid = sid;
  if (request.body !== undefined) headers["Content-Type"] = "application/json";
  if (request.asText) headers.Connection = "close";
  const timeoutMs = request.timeoutMs ?? 20_000;
  let response: HubResponse;
  const target = new URL(`${url}/api${request.path}`);
  const init = {
    method: request.method,
    headers,
    ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
    ...(timeoutMs > 0 ? { signal: AbortSignal.timeout(timeoutMs) } : {}),
  };
  try {
    // node:http, as the hub client: fetch would load undici (~11 MiB of the agent's RSS) for a few local calls.
    // A kept connection FTL closed meanwhile is no sign of FTL down: the request goes once more on a fresh one.
    response = await nodeHttpFetch(target, init).catch((error: unknown) => {
      if (isStaleConnection(error)) return nodeHttpFetch(target, init);
      throw error;
    });
  } catch (error) {
    const cause = causeCode(error);
    throw new FleetsyncError(
      "unavailable",
      `Pi-hole at ${url} is not answering ${request.method} /api${request.path} (${cause}); is pihole-FTL running? retrying later`,
      { cause: error, retryable: true },
    );
  }
  if (request.asBytes) return { status: response.status, text: "", bytes: await readBytes(response) };
  return { status: response.status, text: await response.text(), bytes: new Uint8Array() };
}

async function readBytes(response: HubResponse): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const body = response.body;
  if (body && "getReader" in body) {
    const reader = body.getReader();
    for (let part = await reader.read(); !part.done; part = await reader.read()) chunks.push(part.value);
  } else if (body) for await (const part of body) chunks.push(part);
  return Buffer.concat(chunks);
}

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** Logs in (retrying a full seat table or rate limit with backoff), reaps this agent's stale sessions. */
export async function openPiholeApi(options: {
  url: string;
  credential: PiholeCredential;
  /** Who this client says it is; its own stale sessions (by this name) are reaped. The agent's by default. */
  userAgent?: string;
}): Promise<PiholeApi> {
  const { url, credential } = options;
  const userAgent = options.userAgent ?? PIHOLE_USER_AGENT;
  const password = await readPassword(credential, url);
  let sid: string | undefined;
  for (let attempt = 0; ; attempt++) {
    const login = await send(
      url,
      { method: "POST", path: "/auth", body: { password: password ?? "" } },
      undefined,
      userAgent,
    );
    const body = parseJson<AuthBody>(login.text);
    if (login.status === 200 && body?.session?.valid) {
      sid = body.session.sid ?? undefined;
      break;
    }
    if (login.status === 404) {
      throw new FleetsyncError(
        "invalid",
        `Pi-hole at ${url} has no /api/auth: it is older than Pi-hole v6 (FTL 6.0 or newer is required; upgrade it with "pihole -up")`,
        { retryable: false },
      );
    }
    if (login.status === 401) {
      throw new FleetsyncError(
        "unauthenticated",
        password
          ? `Pi-hole at ${url} rejected ${describeCredential(credential)}; put its web password or an app password there`
          : `Pi-hole at ${url} requires a password and ${describeCredential(credential)}; set passwordFile for share "${credential.shareName}"`,
        { retryable: false },
      );
    }
    if (login.status === 429 && attempt < RETRY_DELAYS_MS.length) {
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAYS_MS[attempt]));
      continue;
    }
    if (login.status === 429) {
      const seats = body?.error?.key === "api_seats_exceeded";
      throw new FleetsyncError(
        "rate_limited",
        seats
          ? `Pi-hole at ${url} has no free API seat (all webserver.api.max_sessions are held by other clients); retrying later — log out other clients or raise webserver.api.max_sessions`
          : `Pi-hole at ${url} is rate-limiting logins (${ftlReason(body, 429)}); retrying later`,
        { retryable: true },
      );
    }
    throw new FleetsyncError(
      "unavailable",
      `Pi-hole at ${url} refused the login: ${ftlReason(body, login.status)}`,
      {
        retryable: login.status >= 500,
      },
    );
  }

  const api: PiholeApi = {
    url,
    async request<T>(request: PiholeRequest): Promise<T> {
      // FTL closes gravity.db for a moment whenever it reloads it (after every list or domain write, after gravity):
      // a request refused with database_error was not carried out, so it is sent again until the database is back.
      // FTL may restart meanwhile (our restartdns below, its own restart after a config change, another client's):
      // once waiting for the database, connection failures are part of that wait, not a failure of the request.
      let deadline = Date.now() + DATABASE_WAIT_MS;
      let hasRestartedDns = false;
      let isWaitingForDatabase = false;
      for (;;) {
        try {
          return await requestOnce<T>(request);
        } catch (error) {
          if (error instanceof DatabaseBusyError) isWaitingForDatabase = true;
          const isRestarting =
            isWaitingForDatabase && error instanceof FleetsyncError && error.code === "unavailable";
          if (!(error instanceof DatabaseBusyError) && !isRestarting) throw error;
          if (Date.now() > deadline) {
            // A DNS query that lands while gravity rebuilds its tables ("no such table: main.gravity"), or a reload
            // that meets another connection's write lock (FTL gives gravity.db no busy timeout), leaves FTL without
            // its gravity database until something reloads it — blocking is broken meanwhile. Restarting FTL's DNS
            // is the one reload the API offers; done once, and only after the database stayed away. FTL may go
            // down before its answer leaves: no answer is the restart, not a refusal.
            if (hasRestartedDns) throw error;
            hasRestartedDns = true;
            await requestOnce({ method: "POST", path: "/action/restartdns", timeoutMs: 10_000 }).catch(
              (refusal) => {
                if (!(refusal instanceof FleetsyncError && refusal.code === "unavailable")) throw error;
              },
            );
            deadline = Date.now() + DATABASE_WAIT_MS;
          }
          await new Promise((resolve) => setTimeout(resolve, hasRestartedDns ? 300 : 100));
        }
      }
    },
    async close(): Promise<void> {
      if (!sid) return;
      const current = sid;
      sid = undefined;
      // FTL restores sessions after a restart: a logout lost to a restart window would leave a seat taken.
      for (let attempt = 0; attempt < LOGOUT_ATTEMPTS; attempt++) {
        const answered = await send(
          url,
          { method: "DELETE", path: "/auth", timeoutMs: 5000 },
          current,
          userAgent,
        ).then(
          () => true,
          () => false,
        );
        if (answered) return;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    },
  };
  async function requestOnce<T>(request: PiholeRequest): Promise<T> {
    const { status, text, bytes } = await send(url, request, sid, userAgent);
    if (status === 401) {
      throw new FleetsyncError(
        "unauthenticated",
        `Pi-hole at ${url} ended this agent's session during ${request.method} /api${request.path}; logging in again on the next run`,
        { retryable: true },
      );
    }
    if (status >= 400) {
      const body = parseJson<FtlError>(text || new TextDecoder().decode(bytes));
      const reason = ftlReason(body, status);
      if (body?.error?.key === "database_error")
        throw new DatabaseBusyError(
          `Pi-hole at ${url} cannot reach its database for ${request.method} /api${request.path} (${reason}); FTL is probably starting or running gravity; retrying later`,
        );
      const hint =
        status === 403
          ? "; an app password needs webserver.api.app_sudo = true to change config keys"
          : status >= 500
            ? "; retrying later"
            : "";
      throw new FleetsyncError(
        status === 403 ? "forbidden" : status >= 500 ? "unavailable" : "invalid",
        `Pi-hole at ${url} refused ${request.method} /api${request.path}: ${reason}${hint}`,
        { retryable: status >= 500 },
      );
    }
    if (request.asBytes) return bytes as T;
    if (request.asText) return text as T;
    if (text === "") return undefined as T;
    const parsed = parseJson<T>(text);
    if (parsed === undefined)
      throw new FleetsyncError(
        "unavailable",
        `Pi-hole at ${url} answered ${request.method} /api${request.path} with a body that is not JSON`,
        { retryable: true },
      );
    return parsed;
  }
  if (sid) await reapOwnSessions(api, userAgent);
  return api;
}

type SessionRow = { id: number; current_session: boolean; user_agent: string | null };

/** Deletes this agent's sessions other than the current one (left by a crash or a killed run). */
async function reapOwnSessions(api: PiholeApi, userAgent: string): Promise<void> {
  try {
    const { sessions } = await api.request<{ sessions: SessionRow[] }>({
      method: "GET",
      path: "/auth/sessions",
    });
    for (const s of sessions) {
      if (s.current_session || s.user_agent !== userAgent) continue;
      await api.request({ method: "DELETE", path: `/auth/session/${s.id}` });
    }
  } catch {
    // Reaping is housekeeping: an app password without rights to list sessions must not stop the sync.
  }
}

/** Runs `work` in one session that is always logged out, also when `work` throws. */
export async function withPiholeApi<T>(
  options: { url: string; credential: PiholeCredential; userAgent?: string },
  work: (api: PiholeApi) => Promise<T>,
): Promise<T> {
  const api = await openPiholeApi(options);
  try {
    return await work(api);
  } finally {
    await api.close();
  }
}
