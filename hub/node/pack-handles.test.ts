// The pack handle cache: a pack unlinked under a read still reads right, a gone pack is undefined, and it stays bounded.
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { createPackHandles } from "./pack-handles.ts";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function packsDir(count: number) {
  dir = await mkdtemp(join(tmpdir(), "fleetsync-pack-handles-"));
  const contents = Array.from({ length: count }, () => randomBytes(100));
  for (const [i, bytes] of contents.entries()) await writeFile(join(dir, `${i}.pack`), bytes);
  return { pathOf: (id: number) => join(dir!, `${id}.pack`), contents };
}

const openFds = async () => (await readdir("/proc/self/fd")).length;

test("a read holding a pack's handle when the pack is retired and unlinked still reads its bytes", async () => {
  const { pathOf, contents } = await packsDir(1);
  const handles = createPackHandles({ pathOf, maxOpen: 4 });
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const reading = handles.use(0, async (handle) => {
    await held;
    const buffer = Buffer.alloc(100);
    await handle.read(buffer, 0, 100, 0);
    return buffer;
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  handles.retire(0);
  await unlink(pathOf(0));
  release();
  expect(await reading).toEqual(contents[0]);
  // The next use goes to the path, which is gone.
  expect(await handles.use(0, async () => "read")).toBeUndefined();
  await handles.close();
});

test("keeps at most maxOpen handles open however many packs are read", async () => {
  const { pathOf, contents } = await packsDir(30);
  const before = await openFds();
  const handles = createPackHandles({ pathOf, maxOpen: 5 });
  for (const [i, bytes] of contents.entries()) {
    const got = await handles.use(i, async (handle) => (await handle.readFile()) as Buffer);
    expect(got).toEqual(bytes);
  }
  // Closing an evicted handle is not awaited by use(): give the last closes a moment.
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect((await openFds()) - before).toBeLessThanOrEqual(5);
  await handles.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect((await openFds()) - before).toBeLessThanOrEqual(0);
});
