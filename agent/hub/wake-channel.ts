// The agent's wake-up channel on a hub that offers it: one WebSocket per received share, "poll now" on each commit, reconnected with backoff.
import type WebSocket from "ws";
import {
  PING_MESSAGE,
  PONG_MESSAGE,
  WAKE_MESSAGE,
  wakeSocketPath,
} from "../../shared/protocol/wake-sockets.ts";
import type { AgentLogger } from "../log/agent-logger.ts";
import { backoffMs } from "./backoff.ts";
import type { HubClient } from "./hub-client.ts";

/** A keep-alive this often (answered by the hub's runtime without waking the share's object)... */
export const PING_INTERVAL_MS = 30_000;
/** ...and a socket whose pong has not come back this long after is taken for dead and reopened. */
export const PONG_TIMEOUT_MS = 15_000;
const HANDSHAKE_TIMEOUT_MS = 15_000;

export type WakeChannelOptions = {
  client: HubClient;
  shares: string[];
  log: AgentLogger;
  signal: AbortSignal;
};

type ShareSocket = { share: string; socket?: WebSocket; open: boolean; attempt: number };

/**
 * The sockets only say when to look: instructions still come from `GET /v1/instructions?wait=0`. A wake-up is
 * never lost to a dropped socket: every open (the first and each reconnect) and every close counts as a wake-up,
 * so the loop polls once then, and long-polls while any socket is down.
 */
export class WakeChannel {
  readonly #options: WakeChannelOptions;
  readonly #sockets: ShareSocket[];
  #started = false;
  #pending = false;
  #waiter: (() => void) | undefined;

  constructor(options: WakeChannelOptions) {
    this.#options = options;
    this.#sockets = options.shares.map((share) => ({ share, open: false, attempt: 0 }));
    options.signal.addEventListener("abort", () => this.#stop(), { once: true });
  }

  /** Opens the sockets (once; later calls do nothing). */
  start(): void {
    if (this.#started || this.#options.signal.aborted) return;
    this.#started = true;
    for (const entry of this.#sockets) void this.#connect(entry);
  }

  /** True while every share's socket is open: only then may the loop skip long-polling. */
  get open(): boolean {
    return this.#started && this.#sockets.length > 0 && this.#sockets.every((s) => s.open);
  }

  /** Resolves at the next wake-up (at once if one came since the last call), after `maxMs`, or on abort. */
  next(maxMs: number): Promise<void> {
    if (this.#pending || this.#options.signal.aborted) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiter = undefined;
        this.#pending = false;
        resolve();
      };
      const timer = setTimeout(done, maxMs);
      this.#waiter = done;
    });
  }

  #wake(): void {
    this.#pending = true;
    this.#waiter?.();
  }

  async #connect(entry: ShareSocket): Promise<void> {
    const { client, log, signal } = this.#options;
    if (signal.aborted) return;
    const path = wakeSocketPath(entry.share);
    const url = new URL(path, client.hubUrl);
    let headers: Record<string, string>;
    try {
      headers = await client.signedHeaders("GET", path);
    } catch (error) {
      this.#retry(entry, `signing the request failed: ${(error as Error).message}`);
      return;
    }
    // Loaded on the first connect: ws pulls in tls, https and zlib, which an agent of a Node hub never needs.
    const { default: WebSocketClient } = await import("ws");
    if (signal.aborted) return;
    const socket = new WebSocketClient(url, { headers, handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
    entry.socket = socket;
    let pingTimer: NodeJS.Timeout | undefined;
    let pongTimer: NodeJS.Timeout | undefined;
    let failure = "";
    socket.on("unexpected-response", (_request, response) => {
      failure = `the hub answered ${response.statusCode} to the upgrade`;
      response.resume();
      socket.terminate();
    });
    socket.on("error", (error) => {
      failure ||= error.message;
    });
    socket.on("open", () => {
      entry.open = true;
      entry.attempt = 0;
      log.info("wake-up socket open; waiting for the hub's wake-ups instead of long-polling", {
        share: entry.share,
      });
      pingTimer = setInterval(() => {
        socket.send(PING_MESSAGE);
        pongTimer ??= setTimeout(() => {
          failure = `no answer to a keep-alive within ${PONG_TIMEOUT_MS} ms`;
          socket.terminate();
        }, PONG_TIMEOUT_MS);
      }, PING_INTERVAL_MS);
      pingTimer.unref();
      this.#wake(); // whatever was committed while it was closed
    });
    socket.on("message", (data) => {
      const text = String(data);
      if (text === PONG_MESSAGE) {
        clearTimeout(pongTimer);
        pongTimer = undefined;
      } else if (text === WAKE_MESSAGE) this.#wake();
    });
    socket.on("close", (code, reason) => {
      clearInterval(pingTimer);
      clearTimeout(pongTimer);
      const wasOpen = entry.open;
      entry.open = false;
      entry.socket = undefined;
      if (signal.aborted) return;
      this.#wake(); // the loop polls once and long-polls until the socket is back
      const why = failure || `closed with code ${code}${reason.length ? ` (${String(reason)})` : ""}`;
      this.#retry(entry, wasOpen ? `the wake-up socket closed: ${why}` : why);
    });
  }

  #retry(entry: ShareSocket, why: string): void {
    if (this.#options.signal.aborted) return;
    entry.attempt++;
    const retryInMs = backoffMs(entry.attempt, Math.random());
    this.#options.log.warn("wake-up socket to the hub is down; long-polling until it reconnects", {
      share: entry.share,
      error: why,
      retryInMs,
    });
    setTimeout(() => void this.#connect(entry), retryInMs).unref();
  }

  #stop(): void {
    for (const entry of this.#sockets) entry.socket?.close(1000, "agent stopping");
    this.#waiter?.();
  }
}
