import { describe, expect, test } from "vitest";
import { checkHubUrl } from "./check-hub-url.ts";

describe("checkHubUrl", () => {
  test.each(["http://hub.lan:8787", "https://hub.example/", "http://[::1]:8787", "http://127.0.0.1:1"])(
    "accepts %s",
    (url) => {
      expect(checkHubUrl(url)).toBe(url);
    },
  );

  test.each([
    ["hub.lan:8787", "--hub hub.lan:8787: give the scheme, e.g. --hub http://hub.lan:8787"],
    ["localhost", "--hub localhost: give the scheme, e.g. --hub http://localhost"],
    ["ftp://hub.lan", "--hub ftp://hub.lan: use an http:// or https:// URL"],
    ["http://", "--hub http://: not a valid URL"],
  ])("refuses %s with a message naming the flag and the fix", (url, message) => {
    expect(() => checkHubUrl(url)).toThrow(message);
  });
});
