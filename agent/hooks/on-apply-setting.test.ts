import { describe, expect, test } from "vitest";
import { z } from "zod";
import { OnApplySchema, resolveOnApply } from "./on-apply-setting.ts";

describe("OnApplySchema", () => {
  test("takes a command string with the default 30 s timeout", () => {
    expect(resolveOnApply(OnApplySchema.parse("systemctl reload nginx"))).toEqual({
      command: "systemctl reload nginx",
      timeoutMs: 30_000,
    });
  });

  test("takes a command with its own timeout", () => {
    expect(resolveOnApply(OnApplySchema.parse({ command: "ha core restart", timeoutSeconds: 120 }))).toEqual({
      command: "ha core restart",
      timeoutMs: 120_000,
    });
  });

  test.each([
    ["an empty command", "  "],
    ["a zero timeout", { command: "true", timeoutSeconds: 0 }],
    ["a timeout over an hour", { command: "true", timeoutSeconds: 3601 }],
    ["an unknown key", { command: "true", retries: 3 }],
    ["a number", 5],
  ])("refuses %s, naming the setting", (_what, value) => {
    const parsed = z.object({ onApply: OnApplySchema }).safeParse({ onApply: value });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path[0]).toBe("onApply");
  });
});
