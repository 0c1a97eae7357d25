// The index store behind the plain path → entry record the rest of the agent reads and writes (packed, or with lookups).
import { blockSpans } from "../../shared/blocks/block-spans.ts";
import { isSameOrBelow } from "../../shared/paths/normalize-share-path.ts";
import { CompactIndex } from "./compact-index.ts";
import type { IndexEntry } from "./index-entry.ts";
import type { BlockLocation, ReceiverIndex } from "./receiver-index.ts";

/** What a record can be backed by: the packed index of a sending share, or a receiving share's lookup index. */
type IndexStore = CompactIndex | ReceiverIndex;

const stores = new WeakMap<object, IndexStore>();

/**
 * The index as the plain path → entry record the rest of the agent reads and writes (`index[path]`, `delete`,
 * `Object.keys`), backed by a store. Entries read from a packed store are copies: change one by assigning it back.
 */
export function indexRecord(index: IndexStore): Record<string, IndexEntry> {
  const record = new Proxy(Object.create(null) as Record<string, IndexEntry>, {
    get: (_target, key) => (typeof key === "string" ? index.get(key) : undefined),
    set: (_target, key, value) => {
      if (typeof key !== "string") return false;
      index.set(key, value as IndexEntry);
      return true;
    },
    deleteProperty: (_target, key) => {
      if (typeof key === "string") index.delete(key);
      return true;
    },
    has: (_target, key) => typeof key === "string" && index.has(key),
    ownKeys: () => index.keys(),
    // An accessor, so that Object.keys (which asks for every key's descriptor) never builds the entries.
    getOwnPropertyDescriptor: (_target, key) =>
      typeof key === "string" && index.has(key)
        ? {
            get: () => index.get(key),
            set: (value: IndexEntry) => index.set(key, value),
            enumerable: true,
            configurable: true,
          }
        : undefined,
    defineProperty: (_target, key, descriptor) => {
      if (typeof key !== "string" || !("value" in descriptor)) return false;
      index.set(key, descriptor.value as IndexEntry);
      return true;
    },
  });
  stores.set(record, index);
  return record;
}

/** The CompactIndex behind a record from indexRecord, if it is one (for reads that need no entry objects). */
export function compactIndexBehind(record: Readonly<Record<string, IndexEntry>>): CompactIndex | undefined {
  const store = stores.get(record);
  return store instanceof CompactIndex ? store : undefined;
}

/** The ReceiverIndex behind a record from indexRecord, if it is one. */
export function receiverIndexBehind(record: Readonly<Record<string, IndexEntry>>): ReceiverIndex | undefined {
  const store = stores.get(record);
  return store === undefined || store instanceof CompactIndex ? undefined : store;
}

/** The paths of an index record, without building its entries. */
export function indexPaths(record: Readonly<Record<string, IndexEntry>>): string[] {
  return stores.get(record)?.keys() ?? Object.keys(record);
}

/** How many entries an index record holds, without listing its keys when a store is behind it. */
export function indexSize(record: Readonly<Record<string, IndexEntry>>): number {
  return stores.get(record)?.size ?? Object.keys(record).length;
}

/** Removes every entry that is `path` or below it: that subtree only with a ReceiverIndex, a walk of all otherwise. */
export function forgetAtOrBelow(record: Record<string, IndexEntry>, path: string): void {
  const receiver = receiverIndexBehind(record);
  if (receiver) {
    receiver.deleteAtOrBelow(path);
    return;
  }
  for (const key of indexPaths(record)) if (isSameOrBelow(key, path)) delete record[key];
}

/**
 * Where a block's bytes are held locally, for one apply run. With a ReceiverIndex, a lookup that follows the index as
 * it changes; otherwise a map built once, on the first lookup, by a walk of every file (what a plain record allows).
 */
export function localBlockFinder(
  record: Readonly<Record<string, IndexEntry>>,
): (hash: string) => BlockLocation | undefined {
  const receiver = receiverIndexBehind(record);
  if (receiver) return (hash) => receiver.blockLocation(hash);
  let map: Map<string, BlockLocation> | undefined;
  return (hash) => {
    if (!map) {
      map = new Map();
      for (const path of indexPaths(record)) {
        const entry = record[path]!;
        if (entry.type !== "file") continue;
        for (const { hash: h, offset, length } of blockSpans(entry)) {
          if (!map.has(h)) map.set(h, { path, offset, length });
        }
      }
    }
    return map.get(hash);
  };
}
