// A device token is good for one request: replays are refused on every hub process sharing the database.
import { afterEach, beforeEach, expect, test } from "vitest";
import { expectError } from "../../test/support/security-cases.ts";
import { createTestHub, type TestDevice, type TestHub } from "../../test/support/test-hub-context.ts";

let hub: TestHub;
let second: TestHub;
let device: TestDevice;
beforeEach(async () => {
  hub = await createTestHub();
  second = await createTestHub({ sameDatabaseAs: hub });
  device = await hub.enroll();
});
afterEach(async () => {
  await second.close();
  await hub.close();
});

test("refuses a token replayed against a second hub process over the same database", async () => {
  const authorization = await hub.deviceAuthorization(device, { method: "GET", path: "/v1/config" });
  const first = await hub.request("GET", "/v1/config", undefined, { headers: { authorization } });
  expect(first.status).toBe(200);
  const replay = await second.request("GET", "/v1/config", undefined, { headers: { authorization } });
  await expectError(replay, 401, "unauthenticated", /^device token was already used \(replayed\?\)$/);
});

test("accepts a fresh token for every request, on either hub process", async () => {
  for (const target of [hub, second, hub, second]) {
    const response = await target.deviceFetch(device, "GET", "/v1/config");
    expect(response.status).toBe(200);
  }
});

test("a token signed for GET /v1/config cannot be used to read blocks", async () => {
  const authorization = await hub.deviceAuthorization(device, { method: "GET", path: "/v1/config" });
  const response = await hub.request("GET", `/v1/blocks?hashes=${"0".repeat(64)}`, undefined, {
    headers: { authorization },
  });
  await expectError(
    response,
    401,
    "unauthenticated",
    /^device token is bound to another request: expected GET \/v1\/blocks, got GET \/v1\/config$/,
  );
});
