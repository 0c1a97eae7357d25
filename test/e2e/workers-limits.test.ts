// Workers limits at their edges, under real workerd: a 5,000-entry report (100 bound parameters per D1 query) commits whole; enrolments are counted in a Durable Object.
import { rm } from "node:fs/promises";
import { exportJWK, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { signDeviceJwt } from "../../shared/auth/device-jwt.ts";
import { MIN_BLOCK_BYTES } from "../../shared/blocks/block-size.ts";
import { contentHash } from "../../shared/blocks/content-hash.ts";
import { EnrollResponseSchema, MAX_ENTRIES_PER_REPORT } from "../../shared/protocol/messages.ts";
import {
  adminCall,
  createShare,
  mintToken,
  runCli,
  startHubProcess,
  type TestHub,
} from "../support/fleet.ts";

let hub: TestHub | undefined;
beforeAll(async () => {
  hub = await startHubProcess(undefined, {}, 0, "workers");
}, 300_000);
afterAll(async () => {
  await hub?.stop();
  if (hub) await rm(hub.dataDir, { recursive: true, force: true });
}, 60_000);

async function enrollSource(share: string) {
  const token = await mintToken(hub!, [{ name: share, role: "source" }]);
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
  const { kty, crv, x } = await exportJWK(publicKey);
  const response = await fetch(`${hub!.url}/v1/enroll`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token, publicKey: { kty, crv, x }, name: `source-${share}` }),
  });
  expect(response.status).toBe(201);
  const device = EnrollResponseSchema.parse(await response.json());
  return {
    async report(entries: unknown[], timeoutMs = 120_000) {
      const path = `/v1/shares/${share}/reports`;
      const jwt = await signDeviceJwt(privateKey, {
        deviceId: device.deviceId,
        hubId: device.hubId,
        nowSeconds: Math.floor(Date.now() / 1000),
        method: "POST",
        path,
      });
      const answer = await fetch(`${hub!.url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
        body: JSON.stringify({ entries }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
    },
  };
}

/** `n` empty files: no blocks to upload, so the report commits in one request. */
async function emptyFiles(n: number, prefix: string) {
  const hash = await contentHash(0, MIN_BLOCK_BYTES, []);
  return Array.from({ length: n }, (_, i) => ({
    path: `${prefix}/file-${String(i).padStart(5, "0")}.txt`,
    type: "file",
    size: 0,
    mode: 0o644,
    mtimeMs: 1_700_000_000_000 + i,
    blockSize: MIN_BLOCK_BYTES,
    blocks: [],
    hash,
  }));
}

describe("the Workers hub at D1's limits", () => {
  test("a 5,000-entry report commits whole: every entry gets a sequence and the head moves by exactly 5,000", async () => {
    await createShare(hub!, "big");
    const source = await enrollSource("big");
    const entries = [{ path: "dir", type: "dir", mode: 0o755, mtimeMs: 1_700_000_000_000 }];
    entries.push(...((await emptyFiles(MAX_ENTRIES_PER_REPORT - 1, "dir")) as typeof entries));
    // An agent whose answer is lost resends the report; the resent report must not move the head again.
    const answer = await source.report(entries).catch(async (error: unknown) => {
      console.warn(
        `the report's answer was lost (${String(error)}); resending it\n${hub!.output().slice(-4000)}`,
      );
      return undefined;
    });
    if (answer) {
      expect(answer).toEqual({
        status: 200,
        body: { status: "accepted", accepted: MAX_ENTRIES_PER_REPORT, head: MAX_ENTRIES_PER_REPORT },
      });
    } else {
      const again = await source.report(entries);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ status: "accepted", head: MAX_ENTRIES_PER_REPORT });
    }
    const shown = await adminCall(hub!, "GET", "/v1/admin/shares/big");
    expect(JSON.stringify(shown)).toContain(`"head":${MAX_ENTRIES_PER_REPORT}`);
  }, 300_000);

  test("a 5,000-entry report with one impossible entry at its end commits none of them", async () => {
    await createShare(hub!, "refused");
    const source = await enrollSource("refused");
    const files: Record<string, unknown>[] = await emptyFiles(MAX_ENTRIES_PER_REPORT - 2, "top");
    // A file under a path the same report makes a file: no tree can hold both.
    const impossible = { ...files[0]!, path: "top/file-00000.txt/inside.txt" };
    const entries = [{ path: "top", type: "dir", mode: 0o755, mtimeMs: 1 }, ...files, impossible];
    expect(entries).toHaveLength(MAX_ENTRIES_PER_REPORT);
    const answer = await source.report(entries);
    expect(answer.status).toBe(422);
    expect(JSON.stringify(answer.body)).toContain("top/file-00000.txt/inside.txt");
    const shown = await adminCall(hub!, "GET", "/v1/admin/shares/refused");
    expect(JSON.stringify(shown)).toContain('"head":0');
  }, 300_000);

  test("the admin CLI finds the Workers hub and its token through --data, as it does the Node hub", async () => {
    const listed = await runCli(["share", "list", "--data", hub!.dataDir]);
    expect(listed.code).toBe(0);
    expect(listed.output).toContain("big");
    expect(listed.output).toContain("refused");
  });

  test("a restart on the same --data keeps the D1 state and the admin token, and prints no new token", async () => {
    const dataDir = hub!.dataDir;
    const token = hub!.adminToken;
    await hub!.stop();
    hub = await startHubProcess(dataDir, {}, 0, "workers");
    expect(hub.adminToken).toBe(token);
    expect(hub.output()).not.toContain("admin token (shown once");
    const shown = await adminCall(hub, "GET", "/v1/admin/shares/big");
    expect(JSON.stringify(shown)).toContain(`"head":${MAX_ENTRIES_PER_REPORT}`);
  }, 300_000);

  // Last in the file: it spends this address's enrolment attempts for the next minute.
  test("enrolment attempts are counted in a Durable Object: the 21st in a minute from one address gets 429 with Retry-After", async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 25; i++) {
      const response = await fetch(`${hub!.url}/v1/enroll`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token: "not-a-token", publicKey: { kty: "OKP", crv: "Ed25519", x: "AAAA" } }),
      });
      statuses.push(response.status);
      if (response.status === 429) retryAfter ??= response.headers.get("retry-after");
      await response.body?.cancel();
    }
    // Earlier tests in this file enrolled from the same address; at most 20 attempts in all were let through.
    expect(statuses.filter((s) => s !== 429).length).toBeLessThanOrEqual(20);
    expect(statuses.at(-1)).toBe(429);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });
});
