// The daemon's transport to the hub over node:http(s): what the hub client needs of fetch, without loading undici (~11 MiB of an idle agent's RSS).
import { Agent, type ClientRequest, request as httpRequest, type IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { HubFetch, HubResponse } from "./hub-fetch.ts";

/**
 * An answer that has not come (no status line) within this long is given up, as fetch's own headers timeout does
 * (undici: 300 s). Long polls ask for far less.
 */
const ANSWER_TIMEOUT_MS = 300_000;

/**
 * Kept-alive connections, as fetch keeps them: reused for the next poll, closed after 5 s unused or 1 s before the
 * hub's `Keep-Alive: timeout=N` says it closes them (Node reads that hint), so a request never goes out on a
 * connection the hub is closing.
 */
const AGENT_OPTIONS = { keepAlive: true, scheduling: "lifo", timeout: 5000 } as const;
let httpAgent: Agent | undefined;
let httpsAgent: Agent | undefined;

/** What a kept connection the hub closed under a request looks like (the keep-alive race, or the hub dropping it). */
const CLOSED_CONNECTION_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"]);

/** Closes the agent's idle kept connections to the hub after one of them turned out closed: the rest likely are. */
function dropIdleConnections(url: URL): void {
  const agent = url.protocol === "https:" ? httpsAgent : httpAgent;
  for (const sockets of Object.values(agent?.freeSockets ?? {}))
    for (const socket of sockets ?? []) socket.destroy();
}

async function sendRequest(url: URL, options: Parameters<typeof httpRequest>[1]): Promise<ClientRequest> {
  if (url.protocol === "http:") {
    httpAgent ??= new Agent(AGENT_OPTIONS);
    return httpRequest(url, { ...options, agent: httpAgent });
  }
  if (url.protocol === "https:") {
    // Loaded for an https hub only: TLS costs an http hub nothing.
    const https = await import("node:https");
    httpsAgent ??= new https.Agent(AGENT_OPTIONS);
    return https.request(url, { ...options, agent: httpsAgent });
  }
  throw new TypeError(`${url.href}: the hub's URL must start with http:// or https://`);
}

/** Requests over node:http, or node:https for an https hub (trusting what Node trusts, NODE_EXTRA_CA_CERTS too). */
export const nodeHttpFetch: HubFetch = async (url, init) => {
  const headers: Record<string, string> = { ...init.headers };
  const body = typeof init.body === "string" ? Buffer.from(init.body) : init.body;
  if (body instanceof Uint8Array) headers["content-length"] = String(body.byteLength);
  const req = await sendRequest(url, { method: init.method, headers, signal: init.signal });
  return new Promise<HubResponse>((resolve, reject) => {
    const fail = (error: Error) => {
      req.destroy();
      if (init.signal?.aborted) return reject(init.signal.reason);
      const failure = new Error(`${init.method} ${url.origin}${url.pathname}: ${error.message}`, {
        cause: error,
      });
      // Only before any answer (this handler is removed once one comes) and only on a reused connection: a fresh
      // connection that fails means the hub is really not answering.
      const code = (error as NodeJS.ErrnoException).code;
      if (req.reusedSocket && code !== undefined && CLOSED_CONNECTION_CODES.has(code)) {
        dropIdleConnections(url);
        return reject(Object.assign(failure, { staleConnection: true }));
      }
      reject(failure);
    };
    const onTimeout = () =>
      fail(Object.assign(new Error(`no answer in ${ANSWER_TIMEOUT_MS / 1000} s`), { code: "ETIMEDOUT" }));
    req.once("error", fail);
    req.once("timeout", onTimeout);
    req.setTimeout(ANSWER_TIMEOUT_MS);
    req.once("response", (res) => {
      req.off("timeout", onTimeout);
      req.setTimeout(0);
      req.off("error", fail);
      // From here an error (a reset mid-body, an abort) surfaces when the body is read.
      req.on("error", () => {});
      resolve(toHubResponse(res));
    });
    if (body === undefined) req.end();
    else if (body instanceof Uint8Array) req.end(body);
    else
      pipeline(Readable.fromWeb(body as import("node:stream/web").ReadableStream<Uint8Array>), req).catch(
        (error: Error) => fail(error),
      );
  });
};

function toHubResponse(res: IncomingMessage): HubResponse {
  const status = res.statusCode ?? 0;
  let taken = false;
  /** The body, once: a second read is a bug in the caller, as it is with fetch. */
  const take = (): IncomingMessage => {
    if (taken) throw new TypeError("the hub's answer body was already read");
    taken = true;
    return res;
  };
  const readAll = async (): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const chunk of take()) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  let stream: IncomingMessage | undefined;
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: res.statusMessage ?? "",
    headers: {
      get(name) {
        const value = res.headers[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
      },
    },
    text: async () => (await readAll()).toString("utf8"),
    json: async () => JSON.parse((await readAll()).toString("utf8")),
    // The answer itself, read as an async iterable: a web stream adapter over it cost ~9 % of a receiving agent's CPU.
    get body() {
      stream ??= take();
      return stream;
    },
  };
}
