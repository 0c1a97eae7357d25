// A real hub process whose storage fails under it: a full disk answers 507, a deleted data dir stops it taking writes.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { exportJWK, generateKeyPair } from "jose";
import { afterEach, expect, test } from "vitest";
import { signDeviceJwt } from "../../shared/auth/device-jwt.ts";
import { encodeBlockFrames } from "../../shared/blocks/block-frames.ts";
import { sha256Hex } from "../../shared/blocks/hex.ts";
import { ErrorBodySchema } from "../../shared/errors/fleetsync-error.ts";
import {
  adminCall,
  createShare,
  makeTempDir,
  mintToken,
  ON_WORKERS_HUB,
  startHubProcess,
  type TestHub,
  waitFor,
} from "../support/fleet.ts";
import { canMountTmpfs, tryMount } from "../support/tmpfs.ts";

const canMount = await canMountTmpfs();

let hub: TestHub | undefined;
let mounted: string | undefined;
afterEach(async () => {
  await hub?.stop().catch(() => {});
  if (mounted) execFileSync("umount", ["-l", mounted]);
  hub = undefined;
  mounted = undefined;
});

/** Enrolls a source device over HTTP and returns a function making signed requests as it. */
async function enrollSource(running: TestHub, share: string) {
  const token = await mintToken(running, [{ name: share, role: "source" }]);
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
  const enrolled = await fetch(new URL("/v1/enroll", running.url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token, name: "source", publicKey: await exportJWK(publicKey) }),
  });
  expect(enrolled.status).toBe(201);
  const { deviceId, hubId } = (await enrolled.json()) as { deviceId: string; hubId: string };
  return async (method: string, path: string, body: Uint8Array) => {
    const jwt = await signDeviceJwt(privateKey, {
      deviceId,
      hubId,
      nowSeconds: Math.floor(Date.now() / 1000),
      method,
      path,
    });
    return fetch(new URL(path, running.url), {
      method,
      headers: { authorization: `Bearer ${jwt}`, "content-type": "application/octet-stream" },
      body: body as Uint8Array<ArrayBuffer>,
    });
  };
}

async function randomFrames(count: number, bytesEach: number) {
  return encodeBlockFrames(
    await Promise.all(
      Array.from({ length: count }, async () => {
        const bytes = new Uint8Array(randomBytes(bytesEach));
        return { hash: await sha256Hex(bytes), bytes };
      }),
    ),
  );
}

test.skipIf(!canMount)(
  "a full hub disk answers a block upload with 507 insufficient_storage naming DATA, and uploads work once there is room",
  async ({ skip }) => {
    skip(ON_WORKERS_HUB, "a full Node hub data dir (the file block store); Workers blocks go to R2");
    const dataDir = await makeTempDir("fleetsync-small-hub-");
    expect(tryMount(dataDir, "3m")).toBe(true);
    mounted = dataDir;
    hub = await startHubProcess(dataDir);
    await createShare(hub, "media");
    const send = await enrollSource(hub, "media");

    const response = await send("POST", "/v1/blocks", await randomFrames(48, 128 * 1024));
    const text = await response.text();
    expect({ status: response.status, text }).toMatchObject({ status: 507 });
    const body = ErrorBodySchema.parse(JSON.parse(text));
    expect(body.error.code).toBe("insufficient_storage");
    expect(body.error.message).toBe(`the hub is out of disk space (DATA=${dataDir}); free space on the hub`);
    expect(hub.output()).toMatch(/"level":"error","msg":"the hub is out of disk space/);

    execFileSync("mount", ["-o", "remount,size=64m", dataDir]);
    const again = await send("POST", "/v1/blocks", await randomFrames(48, 128 * 1024));
    expect(again.status, await again.clone().text()).toBe(200);
    expect(await again.json()).toEqual({ stored: 48, bytes: 48 * 128 * 1024 });
  },
  60_000,
);

test("a hub whose data dir is deleted fails /healthz and refuses every write with 503 until restarted", async ({
  skip,
}) => {
  skip(
    ON_WORKERS_HUB,
    "a Node hub's data dir deleted under it; the Workers hub keeps its state in D1 and R2",
  );
  hub = await startHubProcess();
  const running = hub;
  await createShare(running, "configs");
  const healthy = await fetch(new URL("/healthz", running.url));
  expect(healthy.status).toBe(200);

  await rm(running.dataDir, { recursive: true, force: true });

  const health = await waitFor(
    async () => {
      const response = await fetch(new URL("/healthz", running.url));
      return response.status === 503 ? response : undefined;
    },
    { timeoutMs: 10_000, what: "/healthz to fail" },
  );
  const problem = ErrorBodySchema.parse(await health.json()).error;
  expect(problem.code).toBe("unavailable");
  expect(problem.message).toMatch(
    new RegExp(
      `^the hub's data directory ${running.dataDir} was deleted .*; nothing more is accepted; restart the hub$`,
    ),
  );
  await expect(adminCall(running, "POST", "/v1/admin/shares", { name: "lost" })).rejects.toThrow(
    /→ 503 .*data directory .* was deleted/,
  );
  await expect(adminCall(running, "GET", "/v1/admin/shares")).rejects.toThrow(/→ 503/);
  expect(running.output()).toMatch(
    new RegExp(`"level":"error","msg":"data directory lost".*"data":"${running.dataDir}"`),
  );
});
