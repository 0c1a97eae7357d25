// The packed index behind the plain path → entry record the rest of the agent reads and writes.
import type { CompactIndex } from "./compact-index.ts";
import type { IndexEntry } from "./index-entry.ts";

const indexes = new WeakMap<object, CompactIndex>();

/**
 * The index as the plain path → entry record the rest of the agent reads and writes (`index[path]`, `delete`,
 * `Object.keys`), backed by a CompactIndex. Entries read from it are copies: change one by assigning it back.
 */
export function indexRecord(index: CompactIndex): Record<string, IndexEntry> {
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
  indexes.set(record, index);
  return record;
}

/** The CompactIndex behind a record from indexRecord, if it is one (for reads that need no entry objects). */
export function compactIndexBehind(record: Readonly<Record<string, IndexEntry>>): CompactIndex | undefined {
  return indexes.get(record);
}

/** The paths of an index record, without building its entries. */
export function indexPaths(record: Readonly<Record<string, IndexEntry>>): string[] {
  return indexes.get(record)?.keys() ?? Object.keys(record);
}

/** How many entries an index record holds, without listing its keys when it is packed. */
export function indexSize(record: Readonly<Record<string, IndexEntry>>): number {
  return indexes.get(record)?.size ?? Object.keys(record).length;
}
