// A share's index packed into columns (typed arrays, binary hashes) plus an overlay of what changed since it was packed.
import { z } from "zod";
import { type IndexEntry, IndexEntrySchema } from "./index-entry.ts";
import { PathTable } from "./path-table.ts";

const HASH_BYTES = 32;
const HEX64 = /^[0-9a-f]{64}$/;
const KIND_CODE = { file: 0, dir: 1, symlink: 2 } as const;
const KIND_OF = ["file", "dir", "symlink"] as const;
const KIND_LETTER = [0x66, 0x64, 0x6c]; // f, d, l
/** What CompactIndex.unchangedRow answers besides a row: unchanged but held as an object; not the same. */
export const IN_OVERLAY = -1;
export const CHANGED = -2;

/**
 * The packed rows a scan saw unchanged (CompactIndex.markRows). A save during the scan re-packs the index, which
 * renumbers its rows: the index carries the marks over to the new rows (`paths` holds any that no longer have one).
 */
export type RowMarks = { rows: Uint8Array; paths: Set<string> };
const PACKED_KEYS = new Set([
  "type",
  "size",
  "mtimeMs",
  "ino",
  "mode",
  "blockSize",
  "blocks",
  "hash",
  "target",
  "seq",
]);

const isBase64 = (v: unknown) => typeof v === "string" && v.length % 4 === 0;

/**
 * The packed index as the state file stores it: a few long strings rather than an object per entry, so reading
 * 100,000 entries is one JSON.parse of some MiB of text and a handful of base64 decodes. Numbers are stored as
 * little-endian float64 (every machine the agent runs on is little-endian); consistency is checked on load.
 */
export const PackedIndexSchema = z.object({
  /** Every path, NUL-separated (a share path never holds NUL). */
  paths: z.string(),
  /** One character per row: f(ile), d(ir), l(ink). */
  kinds: z.string().regex(/^[fdl]*$/),
  /** Per row: size, mtimeMs, ino, mode, blockSize, seq (-1: none yet), as float64. */
  numbers: z.custom<string>(isBase64, "expected base64"),
  /** Per row: how many block hashes it has, as uint32. */
  blockCounts: z.custom<string>(isBase64, "expected base64"),
  /** Files' content hashes (32 bytes each), in row order (rows that are not files have none). */
  hashes: z.custom<string>(isBase64, "expected base64"),
  /** Every block hash of every row (32 bytes each), in row order. */
  blocks: z.custom<string>(isBase64, "expected base64"),
  /** Symlink targets, in row order. */
  targets: z.array(z.string()),
  /** Entries of a shape the columns do not hold (a hash that is not hex SHA-256, an unknown field), as they are. */
  others: z.array(z.tuple([z.string(), IndexEntrySchema])),
});
export type PackedIndex = z.infer<typeof PackedIndexSchema>;
const FIELDS = 6;

function isPackable(entry: IndexEntry): boolean {
  for (const key of Object.keys(entry)) if (!PACKED_KEYS.has(key)) return false;
  if (entry.type === "file" ? !HEX64.test(entry.hash) : entry.hash !== "") return false;
  if ((entry.type === "symlink") !== (entry.target !== undefined)) return false;
  for (const block of entry.blocks) if (!HEX64.test(block)) return false;
  return true;
}

/**
 * Memory follows what changed, not the tree's size: a 100,000-entry index costs a few MiB of columns; an entry
 * becomes an object only while someone holds it or once it changes (the overlay), until the next pack.
 */
export class CompactIndex {
  #paths = new PathTable("");
  #kind = new Uint8Array(0);
  #numbers = new Float64Array(0);
  #blockStart = new Uint32Array(1);
  #hashes = Buffer.alloc(0);
  #hashRow = new Int32Array(0);
  #blocks = Buffer.alloc(0);
  #targets = new Map<number, string>();
  /** Changes since the last pack: an entry, or null for a path removed from the packed rows. */
  #overlay = new Map<string, IndexEntry | null>();
  #size = 0;
  /** The marks of scans under way, carried over whenever the rows are renumbered. */
  #marks = new Set<RowMarks>();

  static fromPacked(packed: PackedIndex): CompactIndex {
    const index = new CompactIndex();
    index.#load(packed);
    return index;
  }

  static fromEntries(entries: Iterable<[string, IndexEntry]>): CompactIndex {
    const index = new CompactIndex();
    for (const [path, entry] of entries) index.set(path, entry);
    index.pack();
    return index;
  }

  get size(): number {
    return this.#size;
  }

  /** How many entries are held as objects (changed since the last pack, or not packable). */
  get overlaySize(): number {
    return this.#overlay.size;
  }

  has(path: string): boolean {
    const over = this.#overlay.get(path);
    if (over !== undefined) return over !== null;
    return this.#paths.rowOf(path) >= 0;
  }

  get(path: string): IndexEntry | undefined {
    const over = this.#overlay.get(path);
    if (over !== undefined) return over ?? undefined;
    const row = this.#paths.rowOf(path);
    return row < 0 ? undefined : this.#decode(row);
  }

  set(path: string, entry: IndexEntry): void {
    if (!this.has(path)) this.#size++;
    this.#overlay.set(path, entry);
  }

  delete(path: string): boolean {
    if (!this.has(path)) return false;
    this.#size--;
    if (this.#paths.rowOf(path) >= 0) this.#overlay.set(path, null);
    else this.#overlay.delete(path);
    return true;
  }

  /** Every entry as a plain object, for owners that walk the whole index often (see ShareStateOptions.packed). */
  toRecord(): Record<string, IndexEntry> {
    const record: Record<string, IndexEntry> = Object.create(null);
    for (const path of this.keys()) record[path] = this.get(path)!;
    return record;
  }

  /** Packed rows first (in their order), then entries added since. */
  keys(): string[] {
    const out: string[] = [];
    for (let row = 0; row < this.#paths.size; row++) {
      const path = this.#paths.pathOf(row);
      if (this.#overlay.get(path) !== null) out.push(path);
    }
    for (const [path, entry] of this.#overlay)
      if (entry !== null && this.#paths.rowOf(path) < 0) out.push(path);
    return out;
  }

  /** The columns of every entry; the index is re-packed from them, so the overlay is empty afterwards. */
  pack(): PackedIndex {
    if (this.#overlay.size === 0) return this.#columns();
    // Which rows the new columns hold: a packed row copied as it is (a number), or an entry to encode.
    const items: (number | [string, IndexEntry])[] = [];
    const others: [string, IndexEntry][] = [];
    let fileRows = 0;
    let blockCount = 0;
    for (const path of this.keys()) {
      const row = this.#overlay.has(path) ? -1 : this.#paths.rowOf(path);
      if (row >= 0) {
        items.push(row);
        if (this.#hashRow[row]! >= 0) fileRows++;
        blockCount += this.#blockStart[row + 1]! - this.#blockStart[row]!;
        continue;
      }
      const entry = this.get(path)!;
      if (!isPackable(entry)) {
        others.push([path, entry]);
        continue;
      }
      items.push([path, entry]);
      if (entry.type === "file") fileRows++;
      blockCount += entry.blocks.length;
    }
    const rows = items.length;
    const paths: string[] = new Array(rows);
    const kinds = Buffer.alloc(rows);
    const numbers = new Float64Array(rows * FIELDS);
    const counts = new Uint32Array(rows);
    const hashes = Buffer.alloc(fileRows * HASH_BYTES);
    const blocks = Buffer.alloc(blockCount * HASH_BYTES);
    const targets: string[] = [];
    let hashAt = 0;
    let blockAt = 0;
    for (let out = 0; out < rows; out++) {
      const item = items[out]!;
      if (typeof item === "number") {
        paths[out] = this.#paths.pathOf(item);
        kinds[out] = KIND_LETTER[this.#kind[item]!]!;
        for (let f = 0; f < FIELDS; f++) numbers[out * FIELDS + f] = this.#numbers[item * FIELDS + f]!;
        const from = this.#blockStart[item]!;
        const to = this.#blockStart[item + 1]!;
        counts[out] = to - from;
        blockAt += this.#blocks.copy(blocks, blockAt, from * HASH_BYTES, to * HASH_BYTES);
        const h = this.#hashRow[item]!;
        if (h >= 0) hashAt += this.#hashes.copy(hashes, hashAt, h * HASH_BYTES, (h + 1) * HASH_BYTES);
        const target = this.#targets.get(item);
        if (target !== undefined) targets.push(target);
        continue;
      }
      const [path, e] = item;
      paths[out] = path;
      kinds[out] = KIND_LETTER[KIND_CODE[e.type]]!;
      numbers.set([e.size, e.mtimeMs, e.ino, e.mode, e.blockSize, e.seq ?? -1], out * FIELDS);
      counts[out] = e.blocks.length;
      for (const block of e.blocks) blockAt += blocks.write(block, blockAt, HASH_BYTES, "hex");
      if (e.type === "file") hashAt += hashes.write(e.hash, hashAt, HASH_BYTES, "hex");
      if (e.type === "symlink") targets.push(e.target!);
    }
    const packed: PackedIndex = {
      paths: paths.join("\0"),
      kinds: kinds.toString("latin1"),
      numbers: Buffer.from(numbers.buffer).toString("base64"),
      blockCounts: Buffer.from(counts.buffer).toString("base64"),
      hashes: hashes.toString("base64"),
      blocks: blocks.toString("base64"),
      targets,
      others,
    };
    this.#load(packed);
    return packed;
  }

  /** The packed form of the rows as they are (nothing changed since the last pack): bulk copies only. */
  #columns(): PackedIndex {
    const rows = this.#paths.size;
    const counts = new Uint32Array(rows);
    for (let row = 0; row < rows; row++) counts[row] = this.#blockStart[row + 1]! - this.#blockStart[row]!;
    const kinds = Buffer.alloc(rows);
    for (let row = 0; row < rows; row++) kinds[row] = KIND_LETTER[this.#kind[row]!]!;
    const targets: string[] = [];
    for (let row = 0; row < rows; row++) {
      const target = this.#targets.get(row);
      if (target !== undefined) targets.push(target);
    }
    return {
      paths: this.#paths.text,
      kinds: kinds.toString("latin1"),
      numbers: Buffer.from(this.#numbers.buffer, this.#numbers.byteOffset, this.#numbers.byteLength).toString(
        "base64",
      ),
      blockCounts: Buffer.from(counts.buffer).toString("base64"),
      hashes: this.#hashes.toString("base64"),
      blocks: this.#blocks.toString("base64"),
      targets,
      others: [],
    };
  }

  #load(packed: PackedIndex): void {
    const before = this.#paths;
    const paths = new PathTable(packed.paths);
    const rows = paths.size;
    const numbers = Buffer.from(packed.numbers, "base64");
    const counts = Buffer.from(packed.blockCounts, "base64");
    if (packed.kinds.length !== rows || numbers.length !== rows * FIELDS * 8 || counts.length !== rows * 4)
      throw new Error(`the packed index's columns differ in length (${rows} paths)`);
    this.#paths = paths;
    this.#kind = new Uint8Array(rows);
    // Copied into fresh arrays: a decoded Buffer may sit at any offset of a shared pool.
    this.#numbers = new Float64Array(rows * FIELDS);
    new Uint8Array(this.#numbers.buffer).set(numbers);
    const blockCounts = new Uint32Array(rows);
    new Uint8Array(blockCounts.buffer).set(counts);
    this.#blockStart = new Uint32Array(rows + 1);
    this.#hashRow = new Int32Array(rows);
    this.#targets = new Map();
    this.#hashes = Buffer.from(packed.hashes, "base64");
    this.#blocks = Buffer.from(packed.blocks, "base64");
    let hashRows = 0;
    let targets = 0;
    for (let row = 0; row < rows; row++) {
      const kind = "fdl".indexOf(packed.kinds[row]!);
      this.#kind[row] = kind;
      this.#blockStart[row + 1] = this.#blockStart[row]! + blockCounts[row]!;
      this.#hashRow[row] = kind === KIND_CODE.file ? hashRows++ : -1;
      if (kind === KIND_CODE.symlink) {
        const target = packed.targets[targets++];
        if (target === undefined)
          throw new Error(`the packed index has no target for the symlink ${paths.pathOf(row)}`);
        this.#targets.set(row, target);
      }
    }
    if (this.#hashes.length !== hashRows * HASH_BYTES)
      throw new Error(`the packed index has ${this.#hashes.length} hash bytes for ${hashRows} files`);
    if (this.#blocks.length !== this.#blockStart[rows]! * HASH_BYTES)
      throw new Error(
        `the packed index has ${this.#blocks.length} block bytes for ${this.#blockStart[rows]} blocks`,
      );
    this.#carryMarks(before);
    this.#overlay = new Map();
    let size = rows;
    for (const [path, entry] of packed.others) {
      if (paths.rowOf(path) >= 0 || this.#overlay.has(path))
        throw new Error(`the packed index holds ${path} twice`);
      this.#overlay.set(path, entry);
      size++;
    }
    this.#size = size;
  }

  /** Row marks for one scan, kept right by this index until releaseRows. */
  markRows(): RowMarks {
    const marks: RowMarks = { rows: new Uint8Array(this.#paths.size), paths: new Set() };
    this.#marks.add(marks);
    return marks;
  }

  releaseRows(marks: RowMarks): void {
    this.#marks.delete(marks);
  }

  /**
   * Whether the entry at `path` is of this type with this size, mtime, inode and mode, read straight from the
   * columns: the whole check of an unchanged file in a scan (directories and links are recorded with size and
   * mtime 0). The answer says where the unchanged entry is: its packed row (≥ 0), or IN_OVERLAY for an entry held
   * as an object; CHANGED when it is not the same (or absent).
   */
  unchangedRow(
    path: string,
    type: IndexEntry["type"],
    size: number,
    mtimeMs: number,
    ino: number,
    mode: number,
  ) {
    const over = this.#overlay.size === 0 ? undefined : this.#overlay.get(path);
    if (over !== undefined)
      return over !== null &&
        over.type === type &&
        over.size === size &&
        over.mtimeMs === mtimeMs &&
        over.ino === ino &&
        over.mode === mode
        ? IN_OVERLAY
        : CHANGED;
    return this.#unchangedAt(this.#paths.rowOf(path), type, size, mtimeMs, ino, mode);
  }

  /**
   * unchangedRow for the children of `dir` by name, without building their paths while nothing is held as an
   * object (as on a restart); call it once per directory listed.
   */
  childRows(dir: string) {
    let table = this.#paths;
    let rowOf = table.childRows(dir);
    return (
      name: string,
      type: IndexEntry["type"],
      size: number,
      mtimeMs: number,
      ino: number,
      mode: number,
    ) => {
      if (this.#overlay.size !== 0)
        return this.unchangedRow(dir === "" ? name : `${dir}/${name}`, type, size, mtimeMs, ino, mode);
      if (table !== this.#paths) {
        // Re-packed meanwhile (a save): rows were renumbered.
        table = this.#paths;
        rowOf = table.childRows(dir);
      }
      return this.#unchangedAt(rowOf(name), type, size, mtimeMs, ino, mode);
    };
  }

  #unchangedAt(
    row: number,
    type: IndexEntry["type"],
    size: number,
    mtimeMs: number,
    ino: number,
    mode: number,
  ) {
    if (row < 0 || this.#kind[row] !== KIND_CODE[type]) return CHANGED;
    const n = this.#numbers;
    const at = row * FIELDS;
    return n[at] === size && n[at + 1] === mtimeMs && n[at + 2] === ino && n[at + 3] === mode ? row : CHANGED;
  }

  /** Every path in the index but those marked (rows as unchangedRow answered them, set to 1 in `marks.rows`). */
  pathsExceptMarked(marks: RowMarks): string[] {
    const out: string[] = [];
    const paths = this.#paths;
    for (let row = 0; row < paths.size; row++) {
      if (marks.rows[row] === 1) continue;
      const path = paths.pathOf(row);
      if (this.#overlay.get(path) !== null && !marks.paths.has(path)) out.push(path);
    }
    for (const [path, entry] of this.#overlay)
      if (entry !== null && paths.rowOf(path) < 0 && !marks.paths.has(path)) out.push(path);
    return out;
  }

  /** Moves every scan's marks from the rows of `before` to the same paths' rows now. */
  #carryMarks(before: PathTable): void {
    for (const marks of this.#marks) {
      const rows = new Uint8Array(this.#paths.size);
      for (let row = 0; row < marks.rows.length; row++) {
        if (marks.rows[row] !== 1) continue;
        const path = before.pathOf(row);
        const now = this.#paths.rowOf(path);
        if (now >= 0) rows[now] = 1;
        else marks.paths.add(path);
      }
      marks.rows = rows;
    }
  }

  #decode(row: number): IndexEntry {
    const n = this.#numbers;
    const at = row * FIELDS;
    const type = KIND_OF[this.#kind[row]!]!;
    const from = this.#blockStart[row]!;
    const to = this.#blockStart[row + 1]!;
    const blocks: string[] = [];
    for (let b = from; b < to; b++)
      blocks.push(this.#blocks.toString("hex", b * HASH_BYTES, (b + 1) * HASH_BYTES));
    const h = this.#hashRow[row]!;
    const seq = n[at + 5]!;
    const target = this.#targets.get(row);
    return {
      type,
      size: n[at]!,
      mtimeMs: n[at + 1]!,
      ino: n[at + 2]!,
      mode: n[at + 3]!,
      blockSize: n[at + 4]!,
      blocks,
      hash: h < 0 ? "" : this.#hashes.toString("hex", h * HASH_BYTES, (h + 1) * HASH_BYTES),
      ...(target !== undefined ? { target } : {}),
      ...(seq >= 0 ? { seq } : {}),
    };
  }
}
