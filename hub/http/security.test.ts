// Every authenticated route refuses every bad credential from the shared table, and lets a good one through.
import { afterAll, beforeAll, describe } from "vitest";
import { encodeBlockFrames } from "../../shared/blocks/block-frames.ts";
import { sha256Hex } from "../../shared/blocks/hex.ts";
import { type RouteUnderTest, testAuthentication } from "../../test/support/security-cases.ts";
import { createTestHub, type TestHub } from "../../test/support/test-hub-context.ts";

const BLOCK = new TextEncoder().encode("a block every test may upload");
const BLOCK_HASH = await sha256Hex(BLOCK);

const DEVICE_ROUTES: RouteUnderTest[] = [
  { method: "GET", path: "/v1/config", okStatus: 200 },
  {
    method: "POST",
    path: "/v1/shares/docs/reports",
    body: { entries: [{ path: "notes", type: "dir", mode: 0o755 }] },
    okStatus: 200,
  },
  { method: "PUT", path: "/v1/shares/docs/cursor", body: { cursor: 0 }, okStatus: 200 },
  { method: "PUT", path: "/v1/shares/docs/status", body: { lastError: "root is missing" }, okStatus: 200 },
  {
    method: "POST",
    path: "/v1/blocks",
    body: encodeBlockFrames([{ hash: BLOCK_HASH, bytes: BLOCK }]),
    okStatus: 200,
  },
  { method: "GET", path: `/v1/blocks?hashes=${BLOCK_HASH}`, okStatus: 200 },
  { method: "GET", path: "/v1/shares/docs/wanted-blocks?wait=0", okStatus: 200 },
  { method: "GET", path: "/v1/instructions?wait=0", okStatus: 200 },
  {
    method: "POST",
    path: `/v1/instructions/${crypto.randomUUID()}/ack`,
    body: { reachedSeq: 0 },
    okStatus: 404,
  },
];

const ADMIN_ROUTES: RouteUnderTest[] = [
  { method: "GET", path: "/v1/admin/shares", okStatus: 200 },
  { method: "POST", path: "/v1/admin/shares", body: { name: "made-by-admin" }, okStatus: 201 },
  { method: "GET", path: "/v1/admin/shares/docs", okStatus: 200 },
  { method: "GET", path: "/v1/admin/devices", okStatus: 200 },
  { method: "POST", path: "/v1/admin/devices/dev_00000000000000000000/revoke", okStatus: 404 },
  { method: "PATCH", path: "/v1/admin/devices/dev_00000000000000000000", body: { name: "x" }, okStatus: 404 },
  { method: "DELETE", path: "/v1/admin/devices/dev_00000000000000000000", okStatus: 404 },
  { method: "DELETE", path: "/v1/admin/shares/no-such-share", okStatus: 404 },
  { method: "POST", path: "/v1/admin/shares/docs/confirm-delete", okStatus: 200 },
  { method: "GET", path: "/v1/admin/tokens", okStatus: 200 },
  {
    method: "POST",
    path: "/v1/admin/tokens",
    body: { shares: [{ name: "docs", role: "replica" }], ttl: "1h" },
    okStatus: 201,
  },
  { method: "POST", path: `/v1/admin/tokens/${crypto.randomUUID()}/revoke`, okStatus: 404 },
  { method: "POST", path: "/v1/admin/gc?graceSeconds=0", okStatus: 200 },
];

let hub: TestHub;
beforeAll(async () => {
  // Many enrolments from one address: the limit is not what these tests are about.
  hub = await createTestHub({ enrolAttemptsPerMinute: 10_000 });
  await hub.createShare("docs");
  // The block the download route asks for belongs to "docs", which every test device receives as a peer.
  const owner = await hub.enroll(await hub.mintToken([{ name: "docs", role: "peer" }]));
  await hub.commitFile(owner, "docs", "block-owner.txt", BLOCK);
});
afterAll(() => hub.close());

const suite = {
  hub: () => hub,
  newDevice: async (h: TestHub) => h.enroll(await h.mintToken([{ name: "docs", role: "peer" }])),
};

describe("device routes", () => {
  testAuthentication("device", DEVICE_ROUTES, suite);
});

describe("admin routes", () => {
  testAuthentication("admin", ADMIN_ROUTES, suite);
});
