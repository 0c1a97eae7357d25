// The port the hub client sends its requests through: the part of `fetch` it uses, so a leaner transport can stand in.

/** What the hub client reads of an answer; a WHATWG `Response` is one. */
export type HubResponse = {
  ok: boolean;
  status: number;
  statusText: string;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
  json(): Promise<unknown>;
  /** The body as a byte stream (read once, instead of text() or json()). */
  body: ReadableStream<Uint8Array> | null;
};

export type HubRequestInit = {
  method: string;
  headers: Record<string, string>;
  body?: string | Uint8Array | ReadableStream<Uint8Array>;
  /** fetch needs it for a streamed body; other transports ignore it. */
  duplex?: "half";
  signal?: AbortSignal;
};

/** Sends one request; rejects (with the network error as `cause`) only when no answer came. The global fetch is one. */
export type HubFetch = (url: URL, init: HubRequestInit) => Promise<HubResponse>;
