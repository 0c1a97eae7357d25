// What the agent remembers per share between runs: its index of the tree, cursor, and last change/error.
import { mkdir, open, readFile, rename } from "node:fs/promises";
import { dirname, join } from "node:path";
import { z } from "zod";
import type { Entry } from "../../shared/protocol/entry.ts";

export const IndexEntrySchema = z.object({
  type: z.enum(["file", "dir", "symlink"]),
  size: z.number(),
  mtimeMs: z.number(),
  ino: z.number(),
  mode: z.number(),
  blockSize: z.number(),
  blocks: z.array(z.string()),
  hash: z.string(),
  target: z.string().optional(),
});
export type IndexEntry = z.infer<typeof IndexEntrySchema>;

export const ShareStateSchema = z.object({
  version: z.literal(1),
  cursor: z.number().int().min(0),
  index: z.record(z.string(), IndexEntrySchema),
  lastChangeAt: z.string().nullable(),
  lastError: z.string().nullable(),
});
export type ShareState = z.infer<typeof ShareStateSchema>;

export function emptyShareState(): ShareState {
  return { version: 1, cursor: 0, index: {}, lastChangeAt: null, lastError: null };
}

export function shareStateFile(stateDir: string, share: string): string {
  return join(stateDir, "shares", `${share}.json`);
}

/** Loads the state, or undefined when this share has never run here. A damaged file is an error, not a reset. */
export async function loadShareState(stateDir: string, share: string): Promise<ShareState | undefined> {
  const file = shareStateFile(stateDir, share);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const parsed = ShareStateSchema.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new Error(
      `state file ${file} is damaged (${parsed.error.issues[0]?.message}); move it away to rebuild it`,
    );
  return parsed.data;
}

/** Atomic save: temp file, fsync, rename. */
export async function saveShareState(stateDir: string, share: string, state: ShareState): Promise<void> {
  const file = shareStateFile(stateDir, share);
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.tmp`;
  const handle = await open(temp, "w", 0o600);
  try {
    await handle.writeFile(JSON.stringify(state));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
}

export function indexEntryToEntry(path: string, entry: IndexEntry | undefined): Entry {
  if (!entry) {
    return {
      path,
      type: "deleted",
      size: 0,
      mode: 0,
      mtimeMs: 0,
      blockSize: 128 * 1024,
      blocks: [],
      hash: "",
    };
  }
  return {
    path,
    type: entry.type,
    size: entry.type === "file" ? entry.size : 0,
    mode: entry.mode,
    mtimeMs: entry.type === "file" ? entry.mtimeMs : 0,
    blockSize: entry.blockSize,
    blocks: entry.type === "file" ? entry.blocks : [],
    hash: entry.type === "file" ? entry.hash : "",
    ...(entry.type === "symlink" ? { target: entry.target ?? "" } : {}),
  };
}
