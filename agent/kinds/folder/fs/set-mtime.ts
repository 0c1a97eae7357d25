// Sets a file's mtime to a whole millisecond so that reading it back (floored to ms) gives the same number.
import { utimes } from "node:fs/promises";

/**
 * utimes takes seconds as a double; near 1.8e9 s a double resolves ~0.24 µs, so 1795318076.3 lands just below
 * .300 and floors to .299 ms. Half a microsecond of headroom keeps the floor exact.
 */
export function mtimeSeconds(ms: number): number {
  return (ms + 0.0005) / 1000;
}

export async function setMtime(path: string, ms: number): Promise<void> {
  const seconds = mtimeSeconds(ms);
  await utimes(path, seconds, seconds);
}
