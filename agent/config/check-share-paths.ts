// The agent never syncs its own state: the state dir and the share folders must not contain one another.
import { sep } from "node:path";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { resolveRealPath } from "./resolve-real-path.ts";

export type SharePathsInput = {
  stateDir: string;
  /** share name → local folder; an empty folder (not set yet) is skipped */
  shares: Record<string, string>;
};

const describe = (share: string) => `share "${share}"`;

function isInside(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);
}

/** Throws a FleetsyncError naming both paths and the fix when any two of them overlap (compared as real paths). */
export async function checkSharePaths(input: SharePathsInput): Promise<void> {
  const stateDir = await resolveRealPath(input.stateDir);
  const shares = await Promise.all(
    Object.entries(input.shares)
      .filter(([, path]) => path !== "")
      .map(async ([name, path]) => ({ name, path, real: await resolveRealPath(path) })),
  );
  const real = (path: string, resolved: string) =>
    path === resolved ? path : `${path} (really ${resolved})`;
  for (const share of shares) {
    const folder = `${describe(share.name)} folder ${real(share.path, share.real)}`;
    const state = `the state dir ${real(input.stateDir, stateDir)}`;
    const fix = "keep the state dir outside every share folder (e.g. --state /var/lib/fleetsync-agent)";
    if (share.real === stateDir)
      throw new FleetsyncError(
        "invalid",
        `${state} is the ${folder}: the agent would sync its own key and state; ${fix}`,
      );
    if (isInside(stateDir, share.real))
      throw new FleetsyncError(
        "invalid",
        `${state} lies inside the ${folder}: the agent would sync its own key and state; ${fix}`,
      );
    if (isInside(share.real, stateDir))
      throw new FleetsyncError(
        "invalid",
        `the ${folder} lies inside ${state}: the agent would sync its own key and state; ${fix}`,
      );
  }
  for (const [i, a] of shares.entries()) {
    for (const b of shares.slice(i + 1)) {
      const [outer, inner] = isInside(b.real, a.real) ? [a, b] : [b, a];
      if (!isInside(inner.real, outer.real)) continue;
      const how = inner.real === outer.real ? "is the same folder as" : "lies inside";
      throw new FleetsyncError(
        "invalid",
        `${describe(inner.name)} folder ${real(inner.path, inner.real)} ${how} ${describe(outer.name)} folder ${real(outer.path, outer.real)}: one folder would be synced twice; give each share its own folder, side by side`,
      );
    }
  }
}
