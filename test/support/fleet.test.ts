// Test support's waitFor: its timeout message says what the last check found.
import { describe, expect, test } from "vitest";
import { waitFor } from "./fleet.ts";

describe("waitFor", () => {
  test("a timeout after a check that threw and later ones that found it not yet so does not blame the old error", async () => {
    let calls = 0;
    const waiting = waitFor(
      () => {
        calls++;
        if (calls === 1) throw new Error("database not available");
        return false;
      },
      { timeoutMs: 200, intervalMs: 10, what: "the replica" },
    );
    await expect(waiting).rejects.toThrow(
      "timed out waiting for the replica (the last check found it not yet so; an earlier one threw Error: database not available)",
    );
  });

  test("a timeout whose last check threw names that error", async () => {
    const waiting = waitFor(
      () => {
        throw new Error("refused");
      },
      { timeoutMs: 100, intervalMs: 10, what: "the hub" },
    );
    await expect(waiting).rejects.toThrow("timed out waiting for the hub: Error: refused");
  });
});
