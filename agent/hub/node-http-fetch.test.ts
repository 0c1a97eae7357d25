// The daemon's node:http transport against a real HTTP server on 127.0.0.1: what the hub client relies on of fetch.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, expect, test } from "vitest";
import { HubClient } from "./hub-client.ts";
import { isStaleConnection } from "./hub-fetch.ts";
import { nodeHttpFetch } from "./node-http-fetch.ts";

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

type Seen = { method?: string; url?: string; headers: IncomingMessage["headers"]; body: Buffer };

async function serve(handle: (req: IncomingMessage, res: ServerResponse, seen: Seen) => void) {
  const requests: Seen[] = [];
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const seen = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks) };
    requests.push(seen);
    handle(req, res, seen);
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, requests };
}

/** A hub client with a fresh device key that sends through nodeHttpFetch, as the daemon's does. */
async function hubClientOver(base: string): Promise<HubClient> {
  const { generateKeyPair } = await import("jose");
  const { privateKey } = await generateKeyPair("EdDSA");
  return new HubClient({ hubUrl: base, hubId: "h", deviceId: "d", key: privateKey, fetch: nodeHttpFetch });
}

test("sends the method, headers and a byte body with its length, and reads status, headers and JSON", async () => {
  const { base, requests } = await serve((_req, res) => {
    res.writeHead(201, "Made", { "content-type": "application/json", "x-fleetsync-test": "yes" });
    res.end(JSON.stringify({ ok: "é" }));
  });
  const response = await nodeHttpFetch(new URL("/v1/x?a=1", base), {
    method: "POST",
    headers: { "x-one": "1", "content-type": "application/octet-stream" },
    body: new Uint8Array([1, 2, 3]),
  });
  expect([response.ok, response.status, response.statusText]).toEqual([true, 201, "Made"]);
  expect(response.headers.get("X-Fleetsync-Test")).toBe("yes");
  expect(response.headers.get("x-absent")).toBeNull();
  expect(await response.json()).toEqual({ ok: "é" });
  expect(requests[0]).toMatchObject({ method: "POST", url: "/v1/x?a=1" });
  expect(requests[0]!.headers).toMatchObject({ "x-one": "1", "content-length": "3" });
  expect([...requests[0]!.body]).toEqual([1, 2, 3]);
});

test("sends a string body as UTF-8 and a streamed body in full", async () => {
  const { base, requests } = await serve((_req, res) => res.end());
  await nodeHttpFetch(new URL("/a", base), { method: "PUT", headers: {}, body: '{"name":"café"}' });
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array([7, 8]));
      controller.enqueue(new Uint8Array([9]));
      controller.close();
    },
  });
  await nodeHttpFetch(new URL("/b", base), { method: "POST", headers: {}, body: stream, duplex: "half" });
  expect(requests[0]!.body.toString("utf8")).toBe('{"name":"café"}');
  expect(requests[0]!.headers["content-length"]).toBe(String(Buffer.byteLength('{"name":"café"}')));
  expect([...requests[1]!.body]).toEqual([7, 8, 9]);
});

test("a large answer streams through body in order, and a body is read only once", async () => {
  const payload = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
  const { base } = await serve((_req, res) => res.end(payload));
  const response = await nodeHttpFetch(new URL("/blocks", base), { method: "GET", headers: {} });
  const chunks: Uint8Array[] = [];
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) chunks.push(chunk);
  expect(Buffer.concat(chunks).equals(payload)).toBe(true);
  await expect(response.text()).rejects.toThrow("already read");
});

test("an error status is an answer, not a failure, with its text readable", async () => {
  const { base } = await serve((_req, res) => {
    res.writeHead(409, { "content-type": "application/json" });
    res.end('{"error":{"code":"conflict","message":"base missing","requestId":"r"}}');
  });
  const response = await nodeHttpFetch(new URL("/", base), { method: "GET", headers: {} });
  expect([response.ok, response.status]).toEqual([false, 409]);
  expect(await response.text()).toContain("base missing");
});

test("a hub that is not there rejects with the network error as cause, which the hub client names", async () => {
  const { base } = await serve(() => {});
  await new Promise((r) => server!.close(r));
  const failure = await nodeHttpFetch(new URL("/", base), { method: "GET", headers: {} }).catch((e) => e);
  expect((failure as Error & { cause?: { code?: string } }).cause?.code).toBe("ECONNREFUSED");
  const client = await hubClientOver(base);
  await expect(client.config()).rejects.toThrow(`hub ${base} is unreachable (ECONNREFUSED)`);
});

test("aborting a waiting request rejects it at once with the signal's reason", async () => {
  const { base } = await serve(() => {}); // never answers, like a long-poll
  const controller = new AbortController();
  const pending = nodeHttpFetch(new URL("/v1/instructions?wait=25", base), {
    method: "GET",
    headers: {},
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(new Error("stopping")), 50);
  await expect(pending).rejects.toThrow("stopping");
});

test("consecutive requests reuse one kept-alive connection", async () => {
  const ports = new Set<number>();
  const { base } = await serve((req, res) => {
    ports.add(req.socket.remotePort!);
    res.end("ok");
  });
  for (let i = 0; i < 3; i++)
    expect(await (await nodeHttpFetch(new URL("/", base), { method: "GET", headers: {} })).text()).toBe("ok");
  expect(ports.size).toBe(1);
});

/** Answers every request, except that the second request on each connection finds it closed (once per connection). */
async function serveClosingKeptConnections() {
  const perConnection = new Map<unknown, number>();
  const tokens: (string | undefined)[] = [];
  const served = await serve((req, res) => {
    const count = (perConnection.get(req.socket) ?? 0) + 1;
    perConnection.set(req.socket, count);
    tokens.push(req.headers.authorization);
    if (count === 2) return req.socket.destroy(); // as a hub closing a kept connection the client just reused
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ deviceId: "d", hubId: "h", shares: [] }));
  });
  return { ...served, tokens, connections: () => perConnection.size };
}

test("a request on a kept connection the hub closed is marked stale; one that cannot connect is not", async () => {
  const { base } = await serveClosingKeptConnections();
  await (await nodeHttpFetch(new URL("/", base), { method: "GET", headers: {} })).text();
  const stale = await nodeHttpFetch(new URL("/", base), { method: "GET", headers: {} }).catch((e) => e);
  expect(isStaleConnection(stale)).toBe(true);
  expect((stale as Error).message).toContain(`GET ${base}/`);
  await new Promise((r) => server!.close(r));
  const refused = await nodeHttpFetch(new URL("/", base), { method: "GET", headers: {} }).catch((e) => e);
  expect(isStaleConnection(refused)).toBe(false);
});

test("the hub client sends a request once more, with a fresh token, when its kept connection was closed under it", async () => {
  const { base, tokens, connections } = await serveClosingKeptConnections();
  const client = await hubClientOver(base);
  await client.config();
  // The second request goes out on the kept connection, which the server closes: the client resends it at once.
  await expect(client.config()).resolves.toEqual({ deviceId: "d", hubId: "h", shares: [] });
  expect(tokens).toHaveLength(3);
  expect(new Set(tokens).size).toBe(3);
  expect(connections()).toBe(2);
});
