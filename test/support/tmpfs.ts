// Test support: small tmpfs mounts (a full disk on demand), for tests that run as root as CI does.
import { execFileSync } from "node:child_process";
import { rm } from "node:fs/promises";
import { makeTempDir } from "./fleet.ts";

/** Mounts a tmpfs of `size` (e.g. "4m") on `dir`; false where this process may not mount. */
export function tryMount(dir: string, size: string): boolean {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** True when this machine lets the tests mount a tmpfs (probed once, on a throwaway dir). */
export async function canMountTmpfs(): Promise<boolean> {
  const probe = await makeTempDir("fleetsync-mount-probe-");
  const ok = tryMount(probe, "1m");
  if (ok) execFileSync("umount", [probe]);
  await rm(probe, { recursive: true, force: true });
  return ok;
}
