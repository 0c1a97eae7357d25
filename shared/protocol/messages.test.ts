import { describe, expect, test } from "vitest";
import {
  AckRequestSchema,
  EnrollRequestSchema,
  MAX_ENTRIES_PER_REPORT,
  ReportRequestSchema,
  ReportResponseSchema,
} from "./messages.ts";

const publicKey = { kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" };

describe("EnrollRequestSchema", () => {
  test("accepts a token, an Ed25519 public JWK and a name", () => {
    const request = { token: "t", publicKey, name: "pi-1" };
    expect(EnrollRequestSchema.parse(request)).toEqual(request);
  });

  test.each([
    ["publicKey.kty", { publicKey: { ...publicKey, kty: "EC" } }],
    ["publicKey.crv", { publicKey: { ...publicKey, crv: "X25519" } }],
    ["publicKey.x", { publicKey: { ...publicKey, x: "short" } }],
    ["name", { name: "" }],
    ["token", { token: "" }],
    ["", { deviceId: "chosen-by-me" }],
  ])("refuses a bad %s", (field, patch) => {
    const parsed = EnrollRequestSchema.safeParse({ token: "t", publicKey, name: "pi-1", ...patch });
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(parsed.error.issues[0]?.path.join(".")).toBe(field);
  });
});

describe("ReportRequestSchema", () => {
  const entry = { path: "a.txt", type: "dir" };

  test("refuses an empty report and one above the entry limit", () => {
    expect(ReportRequestSchema.safeParse({ entries: [] }).success).toBe(false);
    const many = Array.from({ length: MAX_ENTRIES_PER_REPORT + 1 }, () => entry);
    expect(ReportRequestSchema.safeParse({ entries: many }).success).toBe(false);
    expect(ReportRequestSchema.safeParse({ entries: many.slice(1) }).success).toBe(true);
  });

  test("names the offending entry when one path climbs out of the share", () => {
    const parsed = ReportRequestSchema.safeParse({ entries: [entry, { path: "x/../../y", type: "dir" }] });
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(parsed.error.issues[0]?.path).toEqual(["entries", 1, "path"]);
  });
});

describe("ReportResponseSchema", () => {
  test("tells a missing-blocks answer from an accepted one by its status", () => {
    expect(ReportResponseSchema.parse({ status: "missing", missing: ["h"] })).toEqual({
      status: "missing",
      missing: ["h"],
    });
    expect(ReportResponseSchema.parse({ status: "accepted", accepted: 2, head: 9 })).toEqual({
      status: "accepted",
      accepted: 2,
      head: 9,
    });
    expect(ReportResponseSchema.safeParse({ status: "accepted", missing: [] }).success).toBe(false);
  });
});

describe("AckRequestSchema", () => {
  test("defaults to a real (not dry) run with no results", () => {
    expect(AckRequestSchema.parse({ reachedSeq: 3 })).toEqual({ reachedSeq: 3, dryRun: false, results: [] });
  });

  test("refuses a negative sequence and a result with an unknown field", () => {
    expect(AckRequestSchema.safeParse({ reachedSeq: -1 }).success).toBe(false);
    const result = { seq: 1, path: "a", action: "write", ok: true, secret: 1 };
    expect(AckRequestSchema.safeParse({ reachedSeq: 1, results: [result] }).success).toBe(false);
  });
});
