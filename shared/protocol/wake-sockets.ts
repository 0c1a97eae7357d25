// The wake-up channel the Workers hub offers: one hibernating WebSocket per share that says "poll now" on each commit.

/** Set to "websocket" on `GET /v1/config` answers by a hub that offers wake sockets (the Node hub does not). */
export const WAKE_SOCKETS_HEADER = "x-fleetsync-wake-sockets";
export const WAKE_SOCKETS_OFFERED = "websocket";
/** The hub's only message down a wake socket: fetch `/v1/instructions?wait=0` now. */
export const WAKE_MESSAGE = '{"type":"wake"}';
/** The agent's keep-alive, and the hub runtime's answer (sent without waking the share's object). */
export const PING_MESSAGE = "ping";
export const PONG_MESSAGE = "pong";

/** `GET` with `Upgrade: websocket` and the device's signed token, like every device request. */
export function wakeSocketPath(share: string): string {
  return `/v1/shares/${encodeURIComponent(share)}/wake`;
}
