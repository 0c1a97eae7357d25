// `npm run build [-- --out DIR] [x64|arm64 ...]`: the self-contained agent executables (scripts/build-agent-executables.ts).
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildAgentExecutables, NODE_VERSION, TARGETS } from "./build-agent-executables.ts";
import type { TargetArch } from "./fetch-node-binary.ts";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const { values, positionals } = parseArgs({
  options: { out: { type: "string" } },
  allowPositionals: true,
});
const unknown = positionals.filter((arch) => !TARGETS.includes(arch as TargetArch));
if (unknown.length > 0) {
  console.error(`unknown target ${unknown.join(", ")}; the targets are: ${TARGETS.join(", ")}`);
  process.exit(2);
}
const started = Date.now();
const { executables, bundleBytes } = await buildAgentExecutables({
  repoRoot,
  outDir: values.out ? resolve(values.out) : join(repoRoot, "dist"),
  targets: positionals.length > 0 ? (positionals as TargetArch[]) : TARGETS,
});
console.log(`agent bundle ${(bundleBytes / 1024).toFixed(0)} KiB (the CLI without the hub)`);
for (const exe of executables)
  console.log(
    `${exe.path}  ${(exe.bytes / 1024 / 1024).toFixed(1)} MiB  (Node.js ${NODE_VERSION}, linux-${exe.arch})`,
  );
console.log(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
