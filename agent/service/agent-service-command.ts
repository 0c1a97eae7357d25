// What the systemd unit runs: the single executable, or node with the bundled agent (dist/) when it matches the sources, never the TypeScript loader unless it must.
import { createHash } from "node:crypto";
import { access, readFile } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import { z } from "zod";
import { AGENT_NODE_FLAGS } from "./agent-service-environment.ts";

/** Written by `npm run build` beside the bundle: which sources it was built from, by content. */
export const AGENT_BUNDLE = "fleetsync-agent.cjs";
export const AGENT_BUNDLE_MANIFEST = "fleetsync-agent.json";

const ManifestSchema = z.object({
  version: z.literal(1),
  /** Repository-relative path → SHA-256 (hex) of every source file the bundle was built from. */
  sources: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)),
});
export type AgentBundleManifest = z.infer<typeof ManifestSchema>;

export async function hashSources(packageRoot: string, paths: string[]): Promise<Record<string, string>> {
  const sources: Record<string, string> = {};
  for (const path of [...paths].sort())
    sources[path] = createHash("sha256")
      .update(await readFile(join(packageRoot, path)))
      .digest("hex");
  return sources;
}

export type AgentServiceCommand = {
  /** argv head the unit runs `agent run --state DIR` with (absolute paths). */
  command: string[];
  /** What runs: the executable, the bundle, or the sources through tsx (with `warning` saying why and what to do). */
  runs: "executable" | "bundle" | "sources";
  warning?: string;
};

export type AgentServiceCommandOptions = {
  isSea: boolean;
  execPath: string;
  /** The script node runs now (process.argv[1], absolute): bin/fleetsync.js, or the bundle itself. */
  script: string;
};

/**
 * The unit runs what runs now, without the TypeScript loader: the single executable as it is; from npm or a
 * checkout, node with dist/fleetsync-agent.cjs if `npm run build` made it from the sources as they are now (by
 * content). A missing or stale bundle falls back to bin/fleetsync.js (tsx), with a warning naming the fix.
 */
export async function agentServiceCommand(options: AgentServiceCommandOptions): Promise<AgentServiceCommand> {
  const { isSea, execPath, script } = options;
  if (isSea) return { command: [execPath], runs: "executable" };
  if (basename(script) === AGENT_BUNDLE)
    return { command: [execPath, ...AGENT_NODE_FLAGS, script], runs: "bundle" };
  const packageRoot = dirname(dirname(script));
  const dist = join(packageRoot, "dist");
  const bundle = join(dist, AGENT_BUNDLE);
  const problem = await bundleProblem(packageRoot, dist);
  if (!problem) return { command: [execPath, ...AGENT_NODE_FLAGS, bundle], runs: "bundle" };
  return {
    command: [execPath, script],
    runs: "sources",
    warning: `${problem}, so the unit runs the TypeScript sources through tsx (about 25 MiB more memory, slower start); run \`npm run build -- --bundle-only\` in ${packageRoot}, then agent install again`,
  };
}

/** Why dist/ holds no bundle of the current sources (undefined: it does). */
async function bundleProblem(packageRoot: string, dist: string): Promise<string | undefined> {
  const where = relative(packageRoot, join(dist, AGENT_BUNDLE));
  let manifest: AgentBundleManifest;
  try {
    await access(join(dist, AGENT_BUNDLE));
    manifest = ManifestSchema.parse(JSON.parse(await readFile(join(dist, AGENT_BUNDLE_MANIFEST), "utf8")));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? `${where} is not built` : `${where}'s manifest is unreadable`;
  }
  for (const [path, hash] of Object.entries(manifest.sources)) {
    const now = await hashSources(packageRoot, [path]).catch(() => undefined);
    if (now?.[path] !== hash)
      return `${where} is older than the sources (${path} changed since it was built)`;
  }
  return undefined;
}
