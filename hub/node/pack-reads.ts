// Planning pack reads: located blocks grouped into runs of neighbours (one pread each), moves cut into steps.
import type { FileHandle } from "node:fs/promises";

/** Neighbouring blocks of a pack (a file's run of chunks) are read with one pread up to this size... */
const MAX_READ_BYTES = 4 * 1024 * 1024;
/** ...across gaps (blocks not asked for) of at most this many bytes. */
const MAX_READ_GAP_BYTES = 64 * 1024;

/** Where the index says a block is. */
export type Location = { hash: string; pack: number; offset: number; size: number };
type Run = { pack: number; start: number; end: number; rows: Location[] };

/** Groups located blocks by pack and offset into runs that one pread each covers. */
export function toRuns(rows: Location[]): Run[] {
  const runs: Run[] = [];
  const sorted = [...rows].sort((a, b) => a.pack - b.pack || a.offset - b.offset);
  let run: Run | undefined;
  for (const row of sorted) {
    const end = row.offset + row.size;
    if (
      run &&
      run.pack === row.pack &&
      row.offset - run.end <= MAX_READ_GAP_BYTES &&
      end - run.start <= MAX_READ_BYTES
    ) {
      run.end = Math.max(run.end, end);
      run.rows.push(row);
    } else {
      run = { pack: row.pack, start: row.offset, end, rows: [row] };
      runs.push(run);
    }
  }
  return runs;
}

/** Splits rows (in pack order) into steps of about `stepBytes`. */
export function inSteps(rows: Location[], stepBytes: number): Location[][] {
  const steps: Location[][] = [];
  let step: Location[] = [];
  let bytes = 0;
  for (const row of rows) {
    if (step.length > 0 && bytes + row.size > stepBytes) {
      steps.push(step);
      step = [];
      bytes = 0;
    }
    step.push(row);
    bytes += row.size;
  }
  if (step.length > 0) steps.push(step);
  return steps;
}

/** Up to `length` bytes at `position`; fewer only where the file ends. */
export async function readFully(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}
