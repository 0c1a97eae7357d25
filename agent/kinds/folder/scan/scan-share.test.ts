import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { isSameOrBelow } from "../../../../shared/paths/normalize-share-path.ts";
import { createNodeShareFs } from "../fs/node-share-fs.ts";
import { collapsePaths, scanRootFor } from "./scan-share.ts";

describe("collapsePaths", () => {
  test.each([
    [[], []],
    [["a"], ["a"]],
    [["a/b", "a"], ["a"]],
    [
      ["a", "a/b", "a/b/c", "b"],
      ["a", "b"],
    ],
    [
      ["a/b", "a/c", "a/b"],
      ["a/b", "a/c"],
    ],
    [
      ["ab", "a", "a-b/c", "a/c"],
      ["a", "a-b/c", "ab"],
    ],
    [["x/y", "", "z"], [""]],
  ])("collapses %j to %j", (paths, expected) => {
    expect(collapsePaths(paths)).toEqual(expected);
  });

  test("keeps only input paths, none below another, covering every input", () => {
    const segment = fc.constantFrom("a", "b", "a-b", "a.b", "ab", "é");
    const pathArb = fc.oneof(
      fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join("/")),
      fc.constant(""),
    );
    fc.assert(
      fc.property(fc.array(pathArb, { maxLength: 12 }), (paths) => {
        const kept = collapsePaths(paths);
        for (const k of kept) expect(paths).toContain(k);
        for (const a of kept) for (const b of kept) if (a !== b) expect(isSameOrBelow(a, b)).toBe(false);
        for (const p of paths) expect(kept.some((k) => isSameOrBelow(p, k))).toBe(true);
        expect(new Set(kept).size).toBe(kept.length);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("scanRootFor", () => {
  test.each([
    ["", ""],
    ["a/b/c.txt", "a/b/c.txt"],
    ["ünïcödé/ok.txt", "ünïcödé/ok.txt"],
    ["dir/bad\\name.txt", "dir"],
    ["bad\\dir/child.txt", ""],
    ["dir/Cafe\u0301/x.txt", "dir"],
    ["a/../b", "a"],
  ])("starts the scan for %j at %j", (dirty, expected) => {
    expect(scanRootFor(dirty)).toBe(expected);
  });

  test("always yields a path the share accepts as it is, at or above the dirty path", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 }),
        (segments) => {
          const dirty = segments.join("/");
          const start = scanRootFor(dirty);
          expect(start === "" || dirty === start || dirty.startsWith(`${start}/`)).toBe(true);
          expect(scanRootFor(start)).toBe(start);
        },
      ),
    );
  });
});

describe("scanShare reporting as it goes", () => {
  test("hands over changes in parts during a large scan, each path exactly once, deletions at the end", async () => {
    const { mkdtemp, mkdir, writeFile, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { scanShare } = await import("./scan-share.ts");
    const { compileIgnoreRules } = await import("./ignore-rules.ts");
    const { createAgentLogger } = await import("../../../log/agent-logger.ts");
    const root = await mkdtemp(join(tmpdir(), "fleetsync-scan-"));
    try {
      for (let d = 0; d < 3; d++) {
        await mkdir(join(root, `d${d}`));
        for (let f = 0; f < 4; f++) await writeFile(join(root, `d${d}`, `f${f}.txt`), `${d}/${f}`);
      }
      const gone = {
        type: "file" as const,
        size: 1,
        mtimeMs: 1,
        ino: 1,
        mode: 0o644,
        blockSize: 131072,
        blocks: [],
        hash: "x",
      };
      const parts: string[][] = [];
      const final = await scanShare(
        createNodeShareFs(root),
        { "was-here.txt": gone },
        [""],
        compileIgnoreRules([]),
        createAgentLogger("error", "stdout"),
        {
          flushEntries: 4,
          flush: async (part) => {
            parts.push([...part.changed]);
          },
        },
      );
      parts.push([...final.changed]);
      const all = parts.flat();
      expect(parts.length).toBeGreaterThanOrEqual(3);
      expect(new Set(all).size).toBe(all.length);
      expect(all.sort()).toEqual(
        [
          "d0",
          "d1",
          "d2",
          "was-here.txt",
          ...[0, 1, 2].flatMap((d) => [0, 1, 2, 3].map((f) => `d${d}/f${f}.txt`)),
        ].sort(),
      );
      expect(final.changed.has("was-here.txt")).toBe(true);
      expect(final.updates.get("was-here.txt")).toBeUndefined();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
  test("goes on hashing while a part is reported, hands each block to onBlock once as hashed, and returns after the last part", async () => {
    const { mkdtemp, writeFile, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { createHash } = await import("node:crypto");
    const { scanShare } = await import("./scan-share.ts");
    const { compileIgnoreRules } = await import("./ignore-rules.ts");
    const { createAgentLogger } = await import("../../../log/agent-logger.ts");
    const root = await mkdtemp(join(tmpdir(), "fleetsync-scan-"));
    try {
      const contents = new Map<string, string>();
      for (let f = 0; f < 6; f++) {
        contents.set(`f${f}.txt`, `content ${f}`);
        await writeFile(join(root, `f${f}.txt`), `content ${f}`);
      }
      const hashedBefore: number[] = [];
      const blocks: string[] = [];
      let releaseFirst!: () => void;
      let parts = 0;
      let settled = false;
      const scanning = scanShare(
        createNodeShareFs(root),
        {},
        [""],
        compileIgnoreRules([]),
        createAgentLogger("error", "stdout"),
        {
          flushEntries: 2,
          onBlock: (hash, bytes) => {
            expect(createHash("sha256").update(bytes).digest("hex")).toBe(hash);
            blocks.push(Buffer.from(bytes).toString());
          },
          flush: async () => {
            parts++;
            hashedBefore.push(blocks.length);
            // The first part is held: the scan must hash on meanwhile (but start no second report).
            if (parts === 1) await new Promise<void>((resolve) => (releaseFirst = resolve));
          },
        },
      ).then((result) => {
        settled = true;
        return result;
      });
      await new Promise((r) => setTimeout(r, 200));
      expect(parts).toBe(1);
      expect(blocks.length).toBeGreaterThan(hashedBefore[0]!);
      expect(settled).toBe(false);
      releaseFirst();
      const final = await scanning;
      expect(parts).toBeGreaterThanOrEqual(2);
      expect(blocks.sort()).toEqual([...contents.values()].sort());
      expect(final.changed.size).toBeLessThanOrEqual(2);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe("scanShare over a packed index", () => {
  test("finds exactly what it finds over the same index as plain objects: changed, chmod-ed, new and deleted files", async () => {
    const { mkdtemp, mkdir, writeFile, rm, chmod } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { scanShare } = await import("./scan-share.ts");
    const { compileIgnoreRules } = await import("./ignore-rules.ts");
    const { createAgentLogger } = await import("../../../log/agent-logger.ts");
    const { CompactIndex } = await import("../../../state/compact-index.ts");
    const { indexRecord } = await import("../../../state/index-record.ts");
    const root = await mkdtemp(join(tmpdir(), "fleetsync-scan-packed-"));
    const fs = createNodeShareFs(root);
    const rules = compileIgnoreRules([]);
    const log = createAgentLogger("error", "stdout");
    try {
      for (let d = 0; d < 3; d++) {
        await mkdir(join(root, `d${d}`));
        for (let f = 0; f < 5; f++) await writeFile(join(root, `d${d}`, `f${f}.txt`), `${d}/${f}`);
      }
      const first = await scanShare(fs, {}, [""], rules, log);
      const plain = Object.fromEntries([...first.updates].filter(([, e]) => e !== undefined)) as Record<
        string,
        NonNullable<ReturnType<typeof first.updates.get>>
      >;
      const packed = indexRecord(CompactIndex.fromEntries(Object.entries(plain)));

      const unchanged = await scanShare(fs, packed, [""], rules, log);
      expect(unchanged.changed.size).toBe(0);
      expect(unchanged.updates.size).toBe(0);
      expect(unchanged.hashedBytes).toBe(0);

      await writeFile(join(root, "d0/f1.txt"), "longer content");
      await chmod(join(root, "d1/f2.txt"), 0o600);
      await writeFile(join(root, "d2/new.txt"), "new");
      await rm(join(root, "d2/f4.txt"));
      const overPlain = await scanShare(fs, plain, [""], rules, log);
      const overPacked = await scanShare(fs, packed, [""], rules, log);
      expect([...overPacked.changed].sort()).toEqual(["d0/f1.txt", "d1/f2.txt", "d2/f4.txt", "d2/new.txt"]);
      expect([...overPacked.changed].sort()).toEqual([...overPlain.changed].sort());
      expect(Object.fromEntries(overPacked.updates)).toEqual(Object.fromEntries(overPlain.updates));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  test("finds what the plain index finds for changes made while the agent was down, also for entries changed since the pack", async () => {
    const { mkdtemp, mkdir, writeFile, rm, chmod, utimes, symlink, stat } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { scanShare } = await import("./scan-share.ts");
    const { compileIgnoreRules } = await import("./ignore-rules.ts");
    const { createAgentLogger } = await import("../../../log/agent-logger.ts");
    const { CompactIndex } = await import("../../../state/compact-index.ts");
    const { indexRecord } = await import("../../../state/index-record.ts");
    const root = await mkdtemp(join(tmpdir(), "fleetsync-scan-packed-"));
    const outside = await mkdtemp(join(tmpdir(), "fleetsync-scan-outside-"));
    const fs = createNodeShareFs(root);
    const rules = compileIgnoreRules([]);
    const log = createAgentLogger("error", "stdout");
    try {
      await writeFile(join(outside, "secret.txt"), "not in the share");
      for (const d of ["a", "b", "c", "d", "e"]) {
        await mkdir(join(root, d));
        for (let f = 0; f < 4; f++) await writeFile(join(root, d, `f${f}.txt`), `${d}${f}`);
      }
      await symlink("a/f0.txt", join(root, "link"));
      const first = await scanShare(fs, {}, [""], rules, log);
      const entries = [...first.updates].filter(([, e]) => e !== undefined) as [
        string,
        NonNullable<ReturnType<typeof first.updates.get>>,
      ][];
      const packed = indexRecord(CompactIndex.fromEntries(entries));
      // Entries written back since the pack live as objects beside the columns (as after a report).
      packed["e/f1.txt"] = { ...packed["e/f1.txt"]! };
      packed["e/f2.txt"] = { ...packed["e/f2.txt"]! };
      const plain = Object.fromEntries(entries);
      expect((await scanShare(fs, packed, [""], rules, log)).updates.size).toBe(0);

      const before = await stat(join(root, "a/f1.txt"));
      await utimes(join(root, "a/f1.txt"), before.atime, new Date(before.mtimeMs + 5000)); // mtime only
      await rm(join(root, "a/f2.txt"));
      await mkdir(join(root, "a/f2.txt")); // a file turned into a directory
      await rm(join(root, "b"), { recursive: true });
      await writeFile(join(root, "b"), "a directory turned into a file");
      await chmod(join(root, "c"), 0o700); // a directory's mode
      await rm(join(root, "d"), { recursive: true });
      await symlink(outside, join(root, "d")); // a directory swapped for a symlink: never followed
      await chmod(join(root, "e/f1.txt"), 0o600); // an entry held as an object
      await rm(join(root, "e/f2.txt")); // a deleted entry held as an object
      await writeFile(join(root, "e/new.txt"), "new");

      const overPlain = await scanShare(fs, plain, [""], rules, log);
      const overPacked = await scanShare(fs, packed, [""], rules, log);
      const changed = [...overPacked.changed].sort();
      expect(changed).toEqual([...overPlain.changed].sort());
      expect(Object.fromEntries(overPacked.updates)).toEqual(Object.fromEntries(overPlain.updates));
      expect(changed).toEqual(
        [
          "a/f1.txt",
          "a/f2.txt",
          "b",
          ...[0, 1, 2, 3].map((f) => `b/f${f}.txt`),
          "c",
          "d",
          ...[0, 1, 2, 3].map((f) => `d/f${f}.txt`),
          "e/f1.txt",
          "e/f2.txt",
          "e/new.txt",
        ].sort(),
      );
      expect(overPacked.updates.get("a/f2.txt")?.type).toBe("dir");
      expect(overPacked.updates.get("b")?.type).toBe("file");
      expect(overPacked.updates.get("d")?.type).toBe("symlink");
      expect([...overPacked.updates.keys()].some((p) => p.includes("secret"))).toBe(false);
    } finally {
      await rm(root, { recursive: true, force: true });
      await rm(outside, { recursive: true, force: true });
    }
  });

  test("keeps what it saw right when a report's save re-packs the index mid-scan (rows renumber)", async () => {
    const { mkdtemp, mkdir, writeFile, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { scanShare } = await import("./scan-share.ts");
    const { compileIgnoreRules } = await import("./ignore-rules.ts");
    const { createAgentLogger } = await import("../../../log/agent-logger.ts");
    const { CompactIndex } = await import("../../../state/compact-index.ts");
    const { indexRecord, compactIndexBehind } = await import("../../../state/index-record.ts");
    const root = await mkdtemp(join(tmpdir(), "fleetsync-scan-repack-"));
    const fs = createNodeShareFs(root);
    const rules = compileIgnoreRules([]);
    const log = createAgentLogger("error", "stdout");
    try {
      for (const d of ["a", "b", "c", "d"]) {
        await mkdir(join(root, d));
        for (let f = 0; f < 20; f++) await writeFile(join(root, d, `f${f}.txt`), `${d}${f}`);
      }
      const first = await scanShare(fs, {}, [""], rules, log);
      const entries = [...first.updates].filter(([, e]) => e !== undefined) as [
        string,
        NonNullable<ReturnType<typeof first.updates.get>>,
      ][];
      const packed = indexRecord(CompactIndex.fromEntries(entries));
      // Walked in the same order as the first scan: the first directory's rows come first.
      const files = entries.filter(([, e]) => e.type === "file").map(([path]) => path);
      const [firstDir, ...laterDirs] = [...new Set(files.map((path) => path.split("/")[0]!))];
      // Reported deletions of the first rows, not saved yet: the next save drops those rows, and every later row
      // (those the scan marks seen before the first part is reported) moves.
      for (const path of files.filter((p) => p.startsWith(`${firstDir}/`)).slice(0, 3)) {
        await rm(join(root, path));
        delete packed[path];
      }
      // Changes in the later directories only, so parts are reported (and saved) once the first one was seen.
      for (const d of laterDirs) await writeFile(join(root, d, "f10.txt"), `${d} changed`);
      const gone = `${laterDirs.at(-1)}/f19.txt`;
      await rm(join(root, gone)); // gone since the last scan: the one deletion this scan finds
      const changed: string[] = [];
      const scan = await scanShare(fs, packed, [""], rules, log, {
        flushEntries: 1,
        flush: async (part) => {
          for (const path of part.changed) {
            changed.push(path);
            const next = part.updates.get(path);
            if (next) packed[path] = next;
            else delete packed[path];
          }
          compactIndexBehind(packed)!.pack(); // what a save of a packed index does
        },
      });
      changed.push(...scan.changed);
      expect(changed.sort()).toEqual([...laterDirs.map((d) => `${d}/f10.txt`), gone].sort());
      expect(scan.updates.has(gone) && scan.updates.get(gone) === undefined).toBe(true);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
