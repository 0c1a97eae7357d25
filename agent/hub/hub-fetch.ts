// The port the hub client sends its requests through: the part of `fetch` it uses, so a leaner transport can stand in.

/** What the hub client reads of an answer; a WHATWG `Response` is one. */
export type HubResponse = {
  ok: boolean;
  status: number;
  statusText: string;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
  json(): Promise<unknown>;
  /**
   * The body as a byte stream (read once, instead of text() or json()): fetch's web stream, or a transport's own
   * async iterable of chunks (node:http's answer, read without a web stream adapter).
   */
  body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | null;
};

export type HubRequestInit = {
  method: string;
  headers: Record<string, string>;
  body?: string | Uint8Array | ReadableStream<Uint8Array>;
  /** fetch needs it for a streamed body; other transports ignore it. */
  duplex?: "half";
  signal?: AbortSignal;
};

/**
 * Sends one request; rejects (with the network error as `cause`) only when no answer came. The global fetch is one.
 * A transport that keeps connections alive marks a rejection `staleConnection: true` when the request went out on a
 * kept connection the hub had already closed (reset or closed before any answer): the hub client then sends it once
 * more, on a fresh connection, instead of backing off as from a hub that is down.
 */
export type HubFetch = (url: URL, init: HubRequestInit) => Promise<HubResponse>;

/** Whether a HubFetch rejection says the request met a kept-alive connection the hub had closed (see HubFetch). */
export function isStaleConnection(error: unknown): boolean {
  return (error as { staleConnection?: unknown } | undefined)?.staleConnection === true;
}
