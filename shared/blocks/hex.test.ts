import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { fromHex, sha256Hex, toHex } from "./hex.ts";

describe("toHex and fromHex", () => {
  test("write bytes as two lowercase digits each", () => {
    expect(toHex(new Uint8Array([0, 1, 15, 16, 171, 255]))).toBe("00010f10abff");
    expect(toHex(new Uint8Array())).toBe("");
  });

  test("read lowercase and uppercase digits", () => {
    expect([...fromHex("00010f10abff")]).toEqual([0, 1, 15, 16, 171, 255]);
    expect([...fromHex("ABFF")]).toEqual([171, 255]);
  });

  test("round-trip any bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const hex = toHex(bytes);
        expect(hex).toMatch(/^([0-9a-f]{2})*$/);
        expect(fromHex(hex)).toEqual(bytes);
      }),
    );
  });
});

describe("sha256Hex", () => {
  test.each([
    ["", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    [
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    ],
  ])("hashes %j to the FIPS 180-2 vector", async (text, digest) => {
    expect(await sha256Hex(new TextEncoder().encode(text))).toBe(digest);
  });

  test("hashes only the viewed part of a sliced buffer", async () => {
    const whole = new TextEncoder().encode("xxabcxx");
    expect(await sha256Hex(whole.subarray(2, 5))).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });
});
