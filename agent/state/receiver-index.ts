// A receiving share's index: path → entry, with the lookups applying needs kept up to date as entries change, so an instruction costs what is in it, not the tree.
import { blockSpans } from "../../shared/blocks/block-spans.ts";
import type { IndexEntry } from "./index-entry.ts";

/** Where a block's bytes are in the share (a file's path, offset and length), as the apply side reads them. */
export type BlockLocation = { path: string; offset: number; length: number };

/** A block's place: a path (the file's first block) or a full location. */
type Holder = string | BlockLocation;
const holderPath = (holder: Holder) => (typeof holder === "string" ? holder : holder.path);

const ROOT = "";
const parentPath = (path: string) => {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? ROOT : path.slice(0, slash);
};

/**
 * Entries in a Map, plus two lookups maintained on every set and delete (O(depth) and O(blocks of that entry)):
 * - a tree of the paths (every entry and each of its ancestors), so "every entry at or below this path" (a deleted
 *   directory, something in the way moved to trash) visits that subtree only;
 * - where each block hash is held (the first span of it in each file that has it), so a file being written finds
 *   the blocks it can copy locally without a pass over every file.
 */
export class ReceiverIndex {
  #entries = new Map<string, IndexEntry>();
  /** Per node (an entry or an ancestor of one): how many entries are at or below it. */
  #weight = new Map<string, number>();
  /** Per node: its child nodes. */
  #children = new Map<string, Set<string>>();
  /**
   * Per block hash: where it is, one location per file holding it (oldest first). A file's first block is held as
   * its path alone (offset 0, its length read from the entry), so a tree of small files costs no object per file.
   */
  #holders = new Map<string, Holder | Holder[]>();
  /** What changed since the last takeChanges(): the new entry, or null for a path removed. */
  #changed = new Map<string, IndexEntry | null>();

  static fromEntries(entries: Iterable<[string, IndexEntry]>): ReceiverIndex {
    const index = new ReceiverIndex();
    for (const [path, entry] of entries) index.set(path, entry);
    return index;
  }

  get size(): number {
    return this.#entries.size;
  }

  has(path: string): boolean {
    return this.#entries.has(path);
  }

  get(path: string): IndexEntry | undefined {
    return this.#entries.get(path);
  }

  keys(): string[] {
    return [...this.#entries.keys()];
  }

  entries(): IterableIterator<[string, IndexEntry]> {
    return this.#entries.entries();
  }

  set(path: string, entry: IndexEntry): void {
    const old = this.#entries.get(path);
    if (old) this.#dropBlocks(path, old);
    else this.#addNode(path);
    this.#entries.set(path, entry);
    this.#addBlocks(path, entry);
    this.#changed.set(path, entry);
  }

  delete(path: string): boolean {
    const old = this.#entries.get(path);
    if (!old) return false;
    this.#dropBlocks(path, old);
    this.#entries.delete(path);
    this.#removeNode(path);
    this.#changed.set(path, null);
    return true;
  }

  /** The paths changed since the last call (entry, or null: removed), for a state save that writes only those. */
  takeChanges(): Map<string, IndexEntry | null> {
    const changed = this.#changed;
    this.#changed = new Map();
    return changed;
  }

  /** Every path with an entry that is `path` or below it ("" is the whole share), visiting that subtree only. */
  pathsAtOrBelow(path: string): string[] {
    const out: string[] = [];
    if (path !== ROOT && !this.#weight.has(path)) return out;
    const stack = [path];
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (node !== ROOT && this.#entries.has(node)) out.push(node);
      const children = this.#children.get(node);
      if (children) for (const child of children) stack.push(child);
    }
    return out;
  }

  /** Removes every entry that is `path` or below it; returns how many. */
  deleteAtOrBelow(path: string): number {
    const paths = this.pathsAtOrBelow(path);
    for (const p of paths) this.delete(p);
    return paths.length;
  }

  /** Where a file of the share holds the block `hash` (undefined: none does). */
  blockLocation(hash: string): BlockLocation | undefined {
    const held = this.#holders.get(hash);
    const holder = Array.isArray(held) ? held[0] : held;
    if (typeof holder !== "string") return holder;
    const entry = this.#entries.get(holder)!;
    return {
      path: holder,
      offset: 0,
      length: entry.blockLengths?.[0] ?? Math.min(entry.blockSize, entry.size),
    };
  }

  #addNode(path: string): void {
    let node = path;
    for (;;) {
      const weight = this.#weight.get(node) ?? 0;
      this.#weight.set(node, weight + 1);
      if (node === ROOT) return;
      const parent = parentPath(node);
      if (weight === 0) {
        const children = this.#children.get(parent);
        if (children) children.add(node);
        else this.#children.set(parent, new Set([node]));
      }
      node = parent;
    }
  }

  #removeNode(path: string): void {
    let node = path;
    for (;;) {
      const weight = (this.#weight.get(node) ?? 1) - 1;
      if (weight > 0 || node === ROOT) this.#weight.set(node, weight);
      if (node === ROOT) return;
      const parent = parentPath(node);
      if (weight <= 0) {
        this.#weight.delete(node);
        this.#children.delete(node);
        const siblings = this.#children.get(parent);
        siblings?.delete(node);
        if (siblings?.size === 0) this.#children.delete(parent);
      }
      node = parent;
    }
  }

  #addBlocks(path: string, entry: IndexEntry): void {
    if (entry.type !== "file" || entry.blocks.length === 0) return;
    const seen = new Set<string>();
    for (const { hash, offset, length } of blockSpans(entry)) {
      if (seen.has(hash)) continue;
      seen.add(hash);
      const location: Holder = offset === 0 ? path : { path, offset, length };
      const held = this.#holders.get(hash);
      if (held === undefined) this.#holders.set(hash, location);
      else if (Array.isArray(held)) held.push(location);
      else this.#holders.set(hash, [held, location]);
    }
  }

  #dropBlocks(path: string, entry: IndexEntry): void {
    if (entry.type !== "file") return;
    for (const hash of new Set(entry.blocks)) {
      const held = this.#holders.get(hash);
      if (held === undefined) continue;
      if (!Array.isArray(held)) {
        if (holderPath(held) === path) this.#holders.delete(hash);
        continue;
      }
      const left = held.filter((holder) => holderPath(holder) !== path);
      if (left.length === 0) this.#holders.delete(hash);
      else this.#holders.set(hash, left.length === 1 ? left[0]! : left);
    }
  }
}
