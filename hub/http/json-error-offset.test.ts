// Locating the first invalid character of a JSON text: examples, and agreement with JSON.parse on any input.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { describeTextOffset, jsonErrorOffset } from "./json-error-offset.ts";

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe("jsonErrorOffset", () => {
  test.each([
    ['{"a": }', 6],
    ['{"a": 1,}', 8],
    ['{"a" 1}', 5],
    ["[1, 2", 5],
    ['"abc', 4],
    ['"a\\xb"', 3],
    ['"a\u0001"', 2],
    ["01", 1],
    ["-", 0],
    ["tru", 0],
    ["{} {}", 3],
    ["", 0],
    ["   ", 3],
    ["\uFEFF{}", 0],
    ["[".repeat(100_000), 100_000],
  ])("finds the error in %j at offset %i", (text, offset) => {
    expect(jsonErrorOffset(text)).toBe(offset);
  });

  test.each(["{}", "[]", ' { "a" : [ 1 , -2.5e+3 , true , false , null , "x\\u00e9\\n" ] } ', "0", '""'])(
    "finds nothing wrong in %j",
    (text) => {
      expect(jsonErrorOffset(text)).toBeUndefined();
    },
  );

  test("finds nothing wrong in anything JSON.stringify writes", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 0, 2, "\t"), (value, indent) => {
        expect(jsonErrorOffset(JSON.stringify(value, null, indent))).toBeUndefined();
      }),
    );
  });

  test("agrees with JSON.parse about damaged JSON, and points inside or just past the text", () => {
    const damaged = fc
      .tuple(
        fc.json(),
        fc.nat(),
        fc.nat(),
        fc.constantFrom("", ",", "}", "]", '"', ":", "\\", "x", " ", "\n", "-"),
      )
      .map(([text, cut, at, insert]) => {
        const truncated = text.slice(0, cut % (text.length + 1));
        const position = at % (truncated.length + 1);
        return truncated.slice(0, position) + insert + truncated.slice(position);
      });
    fc.assert(
      fc.property(fc.oneof(damaged, fc.string()), (text) => {
        const offset = jsonErrorOffset(text);
        expect(offset === undefined).toBe(parses(text));
        if (offset !== undefined) {
          expect(offset).toBeGreaterThanOrEqual(0);
          expect(offset).toBeLessThanOrEqual(text.length);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("describeTextOffset", () => {
  test.each([
    ["abc", 0, "line 1, column 1 (offset 0)"],
    ["abc", 2, "line 1, column 3 (offset 2)"],
    ["a\nbc", 2, "line 2, column 1 (offset 2)"],
    ["a\nbc\nd", 6, "line 3, column 2 (offset 6)"],
  ])("places an offset in %j", (text, offset, description) => {
    expect(describeTextOffset(text, offset)).toBe(description);
  });
});
