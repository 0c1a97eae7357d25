import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { isTempName } from "../fs/temp-name.ts";
import { compileIgnoreRules, compileNameRules, DEFAULT_IGNORES } from "./ignore-rules.ts";

describe("compileIgnoreRules", () => {
  const none = compileIgnoreRules([]);

  test.each([
    [".fleetsync", true],
    [".fleetsync/trash/2024/a.txt", false],
    [".fleetsync/marker", false],
  ])("always ignores the share's own folder (%j)", (path, isDir) => {
    expect(none(path, isDir)).toBe(true);
    expect(compileIgnoreRules(["!.fleetsync", "!.fleetsync/**"])(path, isDir)).toBe(true);
  });

  test.each([
    [".fleetsync.report.pdf.tmp"],
    ["docs/.fleetsync.report.pdf.tmp"],
    ["deep/er/.fleetsync.x.tmp"],
  ])("always ignores our temp file %j", (path) => {
    expect(none(path, false)).toBe(true);
  });

  test.each([
    ["notes.txt", false],
    [".fleetsyncx", false],
    ["a/.fleetsync", true],
    [".fleetsync.tmp.keep", false],
    ["fleetsync.x.tmp", false],
    ["report.tmp", false],
  ])("syncs %j when no pattern matches", (path, isDir) => {
    expect(none(path, isDir)).toBe(false);
  });

  test("answers the same over a long life as a fresh matcher does (the matcher is replaced every few thousand paths)", () => {
    const patterns = ["build/", "*.log", "!keep.log", "media/**/*.raw"];
    const longLived = compileIgnoreRules(patterns);
    for (let i = 0; i < 20_000; i++) {
      const paths: [string, boolean][] = [
        [`dir${i}/build`, true],
        [`dir${i}/build/out.o`, false],
        [`dir${i}/a.log`, false],
        [`dir${i}/keep.log`, false],
        [`media/${i}/x.raw`, false],
        [`media/${i}/x.jpg`, false],
      ];
      for (const [path, isDir] of paths) {
        if (i % 997 !== 0) longLived(path, isDir);
        else expect(longLived(path, isDir), path).toBe(compileIgnoreRules(patterns)(path, isDir));
      }
    }
    expect(longLived("dir1/build", true)).toBe(true);
    expect(longLived("dir1/keep.log", false)).toBe(false);
    expect(longLived("media/5/x.raw", false)).toBe(true);
  });

  test("ignores gitignore-style globs anywhere in the tree", () => {
    const rules = compileIgnoreRules(["*.log", "cache"]);
    expect(rules("a.log", false)).toBe(true);
    expect(rules("deep/down/b.log", false)).toBe(true);
    expect(rules("cache", true)).toBe(true);
    expect(rules("x/cache", false)).toBe(true);
    expect(rules("a.log.txt", false)).toBe(false);
  });

  test("applies a directory-only pattern to directories and what lies below them, not to files", () => {
    const rules = compileIgnoreRules(["build/"]);
    expect(rules("build", true)).toBe(true);
    expect(rules("pkg/build", true)).toBe(true);
    expect(rules("build/out.js", false)).toBe(true);
    expect(rules("build", false)).toBe(false);
    expect(rules("builder", true)).toBe(false);
  });

  test("anchors a pattern with a leading slash to the share root", () => {
    const rules = compileIgnoreRules(["/tmp"]);
    expect(rules("tmp", true)).toBe(true);
    expect(rules("a/tmp", true)).toBe(false);
  });

  test("lets a negation re-include a file a broader pattern ignored", () => {
    const rules = compileIgnoreRules(["*.log", "!keep.log"]);
    expect(rules("drop.log", false)).toBe(true);
    expect(rules("keep.log", false)).toBe(false);
    expect(rules("sub/keep.log", false)).toBe(false);
  });

  test("ignores nothing but its own files for comments and blank lines", () => {
    const rules = compileIgnoreRules(["# a comment", "", "   "]);
    expect(rules("# a comment", false)).toBe(false);
    expect(rules("anything", false)).toBe(false);
  });
});

describe("default ignores", () => {
  const none = compileIgnoreRules([]);

  test.each([
    ["notes.txt.swp", false],
    ["deep/.config.yaml.swp", false],
    ["src/.main.c.swo", false],
    ["nginx.conf~", false],
    ["a/b/old~", false],
    [".DS_Store", false],
    ["photos/.DS_Store", false],
    ["Thumbs.db", false],
    ["photos/2024/Thumbs.db", false],
  ])("ignores editor and OS junk %j in every share", (path, isDir) => {
    expect(none(path, isDir)).toBe(true);
  });

  test.each([
    ["swp.txt", false],
    ["notes.swpx", false],
    ["~notes", false],
    ["DS_Store", false],
    ["thumbs.db.bak", false],
  ])("still syncs %j, which only looks like junk", (path, isDir) => {
    expect(none(path, isDir)).toBe(false);
  });

  test("lets a share's negation re-include one default while the others stay ignored", () => {
    const rules = compileIgnoreRules(["!.DS_Store"]);
    expect(rules(".DS_Store", false)).toBe(false);
    expect(rules("sub/.DS_Store", false)).toBe(false);
    expect(rules("a.swp", false)).toBe(true);
  });

  test("lets a share turn every default off by negating each one", () => {
    const rules = compileIgnoreRules(DEFAULT_IGNORES.map((p) => `!${p}`));
    for (const path of ["a.swp", "b.swo", "c~", ".DS_Store", "Thumbs.db"])
      expect(rules(path, false)).toBe(false);
  });
});

describe("isTempName", () => {
  test.each([
    [".fleetsync.a.tmp", true],
    [".fleetsync.a b c.tmp", true],
    [".fleetsync.a.tmp.bak", false],
    ["x.fleetsync.a.tmp", false],
  ])("says %j is a temp name: %s", (name, expected) => {
    expect(isTempName(name)).toBe(expected);
  });
});

describe("isChildIgnored (a walk's question about a child of a directory that is not ignored)", () => {
  const names = [
    "a.swp",
    "A.SWP",
    ".swp",
    "x.swo",
    "old~",
    "~old",
    ".DS_Store",
    ".ds_store",
    "Thumbs.db",
    "THUMBS.DB",
    "build",
    "Build",
    "b.log",
    "keep.log",
    "KEEP.LOG",
    "cache",
    "x.raw",
    ".fleetsync",
    ".fleetsync.a.tmp",
    "plain",
    "a b",
    "x.tmp",
    "node_modules",
  ];
  const patterns = [
    "*.log",
    "!keep.log",
    "build/",
    "cache",
    "/tmp",
    "media/**/*.raw",
    "*.RAW",
    "# comment",
    "",
    "  ",
    "x.tmp",
    "node_modules/",
    "!*~",
    "Build",
    "a b",
    "*",
    "\\#x",
    "?.swp",
    "[ab].log",
    " cache",
  ];

  test("is answered by the name alone for the defaults and for rules without slashes or negations", () => {
    expect(compileIgnoreRules([]).isChildIgnored).toBeDefined();
    expect(compileIgnoreRules(["*.log", "build/", "# c", ""]).isChildIgnored).toBeDefined();
    expect(compileIgnoreRules(["!keep.log"]).isChildIgnored).toBeUndefined();
    expect(compileIgnoreRules(["media/*.raw"]).isChildIgnored).toBeUndefined();
    expect(compileNameRules(["?.swp"])).toBeUndefined();
  });

  test("gives the answer the whole path gets, for any rules and any path whose parents are not ignored", () => {
    fc.assert(
      fc.property(
        fc.subarray(patterns),
        fc.array(fc.constantFrom(...names), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (chosen, segments, isDir) => {
          const rules = compileIgnoreRules(chosen);
          for (let depth = 1; depth <= segments.length; depth++) {
            const dir = segments.slice(0, depth - 1).join("/");
            const name = segments[depth - 1]!;
            const path = dir === "" ? name : `${dir}/${name}`;
            const childIsDir = depth < segments.length || isDir;
            const whole = rules(path, childIsDir);
            const child = rules.isChildIgnored?.(dir, name, childIsDir) ?? whole;
            expect(child, `${JSON.stringify(chosen)} ${path}${childIsDir ? "/" : ""}`).toBe(whole);
            if (whole) return; // a walk never goes below an ignored directory
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
