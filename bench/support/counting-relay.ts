// A TCP relay on 127.0.0.1 that counts every byte each way, and a wait for the wire to go quiet (the delta bench).
import { waitFor } from "../../test/support/fleet.ts";
import { startTcpRelay } from "../../test/support/tcp-relay.ts";

/**
 * Everything on the relayed connections: `up` is what the dialing side sent, `down` what the upstream answered
 * (TLS records, HTTP headers and bodies alike). `port` is the port to dial instead of the upstream's.
 */
export type CountingRelay = {
  url: string;
  port: number;
  up: number;
  down: number;
  reset: () => void;
  close: () => Promise<void>;
};

export async function startCountingRelay(upstreamUrl: string): Promise<CountingRelay> {
  const counted = { up: 0, down: 0 };
  const tcp = await startTcpRelay({
    pickUpstream: () => upstreamUrl,
    onSockets: (client, upstream) => {
      client.on("data", (chunk: Buffer) => {
        counted.up += chunk.length;
      });
      upstream.on("data", (chunk: Buffer) => {
        counted.down += chunk.length;
      });
    },
  });
  return {
    url: tcp.url,
    port: Number(new URL(tcp.url).port),
    get up() {
      return counted.up;
    },
    get down() {
      return counted.down;
    },
    reset() {
      counted.up = 0;
      counted.down = 0;
    },
    close: tcp.close,
  };
}

/** The bytes all `relays` carried so far, both ways. */
export const relayedBytes = (relays: readonly CountingRelay[]) =>
  relays.reduce((sum, r) => sum + r.up + r.down, 0);

/** Resolves once no relay has carried a byte for `quietMs` (uploads done, acknowledgements and index updates sent). */
export async function waitForQuietWire(options: {
  relays: readonly CountingRelay[];
  quietMs: number;
  timeoutMs: number;
}): Promise<void> {
  let last = -1;
  let stillSince = performance.now();
  await waitFor(
    () => {
      const now = relayedBytes(options.relays);
      if (now !== last) {
        last = now;
        stillSince = performance.now();
      }
      return performance.now() - stillSince >= options.quietMs;
    },
    { timeoutMs: options.timeoutMs, intervalMs: 100, what: "the wire to go quiet" },
  );
}
