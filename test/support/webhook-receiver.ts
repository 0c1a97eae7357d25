// Test support: a webhook receiver on 127.0.0.1 that records every POST and answers with the statuses a test scripts.
import { createServer, type IncomingHttpHeaders } from "node:http";

export type ReceivedRequest = { method: string; path: string; headers: IncomingHttpHeaders; body: string };

export type WebhookReceiver = {
  url: string;
  received: ReceivedRequest[];
  /** JSON bodies of every request so far. */
  events: () => Record<string, unknown>[];
  close: () => Promise<void>;
};

/** `statuses` answers the first requests in order (then 200), to script failures. */
export async function startWebhookReceiver(options: { statuses?: number[] } = {}): Promise<WebhookReceiver> {
  const received: ReceivedRequest[] = [];
  const statuses = [...(options.statuses ?? [])];
  const server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      received.push({
        method: request.method ?? "",
        path: request.url ?? "",
        headers: request.headers,
        body,
      });
      response.statusCode = statuses.shift() ?? 200;
      response.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("webhook receiver has no port");
  return {
    url: `http://127.0.0.1:${address.port}/hook`,
    received,
    events: () =>
      received.flatMap((r) => {
        try {
          return [JSON.parse(r.body) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
