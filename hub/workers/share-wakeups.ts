// Wake-ups on Workers: one Durable Object per share holds its members' hibernating wake sockets (and any parked long-polls); a commit's notify wakes them all at once.

import { PING_MESSAGE, PONG_MESSAGE, WAKE_MESSAGE } from "../../shared/protocol/wake-sockets.ts";
import type { Logger } from "../ports/logger.ts";
import type { Notifier } from "../ports/notifier.ts";

/**
 * One object per share, not one per hub: a commit wakes only the members of its share, each share's object
 * holds only its own members' sockets and waits (a fleet of many shares spreads over many objects instead of
 * queueing on one), and a device in k shares holds k sockets — k is small.
 */
export interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown;
  get(id: never): { fetch(input: string | Request, init?: RequestInit): Promise<Response> };
}

/** The parts of workerd's DurableObjectState the wake sockets use (the WebSocket Hibernation API). */
export interface HibernationStateLike {
  acceptWebSocket(socket: WebSocket, tags?: string[]): void;
  getWebSockets(tag?: string): WebSocket[];
  setWebSocketAutoResponse(pair?: unknown): void;
}

/** The header the Worker's entry sets on the socket request it hands to the object: the authenticated device. */
export const DEVICE_HEADER = "x-fleetsync-device";

const ORIGIN = "https://share-wakeups.internal";
/** A commit's answer waits at most this long on waking its share's members; they poll again anyway. */
export const NOTIFY_TIMEOUT_MS = 5_000;

type WorkerdGlobals = {
  WebSocketPair: new () => { 0: WebSocket; 1: WebSocket };
  WebSocketRequestResponsePair: new (request: string, response: string) => unknown;
};

/** The Durable Object class (exported by hub/main.worker.ts, bound as WAKE in wrangler.toml). */
export class ShareWakeups {
  readonly #waiters = new Set<() => void>();
  readonly #state: HibernationStateLike | undefined;

  constructor(state?: HibernationStateLike) {
    this.#state = state;
    const { WebSocketRequestResponsePair } = globalThis as unknown as Partial<WorkerdGlobals>;
    if (state && WebSocketRequestResponsePair) {
      state.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_MESSAGE, PONG_MESSAGE));
    }
  }

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/socket") return this.#accept(request);
    if (url.pathname === "/notify") {
      const woken = this.#waiters.size;
      for (const wake of [...this.#waiters]) wake();
      let sockets = 0;
      for (const socket of this.#state?.getWebSockets() ?? []) {
        try {
          socket.send(WAKE_MESSAGE);
          sockets++;
        } catch {
          // closing already: that agent polls once when it reconnects
        }
      }
      return Response.json({ woken, sockets });
    }
    if (url.pathname === "/wait") {
      const timeoutMs = Math.max(0, Math.min(Number(url.searchParams.get("timeoutMs")) || 0, 120_000));
      const woken = await new Promise<boolean>((resolve) => {
        const done = (isWoken: boolean) => {
          clearTimeout(timer);
          this.#waiters.delete(wake);
          resolve(isWoken);
        };
        const wake = () => done(true);
        const timer = setTimeout(() => done(false), timeoutMs);
        this.#waiters.add(wake);
        request.signal?.addEventListener("abort", () => done(false), { once: true });
      });
      return Response.json({ woken });
    }
    return new Response("not found", { status: 404 });
  }

  /** Hibernation: the runtime holds the socket; this object is not in memory between wake-ups. */
  #accept(request: Request): Response {
    const device = request.headers.get(DEVICE_HEADER);
    const { WebSocketPair } = globalThis as unknown as Partial<WorkerdGlobals>;
    if (!this.#state || !WebSocketPair || !device || request.headers.get("upgrade") !== "websocket") {
      return new Response("expected a WebSocket upgrade from the hub's entry", { status: 426 });
    }
    const pair = new WebSocketPair();
    this.#state.acceptWebSocket(pair[1], [device]);
    return new Response(null, { status: 101, webSocket: pair[0] } as ResponseInit);
  }

  /** Agents send nothing but pings (answered by the runtime); anything else is ignored. */
  webSocketMessage(): void {}

  webSocketClose(socket: WebSocket, code: number, reason: string): void {
    try {
      socket.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // closed already
    }
  }

  webSocketError(): void {}
}

/** The Notifier over the WAKE namespace, plus the hand-over of a device's wake socket to its share's object. */
export type ShareWakeupsNotifier = Notifier & {
  /** Passes an authenticated device's WebSocket upgrade to the share's object, which hibernates it. */
  connect(share: string, deviceId: string, request: Request): Promise<Response>;
};

export function createDurableObjectNotifier(
  namespace: DurableObjectNamespaceLike,
  log: Logger,
): ShareWakeupsNotifier {
  const stub = (share: string) => namespace.get(namespace.idFromName(share) as never);
  return {
    async notify(share) {
      try {
        const response = await stub(share).fetch(`${ORIGIN}/notify`, {
          method: "POST",
          signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS),
        });
        const { woken, sockets } = (await response.json()) as { woken: number; sockets: number };
        if (woken > 0 || sockets > 0) log.info("long-polls woken", { share, woken, sockets });
      } catch (error) {
        // The commit stands; waiters find it at their next poll.
        log.warn("waking the share's long-polls failed", { share, error: String(error) });
      }
    },
    async connect(share, deviceId, request) {
      const headers = new Headers(request.headers);
      headers.set(DEVICE_HEADER, deviceId);
      headers.delete("authorization");
      return stub(share).fetch(new Request(`${ORIGIN}/socket`, { method: "GET", headers }));
    },
    async wait(shares, timeoutMs, signal) {
      if (shares.length === 0 || timeoutMs <= 0 || signal?.aborted) return;
      const local = new AbortController();
      const stop = () => local.abort();
      signal?.addEventListener("abort", stop, { once: true });
      try {
        await Promise.race(
          shares.map((share) =>
            stub(share)
              .fetch(`${ORIGIN}/wait?timeoutMs=${Math.ceil(timeoutMs)}`, { signal: local.signal })
              .then((response) => response.body?.cancel()),
          ),
        );
      } catch (error) {
        if (!local.signal.aborted) {
          log.warn("waiting on the share's wake-ups failed; polling instead", { error: String(error) });
          await new Promise((resolve) => setTimeout(resolve, Math.min(timeoutMs, 1000)));
        }
      } finally {
        signal?.removeEventListener("abort", stop);
        local.abort(); // the other shares' waits end with this one
      }
    },
  };
}
