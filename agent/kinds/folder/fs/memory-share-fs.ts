// The in-memory fake of the filesystem port, for planner and executor tests: inodes, mtimes and faults under control.
import {
  baseName,
  FsError,
  type FsOperation,
  type FsStat,
  parentOf,
  type ReadableFile,
  type ShareFs,
  type WritableFile,
} from "./share-fs.ts";
import { newTempName } from "./temp-name.ts";

type FileNode = { type: "file"; data: Uint8Array; mode: number; mtimeMs: number; ino: number };
type DirNode = { type: "dir"; children: Map<string, Node>; mode: number; mtimeMs: number; ino: number };
type LinkNode = { type: "symlink"; target: string; mode: number; mtimeMs: number; ino: number };
type Node = FileNode | DirNode | LinkNode;

export type MemoryShareFs = ShareFs & {
  /** The clock new and modified entries take their mtime from (ms). */
  nowMs: number;
  /** The inode number the next new entry gets (each new entry takes the next). */
  nextIno: number;
  /** Test setup: writes a file (making parent directories), with explicit metadata where given. */
  put(
    path: string,
    content: string | Uint8Array,
    meta?: Partial<Pick<FsStat, "mode" | "mtimeMs" | "ino">>,
  ): void;
  putDir(path: string, mode?: number): void;
  putSymlink(path: string, target: string): void;
  /** The content of a file, as text (undefined when no file is there). */
  text(path: string): string | undefined;
  /** Every path in the tree ("a", "a/b.txt", …), sorted, with its type. */
  tree(): Record<string, string>;
  /** Makes the next `op` on `path` (or any path, with "*") fail with `errno`, `times` times. */
  failNext(op: FsOperation, path: string, errno: string, times?: number): void;
};

export function createMemoryShareFs(options: { nowMs?: number } = {}): MemoryShareFs {
  const root: DirNode = { type: "dir", children: new Map(), mode: 0o755, mtimeMs: 0, ino: 1 };
  const faults: { op: FsOperation; path: string; errno: string; times: number }[] = [];

  const fault = (op: FsOperation, path: string) => {
    const at = faults.findIndex((f) => f.op === op && (f.path === path || f.path === "*") && f.times > 0);
    if (at < 0) return;
    const f = faults[at]!;
    f.times--;
    throw new FsError(op, path, f.errno);
  };
  const parts = (path: string) => (path === "" ? [] : path.split("/"));
  /** The directory at `dir`; an ancestor that is missing → ENOENT, that is not a directory → ENOTDIR. */
  const dirAt = (op: FsOperation, path: string, dir: string): DirNode => {
    let node: Node = root;
    for (const part of parts(dir)) {
      if (node.type !== "dir") throw new FsError(op, path, "ENOTDIR");
      const next: Node | undefined = node.children.get(part);
      if (!next) throw new FsError(op, path, "ENOTDIR");
      node = next;
    }
    if (node.type !== "dir") throw new FsError(op, path, "ENOTDIR");
    return node;
  };
  const lookup = (op: FsOperation, path: string): Node | undefined =>
    path === "" ? root : dirAt(op, path, parentOf(path)).children.get(baseName(path));
  const need = (op: FsOperation, path: string): Node => {
    const node = lookup(op, path);
    if (!node) throw new FsError(op, path, "ENOENT");
    return node;
  };
  const statOf = (node: Node): FsStat => ({
    type: node.type,
    size: node.type === "file" ? node.data.byteLength : node.type === "symlink" ? node.target.length : 0,
    mtimeMs: node.mtimeMs,
    ino: node.ino,
    mode: node.mode,
  });
  const place = (op: FsOperation, path: string, node: Node, replace = false) => {
    const dir = dirAt(op, path, parentOf(path));
    if (!replace && dir.children.has(baseName(path))) throw new FsError(op, path, "EEXIST");
    dir.children.set(baseName(path), node);
  };
  const ino = () => fs.nextIno++;

  const fs: MemoryShareFs = {
    nowMs: options.nowMs ?? 1_700_000_000_000,
    nextIno: 100,
    async stat(path) {
      fault("stat", path);
      const node = lookup("stat", path);
      return node && statOf(node);
    },
    async list(path) {
      fault("list", path);
      const dir = dirAt("list", path, path);
      return [...dir.children].map(([name, node]) => ({ name, stat: statOf(node) }));
    },
    async readlink(path) {
      fault("readlink", path);
      const node = need("readlink", path);
      if (node.type !== "symlink") throw new FsError("readlink", path, "EINVAL");
      return node.target;
    },
    async openRead(path) {
      fault("open", path);
      const node = need("open", path);
      if (node.type === "symlink") throw new FsError("open", path, "ELOOP");
      if (node.type !== "file") throw new FsError("open", path, "EISDIR");
      const file: ReadableFile = {
        async read(buffer, offset, length, position) {
          fault("read", path);
          const chunk = node.data.subarray(position, position + length);
          buffer.set(chunk, offset);
          return chunk.byteLength;
        },
        stat: async () => statOf(node),
        close: async () => {},
      };
      return file;
    },
    async createTemp(dir, mode) {
      const path = dir === "" ? newTempName() : `${dir}/${newTempName()}`;
      fault("create", path);
      fault("create", dir);
      const node: FileNode = { type: "file", data: new Uint8Array(), mode, mtimeMs: fs.nowMs, ino: ino() };
      place("create", path, node);
      const file: WritableFile = {
        async write(bytes, position) {
          fault("write", path);
          fault("write", "*");
          const end = position + bytes.byteLength;
          if (end > node.data.byteLength) {
            const grown = new Uint8Array(end);
            grown.set(node.data);
            node.data = grown;
          }
          node.data.set(bytes, position);
          node.mtimeMs = fs.nowMs;
        },
        sync: async () => fault("sync", path),
        async setMode(m) {
          node.mode = m;
        },
        async setMtime(ms) {
          node.mtimeMs = Math.floor(ms);
        },
        close: async () => {},
      };
      return { path, file };
    },
    async mkdir(path, mode) {
      fault("mkdir", path);
      place("mkdir", path, { type: "dir", children: new Map(), mode, mtimeMs: fs.nowMs, ino: ino() });
    },
    async symlink(target, path) {
      fault("symlink", path);
      place("symlink", path, { type: "symlink", target, mode: 0o777, mtimeMs: fs.nowMs, ino: ino() });
    },
    async rename(from, to) {
      fault("rename", from);
      const node = need("rename", from);
      const existing = lookup("rename", to);
      if (existing?.type === "dir" && (node.type !== "dir" || existing.children.size > 0)) {
        throw new FsError("rename", from, node.type === "dir" ? "ENOTEMPTY" : "EISDIR");
      }
      place("rename", to, node, true);
      dirAt("rename", from, parentOf(from)).children.delete(baseName(from));
    },
    async copyFile(from, to) {
      fault("copy", from);
      const node = need("copy", from);
      if (node.type !== "file") throw new FsError("copy", from, node.type === "symlink" ? "ELOOP" : "EISDIR");
      place("copy", to, { ...node, data: node.data.slice() });
    },
    async remove(path) {
      fault("remove", path);
      if (path === "") throw new FsError("remove", path, "EPERM");
      const dir = dirAt("remove", path, parentOf(path));
      dir.children.delete(baseName(path));
    },
    async setMode(path, mode) {
      fault("chmod", path);
      const node = need("chmod", path);
      if (node.type === "symlink") throw new FsError("chmod", path, "ELOOP");
      node.mode = mode;
    },
    async setMtime(path, ms) {
      fault("utimes", path);
      const node = need("utimes", path);
      if (node.type === "symlink") throw new FsError("utimes", path, "ELOOP");
      node.mtimeMs = Math.floor(ms);
    },
    async syncDir(dir) {
      fault("sync", dir);
      dirAt("sync", dir, dir);
    },
    put(path, content, meta = {}) {
      makeParents(path);
      const data = typeof content === "string" ? new TextEncoder().encode(content) : content;
      place(
        "create",
        path,
        {
          type: "file",
          data,
          mode: meta.mode ?? 0o644,
          mtimeMs: meta.mtimeMs ?? fs.nowMs,
          ino: meta.ino ?? ino(),
        },
        true,
      );
    },
    putDir(path, mode = 0o755) {
      makeParents(`${path}/x`);
      const node = lookup("mkdir", path);
      if (node?.type === "dir") node.mode = mode;
    },
    putSymlink(path, target) {
      makeParents(path);
      place("symlink", path, { type: "symlink", target, mode: 0o777, mtimeMs: fs.nowMs, ino: ino() }, true);
    },
    text(path) {
      const node = lookup("open", path);
      return node?.type === "file" ? new TextDecoder().decode(node.data) : undefined;
    },
    tree() {
      const out: Record<string, string> = {};
      const walk = (dir: DirNode, prefix: string) => {
        for (const [name, node] of dir.children) {
          const path = prefix ? `${prefix}/${name}` : name;
          out[path] = node.type;
          if (node.type === "dir") walk(node, path);
        }
      };
      walk(root, "");
      return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
    },
    failNext(op, path, errno, times = 1) {
      faults.push({ op, path, errno, times });
    },
  };
  const makeParents = (path: string) => {
    let dir = root;
    for (const part of parts(parentOf(path))) {
      let next = dir.children.get(part);
      if (!next) {
        next = { type: "dir", children: new Map(), mode: 0o755, mtimeMs: fs.nowMs, ino: ino() };
        dir.children.set(part, next);
      }
      if (next.type !== "dir") throw new Error(`put: ${part} in ${path} is not a directory`);
      dir = next;
    }
  };
  return fs;
}
