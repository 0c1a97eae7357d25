import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import {
  AGENT_BUNDLE,
  AGENT_BUNDLE_MANIFEST,
  agentServiceCommand,
  hashSources,
} from "./agent-service-command.ts";

const NODE = "/usr/bin/node";
let root: string | undefined;
afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
  root = undefined;
});

/** A package as npm or a checkout lays it out: bin/fleetsync.js, sources, and (built) dist/ with its manifest. */
async function packageRoot(options: { built: boolean }) {
  root = await mkdtemp(join(tmpdir(), "fleetsync-pkg-"));
  await mkdir(join(root, "bin"));
  await mkdir(join(root, "agent"));
  await writeFile(join(root, "bin", "fleetsync.js"), "// the CLI\n");
  await writeFile(join(root, "agent", "daemon.ts"), "export const a = 1;\n");
  if (options.built) {
    await mkdir(join(root, "dist"));
    await writeFile(join(root, "dist", AGENT_BUNDLE), "// bundle\n");
    const sources = await hashSources(root, ["agent/daemon.ts"]);
    await writeFile(join(root, "dist", AGENT_BUNDLE_MANIFEST), JSON.stringify({ version: 1, sources }));
  }
  return { root, cli: join(root, "bin", "fleetsync.js"), bundle: join(root, "dist", AGENT_BUNDLE) };
}

describe("agentServiceCommand", () => {
  test("runs the bundled agent under node, with the agent's node flags, when npm run build made it from the sources as they are", async () => {
    const pkg = await packageRoot({ built: true });
    expect(await agentServiceCommand({ isSea: false, execPath: NODE, script: pkg.cli })).toEqual({
      command: [NODE, "--interrupt-budget=270336", pkg.bundle],
      runs: "bundle",
    });
  });

  test("falls back to the TypeScript CLI, naming the changed source and the fix, once a source changed after the build", async () => {
    const pkg = await packageRoot({ built: true });
    await writeFile(join(pkg.root, "agent", "daemon.ts"), "export const a = 2;\n");
    const chosen = await agentServiceCommand({ isSea: false, execPath: NODE, script: pkg.cli });
    expect(chosen.command).toEqual([NODE, pkg.cli]);
    expect(chosen.runs).toBe("sources");
    expect(chosen.warning).toContain("agent/daemon.ts changed since it was built");
    expect(chosen.warning).toContain("npm run build -- --bundle-only");
  });

  test("falls back to the TypeScript CLI and says so when nothing was built", async () => {
    const pkg = await packageRoot({ built: false });
    const chosen = await agentServiceCommand({ isSea: false, execPath: NODE, script: pkg.cli });
    expect(chosen.command).toEqual([NODE, pkg.cli]);
    expect(chosen.warning).toContain(`dist/${AGENT_BUNDLE} is not built`);
  });

  test("runs what runs now when that is the executable or the bundle itself", async () => {
    expect(
      await agentServiceCommand({ isSea: true, execPath: "/usr/local/bin/fleetsync", script: "" }),
    ).toEqual({ command: ["/usr/local/bin/fleetsync"], runs: "executable" });
    const bundle = `/opt/fleetsync/dist/${AGENT_BUNDLE}`;
    expect(await agentServiceCommand({ isSea: false, execPath: NODE, script: bundle })).toEqual({
      command: [NODE, "--interrupt-budget=270336", bundle],
      runs: "bundle",
    });
  });
});
