// The layering the design promises, checked on every import: a broken rule fails this test, naming the file.
import { readdir, readFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { REPO_ROOT } from "./support/fleet.ts";

type Source = { file: string; imports: string[] };

async function sources(dir: string): Promise<Source[]> {
  const out: Source[] = [];
  const walk = async (abs: string) => {
    for (const dirent of await readdir(abs, { withFileTypes: true })) {
      const path = join(abs, dirent.name);
      if (dirent.isDirectory()) await walk(path);
      else if (/\.tsx?$/.test(dirent.name) && !/\.test\.tsx?$/.test(dirent.name)) {
        const text = await readFile(path, "utf8");
        const imports = [...text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+["']([^"']+)["']/gm)].map(
          (m) => m[1]!,
        );
        for (const m of text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) imports.push(m[1]!);
        out.push({ file: relative(REPO_ROOT, path), imports });
      }
    }
  };
  await walk(join(REPO_ROOT, dir));
  return out;
}

/** The repository folder an import lands in ("hub", "agent", …), or undefined for a package. */
function landsIn(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  return relative(REPO_ROOT, resolve(REPO_ROOT, from, "..", specifier)).split("/")[0];
}

function violations(files: Source[], broken: (file: string, specifier: string) => boolean): string[] {
  return files.flatMap(({ file, imports }) =>
    imports.filter((specifier) => broken(file, specifier)).map((specifier) => `${file} imports ${specifier}`),
  );
}

/** Where the hub may use Node's own modules: its Node entry and the Node adapters beside it. */
const isNodeOnlyHubFile = (file: string) => file === "hub/main.node.ts" || file.startsWith("hub/node/");

describe("layer rules", () => {
  test("hub code outside its Node entry and adapters uses Web-standard APIs only (it runs on Workers too)", async () => {
    const found = violations(
      await sources("hub"),
      (file, specifier) => !isNodeOnlyHubFile(file) && specifier.startsWith("node:"),
    );
    expect(found).toEqual([]);
  });

  test("nothing outside the Node entry imports a Node adapter of the hub", async () => {
    const found = violations(
      await sources("hub"),
      (file, specifier) => !isNodeOnlyHubFile(file) && /\/node\//.test(specifier),
    );
    expect(found).toEqual([]);
  });

  test("shared/ is runtime-neutral and depends on neither side", async () => {
    const found = violations(await sources("shared"), (file, specifier) => {
      const target = landsIn(file, specifier);
      return specifier.startsWith("node:") || target === "hub" || target === "agent" || target === "cli";
    });
    expect(found).toEqual([]);
  });

  test("the agent and the hub never import each other", async () => {
    const agent = violations(await sources("agent"), (file, specifier) => landsIn(file, specifier) === "hub");
    const hub = violations(await sources("hub"), (file, specifier) => landsIn(file, specifier) === "agent");
    expect([...agent, ...hub]).toEqual([]);
  });

  test("the checker itself sees imports (a file known to import node: and shared/ is found)", async () => {
    const daemon = (await sources("agent")).find((s) => s.file === "agent/config/agent-config.ts");
    expect(daemon?.imports).toContain("node:fs/promises");
    expect(daemon?.imports.some((i) => landsIn("agent/config/agent-config.ts", i) === "shared")).toBe(true);
  });
});
