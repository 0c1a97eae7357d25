// The wake-socket route's refusals: no token, no upgrade, not a member — each answered before any socket reaches a Durable Object.
import { afterEach, beforeEach, expect, test } from "vitest";
import { expectError } from "../../test/support/security-cases.ts";
import { createTestHub, type TestDevice, type TestHub } from "../../test/support/test-hub-context.ts";
import { silentLogger } from "../adapters/json-logger.ts";
import { createDurableObjectNotifier, DEVICE_HEADER } from "./share-wakeups.ts";
import { wakeSocketRoutes } from "./wake-socket-routes.ts";

let hub: TestHub;
let replica: TestDevice;
let handedOver: { share: string; device: string | null; authorization: string | null }[];
beforeEach(async () => {
  hub = await createTestHub();
  handedOver = [];
  // The namespace records which share's object a socket would reach; workerd's answer is a 101 we cannot make here.
  const namespace = {
    idFromName: (name: string) => name,
    get: (id: never) => ({
      fetch: async (input: string | Request) => {
        const headers = (input as Request).headers;
        handedOver.push({
          share: String(id),
          device: headers.get(DEVICE_HEADER),
          authorization: headers.get("authorization"),
        });
        return new Response("handed over", { status: 200 });
      },
    }),
  };
  hub.app.route("/v1", wakeSocketRoutes(hub.ctx, createDurableObjectNotifier(namespace, silentLogger)));
  await hub.createShare("docs");
  await hub.createShare("other");
  replica = await hub.enroll(await hub.mintToken([{ name: "docs", role: "replica" }]), "replica");
});
afterEach(() => hub.close());

const upgrade = { upgrade: "websocket", connection: "Upgrade" };

test("a wake socket without a device token is refused with 401 and reaches no Durable Object", async () => {
  const response = await hub.request("GET", "/v1/shares/docs/wake", undefined, { headers: upgrade });
  await expectError(response, 401, "unauthenticated", /Authorization/);
  expect(handedOver).toEqual([]);
});

test("a plain GET of the wake route says to send an Upgrade (the device's token is checked once, not refused as replayed)", async () => {
  const response = await hub.deviceFetch(replica, "GET", "/v1/shares/docs/wake");
  await expectError(response, 400, "bad_request", /Upgrade: websocket.*wait=25/);
  expect(handedOver).toEqual([]);
});

test("a device's wake socket for a share it is not a member of is refused with 403", async () => {
  const response = await hub.deviceFetch(replica, "GET", "/v1/shares/other/wake", undefined, {
    headers: upgrade,
  });
  await expectError(response, 403, "forbidden", /not a member of share "other"/);
  expect(handedOver).toEqual([]);
});

test("a member's upgrade is handed to its own share's object, tagged with the authenticated device and without its token", async () => {
  const response = await hub.deviceFetch(replica, "GET", "/v1/shares/docs/wake", undefined, {
    headers: upgrade,
  });
  expect(await response.text()).toBe("handed over");
  expect(handedOver).toEqual([{ share: "docs", device: replica.deviceId, authorization: null }]);
});
