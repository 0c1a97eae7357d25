import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { checkSharePaths } from "./check-share-paths.ts";
import { resolveRealPath } from "./resolve-real-path.ts";

let base: string;
beforeEach(async () => {
  base = await resolveRealPath(await mkdtemp(join(tmpdir(), "fleetsync-paths-")));
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("checkSharePaths", () => {
  test("accepts a state dir and share folders side by side, existing or not", async () => {
    await mkdir(join(base, "a"));
    await expect(
      checkSharePaths({
        stateDir: join(base, "state"),
        shares: { a: join(base, "a"), b: join(base, "b"), c: "" },
      }),
    ).resolves.toBeUndefined();
  });

  test.each([
    ["lies inside", (b: string) => ({ stateDir: join(b, "docs", "state"), share: join(b, "docs") })],
    ["is the", (b: string) => ({ stateDir: join(b, "docs"), share: join(b, "docs") })],
    ["lies inside the state dir", (b: string) => ({ stateDir: b, share: join(b, "x", "docs") })],
  ])("refuses a state dir that overlaps a share (%s)", async (words, paths) => {
    const { stateDir, share } = paths(base);
    const check = checkSharePaths({ stateDir, shares: { docs: share } });
    await expect(check).rejects.toThrow(words);
    await expect(check).rejects.toThrow(`share "docs" folder ${share}`);
    await expect(check).rejects.toThrow(/keep the state dir outside every share folder/);
  });

  test("sees through a symlink to the state dir's real place", async () => {
    await mkdir(join(base, "docs"));
    await symlink(join(base, "docs"), join(base, "link"));
    const check = checkSharePaths({
      stateDir: join(base, "link", "state"),
      shares: { docs: join(base, "docs") },
    });
    await expect(check).rejects.toThrow(`really ${join(base, "docs", "state")}`);
  });

  test("refuses share folders that are equal or nested, naming both", async () => {
    const state = join(base, "state");
    await expect(
      checkSharePaths({ stateDir: state, shares: { a: join(base, "a"), b: join(base, "a", "b") } }),
    ).rejects.toThrow(
      `share "b" folder ${join(base, "a", "b")} lies inside share "a" folder ${join(base, "a")}: one folder would be synced twice`,
    );
    await expect(
      checkSharePaths({ stateDir: state, shares: { a: join(base, "a"), b: `${join(base, "a")}/` } }),
    ).rejects.toThrow("is the same folder as");
  });

  test("does not mistake a sibling with a common prefix for a folder inside", async () => {
    await expect(
      checkSharePaths({ stateDir: join(base, "docs-state"), shares: { docs: join(base, "docs") } }),
    ).resolves.toBeUndefined();
  });
});
