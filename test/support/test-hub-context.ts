// Test support: the hub app in process (createApp over a real libSQL file in a temp dir), a settable clock and request helpers.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drizzle } from "drizzle-orm/libsql";
import type { Context } from "hono";
import { type CryptoKey, exportJWK, generateKeyPair, type JWK } from "jose";
import { createInProcessNotifier } from "../../hub/adapters/in-process-notifier.ts";
import { silentLogger } from "../../hub/adapters/json-logger.ts";
import { createWindowRateLimiter } from "../../hub/adapters/window-rate-limiter.ts";
import { buildHubContext, ENROL_ATTEMPTS_PER_MINUTE } from "../../hub/build-hub-context.ts";
import type { Database } from "../../hub/db/database.ts";
import { openLibsql } from "../../hub/db/open-libsql.ts";
import * as schema from "../../hub/db/schema.ts";
import { createApp } from "../../hub/http/create-app.ts";
import type { HealthPort } from "../../hub/ports/health.ts";
import type { Logger } from "../../hub/ports/logger.ts";
import type { Notifier } from "../../hub/ports/notifier.ts";
import type { HubLimits } from "../../hub/services/hub-context.ts";
import { signDeviceJwt } from "../../shared/auth/device-jwt.ts";
import { BLOCKS_CONTENT_TYPE, encodeBlockFrames } from "../../shared/blocks/block-frames.ts";
import { MIN_BLOCK_BYTES } from "../../shared/blocks/block-size.ts";
import { contentHash } from "../../shared/blocks/content-hash.ts";
import { sha256Hex } from "../../shared/blocks/hex.ts";
import type { EnrollResponse } from "../../shared/protocol/messages.ts";
import type { ShareGrant } from "../../shared/protocol/shares.ts";

/** A documentation address (RFC 5737): where every test request comes from unless a test says otherwise. */
export const TEST_CLIENT_ADDRESS = "203.0.113.9";
/** The fixed moment a test hub's clock starts at: 2025-01-15T12:00:00Z. */
export const TEST_START_MS = Date.UTC(2025, 0, 15, 12, 0, 0);
/** The share `enroll()` grants when a test does not bring its own token. */
export const LOBBY_SHARE = "lobby";

export type TestHubOptions = {
  limits?: Partial<HubLimits>;
  /** Enrolment attempts one address may make per minute (the Node hub allows 20). */
  enrolAttemptsPerMinute?: number;
  clientAddress?: (c: Context) => string;
  log?: Logger;
  /** The hub's health port (default: always healthy). */
  health?: HealthPort;
  startMs?: number;
  /** Sees every SQL statement the hub runs (each statement of a batch too), e.g. to count a request's queries. */
  onQuery?: (sql: string, params: unknown[]) => void;
  /** Open the database file of this hub instead of a new one: a second hub process over one database. */
  sameDatabaseAs?: { dir: string; adminToken: string; clock: TestClock };
};

/** The hub's clock: stands still unless a test moves it. */
export type TestClock = { now: () => number; set: (ms: number) => void; advance: (ms: number) => void };

export type TestDevice = {
  deviceId: string;
  name: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  /** The hub's full answer to the enrolment (hub id, JWKS to pin, shares). */
  enrolment: EnrollResponse;
};

/** A JSON-serializable value, a string sent as is (JSON content type), or bytes sent as a block batch. */
export type RequestBody = unknown;
export type RequestOptions = { headers?: Record<string, string>; signal?: AbortSignal };

export type TestHub = Awaited<ReturnType<typeof createTestHub>>;

export async function createTestHub(options: TestHubOptions = {}) {
  const shared = options.sameDatabaseAs;
  const dir = shared?.dir ?? (await mkdtemp(join(tmpdir(), "fleetsync-hub-test-")));
  const opened = await openLibsql(`file:${join(dir, "hub.db")}`);
  const clock = shared?.clock ?? createTestClock(options.startMs ?? TEST_START_MS);
  const notifier = countWaits(createInProcessNotifier());
  const onQuery = options.onQuery;
  const db = onQuery
    ? (drizzle(opened.client, {
        schema,
        logger: { logQuery: (query, params) => onQuery(query, params) },
      }) as Database)
    : opened.db;
  const { ctx, newAdminToken } = await buildHubContext({
    db,
    // As the Node hub records jtis (a test counting queries sees them all on one connection, as on D1).
    ...(!onQuery && opened.replayDb ? { replayDb: opened.replayDb } : {}),
    log: options.log ?? silentLogger,
    storageLabel: dir,
    now: clock.now,
    ...(options.limits ? { limits: options.limits } : {}),
    notifier,
    enrolLimiter: createWindowRateLimiter(
      options.enrolAttemptsPerMinute ?? ENROL_ATTEMPTS_PER_MINUTE,
      60_000,
    ),
    ...(options.health ? { health: options.health } : {}),
  });
  const identity = ctx.identity;
  const adminToken = shared?.adminToken ?? newAdminToken;
  if (!adminToken) throw new Error("a fresh test database should have produced an admin token");
  const app = createApp(ctx, { clientAddress: options.clientAddress ?? (() => TEST_CLIENT_ADDRESS) });
  let lobbyCreated = false;
  let closed = false;

  async function request(
    method: string,
    path: string,
    body?: RequestBody,
    init: RequestOptions = {},
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    let payload: BodyInit | undefined;
    if (body instanceof Uint8Array) {
      headers["content-type"] = BLOCKS_CONTENT_TYPE;
      payload = body as Uint8Array<ArrayBuffer>;
      headers["content-length"] = String(body.length);
    } else if (body !== undefined) {
      headers["content-type"] = "application/json";
      payload = typeof body === "string" ? body : JSON.stringify(body);
      // What a real HTTP client sends; the body limit trusts it before reading.
      headers["content-length"] = String(new TextEncoder().encode(payload).length);
    }
    return app.request(path, {
      method,
      headers: { ...headers, ...init.headers },
      body: payload,
      ...(init.signal ? { signal: init.signal } : {}),
    });
  }

  function admin(method: string, path: string, body?: RequestBody, init: RequestOptions = {}) {
    return request(method, path, body, {
      ...init,
      headers: { authorization: `Bearer ${adminToken}`, ...init.headers },
    });
  }

  /** An admin call that must succeed; returns its JSON body. */
  async function adminJson<T = Record<string, unknown>>(method: string, path: string, body?: RequestBody) {
    const response = await admin(method, path, body);
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${text}`);
    return JSON.parse(text) as T;
  }

  async function createShare(name: string, policy: { deletes?: string; kind?: string } = {}) {
    return adminJson("POST", "/v1/admin/shares", { name, ...policy });
  }

  /** An enrolment token for these grants (admin API); `ttl` as the CLI takes it. */
  async function mintToken(shares: ShareGrant[], ttl = "1h") {
    return (await adminJson<{ token: string; jti: string }>("POST", "/v1/admin/tokens", { shares, ttl }))
      .token;
  }

  async function newDeviceKey() {
    const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    return { privateKey, publicJwk: await exportJWK(publicKey) };
  }

  /** POST /v1/enroll with a fresh key pair; the raw response, and the key that went with it. */
  async function enrollRequest(token: string, name = "device", init: RequestOptions = {}) {
    const key = await newDeviceKey();
    const response = await request("POST", "/v1/enroll", { token, name, publicKey: key.publicJwk }, init);
    return { response, ...key };
  }

  /** Enrolls a device that must succeed. Without a token, it joins share "lobby" as a replica. */
  async function enroll(token?: string, name = `device-${crypto.randomUUID().slice(0, 8)}`) {
    let effectiveToken = token;
    if (effectiveToken === undefined) {
      if (!lobbyCreated) {
        await createShare(LOBBY_SHARE);
        lobbyCreated = true;
      }
      effectiveToken = await mintToken([{ name: LOBBY_SHARE, role: "replica" }]);
    }
    const { response, privateKey, publicJwk } = await enrollRequest(effectiveToken, name);
    const text = await response.text();
    if (response.status !== 201) throw new Error(`enrolment failed: ${response.status} ${text}`);
    const enrolment = JSON.parse(text) as EnrollResponse;
    const device: TestDevice = { deviceId: enrolment.deviceId, name, privateKey, publicJwk, enrolment };
    return device;
  }

  /** A valid `Authorization` value for `device` and one request (method and path; a query is ignored), signed now. */
  async function deviceAuthorization(
    device: Pick<TestDevice, "deviceId" | "privateKey">,
    target: { method: string; path: string },
  ) {
    const jwt = await signDeviceJwt(device.privateKey, {
      deviceId: device.deviceId,
      hubId: identity.hubId,
      nowSeconds: Math.floor(clock.now() / 1000),
      method: target.method,
      path: requestPath(target.path),
    });
    return `Bearer ${jwt}`;
  }

  /** A device request with a freshly signed device JWT. */
  async function deviceFetch(
    device: Pick<TestDevice, "deviceId" | "privateKey">,
    method: string,
    path: string,
    body?: RequestBody,
    init: RequestOptions = {},
  ) {
    return request(method, path, body, {
      ...init,
      headers: { authorization: await deviceAuthorization(device, { method, path }), ...init.headers },
    });
  }

  /**
   * A small file (one block) committed to `share` by a source or peer: report, upload the block, report again.
   * Returns the committed entry and its block's hash.
   */
  async function commitFile(
    device: Pick<TestDevice, "deviceId" | "privateKey">,
    share: string,
    path: string,
    content: string | Uint8Array,
  ) {
    const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
    const blockHash = await sha256Hex(bytes);
    const blocks = bytes.length === 0 ? [] : [blockHash];
    const entry = {
      path,
      type: "file" as const,
      size: bytes.length,
      mode: 0o644,
      mtimeMs: 1_700_000_000_000,
      blockSize: MIN_BLOCK_BYTES,
      blocks,
      hash: await contentHash(bytes.length, MIN_BLOCK_BYTES, blocks),
    };
    const reportPath = `/v1/shares/${share}/reports`;
    await deviceFetch(device, "POST", reportPath, { entries: [entry] });
    if (blocks.length > 0) {
      const frames = encodeBlockFrames([{ hash: blockHash, bytes }]);
      const uploaded = await deviceFetch(device, "POST", "/v1/blocks", frames);
      if (uploaded.status !== 200)
        throw new Error(`upload failed: ${uploaded.status} ${await uploaded.text()}`);
    }
    const committed = await deviceFetch(device, "POST", reportPath, { entries: [entry] });
    const text = await committed.text();
    if (committed.status !== 200 || !text.includes('"accepted"'))
      throw new Error(`commit failed: ${committed.status} ${text}`);
    return { entry, blockHash, bytes };
  }

  /**
   * Every row of every table, as text: equal before and after a refused request means it changed nothing.
   * Leaves out device_jtis: an authenticated request records its token there even when the route refuses it.
   */
  async function digest(): Promise<string> {
    const tables = await opened.client.execute(
      "select name from sqlite_master where type = 'table' and name not like '\\_\\_%' escape '\\' and name not like 'sqlite_%' and name <> 'device_jtis' order by name",
    );
    const parts: string[] = [];
    for (const { name } of tables.rows) {
      const rows = await opened.client.execute(`select * from "${String(name)}" order by rowid`);
      parts.push(
        `${String(name)}: ${JSON.stringify(rows.rows, (_key, value) =>
          value instanceof ArrayBuffer ? `<${value.byteLength} bytes>` : value,
        )}`,
      );
    }
    return parts.join("\n");
  }

  async function close() {
    if (closed) return;
    closed = true;
    opened.close();
    // The hub that created the directory removes it (close it last).
    if (!shared) await rm(dir, { recursive: true, force: true });
  }

  return {
    app,
    ctx,
    clock,
    dir,
    client: opened.client,
    hubId: identity.hubId,
    adminToken,
    /** Long-polls currently parked in the notifier (so a test can act once one is really waiting). */
    pendingWaits: () => notifier.pending,
    request,
    admin,
    adminJson,
    createShare,
    mintToken,
    newDeviceKey,
    enrollRequest,
    enroll,
    deviceAuthorization,
    deviceFetch,
    commitFile,
    digest,
    close,
  };
}

/** The path of a request target, without its query (what a device token's `htu` claim names). */
export function requestPath(target: string): string {
  return new URL(target, "http://hub.test").pathname;
}

export function createTestClock(startMs: number): TestClock {
  let nowMs = startMs;
  return {
    now: () => nowMs,
    set: (ms) => {
      nowMs = ms;
    },
    advance: (ms) => {
      nowMs += ms;
    },
  };
}

/** The real in-process notifier, counting the waits in progress. */
function countWaits(inner: Notifier): Notifier & { readonly pending: number } {
  let pending = 0;
  return {
    get pending() {
      return pending;
    },
    notify: (share) => inner.notify(share),
    async wait(shares, timeoutMs, signal) {
      pending++;
      try {
        await inner.wait(shares, timeoutMs, signal);
      } finally {
        pending--;
      }
    },
  };
}
