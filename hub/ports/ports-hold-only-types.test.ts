// The port files declare what the hub needs and nothing else: no implementation hides in hub/ports/.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const PORTS_DIR = fileURLToPath(new URL(".", import.meta.url));

/** Runtime exports (values) of a source: what a types-only file must not have. */
function valueExports(text: string): string[] {
  return [
    ...text.matchAll(/^export\s+(?:async\s+)?(const|let|var|function|class|enum|default)\b\s*(\w*)/gm),
  ].map((m) => `${m[1]} ${m[2]}`.trim());
}

test("every port file exports only types and interfaces (adapters live in hub/adapters, hub/node, hub/workers)", async () => {
  const files = (await readdir(PORTS_DIR)).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));
  expect(files.length).toBeGreaterThan(3);
  const found: string[] = [];
  for (const file of files) {
    for (const value of valueExports(await readFile(join(PORTS_DIR, file), "utf8")))
      found.push(`${file}: ${value}`);
  }
  expect(found).toEqual([]);
});

test("the check sees a value export", () => {
  expect(valueExports("export interface A {}\nexport const b = 1;\nexport async function c() {}")).toEqual([
    "const b",
    "function c",
  ]);
});
