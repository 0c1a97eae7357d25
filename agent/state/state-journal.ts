// A receiving share's state saves between full rewrites: one appended line per save with what changed, so a save costs what changed, not the tree.
import { appendFile, open, readFile, rm } from "node:fs/promises";
import { z } from "zod";
import { SequencedEntrySchema } from "../../shared/protocol/entry.ts";
import { IndexEntrySchema } from "./index-entry.ts";

/** The fields every save carries whole (small: the cursor, failed and deferred operations, last change/error). */
export const JournalFieldsSchema = z.object({
  cursor: z.number().int().min(0),
  failed: z.record(z.string(), SequencedEntrySchema),
  deferred: z.record(z.string(), SequencedEntrySchema),
  lastChangeAt: z.string().nullable(),
  lastError: z.string().nullable(),
});
export type JournalFields = z.infer<typeof JournalFieldsSchema>;

/**
 * One save. `id` names the full state file it follows: a line whose id is not the file's is from before the
 * file's last full rewrite (a crash between the rewrite and the journal's removal) and is ignored.
 */
const JournalLineSchema = z.object({
  id: z.string(),
  fields: JournalFieldsSchema,
  set: z.record(z.string(), IndexEntrySchema),
  deleted: z.array(z.string()),
});
export type JournalLine = z.infer<typeof JournalLineSchema>;

export function journalFile(stateFile: string): string {
  return `${stateFile}.journal`;
}

/** Appends one line and syncs it; the save is durable when this returns. */
export async function appendJournal(stateFile: string, line: JournalLine): Promise<void> {
  const file = journalFile(stateFile);
  await appendFile(file, `${JSON.stringify(line)}\n`, { mode: 0o600 });
  const handle = await open(file, "r");
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

export async function removeJournal(stateFile: string): Promise<void> {
  await rm(journalFile(stateFile), { force: true });
}

export type JournalProblem = { file: string; problem: string };

/**
 * The lines saved after the full state file `id` names, in order. A last line cut short (a crash while it was
 * written: its save never finished, so nothing was acknowledged on it) is dropped; any other bad line is a problem.
 */
export async function readJournal(
  stateFile: string,
  id: string,
): Promise<{ lines: JournalLine[]; torn: boolean } | { problem: JournalProblem }> {
  const file = journalFile(stateFile);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { lines: [], torn: false };
    throw error;
  }
  const raw = text.split("\n");
  const lines: JournalLine[] = [];
  for (const [i, line] of raw.entries()) {
    if (line === "") continue;
    const isLast = raw.slice(i + 1).every((rest) => rest === "");
    let parsed: ReturnType<typeof JournalLineSchema.safeParse>;
    try {
      parsed = JournalLineSchema.safeParse(JSON.parse(line));
    } catch (error) {
      if (isLast && !text.endsWith("\n")) return { lines, torn: true };
      return { problem: { file, problem: `line ${i + 1} is not JSON: ${(error as Error).message}` } };
    }
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return {
        problem: { file, problem: `line ${i + 1}: ${issue?.path.join(".") || "(root)"}: ${issue?.message}` },
      };
    }
    if (parsed.data.id === id) lines.push(parsed.data);
  }
  return { lines, torn: false };
}
