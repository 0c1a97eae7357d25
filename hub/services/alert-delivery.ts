// Sends one alert event to its URL: JSON for webhooks, plain text for an ntfy topic; retried when retrying can help.
import type { AlertEvent } from "./alert-plan.ts";

export type AlertMessage = { body: string; headers: Record<string, string> };

/** ntfy (ntfy.sh or a self-hosted `ntfy.` host) takes the message itself as the body. */
export function isNtfyUrl(url: string): boolean {
  const host = new URL(url).hostname;
  return host === "ntfy.sh" || host.startsWith("ntfy.");
}

export function alertSentence(event: AlertEvent): string {
  const where = event.share ? ` in share ${event.share}` : "";
  return `fleetsync: ${event.what} — device ${event.deviceName} (${event.deviceId})${where}: ${event.why}`;
}

export function alertMessage(input: {
  url: string;
  alertId: string;
  hubId: string;
  event: AlertEvent;
}): AlertMessage {
  const { event } = input;
  if (isNtfyUrl(input.url)) {
    return {
      body: alertSentence(event),
      headers: {
        "content-type": "text/plain; charset=utf-8",
        title: `fleetsync ${event.what}: ${event.deviceName}`,
        tags: event.what === "recovered" ? "white_check_mark" : "warning",
      },
    };
  }
  return {
    body: JSON.stringify({
      what: event.what,
      share: event.share,
      device: { id: event.deviceId, name: event.deviceName },
      why: event.why,
      when: new Date(event.at).toISOString(),
      hubId: input.hubId,
      alertId: input.alertId,
    }),
    headers: { "content-type": "application/json" },
  };
}

export type DeliveryOptions = {
  fetch: typeof fetch;
  url: string;
  message: AlertMessage;
  /** Waits between attempts; its length + 1 is the number of attempts. */
  retryDelaysMs: number[];
  attemptTimeoutMs: number;
  sleep: (ms: number) => Promise<void>;
};

export type DeliveryResult = { ok: boolean; attempts: number; problem?: string };

export async function deliverAlert(options: DeliveryOptions): Promise<DeliveryResult> {
  let problem = "";
  for (let attempt = 1; attempt <= options.retryDelaysMs.length + 1; attempt++) {
    try {
      const response = await options.fetch(options.url, {
        method: "POST",
        headers: { ...options.message.headers, "user-agent": "fleetsync-hub" },
        body: options.message.body,
        signal: AbortSignal.timeout(options.attemptTimeoutMs),
        redirect: "manual",
      });
      await response.body?.cancel().catch(() => {});
      if (response.ok) return { ok: true, attempts: attempt };
      problem = `answered ${response.status}`;
      // A 4xx other than 408/429 will not change by asking again.
      const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
      if (!retryable) return { ok: false, attempts: attempt, problem };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      problem = cause ?? (error as Error).message;
    }
    const delay = options.retryDelaysMs[attempt - 1];
    if (delay !== undefined) await options.sleep(delay);
  }
  return { ok: false, attempts: options.retryDelaysMs.length + 1, problem };
}
