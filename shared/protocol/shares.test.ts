import { describe, expect, test } from "vitest";
import { DeviceShareSchema, parseShareGrant, ShareNameSchema } from "./shares.ts";

describe("parseShareGrant", () => {
  test.each([
    ["docs:replica", { name: "docs", role: "replica" }],
    ["docs:source", { name: "docs", role: "source" }],
    ["pi-hole.main_1:peer", { name: "pi-hole.main_1", role: "peer" }],
  ])("reads %j as a grant", (text, grant) => {
    expect(parseShareGrant(text)).toEqual(grant);
  });

  test.each([
    ["docs", "no role"],
    ["docs:owner", "unknown role"],
    ["Docs:source", "uppercase name"],
    ["a:b:c", "too many parts"],
    ["docs:replica:", "trailing colon"],
    [":replica", "empty name"],
    ["", "empty text"],
    ["-docs:replica", "name starting with a dash"],
  ])("refuses %j (%s)", (text) => {
    expect(parseShareGrant(text)).toBeUndefined();
  });
});

describe("ShareNameSchema", () => {
  test("accepts names of 1 to 63 characters and refuses 64", () => {
    expect(ShareNameSchema.safeParse("a").success).toBe(true);
    expect(ShareNameSchema.safeParse("a".repeat(63)).success).toBe(true);
    expect(ShareNameSchema.safeParse("a".repeat(64)).success).toBe(false);
  });

  test.each(["../x", "a/b", "a b", "ümlaut", ".hidden", ""])("refuses %j", (name) => {
    expect(ShareNameSchema.safeParse(name).success).toBe(false);
  });
});

describe("DeviceShareSchema", () => {
  test("reads a share as the hub describes it to a device", () => {
    const share = { name: "media", role: "replica", kind: "folder", deletes: "keep", conflicts: "keep-both" };
    expect(DeviceShareSchema.parse({ ...share, head: 10, cursor: 4 })).toEqual({
      ...share,
      head: 10,
      cursor: 4,
    });
    expect(DeviceShareSchema.safeParse({ ...share, deletes: "sometimes" }).success).toBe(false);
  });
});
