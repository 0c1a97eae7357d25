import { describe, expect, test } from "vitest";
import { conflictName, isConflictName, sanitizeDeviceName } from "./conflict-name.ts";
import { normalizeSharePath } from "./normalize-share-path.ts";

const AT = Date.parse("2026-12-01T19:20:05.678Z");

describe("conflictName", () => {
  test.each([
    ["report.txt", "laptop", "report.sync-conflict-20261201-192005-laptop.txt"],
    ["docs/notes.md", "nas-2", "docs/notes.sync-conflict-20261201-192005-nas-2.md"],
    ["archive.tar.gz", "pi", "archive.tar.sync-conflict-20261201-192005-pi.gz"],
    ["Makefile", "pi", "Makefile.sync-conflict-20261201-192005-pi"],
    [".bashrc", "pi", ".bashrc.sync-conflict-20261201-192005-pi"],
    ["dir.d/.env.local", "pi", "dir.d/.env.sync-conflict-20261201-192005-pi.local"],
    ["trailing.", "pi", "trailing..sync-conflict-20261201-192005-pi"],
    ["x.txt", "Kitchen Pi (living room)", "x.sync-conflict-20261201-192005-Kitchen-Pi-living-room.txt"],
  ])("%s on %s → %s", (path, device, expected) => {
    expect(conflictName(path, device, AT)).toBe(expected);
  });

  test("a long name is shortened so the segment fits 255 bytes, keeping the marker and the extension", () => {
    const long = `${"é".repeat(200)}.txt`;
    const name = conflictName(`a/${long}`, "laptop", AT);
    const segment = name.slice(2);
    expect(new TextEncoder().encode(segment).length).toBeLessThanOrEqual(255);
    expect(segment.endsWith(".sync-conflict-20261201-192005-laptop.txt")).toBe(true);
    expect(normalizeSharePath(name)).toEqual({ ok: true, path: name });
  });

  test("every name made is a valid share path and recognizable as a conflict copy", () => {
    for (const path of ["a", "a.b", ".x", "d/e/f.g", "ünïcode.txt"]) {
      const name = conflictName(path, "dev", AT);
      expect(normalizeSharePath(name)).toEqual({ ok: true, path: name });
      expect(isConflictName(name)).toBe(true);
      expect(isConflictName(path)).toBe(false);
    }
  });

  test("device names keep letters, digits, - and _ only, never empty, at most 32 characters", () => {
    expect(sanitizeDeviceName("../../etc")).toBe("etc");
    expect(sanitizeDeviceName("///")).toBe("device");
    expect(sanitizeDeviceName("x".repeat(50))).toHaveLength(32);
  });
});
