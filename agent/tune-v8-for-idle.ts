// V8 settings for the long-running agent, which idles between changes: they keep its resident memory small (issue 13).
import { setFlagsFromString } from "node:v8";

/**
 * All are read by V8 when it acts, not only at start, so setting them from inside the process works for the
 * single executable (no execArgv), under the systemd unit and run by hand alike.
 */
export const IDLE_AGENT_V8_FLAGS = [
  // fetch (undici) compiles its HTTP parser to WebAssembly. TurboFan's pass over it mallocs ~28 MiB that glibc
  // keeps for good; Liftoff's baseline code needs ~1 MiB and parses HTTP framing (bodies are not parsed) fast enough.
  // The daemon talks to the hub over node:http (agent/hub/node-http-fetch.ts); a Pi-hole share's API calls still fetch.
  "--liftoff-only",
  // The young generation keeps its initial 1 MiB semi-space instead of growing to 16 MiB in a sync and holding
  // those pages while idle (`--max-semi-space-size` would need NODE_OPTIONS; V8 reads this at each growth).
  "--semi-space-growth-factor=1",
  // The heap favours size: V8 shrinks the young generation and compacts soon after work stops, instead of
  // holding 5–10 MiB of pages until its memory reducer runs, half a minute into idleness or later.
  "--optimize-for-size",
];

/**
 * V8's own heuristics while working: the young generation may grow (up to its 16 MiB maximum), and the old
 * generation's limit grows with what is live instead of sitting just above it.
 */
const BUSY_FLAGS = ["--semi-space-growth-factor=2", "--no-optimize-for-size"];
const IDLE_FLAGS = ["--semi-space-growth-factor=1", "--optimize-for-size"];

/** How long the busy settings outlast the last burst: a sync is many bursts (reports, instructions) in a row. */
const BUSY_LINGER_MS = 2000;

let tuned = false;
let busy = 0;
let idleAgain: NodeJS.Timeout | undefined;

/** Applies IDLE_AGENT_V8_FLAGS; call before the first fetch. */
export function tuneV8ForIdleAgent(): void {
  for (const flag of IDLE_AGENT_V8_FLAGS) setFlagsFromString(flag);
  tuned = true;
}

/**
 * Runs a burst of work (a scan, an apply) under V8's default heap heuristics. Under the idle ones a sync scavenged
 * every 1 MiB and, its old generation held just above what was live, ran a full mark-compact every ~30 ms (GC was
 * 20-35 % of a source's and a replica's CPU). Working costs up to ~30 MiB more while it lasts; the idle settings
 * return BUSY_LINGER_MS after the last burst ends, and the memory reducer shrinks the heap ~10 s into idleness, as
 * before. Nested and overlapping bursts count. Without tuneV8ForIdleAgent (tests, the CLI's other commands) this
 * only runs `work`.
 */
export async function whileBusy<T>(work: () => Promise<T>): Promise<T> {
  if (!tuned) return work();
  if (busy++ === 0) {
    if (idleAgain) clearTimeout(idleAgain);
    else for (const flag of BUSY_FLAGS) setFlagsFromString(flag);
    idleAgain = undefined;
  }
  try {
    return await work();
  } finally {
    if (--busy === 0) {
      idleAgain = setTimeout(() => {
        idleAgain = undefined;
        for (const flag of IDLE_FLAGS) setFlagsFromString(flag);
      }, BUSY_LINGER_MS);
      idleAgain.unref();
    }
  }
}
