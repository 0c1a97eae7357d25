// Uploads blocks as the scan hashes them, so each byte is read and hashed once and the report finds them on the hub.
import { BLOCK_FRAME_HEADER_BYTES, encodeBlockFrameHeader } from "../../shared/blocks/block-frames.ts";

export type UploadAheadOptions = {
  /** Sends one body of block frames (the parts in order). */
  upload: (parts: Uint8Array[]) => Promise<unknown>;
  /** Blocks the hub has already (this device reported or received them): never sent ahead. */
  isKnown: (hash: string) => boolean;
  /** Frames are gathered into bodies of about this many bytes (one buffer each, so one allocation per body). */
  batchBytes?: number;
  /** Bodies in flight at most; the scan waits for the oldest beyond that (memory stays about this × batchBytes). */
  maxInFlight?: number;
  /** An upload failed: nothing more is sent ahead until the next barrier; the report asks for what the hub lacks. */
  onError?: (error: Error) => void;
};

const DEFAULT_BATCH_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_IN_FLIGHT = 2;

/**
 * Sending ahead is only an optimisation: the report still names every block, and the hub answers with the ones it
 * lacks (a failed or skipped upload is sent then). A block sent ahead and never reported is dropped by the hub's GC.
 */
export class UploadAhead {
  readonly #options: Required<Omit<UploadAheadOptions, "onError">> & Pick<UploadAheadOptions, "onError">;
  #batch: Uint8Array | undefined;
  #used = 0;
  #sent = new Set<string>();
  #inFlight: Promise<void>[] = [];
  #stopped = false;
  /** Off: offer() sends nothing (the hub may hold the content already; see send-changes.ts). */
  enabled = true;
  /** Blocks and bytes queued since the last barrier. */
  #blocks = 0;
  #bytes = 0;

  constructor(options: UploadAheadOptions) {
    this.#options = {
      batchBytes: DEFAULT_BATCH_BYTES,
      maxInFlight: DEFAULT_MAX_IN_FLIGHT,
      ...options,
    };
  }

  /** Queues a copy of `bytes` (the caller may reuse its buffer once this settles); waits when too much is in flight. */
  async offer(hash: string, bytes: Uint8Array): Promise<void> {
    if (!this.enabled || this.#stopped || this.#sent.has(hash) || this.#options.isKnown(hash)) return;
    this.#sent.add(hash);
    const need = BLOCK_FRAME_HEADER_BYTES + bytes.byteLength;
    if (this.#batch && this.#used + need > this.#batch.byteLength) this.#send();
    if (!this.#batch) {
      this.#batch = new Uint8Array(Math.max(this.#options.batchBytes, need));
      this.#used = 0;
    }
    this.#batch.set(encodeBlockFrameHeader(hash, bytes.byteLength), this.#used);
    this.#batch.set(bytes, this.#used + BLOCK_FRAME_HEADER_BYTES);
    this.#used += need;
    this.#blocks++;
    this.#bytes += bytes.byteLength;
    while (this.#inFlight.length >= this.#options.maxInFlight) await this.#inFlight[0];
  }

  /**
   * Sends what is queued and settles once every upload started so far has (never rejects): the blocks offered
   * before this call are on the hub, or the report's answer will ask for them. Answers what was sent since the last
   * barrier (blocks whose upload failed included: the report sends those again).
   */
  barrier(): Promise<{ blocks: number; bytes: number }> {
    this.#send();
    const pending = [...this.#inFlight];
    const sent = { blocks: this.#blocks, bytes: this.#bytes };
    this.#blocks = 0;
    this.#bytes = 0;
    // The hashes sent so far are the hub's business now: a later scan of the same content asks the report.
    this.#sent = new Set();
    return Promise.all(pending).then(() => {
      this.#stopped = false; // the next part tries again (the hub may be back)
      return sent;
    });
  }

  #send(): void {
    const batch = this.#batch;
    if (!batch || this.#used === 0) return;
    const body = batch.subarray(0, this.#used);
    this.#batch = undefined;
    this.#used = 0;
    if (this.#stopped) return;
    const upload: Promise<void> = this.#options
      .upload([body])
      .then(
        () => {},
        (error: Error) => {
          if (!this.#stopped) this.#options.onError?.(error);
          this.#stopped = true;
        },
      )
      .finally(() => {
        this.#inFlight.splice(this.#inFlight.indexOf(upload), 1);
      });
    this.#inFlight.push(upload);
  }
}
