// Linux /proc readings for the benchmark: resident memory and CPU time of a process.
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";

export { readRssBytes, samplePeakRss } from "../../test/support/fleet.ts";

let ticksPerSecond: number | undefined;

/** The kernel's clock tick (USER_HZ) that /proc/<pid>/stat counts CPU time in; 100 on nearly every Linux. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU time a process has used so far, in milliseconds (resolution: one clock tick). */
export async function readCpuMs(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  // The command name (field 2) may hold spaces and parentheses: count fields after its closing ")".
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return ((utime + stime) * 1000) / clockTicksPerSecond();
}

export const MIB = 1024 * 1024;

export function toMiB(bytes: number | undefined): number | null {
  return bytes === undefined ? null : Math.round((bytes / MIB) * 10) / 10;
}

/** CPU time all processes on the machine have used so far (busy, not idle or iowait), in milliseconds. */
export async function readMachineBusyMs(): Promise<number | undefined> {
  const line = (await readFile("/proc/stat", "utf8").catch(() => "")).split("\n")[0] ?? "";
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 8 || f.some((v) => !Number.isFinite(v))) return undefined;
  const [user, nice, system, , , irq, softirq, steal] = f as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return ((user + nice + system + irq + softirq + steal) * 1000) / clockTicksPerSecond();
}
