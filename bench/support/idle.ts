// Idle readings: RSS after a quiet period (and its anonymous / file-backed split), then CPU time over a further quiet window.
import { readFile } from "node:fs/promises";
import { clockTicksPerSecond, readCpuMs, readRssBytes, toMiB } from "./procfs.ts";

export type IdleReading = {
  idleWaitS: number;
  cpuWindowS: number;
  /** RSS after the idle wait: the figure the target is about. */
  rssMiB: Record<string, number | null>;
  /** RSS again at the end of the CPU window (shows whether a late GC gave memory back). */
  rssAtWindowEndMiB: Record<string, number | null>;
  cpuMsInWindow: Record<string, number | null>;
  cpuTickMs: number;
  /** CPU ms each second from the end of the work through the wait and the window, space-separated. */
  cpuMsPerSecond: Record<string, string>;
};

export async function measureIdle(
  pids: Record<string, number | undefined>,
  idleWaitMs: number,
  cpuWindowMs: number,
): Promise<IdleReading> {
  const names = Object.keys(pids);
  const readAll = async () => {
    const out: Record<string, number | undefined> = {};
    for (const name of names) out[name] = await readCpuMs(pids[name]);
    return out;
  };
  // CPU is read every second over the wait and the window, so a one-off burst (a late GC) shows apart from a steady tick.
  const perSecond: Record<string, (number | null)[]> = Object.fromEntries(names.map((n) => [n, []]));
  const stepMs = 1000;
  const started = performance.now();
  let previous = await readAll();
  const rssMiB: Record<string, number | null> = {};
  let windowStart: Record<string, number | undefined> | undefined;
  for (let elapsed = stepMs; elapsed <= idleWaitMs + cpuWindowMs; elapsed += stepMs) {
    await new Promise((r) => setTimeout(r, Math.max(0, started + elapsed - performance.now())));
    const now = await readAll();
    for (const name of names) {
      const a = now[name];
      const b = previous[name];
      perSecond[name]!.push(a === undefined || b === undefined ? null : a - b);
    }
    previous = now;
    if (windowStart === undefined && elapsed >= idleWaitMs) {
      for (const name of names) rssMiB[name] = toMiB(await readRssBytes(pids[name]));
      windowStart = now;
    }
  }
  const rssAtWindowEndMiB: Record<string, number | null> = {};
  for (const name of names) rssAtWindowEndMiB[name] = toMiB(await readRssBytes(pids[name]));
  const cpuMsInWindow: Record<string, number | null> = {};
  for (const name of names) {
    const a = previous[name];
    const b = windowStart?.[name];
    cpuMsInWindow[name] = a === undefined || b === undefined ? null : a - b;
  }
  return {
    idleWaitS: idleWaitMs / 1000,
    cpuWindowS: cpuWindowMs / 1000,
    rssMiB,
    rssAtWindowEndMiB,
    cpuMsInWindow,
    cpuTickMs: 1000 / clockTicksPerSecond(),
    cpuMsPerSecond: Object.fromEntries(names.map((n) => [n, perSecond[n]!.join(" ")])),
  };
}

/** A process's resident memory split by what backs it (/proc/<pid>/smaps_rollup), in MiB. */
export type MemorySplit = {
  /** All resident pages (VmRSS). */
  rssMiB: number;
  /** Anonymous pages: the JS heap, malloc, stacks — the process's own memory. */
  anonMiB: number;
  /** File-backed pages: the executable's code and read-only data, shareable and reclaimable. */
  fileMiB: number;
};

/** The RSS of `pid` and its anonymous / file-backed parts, or undefined once it has exited. */
export async function readMemorySplit(pid: number | undefined): Promise<MemorySplit | undefined> {
  if (pid === undefined) return undefined;
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, "utf8").catch(() => "");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(rollup)?.[1]);
  const rss = kb("Rss");
  const anon = kb("Anonymous");
  if (!Number.isFinite(rss) || !Number.isFinite(anon)) return undefined;
  const mib = (k: number) => Math.round((k / 1024) * 10) / 10;
  return { rssMiB: mib(rss), anonMiB: mib(anon), fileMiB: mib(rss - anon) };
}
