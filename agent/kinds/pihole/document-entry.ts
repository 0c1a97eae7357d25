// A Pi-hole document as the share model sees it: a file of fixed SHA-256 blocks, with no mtime or inode.
import { createHash } from "node:crypto";
import { blockSizeFor } from "../../../shared/blocks/block-size.ts";
import { contentHash } from "../../../shared/blocks/content-hash.ts";
import type { IndexEntry } from "../../state/share-state.ts";
import { DOCUMENT_BY_ITEM, DOCUMENT_FILES, encodeDocument, type PiholeState } from "./pihole-documents.ts";
import type { PiholeShareSettings } from "./pihole-share-settings.ts";

const DOCUMENT_MODE = 0o644;

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
/** The index entry of a document's bytes: SHA-256 of fixed blocks, as for any file (mtime and inode 0). */
export async function documentEntry(bytes: Uint8Array): Promise<IndexEntry> {
  const blockSize = blockSizeFor(bytes.length);
  const blocks: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += blockSize)
    blocks.push(sha256(bytes.subarray(offset, offset + blockSize)));
  return {
    type: "file",
    size: bytes.length,
    mtimeMs: 0,
    ino: 0,
    mode: DOCUMENT_MODE,
    blockSize,
    blocks,
    hash: await contentHash(bytes.length, blockSize, blocks),
  };
}

/** The documents a share's settings sync, by virtual file name. */
export function encodeDocuments(state: PiholeState, settings: PiholeShareSettings): Map<string, Uint8Array> {
  const names = settings.sync.map((item) => DOCUMENT_BY_ITEM[item]);
  if (settings.config.length > 0) names.push("config");
  const out = new Map<string, Uint8Array>();
  for (const name of names) out.set(DOCUMENT_FILES[name], encodeDocument(name, state[name] ?? []));
  return out;
}
