// Gathers blocks a kind needs whole (a small document) from the port's block stream, in batches the hub accepts.
import { MAX_HASHES_PER_FETCH } from "../../shared/protocol/messages.ts";
import type { FetchBlocks } from "./share-kind.ts";

/** The blocks the hub sent, by hash (unverified: check each hash before use); absent ones are missing. */
export async function collectBlocks(
  fetchBlocks: FetchBlocks,
  hashes: string[],
  signal?: AbortSignal,
): Promise<Map<string, Uint8Array>> {
  const wanted = [...new Set(hashes)];
  const out = new Map<string, Uint8Array>();
  for (let i = 0; i < wanted.length; i += MAX_HASHES_PER_FETCH) {
    const batch = new Set(wanted.slice(i, i + MAX_HASHES_PER_FETCH));
    for await (const frame of fetchBlocks([...batch], signal))
      if (batch.has(frame.hash)) out.set(frame.hash, frame.bytes);
  }
  return out;
}
