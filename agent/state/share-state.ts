// What the agent remembers per share between runs: its index of the tree, cursor, and last change/error.
import { randomUUID } from "node:crypto";
import { mkdir, open, readFile, rename } from "node:fs/promises";
import { dirname, join } from "node:path";
import { z } from "zod";
import { type Entry, SequencedEntrySchema } from "../../shared/protocol/entry.ts";
import { CompactIndex, PackedIndexSchema } from "./compact-index.ts";
import { type IndexEntry, IndexEntrySchema } from "./index-entry.ts";
import { compactIndexBehind, indexRecord, receiverIndexBehind } from "./index-record.ts";
import { ReceiverIndex } from "./receiver-index.ts";
import { appendJournal, type JournalLine, readJournal, removeJournal } from "./state-journal.ts";

export { type IndexEntry, IndexEntrySchema } from "./index-entry.ts";

/** What the state holds besides the index, the same in every version of the file. */
const StateFieldsSchema = z.object({
  cursor: z.number().int().min(0),
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

/** Names the journal (state-journal.ts) of saves made after this file was written; absent: none follows it. */
const JournalIdSchema = z.string().optional();
/** Version 1 of the file: the index as one JSON object per path (a receiving share's). */
const ShareStateFileV1Schema = StateFieldsSchema.extend({
  version: z.literal(1),
  index: z.record(z.string(), IndexEntrySchema),
  journal: JournalIdSchema,
});
/** Version 2: the index packed into columns (compact-index.ts), a few MiB for 100,000 entries. */
const ShareStateFileSchema = StateFieldsSchema.extend({
  version: z.literal(2),
  index: PackedIndexSchema,
  journal: JournalIdSchema,
});
const AnyShareStateFileSchema = z.discriminatedUnion("version", [
  ShareStateFileV1Schema,
  ShareStateFileSchema,
]);

/** The state in memory: `index` reads and writes like a plain record, backed by a CompactIndex or a ReceiverIndex. */
export type ShareState = z.infer<typeof StateFieldsSchema> & { index: Record<string, IndexEntry> };

export type ShareStateOptions = {
  /**
   * Keep the index packed in memory (compact-index.ts): a few MiB instead of an object per entry, but every read
   * builds an entry. Right for a share that only sends (its scan reads the columns directly). Otherwise the index is
   * a ReceiverIndex (receiver-index.ts): entry objects plus the lookups the apply side needs (the entries below a
   * path, where a block is held), so applying an instruction never walks the whole index.
   */
  packed?: boolean;
};

export function emptyShareState(options: ShareStateOptions = {}): ShareState {
  return {
    cursor: 0,
    index: indexRecord(options.packed ? new CompactIndex() : new ReceiverIndex()),
    failed: {},
    deferred: {},
    lastChangeAt: null,
    lastError: null,
  };
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
export async function loadShareState(
  stateDir: string,
  share: string,
  options: ShareStateOptions = {},
): Promise<ShareState | undefined> {
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
  const parsed = AnyShareStateFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DamagedStateError(file, `${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
  }
  const data = parsed.data;
  const { version: _version, index: _stored, journal, ...fields } = data;
  let state: ShareState;
  if (data.version === 1 && !options.packed)
    state = { ...fields, index: indexRecord(ReceiverIndex.fromEntries(Object.entries(data.index))) };
  else {
    let compact: CompactIndex;
    try {
      compact =
        data.version === 2
          ? CompactIndex.fromPacked(data.index)
          : CompactIndex.fromEntries(Object.entries(data.index));
    } catch (error) {
      throw new DamagedStateError(file, `index: ${(error as Error).message}`);
    }
    state = options.packed
      ? { ...fields, index: indexRecord(compact) }
      : {
          ...fields,
          index: indexRecord(
            ReceiverIndex.fromEntries(compact.keys().map((path) => [path, compact.get(path)!])),
          ),
        };
  }
  const compact = compactIndexBehind(state.index);
  if (compact && data.version === 2 && journal === undefined && compact.overlaySize === 0)
    writtenFields.set(compact, fieldsOf(state));
  if (journal === undefined) return state;
  const replay = await readJournal(file, journal);
  if ("problem" in replay) throw new DamagedStateError(replay.problem.file, replay.problem.problem);
  let entries = 0;
  for (const line of replay.lines) {
    Object.assign(state, line.fields);
    for (const [path, entry] of Object.entries(line.set)) state.index[path] = entry;
    for (const path of line.deleted) delete state.index[path];
    entries += Math.max(1, Object.keys(line.set).length + line.deleted.length);
  }
  const receiver = receiverIndexBehind(state.index);
  if (receiver) {
    receiver.takeChanges();
    // After a torn last line the next save rewrites the whole file: appending would glue onto the fragment.
    if (!replay.torn) journals.set(receiver, { id: journal, entries });
  }
  return state;
}

/**
 * Per packed index: its state's other fields as its state file holds them, while the index is unchanged since it
 * was written or read (empty overlay). A save then has nothing to write: a source stopping on an unchanged share
 * rewrote and fsynced its whole state file (17.7 MB at 100,000 files) on every stop.
 */
const writtenFields = new WeakMap<CompactIndex, string>();
const fieldsOf = (state: ShareState) => {
  const { index: _index, ...fields } = state;
  return JSON.stringify(fields);
};

/** Per receiving index: the journal its saves append to (the id its last full state file names), and its length. */
const journals = new WeakMap<ReceiverIndex, { id: string; entries: number }>();
/** A full rewrite once the journal holds more changed entries than this (a quarter of the index, at least 1,000). */
const journalLimit = (size: number) => Math.max(1000, size / 4);

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
  options: ShareStateOptions & {
    now: () => Date;
    onDamaged: (error: DamagedStateError, movedTo: string) => void;
  },
): Promise<OpenedShareState> {
  try {
    const state = await loadShareState(stateDir, share, options);
    return state ? { state, isNew: false } : { state: emptyShareState(options), isNew: true };
  } catch (error) {
    if (!(error instanceof DamagedStateError)) throw error;
    const movedTo = `${error.file}.damaged-${options.now().toISOString().replaceAll(":", "")}`;
    await rename(error.file, movedTo);
    options.onDamaged(error, movedTo);
    return { state: emptyShareState(options), isNew: false };
  }
}

/**
 * Durable save. A receiving index appends what changed since its last save to the journal (state-journal.ts), so a
 * save costs what changed; every so often, and always for a packed index, the whole file is rewritten atomically:
 * temp file, fsync, rename (a packed index is re-packed in memory too: its overlay empties).
 */
export async function saveShareState(stateDir: string, share: string, state: ShareState): Promise<void> {
  const file = shareStateFile(stateDir, share);
  const receiver = receiverIndexBehind(state.index);
  const changes = receiver?.takeChanges();
  const journal = receiver && journals.get(receiver);
  if (receiver && changes && journal && journal.entries + changes.size <= journalLimit(receiver.size)) {
    const line: JournalLine = {
      id: journal.id,
      fields: {
        cursor: state.cursor,
        failed: state.failed,
        deferred: state.deferred,
        lastChangeAt: state.lastChangeAt,
        lastError: state.lastError,
      },
      set: {},
      deleted: [],
    };
    for (const [path, entry] of changes) {
      if (entry) line.set[path] = entry;
      else line.deleted.push(path);
    }
    try {
      await appendJournal(file, line);
    } catch (error) {
      journals.delete(receiver); // the next save writes everything
      throw error;
    }
    journal.entries += Math.max(1, changes.size);
    return;
  }
  const compact = compactIndexBehind(state.index);
  if (compact) {
    const fields = fieldsOf(state);
    if (compact.overlaySize === 0 && writtenFields.get(compact) === fields) return;
    writtenFields.delete(compact);
    await writeWholeState(file, state, undefined);
    // Packed as written (the overlay empties unless an entry cannot be packed): the file holds exactly this.
    if (compact.overlaySize === 0) writtenFields.set(compact, fields);
    await removeJournal(file);
    return;
  }
  const journalId = receiver ? randomUUID() : undefined;
  try {
    await writeWholeState(file, state, journalId);
  } catch (error) {
    if (receiver) journals.delete(receiver); // the changes taken above are written by the next full save
    throw error;
  }
  await removeJournal(file);
  if (receiver && journalId) journals.set(receiver, { id: journalId, entries: 0 });
}

async function writeWholeState(
  file: string,
  state: ShareState,
  journalId: string | undefined,
): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.tmp`;
  const handle = await open(temp, "w", 0o600);
  try {
    // A packed index is written packed (version 2); a plain one as one object per entry (version 1), which
    // JSON.stringify writes several times faster than packing it would.
    const compact = compactIndexBehind(state.index);
    const receiver = receiverIndexBehind(state.index);
    await handle.writeFile(
      JSON.stringify(
        compact
          ? { version: 2, ...state, index: compact.pack() }
          : {
              version: 1,
              ...state,
              // A plain object for JSON.stringify's fast path (through the record's proxy it is several times slower).
              index: receiver ? Object.fromEntries(receiver.entries()) : state.index,
              ...(journalId ? { journal: journalId } : {}),
            },
      ),
    );
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
