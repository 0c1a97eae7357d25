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
export type BuildResult = { executables: BuiltExecutable[]; bundleBytes: number };

export async function buildAgentExecutables(options: BuildAgentExecutablesOptions): Promise<BuildResult> {
  const { repoRoot, outDir } = options;
  const targets = options.targets ?? TARGETS;
  const cacheDir = options.cacheDir ?? join(repoRoot, "node_modules", ".cache", "fleetsync-node");
  const version = (JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as { version: string })
    .version;
  const work = join(outDir, ".build");
  await mkdir(work, { recursive: true });
  const bundle = join(work, "fleetsync-agent.cjs");
  const { bytes: bundleBytes } = await bundleAgent({ repoRoot, outFile: bundle, version });

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
  // postject runs as its own process: its WebAssembly LIEF prints harmless section warnings by the dozen
  // and installs process-wide error handlers; its output is shown only when it fails.
  const postject = createRequire(import.meta.url).resolve("postject/dist/cli.js");

  const built: BuiltExecutable[] = [];
  for (const arch of targets) {
    const node = await fetchNodeBinary({ arch, cacheDir });
    const path = join(outDir, `fleetsync-linux-${arch}`);
    await rm(path, { force: true });
    await copyFile(node, path);
    await chmod(path, 0o755);
    await run(process.execPath, [postject, path, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE], {
      maxBuffer: 64 * 1024 * 1024,
    }).catch((error: { stderr?: string; stdout?: string }) => {
      throw new Error(`postject could not inject the agent into ${path}: ${error.stderr || error.stdout}`);
    });
    built.push({ arch, path, bytes: (await stat(path)).size });
  }
  await rm(work, { recursive: true, force: true });
  return { executables: built, bundleBytes };
}

export { NODE_VERSION };
