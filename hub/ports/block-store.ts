// Where block content lives on the hub: the BlockStore port (adapters: hub/adapters/, hub/node/, hub/workers/).

export interface BlockStore {
  /** Which of these hashes are stored. A missing block is normal: it is simply not in the set. */
  has(hashes: string[]): Promise<Set<string>>;
  /** Stores verified blocks (one write for the whole batch); blocks already stored are left as they are. */
  put(blocks: { hash: string; bytes: Uint8Array }[], nowMs: number): Promise<void>;
  get(hash: string): Promise<Uint8Array | undefined>;
  /** The stored ones among these blocks, in one query (or one round of parallel reads) for the whole batch. */
  getMany(hashes: string[]): Promise<Map<string, Uint8Array>>;
  /** Deletes exactly these blocks (a `relay` share's, once every member acknowledged them); returns how many went. */
  deleteBlocks(hashes: string[]): Promise<number>;
  /** Deletes blocks stored before `olderThanMs` that `referenced()` does not list; returns how many went. */
  deleteUnreferenced(referenced: () => Promise<Set<string>>, olderThanMs: number): Promise<number>;
}
