// Test setup: gives a file an exact mtime, to the millisecond, by path (the agent itself only sets mtimes on handles).
import { utimes } from "node:fs/promises";

export async function setMtime(path: string, ms: number): Promise<void> {
  // Half a microsecond of headroom so the floor to ms reads back exact (as the folder kind's mtimeSeconds).
  const seconds = (ms + 0.0005) / 1000;
  await utimes(path, seconds, seconds);
}
