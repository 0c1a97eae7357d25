// No import circles in the hub or shared/: every static import (types too) of their sources, checked as a graph.
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Relative imports of every non-test source under `dirs`, as repo-relative paths. */
async function importGraph(dirs: string[]): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  const walk = async (abs: string) => {
    for (const dirent of await readdir(abs, { withFileTypes: true })) {
      const path = join(abs, dirent.name);
      if (dirent.isDirectory()) await walk(path);
      else if (/\.tsx?$/.test(dirent.name) && !/\.test\.tsx?$/.test(dirent.name)) {
        const text = await readFile(path, "utf8");
        const specifiers = [
          ...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+["'](\.[^"']+)["']/gm),
          ...text.matchAll(/\bimport\(\s*["'](\.[^"']+)["']\s*\)/g),
        ].map((m) => m[1]!);
        graph.set(
          relative(REPO_ROOT, path),
          specifiers.map((s) => relative(REPO_ROOT, resolve(dirname(path), s))),
        );
      }
    }
  };
  for (const dir of dirs) await walk(join(REPO_ROOT, dir));
  return graph;
}

/** Every cycle found by depth-first search, each as the files around it (first file repeated at the end). */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === "open") cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next) && graph.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

describe("import circles", () => {
  test("the hub and shared/ import each other in no circle", async () => {
    const cycles = findCycles(await importGraph(["hub", "shared"]));
    expect(cycles.map((cycle) => cycle.join(" → "))).toEqual([]);
  });

  test("the checker finds a circle, including one through a type-only import", () => {
    const graph = new Map([
      ["hub/a.ts", ["hub/b.ts"]],
      ["hub/b.ts", ["hub/c.ts"]],
      ["hub/c.ts", ["hub/a.ts", "shared/x.ts"]],
      ["shared/x.ts", []],
    ]);
    expect(findCycles(graph)).toEqual([["hub/a.ts", "hub/b.ts", "hub/c.ts", "hub/a.ts"]]);
  });

  test("the checker reads the hub's real imports (create-app imports the device routes)", async () => {
    const graph = await importGraph(["hub"]);
    expect(graph.get("hub/http/create-app.ts")).toContain("hub/http/device-routes.ts");
  });
});
