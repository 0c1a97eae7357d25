// Summaries of V8 .cpuprofile files (see cpu-profile-preload.mjs): where each process spent its time, by function and file.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { REPO_ROOT } from "../../test/support/fleet.ts";
import { round } from "./stats.ts";

const PRELOAD = new URL("./cpu-profile-preload.mjs", import.meta.url).href;

type ProfileNode = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
};
type CpuProfile = {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
};

export type ProfileSummary = {
  file: string;
  totalMs: number;
  idleMs: number;
  topFunctions: { fn: string; selfMs: number; pct: number }[];
  topFiles: { file: string; selfMs: number; pct: number }[];
};

function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, "");
  const nm = path.lastIndexOf("/node_modules/");
  if (nm >= 0) return path.slice(nm + "/node_modules/".length);
  if (path.startsWith(REPO_ROOT)) return path.slice(REPO_ROOT.length);
  return path || "(native)";
}

/** A node_modules package (its name), a repo file (its path), or a Node built-in (node:fs...). */
function fileGroup(url: string): string {
  const path = url.replace(/^file:\/\//, "");
  const nm = path.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const parts = path.slice(nm + "/node_modules/".length).split("/");
    return `npm:${parts[0]?.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  return shortUrl(url);
}

export function summarizeProfile(profile: CpuProfile, file: string, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, micros] of self) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    total += micros;
    if (frame.functionName === "(idle)") {
      idle += micros;
      continue;
    }
    const url = shortUrl(frame.url);
    const fn = `${frame.functionName || "(anonymous)"} ${url}${frame.url ? `:${frame.lineNumber + 1}` : ""}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + micros);
    const fileKey = frame.url ? fileGroup(frame.url) : frame.functionName;
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + micros);
  }
  const busy = total - idle;
  const rank = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, micros]) => ({
        key,
        selfMs: round(micros / 1000, 0) ?? 0,
        pct: round((micros / Math.max(busy, 1)) * 100, 1) ?? 0,
      }));
  return {
    file,
    totalMs: round(total / 1000, 0) ?? 0,
    idleMs: round(idle / 1000, 0) ?? 0,
    topFunctions: rank(byFunction).map(({ key, ...rest }) => ({ fn: key, ...rest })),
    topFiles: rank(byFile).map(({ key, ...rest }) => ({ file: key, ...rest })),
  };
}

/** Summaries of every .cpuprofile under `dir` (one per process that exited cleanly). */
export async function summarizeProfiles(dir: string): Promise<ProfileSummary[]> {
  const out: ProfileSummary[] = [];
  for (const name of (await readdir(dir).catch(() => [])).sort()) {
    if (!name.endsWith(".cpuprofile")) continue;
    const profile = JSON.parse(await readFile(join(dir, name), "utf8")) as CpuProfile;
    out.push(summarizeProfile(profile, join(dir, name)));
  }
  return out;
}

/** Environment for the fleet's processes so each writes a CPU profile under `dir/<role>[n]/` when it exits. */
export function profileEnv(dir: string) {
  return (role: "hub" | "source" | "replica", index: number): NodeJS.ProcessEnv => ({
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import ${PRELOAD}`.trim(),
    FLEETSYNC_BENCH_CPU_PROF_DIR: join(dir, role === "replica" ? `replica${index + 1}` : role),
  });
}

/** Profile summaries of the roles a fleet ran, read after its processes exited. */
export async function summarizeFleetProfiles(dir: string, roles: string[]) {
  return Object.fromEntries(
    await Promise.all(roles.map(async (role) => [role, await summarizeProfiles(join(dir, role))] as const)),
  );
}
