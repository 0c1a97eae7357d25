// The packed index's paths as the one string the state file holds, with a hash table of rows: no string or Map entry per path.

/** FNV-1a over UTF-16 code units, from `hash` on. */
function fold(hash: number, text: string, from: number, to: number): number {
  let h = hash;
  for (let i = from; i < to; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}
const FNV_OFFSET = 0x811c9dc5;
const SLASH = 0x2f;

/**
 * Rows of NUL-separated paths, looked up by path (or by directory and name, without joining them). Loading 100,000
 * paths this way costs one pass over the text, where splitting it into strings and filling a Map cost ~45 ms and
 * kept ~9 MiB of strings and Map entries alive.
 */
export class PathTable {
  /** Every path, NUL-separated, as stored. */
  readonly text: string;
  /** Where each row's path starts in `text`; one more entry: where the row after the last would start. */
  readonly #start: Uint32Array;
  /** Open addressing, linear probing: row + 1 per slot, 0 for an empty slot. */
  readonly #slots: Int32Array;
  readonly #mask: number;

  constructor(text: string) {
    this.text = text;
    const starts = [0];
    if (text !== "") {
      for (let nul = text.indexOf("\0"); nul >= 0; nul = text.indexOf("\0", nul + 1)) starts.push(nul + 1);
      starts.push(text.length + 1);
    }
    this.#start = Uint32Array.from(starts);
    const rows = starts.length - 1;
    let capacity = 8;
    while (capacity < rows * 2) capacity *= 2;
    this.#slots = new Int32Array(capacity);
    this.#mask = capacity - 1;
    for (let row = 0; row < rows; row++) {
      const from = this.#start[row]!;
      const to = this.#start[row + 1]! - 1;
      let slot = fold(FNV_OFFSET, text, from, to) & this.#mask;
      for (; this.#slots[slot] !== 0; slot = (slot + 1) & this.#mask) {
        const other = this.#slots[slot]! - 1;
        if (this.#lengthOf(other) === to - from && text.startsWith(this.pathOf(row), this.#start[other]!))
          throw new Error(`the packed index holds ${this.pathOf(row)} twice`);
      }
      this.#slots[slot] = row + 1;
    }
  }

  get size(): number {
    return this.#start.length - 1;
  }

  pathOf(row: number): string {
    return this.text.slice(this.#start[row], this.#start[row + 1]! - 1);
  }

  /** The row of `path`; -1 when it has none. */
  rowOf(path: string): number {
    for (let slot = fold(FNV_OFFSET, path, 0, path.length) & this.#mask; ; slot = (slot + 1) & this.#mask) {
      const row = this.#slots[slot]! - 1;
      if (row < 0) return -1;
      if (this.#lengthOf(row) === path.length && this.text.startsWith(path, this.#start[row]!)) return row;
    }
  }

  /** Finds rows of the children of `dir` by name (`dir/name`, `name` at the root) without building their paths. */
  childRows(dir: string): (name: string) => number {
    const prefix = dir === "" ? 0 : dir.length + 1;
    const seed =
      dir === "" ? FNV_OFFSET : Math.imul(fold(FNV_OFFSET, dir, 0, dir.length) ^ SLASH, 0x01000193);
    const { text } = this;
    return (name) => {
      const length = prefix + name.length;
      for (let slot = fold(seed, name, 0, name.length) & this.#mask; ; slot = (slot + 1) & this.#mask) {
        const row = this.#slots[slot]! - 1;
        if (row < 0) return -1;
        if (this.#lengthOf(row) !== length) continue;
        const at = this.#start[row]!;
        if (
          (prefix === 0 || (text.startsWith(dir, at) && text.charCodeAt(at + dir.length) === SLASH)) &&
          text.startsWith(name, at + prefix)
        )
          return row;
      }
    };
  }

  #lengthOf(row: number): number {
    return this.#start[row + 1]! - 1 - this.#start[row]!;
  }
}
