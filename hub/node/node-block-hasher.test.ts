// The Node hasher names a block exactly as Web Crypto (and so every agent and the Workers hub) does.
import { randomBytes } from "node:crypto";
import { describe, expect, test } from "vitest";
import { sha256Hex } from "../../shared/blocks/hex.ts";
import { nodeBlockHasher } from "./node-block-hasher.ts";

describe("nodeBlockHasher", () => {
  test("gives the same lowercase hex SHA-256 as Web Crypto, for empty, small and 128 KiB blocks", async () => {
    for (const bytes of [new Uint8Array(0), randomBytes(1), randomBytes(1000), randomBytes(128 * 1024)]) {
      expect(nodeBlockHasher(bytes)).toBe(await sha256Hex(bytes));
    }
  });

  test("knows the SHA-256 of the empty block", () => {
    expect(nodeBlockHasher(new Uint8Array(0))).toBe(
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
  });
});
