// What the agent remembers per share between runs: its index of the tree, cursor, and last change/error.
import { mkdir, open, readFile, rename } from "node:fs/promises";
import { dirname, join } from "node:path";
import { z } from "zod";
import { type Entry, SequencedEntrySchema } from "../../shared/protocol/entry.ts";

export const IndexEntrySchema = z.object({
  type: z.enum(["file", "dir", "symlink"]),
  size: z.number(),
  mtimeMs: z.number(),
  ino: z.number(),
  mode: z.number(),
  blockSize: z.number(),
  blocks: z.array(z.string()),
  /** Content-defined chunks' lengths (absent: fixed blocks of blockSize, as every entry before chunking). */
  blockLengths: z.array(z.number()).optional(),
  hash: z.string(),
  target: z.string().optional(),
  /** The hub's sequence of the version this entry is (what a peer names as the base of its next change). */
  seq: z.number().int().min(0).optional(),
});
export type IndexEntry = z.infer<typeof IndexEntrySchema>;

export const ShareStateSchema = z.object({
  version: z.literal(1),
  cursor: z.number().int().min(0),
  index: z.record(z.string(), IndexEntrySchema),
  /**
   * Operations a replica could not apply (disk full, permission denied), by path. They no longer hold the cursor
   * back — later changes keep arriving — and are retried with backoff until they succeed or a newer change to the
   * same path replaces them.
   */
  failed: z.record(z.string(), SequencedEntrySchema).default({}),
  /**
   * Operations a peer deferred, by path: it had changed the path itself and not reported it yet. Reporting the path
   * settles them (the hub resolves the two versions); if the local change goes away unreported (deleted, put back),
   * the deferred operation is applied on the next retry, so the peer is never left without the hub's version.
   */
  deferred: z.record(z.string(), SequencedEntrySchema).default({}),
  lastChangeAt: z.string().nullable(),
  lastError: z.string().nullable(),
});
export type ShareState = z.infer<typeof ShareStateSchema>;

export function emptyShareState(): ShareState {
  return { version: 1, cursor: 0, index: {}, failed: {}, deferred: {}, lastChangeAt: null, lastError: null };
}

export function shareStateFile(stateDir: string, share: string): string {
  return join(stateDir, "shares", `${share}.json`);
}

/** A state file that cannot be read back: not JSON, or not the shape this agent writes. */
export class DamagedStateError extends Error {
  override name = "DamagedStateError";
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`state file ${file} is damaged (${problem})`);
  }
}

/** Loads the state, or undefined when this share has never run here. A damaged file throws DamagedStateError. */
export async function loadShareState(stateDir: string, share: string): Promise<ShareState | undefined> {
  const file = shareStateFile(stateDir, share);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new DamagedStateError(file, `not JSON: ${(error as Error).message}`);
  }
  const parsed = ShareStateSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DamagedStateError(file, `${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
  }
  return parsed.data;
}

export type OpenedShareState = {
  state: ShareState;
  /** True when the share has never synced here (no state file): its root marker may be created. */
  isNew: boolean;
};

/**
 * The state a share session starts from. A damaged file is moved aside (`<file>.damaged-<time>`) and the share
 * starts from an empty state that is not new: it rebuilds by rescanning and re-checking against the hub, and a
 * missing root marker still stops it, exactly as with a good state file.
 */
export async function openShareState(
  stateDir: string,
  share: string,
  options: { now: () => Date; onDamaged: (error: DamagedStateError, movedTo: string) => void },
): Promise<OpenedShareState> {
  try {
    const state = await loadShareState(stateDir, share);
    return state ? { state, isNew: false } : { state: emptyShareState(), isNew: true };
  } catch (error) {
    if (!(error instanceof DamagedStateError)) throw error;
    const movedTo = `${error.file}.damaged-${options.now().toISOString().replaceAll(":", "")}`;
    await rename(error.file, movedTo);
    options.onDamaged(error, movedTo);
    return { state: emptyShareState(), isNew: false };
  }
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
    ...(entry.type === "file" && entry.blockLengths ? { blockLengths: entry.blockLengths } : {}),
    hash: entry.type === "file" ? entry.hash : "",
    ...(entry.type === "symlink" ? { target: entry.target ?? "" } : {}),
  };
}
