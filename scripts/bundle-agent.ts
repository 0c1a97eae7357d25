// Bundles the CLI without the hub into one CommonJS file for a single-executable application, and proves what it left out.
import { relative } from "node:path";
import { build, type Plugin } from "esbuild";

/** What the executable must never carry: hub code, its storage and HTTP stack, and the dev tools. */
const FORBIDDEN_INPUT =
  /^(hub\/|node_modules\/(hono|@hono|@libsql|libsql|drizzle-orm|drizzle-kit|tsx|esbuild|vitest|vite|typescript|wrangler)\/)/;

export type BundleAgentOptions = { repoRoot: string; outFile: string; version: string };
export type BundleAgentResult = {
  bytes: number;
  inputs: string[];
  /** The repository's own files the bundle was built from (repository-relative; no packages, no plugin stand-ins). */
  sources: string[];
};

export async function bundleAgent({
  repoRoot,
  outFile,
  version,
}: BundleAgentOptions): Promise<BundleAgentResult> {
  const result = await build({
    absWorkingDir: repoRoot,
    entryPoints: ["cli/main.ts"],
    outfile: outFile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    minify: true,
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
    plugins: [withoutHub(), withVersion(version)],
  });
  const keys = Object.keys(result.metafile.inputs);
  const inputs = keys.map((p) => relative(".", p));
  const sources = keys.filter((p) => !p.includes(":") && !p.startsWith("node_modules/"));
  const forbidden = inputs.filter((p) => FORBIDDEN_INPUT.test(p));
  if (forbidden.length > 0)
    throw new Error(
      `the agent bundle pulled in ${forbidden.slice(0, 5).join(", ")}; it must not carry hub code or dev tools`,
    );
  const bytes = Object.values(result.metafile.outputs)[0]?.bytes ?? 0;
  return { bytes, inputs, sources };
}

/** `fleetsync hub` in the executable says where the hub lives instead of bundling it. */
function withoutHub(): Plugin {
  return {
    name: "fleetsync-without-hub",
    setup(b) {
      b.onResolve({ filter: /\/hub-command\.ts$/ }, (args) => ({
        path: args.path,
        namespace: "fleetsync-no-hub",
        pluginData: args.resolveDir,
      }));
      b.onLoad({ filter: /.*/, namespace: "fleetsync-no-hub" }, (args) => ({
        resolveDir: args.pluginData as string,
        loader: "ts",
        contents: `import { UsageError } from "./cli-error.ts";
export async function runHubCommand(): Promise<number> {
  throw new UsageError("this executable is the agent and admin CLI; the hub runs from npm: npx fleetsync hub --help");
}`,
      }));
    },
  };
}

/** The version is fixed at build time: there is no package.json beside a single executable. */
function withVersion(version: string): Plugin {
  return {
    name: "fleetsync-version",
    setup(b) {
      b.onLoad({ filter: /cli\/package-version\.ts$/ }, () => ({
        loader: "ts",
        contents: `export function packageVersion(): string { return ${JSON.stringify(version)}; }`,
      }));
    },
  };
}
