import { describe, expect, test } from "vitest";
import { formatLogLine, type LogRecord } from "./format-log-line.ts";

const time = new Date("2026-12-01T12:00:00.000Z");
const record = (over: Partial<LogRecord> = {}): LogRecord => ({
  time,
  level: "info",
  message: "applied change",
  fields: {},
  ...over,
});

describe("formatLogLine", () => {
  test("writes one JSON object with time, level and msg first, then the fields", () => {
    const line = formatLogLine(record({ fields: { share: "docs", path: "a.txt" } }), {
      format: "json",
      journald: false,
    });
    expect(JSON.parse(line)).toEqual({
      time: "2026-12-01T12:00:00.000Z",
      level: "info",
      msg: "applied change",
      share: "docs",
      path: "a.txt",
    });
  });

  test("writes text as time, level, message, then share and path before the other fields", () => {
    const line = formatLogLine(
      record({ fields: { device: "dev_1", path: "a.txt", bytes: 12, share: "docs" } }),
      {
        format: "text",
        journald: false,
      },
    );
    expect(line).toBe(
      "2026-12-01T12:00:00.000Z INFO  applied change  share=docs path=a.txt device=dev_1 bytes=12",
    );
  });

  test("quotes text values with spaces, quotes or equals signs, and writes arrays and objects as JSON", () => {
    const line = formatLogLine(
      record({ fields: { path: "with space/x=1.txt", shares: ["a:source"], error: new Error("boom") } }),
      { format: "text", journald: false },
    );
    expect(line).toContain('path="with space/x=1.txt" shares=["a:source"] error="boom"');
  });

  test("keeps a message with line breaks on one line, so one record is one journal entry", () => {
    expect(formatLogLine(record({ message: "a\nb" }), { format: "text", journald: false })).toContain(
      "INFO  a\\nb",
    );
  });

  test.each([
    ["error", "<3>"],
    ["warn", "<4>"],
    ["info", "<6>"],
    ["debug", "<7>"],
  ] as const)("prefixes a %s line with journald's priority %s, in either format", (level, prefix) => {
    const text = formatLogLine(record({ level }), { format: "text", journald: true });
    expect(text.startsWith(`${prefix}${level.toUpperCase()}`)).toBe(true);
    const json = formatLogLine(record({ level }), { format: "json", journald: true });
    expect(json.startsWith(`${prefix}{`)).toBe(true);
    expect(JSON.parse(json.slice(prefix.length)).level).toBe(level);
  });

  test("leaves the time out of text for journald, which stamps each entry itself", () => {
    expect(formatLogLine(record(), { format: "text", journald: true })).toBe("<6>INFO  applied change");
  });
});
