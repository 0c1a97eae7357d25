import { describe, expect, test } from "vitest";
import { legacyKeysOf, toCurrentKeys, toLocalKeys } from "./map-renamed-config-keys.ts";
import { pickConfigKeys } from "./read-pihole-state.ts";

const before63 = { dns: { domain: "lan", queryLogging: true } };
const since63 = { dns: { domain: { name: "lan", local: true }, queryLogging: true } };

describe("config keys renamed between FTL versions", () => {
  test("an FTL before 6.3 knows dns.domain.name as dns.domain; a newer one needs no mapping", () => {
    expect(legacyKeysOf(before63)).toEqual(new Map([["dns.domain.name", "dns.domain"]]));
    expect(legacyKeysOf(since63)).toEqual(new Map());
  });

  test("both versions read to the same document", () => {
    const read = (config: unknown) =>
      pickConfigKeys(toCurrentKeys(config, legacyKeysOf(config)), ["dns.domain.name"]);
    expect(read(before63)).toEqual({ "dns.domain.name": "lan" });
    expect(read(since63)).toEqual({ "dns.domain.name": "lan" });
  });

  test("a PATCH is written in the replica's own names", () => {
    expect(
      toLocalKeys({ "dns.domain.name": "home", "dns.queryLogging": false }, legacyKeysOf(before63)),
    ).toEqual({
      "dns.domain": "home",
      "dns.queryLogging": false,
    });
    expect(toLocalKeys({ "dns.domain.name": "home" }, legacyKeysOf(since63))).toEqual({
      "dns.domain.name": "home",
    });
  });
});
