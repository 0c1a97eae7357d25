// Which driver and file-system errors mean "the disk is full" (and which do not).
import { DrizzleQueryError } from "drizzle-orm/errors";
import { describe, expect, test } from "vitest";
import { isStorageFull } from "./is-storage-full.ts";

describe("isStorageFull", () => {
  test.each([
    [
      "a libSQL SQLITE_FULL",
      Object.assign(new Error("SQLITE_FULL: database or disk is full"), { code: "SQLITE_FULL" }),
    ],
    ["an ENOSPC from the file system", Object.assign(new Error("write failed"), { code: "ENOSPC" })],
    [
      "a drizzle query error wrapping SQLITE_FULL",
      new DrizzleQueryError(
        "insert into blocks ...",
        [],
        Object.assign(new Error("x"), { code: "SQLITE_FULL" }),
      ),
    ],
    ["an I/O error whose message says the disk is full", new Error("SQLITE_IOERR: disk I/O error (ENOSPC)")],
  ])("recognizes %s", (_, error) => {
    expect(isStorageFull(error)).toBe(true);
  });

  test.each([
    [
      "a constraint failure",
      Object.assign(new Error("UNIQUE constraint failed"), { code: "SQLITE_CONSTRAINT" }),
    ],
    ["a busy database", Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" })],
    ["a string", "oops"],
    ["undefined", undefined],
  ])("does not mistake %s for a full disk", (_, error) => {
    expect(isStorageFull(error)).toBe(false);
  });
});
