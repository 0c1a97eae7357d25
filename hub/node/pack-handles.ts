// A bounded cache of read-only handles on pack files: serving a block costs one pread, not an open, a read and a close.
import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";

const { O_NOFOLLOW, O_RDONLY } = constants;

export type PackHandles = {
  /** Runs `read` on an open handle of pack `id`; undefined (and `read` not run) when the pack file is gone. */
  use<T>(id: number, read: (handle: FileHandle) => Promise<T>): Promise<T | undefined>;
  /** Pack `id` is being unlinked: its handle closes once no read holds it, and the next use opens the path again. */
  retire(id: number): void;
  close(): Promise<void>;
};

type Entry = { opening: Promise<FileHandle | undefined>; refs: number; retired: boolean };

export function createPackHandles(options: { pathOf: (id: number) => string; maxOpen: number }): PackHandles {
  // Insertion order is use order: the first entries are the least recently used.
  const entries = new Map<number, Entry>();
  const closeEntry = (entry: Entry) => {
    void entry.opening.then((handle) => handle?.close()).catch(() => {});
  };
  const evict = () => {
    for (const [id, entry] of entries) {
      if (entries.size <= options.maxOpen) return;
      if (entry.refs > 0) continue;
      entries.delete(id);
      closeEntry(entry);
    }
  };

  return {
    async use(id, read) {
      let entry = entries.get(id);
      if (entry) entries.delete(id);
      else {
        // O_NOFOLLOW: a pack path that became a symlink is refused, never followed.
        const opening = open(options.pathOf(id), O_RDONLY | O_NOFOLLOW).catch(
          (error: NodeJS.ErrnoException) => {
            if (error.code === "ENOENT") return undefined;
            throw error;
          },
        );
        entry = { opening, refs: 0, retired: false };
      }
      entries.set(id, entry);
      entry.refs++;
      try {
        const handle = await entry.opening;
        if (!handle) {
          if (entries.get(id) === entry) entries.delete(id);
          return undefined;
        }
        return await read(handle);
      } catch (error) {
        // A handle that failed a read is not trusted again: closed once free, reopened by the next use.
        if (entries.get(id) === entry) entries.delete(id);
        entry.retired = true;
        throw error;
      } finally {
        entry.refs--;
        if (entry.retired && entry.refs === 0) closeEntry(entry);
        evict();
      }
    },

    retire(id) {
      const entry = entries.get(id);
      if (!entry) return;
      entries.delete(id);
      entry.retired = true;
      if (entry.refs === 0) closeEntry(entry);
    },

    async close() {
      const all = [...entries.values()];
      entries.clear();
      await Promise.all(all.map((entry) => entry.opening.then((handle) => handle?.close()).catch(() => {})));
    },
  };
}
