// The agent's only way to the hub: signed requests, validated answers, and errors a person can act on.
import type { CryptoKey } from "jose";
import type { z } from "zod";
import { signDeviceJwt } from "../../shared/auth/device-jwt.ts";
import { BLOCKS_CONTENT_TYPE, type BlockFrame, decodeBlockFrames } from "../../shared/blocks/block-frames.ts";
import {
  ERROR_CODES,
  ErrorBodySchema,
  type ErrorCode,
  FleetsyncError,
} from "../../shared/errors/fleetsync-error.ts";
import type { ReportedEntry } from "../../shared/protocol/entry.ts";
import {
  type AckRequest,
  AckResponseSchema,
  BlockUploadResponseSchema,
  CursorResponseSchema,
  DeviceConfigSchema,
  type EnrollRequest,
  EnrollResponseSchema,
  InstructionsResponseSchema,
  PRESENCE_HEADER,
  ReportResponseSchema,
  type ScanTotals,
  StatusResponseSchema,
} from "../../shared/protocol/messages.ts";
import { WAKE_SOCKETS_HEADER, WAKE_SOCKETS_OFFERED } from "../../shared/protocol/wake-sockets.ts";
import {
  REUPLOAD_HEADER,
  REUPLOAD_REQUESTED,
  WantedBlocksResponseSchema,
} from "../../shared/protocol/wanted-blocks.ts";
import { AGENT_USER_AGENT } from "./agent-user-agent.ts";
import { type HubFetch, type HubResponse, isStaleConnection } from "./hub-fetch.ts";

type RequestOptions = {
  headers?: Record<string, string>;
  json?: unknown;
  /** Block frames, sent as they are: streamed from these buffers, never concatenated or cloned. */
  body?: Uint8Array[];
  signal?: AbortSignal;
  query?: Record<string, string>;
};

export async function readHubError(response: HubResponse, what: string): Promise<FleetsyncError> {
  const text = await response.text().catch(() => "");
  let code: ErrorCode = response.status >= 500 ? "unavailable" : "bad_request";
  let message = text.slice(0, 300) || response.statusText;
  try {
    const parsed = ErrorBodySchema.parse(JSON.parse(text));
    if ((ERROR_CODES as readonly string[]).includes(parsed.error.code)) code = parsed.error.code as ErrorCode;
    message = parsed.error.message;
  } catch {
    // not our error body: keep the raw text
  }
  // A device waiting for approval keeps asking, so it starts syncing soon after the admin approves it.
  const retryable = response.status >= 500 || response.status === 429 || code === "awaiting_approval";
  return new FleetsyncError(code, `${what}: hub answered ${response.status}: ${message}`, { retryable });
}

function unreachable(url: string, error: unknown): FleetsyncError {
  const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
  return new FleetsyncError("unavailable", `hub ${url} is unreachable (${cause})`, {
    cause: error,
    retryable: true,
  });
}

async function parseBody<S extends z.ZodType>(
  response: HubResponse,
  schema: S,
  what: string,
): Promise<z.infer<S>> {
  const parsed = schema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success)
    throw new FleetsyncError("internal", `${what}: the hub's answer does not match the protocol`);
  return parsed.data;
}

/** The parts as one byte stream, each handed on as it is (no copy). */
function streamOf(parts: Uint8Array[]): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      while (next < parts.length && parts[next]!.byteLength === 0) next++;
      const part = parts[next++];
      if (part) controller.enqueue(part);
      else controller.close();
    },
  });
}

export async function enrollWithHub(hubUrl: string, request: EnrollRequest) {
  const url = new URL("/v1/enroll", hubUrl);
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(request),
    });
  } catch (error) {
    throw unreachable(hubUrl, error);
  }
  if (!response.ok) throw await readHubError(response, "enrolment");
  return parseBody(response, EnrollResponseSchema, "enrolment");
}

export type HubClientOptions = {
  hubUrl: string;
  hubId: string;
  deviceId: string;
  key: CryptoKey;
  /** Sent with every request, e.g. `x-fleetsync-presence: none` so a look does not count as the device being seen. */
  headers?: Record<string, string>;
  /** The transport (default: the global fetch); the daemon passes nodeHttpFetch, which does not load undici. */
  fetch?: HubFetch;
};

export class HubClient {
  #offersWakeSockets = false;
  /** Set when the last instruction named a base this device lacks: the next poll asks for whole block lists. */
  #wholeListsNext = false;

  constructor(private readonly options: HubClientOptions) {}

  get hubUrl(): string {
    return this.options.hubUrl;
  }

  /** Whether the last config answer said this hub offers wake sockets (the Workers hub; not the Node hub). */
  get offersWakeSockets(): boolean {
    return this.#offersWakeSockets;
  }

  /** The headers of one device request (a fresh signed token for `method` and `path`), e.g. for a WebSocket upgrade. */
  async signedHeaders(method: string, path: string): Promise<Record<string, string>> {
    const token = await signDeviceJwt(this.options.key, {
      deviceId: this.options.deviceId,
      hubId: this.options.hubId,
      nowSeconds: Math.floor(Date.now() / 1000),
      method,
      path,
    });
    return { authorization: `Bearer ${token}`, "user-agent": AGENT_USER_AGENT };
  }

  private async request(
    method: string,
    path: string,
    what: string,
    options: RequestOptions = {},
  ): Promise<HubResponse> {
    const url = new URL(path, this.options.hubUrl);
    for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
    let response: HubResponse;
    try {
      response = await this.send(method, url, options);
    } catch (error) {
      if (options.signal?.aborted)
        throw new FleetsyncError("unavailable", `${what}: cancelled`, { retryable: true });
      if (!isStaleConnection(error)) throw unreachable(this.options.hubUrl, error);
      // A kept connection the hub had closed: once more on a fresh one (a new token: each is good for one request).
      try {
        response = await this.send(method, url, options);
      } catch (again) {
        if (options.signal?.aborted)
          throw new FleetsyncError("unavailable", `${what}: cancelled`, { retryable: true });
        throw unreachable(this.options.hubUrl, again);
      }
    }
    if (!response.ok) throw await readHubError(response, what);
    return response;
  }

  /** One attempt at a request: fresh signed headers and a fresh body stream. */
  private async send(method: string, url: URL, options: RequestOptions): Promise<HubResponse> {
    const headers: Record<string, string> = {
      ...this.options.headers,
      ...options.headers,
      ...(await this.signedHeaders(method, url.pathname)),
    };
    let body: string | ReadableStream<Uint8Array> | undefined;
    if (options.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.json);
    } else if (options.body) {
      headers["content-type"] = BLOCKS_CONTENT_TYPE;
      headers["content-length"] = String(options.body.reduce((sum, part) => sum + part.byteLength, 0));
      body = streamOf(options.body);
    }
    // The global fetch takes every HubRequestInit body (its types want ArrayBuffer-backed bytes).
    const transport = this.options.fetch ?? (fetch as HubFetch);
    return transport(url, {
      method,
      headers,
      body,
      signal: options.signal,
      // A stream body (block uploads): fetch then sends each buffer as it is instead of copying the whole body first.
      ...(typeof body === "object" ? { duplex: "half" as const } : {}),
    });
  }

  /** The device's shares. `touchLastSeen: false` (agent status) leaves the hub's "last seen" as it was. */
  async config(options: { touchLastSeen?: boolean } = {}) {
    const headers = options.touchLastSeen === false ? { [PRESENCE_HEADER]: "none" } : undefined;
    const response = await this.request("GET", "/v1/config", "reading config", headers ? { headers } : {});
    this.#offersWakeSockets = response.headers.get(WAKE_SOCKETS_HEADER) === WAKE_SOCKETS_OFFERED;
    return parseBody(response, DeviceConfigSchema, "config");
  }

  async report(share: string, entries: ReportedEntry[], scan?: ScanTotals) {
    const what = `reporting ${entries.length} changes to "${share}"`;
    const response = await this.request("POST", `/v1/shares/${encodeURIComponent(share)}/reports`, what, {
      json: scan ? { entries, scan } : { entries },
    });
    return parseBody(response, ReportResponseSchema, what);
  }

  /** Uploads block frames (see block-frames.ts): one buffer, or the parts of one body in order. */
  async uploadBlocks(body: Uint8Array | Uint8Array[]) {
    return parseBody(
      await this.request("POST", "/v1/blocks", "uploading blocks", {
        body: Array.isArray(body) ? body : [body],
      }),
      BlockUploadResponseSchema,
      "upload",
    );
  }

  /**
   * The stored ones of these blocks; absent ones are left out. `onReuploadRequested` is called when the hub left out
   * blocks a relay share dropped and asked a member that holds them to upload them again.
   */
  async *fetchBlocks(
    hashes: string[],
    signal?: AbortSignal,
    options: { onReuploadRequested?: () => void; transient?: boolean } = {},
  ): AsyncGenerator<BlockFrame> {
    const response = await this.request("GET", "/v1/blocks", "fetching blocks", {
      query: { hashes: hashes.join(",") },
      signal,
    });
    if (response.headers.get(REUPLOAD_HEADER) === REUPLOAD_REQUESTED) options.onReuploadRequested?.();
    if (!response.body) return;
    yield* decodeBlockFrames(response.body, { transient: options.transient });
  }

  /** Blocks of a relay share the hub dropped and other members need: read them from the files and upload again. */
  async wantedBlocks(share: string, waitSeconds: number, signal?: AbortSignal) {
    const what = `asking which blocks of "${share}" to upload again`;
    const response = await this.request(
      "GET",
      `/v1/shares/${encodeURIComponent(share)}/wanted-blocks`,
      what,
      {
        query: { wait: String(waitSeconds) },
        signal,
      },
    );
    return parseBody(response, WantedBlocksResponseSchema, what);
  }

  /**
   * Signed instructions. Large files this device holds a version of come as block-list deltas (`blocksFrom`, see
   * expand-instruction-ops.ts), except on the poll after askWholeBlockLists().
   */
  async instructions(waitSeconds: number, signal?: AbortSignal) {
    const deltas = this.#wholeListsNext ? "0" : "1";
    const response = await this.request("GET", "/v1/instructions", "waiting for instructions", {
      query: { wait: String(waitSeconds), deltas },
      signal,
    });
    this.#wholeListsNext = false;
    return (await parseBody(response, InstructionsResponseSchema, "instructions")).instructions;
  }

  /** The next instructions() poll asks for whole block lists (this device lacks the base of a delta it was sent). */
  askWholeBlockLists(): void {
    this.#wholeListsNext = true;
  }

  async ack(instructionId: string, ack: AckRequest) {
    const response = await this.request(
      "POST",
      `/v1/instructions/${encodeURIComponent(instructionId)}/ack`,
      "acknowledging",
      {
        json: ack,
      },
    );
    return parseBody(response, AckResponseSchema, "ack");
  }

  /** Tells the hub why this device is not syncing `share` (shown in `share show`), or null once it is again. */
  async reportStatus(share: string, lastError: string | null) {
    const what = `reporting the status of "${share}"`;
    const response = await this.request("PUT", `/v1/shares/${encodeURIComponent(share)}/status`, what, {
      json: { lastError },
    });
    return parseBody(response, StatusResponseSchema, what);
  }

  async setCursor(share: string, cursor: number, dryRun: boolean) {
    const what = `setting the cursor of "${share}"`;
    const response = await this.request("PUT", `/v1/shares/${encodeURIComponent(share)}/cursor`, what, {
      json: { cursor, dryRun },
    });
    return parseBody(response, CursorResponseSchema, what);
  }
}
