// Builds dist/fleetsync-linux-<arch>: one Node.js single-executable application per platform, carrying the bundled agent CLI.
import { execFile } from "node:child_process";
import { chmod, copyFile, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { promisify } from "node:util";
import { bundleAgent } from "./bundle-agent.ts";
import { fetchNodeBinary, NODE_VERSION, type TargetArch } from "./fetch-node-binary.ts";

const run = promisify(execFile);
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

export const TARGETS: TargetArch[] = ["x64", "arm64"];

export type BuildAgentExecutablesOptions = {
  repoRoot: string;
  outDir: string;
  targets?: TargetArch[];
  /** Where fetched Node binaries are kept between builds. */
  cacheDir?: string;
};

export type BuiltExecutable = { arch: TargetArch; path: string; bytes: number };

export async function buildAgentExecutables(
  options: BuildAgentExecutablesOptions,
): Promise<BuiltExecutable[]> {
  const { repoRoot, outDir } = options;
  const targets = options.targets ?? TARGETS;
  const cacheDir = options.cacheDir ?? join(repoRoot, "node_modules", ".cache", "fleetsync-node");
  const version = (JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as { version: string })
    .version;
  const work = join(outDir, ".build");
  await mkdir(work, { recursive: true });
  const bundle = join(work, "fleetsync-agent.cjs");
  await bundleAgent({ repoRoot, outFile: bundle, version });

  // The blob holds only the script (no code cache, no snapshot), so one blob serves every architecture; it
  // is made by the very Node version the executables embed.
  const hostArch = process.arch === "arm64" ? "arm64" : "x64";
  const hostNode = await fetchNodeBinary({ arch: hostArch, cacheDir });
  const blob = join(work, "sea-prep.blob");
  const seaConfig = join(work, "sea-config.json");
  await writeFile(
    seaConfig,
    JSON.stringify({
      main: bundle,
      output: blob,
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      useCodeCache: false,
    }),
  );
  await run(hostNode, ["--experimental-sea-config", seaConfig]);
  const blobData = await readFile(blob);
  const { inject } = createRequire(import.meta.url)("postject") as {
    inject(file: string, name: string, data: Buffer, options: { sentinelFuse: string }): Promise<void>;
  };

  const built: BuiltExecutable[] = [];
  for (const arch of targets) {
    const node = await fetchNodeBinary({ arch, cacheDir });
    const path = join(outDir, `fleetsync-linux-${arch}`);
    await rm(path, { force: true });
    await copyFile(node, path);
    await chmod(path, 0o755);
    await inject(path, "NODE_SEA_BLOB", blobData, { sentinelFuse: SEA_FUSE });
    built.push({ arch, path, bytes: (await stat(path)).size });
  }
  await rm(work, { recursive: true, force: true });
  return built;
}

export { NODE_VERSION };
