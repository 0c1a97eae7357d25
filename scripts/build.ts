// `npm run build [-- --out DIR] [--bundle-only] [x64|arm64 ...]`: the bundled agent (dist/fleetsync-agent.cjs, what `agent install` runs under node) and the self-contained executables.
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  AGENT_BUNDLE,
  AGENT_BUNDLE_MANIFEST,
  type AgentBundleManifest,
  hashSources,
} from "../agent/service/agent-service-command.ts";
import { buildAgentExecutables, NODE_VERSION, TARGETS } from "./build-agent-executables.ts";
import { bundleAgent } from "./bundle-agent.ts";
import type { TargetArch } from "./fetch-node-binary.ts";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const { values, positionals } = parseArgs({
  options: { out: { type: "string" }, "bundle-only": { type: "boolean", default: false } },
  allowPositionals: true,
});
const unknown = positionals.filter((arch) => !TARGETS.includes(arch as TargetArch));
if (unknown.length > 0) {
  console.error(`unknown target ${unknown.join(", ")}; the targets are: ${TARGETS.join(", ")}`);
  process.exit(2);
}
const started = Date.now();
const outDir = values.out ? resolve(values.out) : join(repoRoot, "dist");
const version = (await import("../package.json", { with: { type: "json" } })).default.version;
const bundleFile = join(outDir, AGENT_BUNDLE);
const bundle = await bundleAgent({ repoRoot, outFile: bundleFile, version });
// What `agent install` checks before its unit runs the bundle: built from the sources as they are now.
const manifest: AgentBundleManifest = { version: 1, sources: await hashSources(repoRoot, bundle.sources) };
await writeFile(join(outDir, AGENT_BUNDLE_MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
console.log(
  `${bundleFile}  ${(bundle.bytes / 1024).toFixed(0)} KiB (the agent and admin CLI without the hub)`,
);
if (!values["bundle-only"]) {
  const { executables } = await buildAgentExecutables({
    repoRoot,
    outDir,
    targets: positionals.length > 0 ? (positionals as TargetArch[]) : TARGETS,
  });
  for (const exe of executables)
    console.log(
      `${exe.path}  ${(exe.bytes / 1024 / 1024).toFixed(1)} MiB  (Node.js ${NODE_VERSION}, linux-${exe.arch})`,
    );
}
console.log(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
