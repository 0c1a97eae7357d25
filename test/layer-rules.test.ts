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

/** The share kind a repository file belongs to ("folder" for agent/kinds/folder/…), if any. */
function kindOf(file: string): string | undefined {
  return /^agent\/kinds\/([^/]+)\//.exec(file)?.[1];
}

/** Imports into a kind's folder from outside it: only the registry may create kinds. */
function kindBoundaryViolations(files: Source[]): string[] {
  return violations(files, (file, specifier) => {
    if (!specifier.startsWith(".")) return false;
    const target = relative(REPO_ROOT, resolve(REPO_ROOT, file, "..", specifier));
    const kind = kindOf(target);
    return kind !== undefined && kindOf(file) !== kind && file !== "agent/kinds/registry.ts";
  });
}

/** node:fs in the folder kind outside its filesystem adapter (agent/kinds/folder/fs/). */
function folderDiskViolations(files: Source[]): string[] {
  return violations(
    files,
    (file, specifier) =>
      file.startsWith("agent/kinds/folder/") &&
      !file.startsWith("agent/kinds/folder/fs/") &&
      /^node:fs(\/promises)?$/.test(specifier),
  );
}

/** Every import circle among the repository's own files, each as "a → b → a". */
function importCircles(files: Source[]): string[] {
  const known = new Set(files.map((f) => f.file));
  const edges = new Map(
    files.map(({ file, imports }) => [
      file,
      imports
        .filter((s) => s.startsWith("."))
        .map((s) => relative(REPO_ROOT, resolve(REPO_ROOT, file, "..", s)))
        .filter((target) => known.has(target)),
    ]),
  );
  const circles = new Set<string>();
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const next of edges.get(file) ?? []) {
      if (state.get(next) === "open") {
        const cycle = stack.slice(stack.indexOf(next));
        // One spelling per circle: start at its smallest file.
        const start = cycle.indexOf([...cycle].sort()[0]!);
        const rotated = [...cycle.slice(start), ...cycle.slice(0, start)];
        circles.add([...rotated, rotated[0]].join(" → "));
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of [...known].sort()) if (!state.has(file)) visit(file);
  return [...circles].sort();
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

  test("an agent kind is reached only through the registry", async () => {
    const files = [
      ...(await sources("agent")),
      ...(await sources("cli")),
      ...(await sources("test/support")),
    ];
    expect(kindBoundaryViolations(files)).toEqual([]);
  });

  test("the folder kind touches the disk only through its filesystem adapter", async () => {
    expect(folderDiskViolations(await sources("agent"))).toEqual([]);
  });

  test("there are no import circles", async () => {
    const files = [
      ...(await sources("agent")),
      ...(await sources("hub")),
      ...(await sources("shared")),
      ...(await sources("cli")),
    ];
    expect(importCircles(files)).toEqual([]);
  });

  test("each rule fails when broken (checked on made-up files)", () => {
    const broken: Source[] = [
      { file: "agent/session/share-session.ts", imports: ["../kinds/folder/folder-kind.ts"] },
      { file: "agent/kinds/registry.ts", imports: ["./folder/folder-kind.ts"] },
      { file: "agent/kinds/folder/scan/scan-share.ts", imports: ["node:fs/promises", "../fs/share-fs.ts"] },
      { file: "agent/kinds/folder/fs/node-share-fs.ts", imports: ["node:fs/promises"] },
      { file: "agent/a.ts", imports: ["./b.ts"] },
      { file: "agent/b.ts", imports: ["./c.ts"] },
      { file: "agent/c.ts", imports: ["./a.ts"] },
    ];
    expect(kindBoundaryViolations(broken)).toEqual([
      "agent/session/share-session.ts imports ../kinds/folder/folder-kind.ts",
    ]);
    expect(folderDiskViolations(broken)).toEqual([
      "agent/kinds/folder/scan/scan-share.ts imports node:fs/promises",
    ]);
    expect(importCircles(broken)).toEqual(["agent/a.ts → agent/b.ts → agent/c.ts → agent/a.ts"]);
  });

  test("the checker itself sees imports (a file known to import node: and shared/ is found)", async () => {
    const daemon = (await sources("agent")).find((s) => s.file === "agent/config/agent-config.ts");
    expect(daemon?.imports).toContain("node:fs/promises");
    expect(daemon?.imports.some((i) => landsIn("agent/config/agent-config.ts", i) === "shared")).toBe(true);
  });
});
