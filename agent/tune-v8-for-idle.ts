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

/** Applies IDLE_AGENT_V8_FLAGS; call before the first fetch. */
export function tuneV8ForIdleAgent(): void {
  for (const flag of IDLE_AGENT_V8_FLAGS) setFlagsFromString(flag);
}
