// Delivering an alert: JSON or ntfy text, retried on 5xx and network failures, not on a 4xx.
import { afterEach, describe, expect, test } from "vitest";
import { startWebhookReceiver, type WebhookReceiver } from "../../test/support/webhook-receiver.ts";
import { alertMessage, deliverAlert, isNtfyUrl } from "./alert-delivery.ts";
import type { AlertEvent } from "./alert-plan.ts";

const event: AlertEvent = {
  what: "error",
  share: "docs",
  deviceId: "dev_pi",
  deviceName: "pi-kitchen",
  why: "big.bin: disk full (ENOSPC)",
  at: Date.UTC(2025, 0, 15, 12, 0, 0),
};
const noWait = async () => {};

let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

describe("alertMessage", () => {
  test("is JSON naming share, device id and name, what, why and when", () => {
    const message = alertMessage({ url: "https://hooks.example/x", alertId: "al_1", hubId: "hub-1", event });
    expect(message.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(message.body)).toEqual({
      what: "error",
      share: "docs",
      device: { id: "dev_pi", name: "pi-kitchen" },
      why: "big.bin: disk full (ENOSPC)",
      when: "2025-01-15T12:00:00.000Z",
      hubId: "hub-1",
      alertId: "al_1",
    });
  });

  test("is one plain-text line for an ntfy topic", () => {
    const message = alertMessage({ url: "https://ntfy.sh/my-fleet", alertId: "al_1", hubId: "hub-1", event });
    expect(message.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(message.body).toBe(
      "fleetsync: error — device pi-kitchen (dev_pi) in share docs: big.bin: disk full (ENOSPC)",
    );
  });

  test.each([
    ["https://ntfy.sh/topic", true],
    ["https://ntfy.example.org/topic", true],
    ["https://hooks.example/ntfy", false],
  ])("%s is an ntfy URL: %s", (url, want) => {
    expect(isNtfyUrl(url)).toBe(want);
  });
});

describe("deliverAlert", () => {
  test("retries after a 503 and succeeds on the next attempt", async () => {
    receiver = await startWebhookReceiver({ statuses: [503] });
    const message = alertMessage({ url: receiver.url, alertId: "al_1", hubId: "h", event });
    const result = await deliverAlert({
      fetch,
      url: receiver.url,
      message,
      retryDelaysMs: [0, 0],
      attemptTimeoutMs: 5000,
      sleep: noWait,
    });
    expect(result).toEqual({ ok: true, attempts: 2 });
    expect(receiver.received).toHaveLength(2);
    expect(receiver.events()[1]).toMatchObject({ what: "error", why: "big.bin: disk full (ENOSPC)" });
  });

  test("does not retry a 400, and says what the receiver answered", async () => {
    receiver = await startWebhookReceiver({ statuses: [400] });
    const message = alertMessage({ url: receiver.url, alertId: "al_1", hubId: "h", event });
    const result = await deliverAlert({
      fetch,
      url: receiver.url,
      message,
      retryDelaysMs: [0, 0],
      attemptTimeoutMs: 5000,
      sleep: noWait,
    });
    expect(result).toEqual({ ok: false, attempts: 1, problem: "answered 400" });
  });

  test("gives up after the last retry when nobody listens", async () => {
    receiver = await startWebhookReceiver();
    const url = receiver.url;
    await receiver.close();
    receiver = undefined;
    const result = await deliverAlert({
      fetch,
      url,
      message: alertMessage({ url, alertId: "al_1", hubId: "h", event }),
      retryDelaysMs: [0, 0],
      attemptTimeoutMs: 5000,
      sleep: noWait,
    });
    expect(result).toEqual({ ok: false, attempts: 3, problem: "ECONNREFUSED" });
  });
});
