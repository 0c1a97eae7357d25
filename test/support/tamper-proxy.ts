// A man-in-the-middle on loopback between an agent and the hub: forwards everything, and can rewrite what the hub answers.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export type TamperRules = {
  /** Rewrites the list of instruction JWSs the hub hands out. */
  instructions?: (jwsList: string[]) => string[];
  /** Rewrites the bytes of a block batch the hub sends. */
  blocks?: (body: Uint8Array) => Uint8Array;
};

export type TamperProxy = {
  url: string;
  rules: TamperRules;
  seenInstructions: string[];
  close: () => Promise<void>;
};

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startTamperProxy(target: string): Promise<TamperProxy> {
  const proxy: TamperProxy = { url: "", rules: {}, seenInstructions: [], close: async () => {} };
  const server: Server = createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(req.headers)) {
        if (typeof value === "string" && key !== "host" && key !== "content-length") headers[key] = value;
      }
      const upstream = await fetch(new URL(req.url ?? "/", target), {
        method: req.method,
        headers,
        body: body.length > 0 ? new Uint8Array(body) : undefined,
      });
      let payload: Uint8Array = new Uint8Array(await upstream.arrayBuffer());
      const path = new URL(req.url ?? "/", target).pathname;
      if (upstream.ok && path === "/v1/instructions") {
        const answer = JSON.parse(Buffer.from(payload).toString("utf8")) as { instructions: string[] };
        proxy.seenInstructions.push(...answer.instructions);
        if (proxy.rules.instructions) answer.instructions = proxy.rules.instructions(answer.instructions);
        payload = Buffer.from(JSON.stringify(answer));
      } else if (upstream.ok && path === "/v1/blocks" && req.method === "GET" && proxy.rules.blocks) {
        payload = proxy.rules.blocks(payload);
      }
      res.writeHead(upstream.status, {
        "content-type": upstream.headers.get("content-type") ?? "application/octet-stream",
      });
      res.end(payload);
    } catch (error) {
      res.writeHead(502, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "unavailable", message: String(error), requestId: "proxy" } }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
