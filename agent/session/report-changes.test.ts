// Which refusals of a delta report make the agent send whole block lists, and for how long.
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { describeZodError, FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { ReportRequestSchema } from "../../shared/protocol/messages.ts";
import { deltaRefusal } from "./report-changes.ts";

/** The 422 a hub sends for a body its schema refuses (hub/http/validate.ts). */
function refusal(schema: z.ZodType, body: unknown): FleetsyncError {
  const parsed = schema.safeParse(body);
  if (parsed.success) throw new Error("the body was accepted");
  return new FleetsyncError("invalid", describeZodError(parsed.error, "body"));
}

const file = {
  path: "big.iso",
  type: "file",
  mode: 0o644,
  mtimeMs: 1_700_000_000_000,
  size: 8,
  hash: "a".repeat(64),
  blocks: [],
};

describe("deltaRefusal", () => {
  test("a hub from before deltas refuses the field as unknown: whole lists to that hub from now on", () => {
    const olderEntry = z.strictObject({
      path: z.string(),
      type: z.string(),
      mode: z.number(),
      mtimeMs: z.number(),
      size: z.number(),
      hash: z.string(),
      blocks: z.array(z.unknown()),
    });
    const olderHub = z.strictObject({ entries: z.array(olderEntry) });
    const error = refusal(olderHub, {
      entries: [{ ...file, blocksFrom: { base: "b".repeat(64), ops: [] } }],
    });
    expect(error.message).toContain("blocksFrom");
    expect(deltaRefusal(error)).toBe("older-hub");
  });

  test("a current hub refusing one malformed delta is not taken for an older hub", () => {
    const error = refusal(ReportRequestSchema, {
      entries: [{ ...file, blocksFrom: { base: "not a hash", ops: "nope" } }],
    });
    expect(error.message).toContain("blocksFrom");
    expect(deltaRefusal(error)).toBe("this-delta");
  });

  test("another base (409) resends the chunk whole; a refusal about anything else is not about deltas", () => {
    expect(deltaRefusal(new FleetsyncError("conflict", "the hub holds another version of big.iso"))).toBe(
      "base",
    );
    const other = refusal(ReportRequestSchema, { entries: [{ ...file, mode: "rw" }] });
    expect(deltaRefusal(other)).toBeUndefined();
  });
});
