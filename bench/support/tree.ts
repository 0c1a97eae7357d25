// Benchmark trees: random content written once, a streaming digest to compare copies, and a cheap "is it all there" poll.
import { randomBytes } from "node:crypto";
import { lstat, mkdir, open, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { TreeItem } from "../../test/support/fleet.ts";

const randomBytesAsync = promisify(randomBytes);

export type ExpectedFile = { path: string; size: number };

/** `count` files of random content adding up to exactly `totalBytes`, 100 per directory (d000/f00000.bin). */
export async function writeManySmallTree(
  root: string,
  totalBytes: number,
  count: number,
): Promise<ExpectedFile[]> {
  const each = Math.floor(totalBytes / count);
  const files: ExpectedFile[] = [];
  for (let i = 0; i < count; i++) {
    const dir = `d${String(Math.floor(i / 100)).padStart(3, "0")}`;
    if (i % 100 === 0) await mkdir(join(root, dir), { recursive: true });
    const size = i === count - 1 ? totalBytes - each * (count - 1) : each;
    const path = `${dir}/f${String(i).padStart(5, "0")}.bin`;
    await writeFile(join(root, path), await randomBytesAsync(size));
    files.push({ path, size });
  }
  return sortExpected(files);
}

/** One file of `totalBytes` random bytes, written 16 MiB at a time (every chunk differs: nothing deduplicates). */
export async function writeOneLargeFile(root: string, totalBytes: number): Promise<ExpectedFile[]> {
  await mkdir(root, { recursive: true });
  const handle = await open(join(root, "large.bin"), "w");
  try {
    const chunkBytes = 16 * 1024 * 1024;
    for (let offset = 0; offset < totalBytes; offset += chunkBytes) {
      const length = Math.min(chunkBytes, totalBytes - offset);
      await handle.write(await randomBytesAsync(length), 0, length, offset);
    }
  } finally {
    await handle.close();
  }
  return [{ path: "large.bin", size: totalBytes }];
}

/** Paths in the order fleetsync reports and applies them (JavaScript string order, as `[...].sort()`). */
function sortExpected(files: ExpectedFile[]): ExpectedFile[] {
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Polls until every expected file exists under `root` with its full size. Files arrive roughly in order, so a
 * cursor moves forward over the list and each poll stats only from the first file still missing: cheap
 * enough to poll every few tens of milliseconds without stealing CPU from what is being measured.
 */
export async function waitForFiles(
  root: string,
  files: ExpectedFile[],
  options: { timeoutMs: number; intervalMs?: number; onProgress?: (done: number) => void },
): Promise<{ ok: true; at: number } | { ok: false; done: number }> {
  const deadline = performance.now() + options.timeoutMs;
  const pending = new Set(files.map((_, i) => i));
  let next = 0;
  let lastReport = 0;
  while (performance.now() < deadline) {
    // Advance over files that are complete; then look a little further ahead for out-of-order arrivals.
    let misses = 0;
    for (let i = next; i < files.length && misses < 8; i++) {
      if (!pending.has(i)) continue;
      const file = files[i]!;
      const st = await lstat(join(root, file.path)).catch(() => undefined);
      if (st?.isFile() && st.size === file.size) {
        pending.delete(i);
        if (i === next) while (next < files.length && !pending.has(next)) next++;
      } else misses++;
    }
    if (pending.size === 0) return { ok: true, at: performance.now() };
    if (options.onProgress && performance.now() - lastReport > 5000) {
      lastReport = performance.now();
      options.onProgress(files.length - pending.size);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 25));
  }
  return { ok: false, done: files.length - pending.size };
}

/** Compares two trees from snapshotTree; returns the first few differences (empty: byte-for-byte identical). */
export function diffDigests(want: Record<string, TreeItem>, got: Record<string, TreeItem>): string[] {
  const problems: string[] = [];
  for (const [path, item] of Object.entries(want)) {
    const other = got[path];
    if (!other) problems.push(`missing ${path}`);
    else if (JSON.stringify(other) !== JSON.stringify(item)) problems.push(`differs ${path}`);
    if (problems.length >= 5) return problems;
  }
  for (const path of Object.keys(got)) {
    if (!(path in want)) problems.push(`extra ${path}`);
    if (problems.length >= 5) return problems;
  }
  return problems;
}

/** Apparent size of a file in bytes (0 when it does not exist). */
export async function sizeOfFile(path: string): Promise<number> {
  return (await lstat(path).catch(() => undefined))?.size ?? 0;
}
