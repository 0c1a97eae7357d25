import { describe, expect, test } from "vitest";
import { canonicalizeState, decodeDocument, encodeDocument } from "./pihole-documents.ts";
import { pickConfigKeys } from "./read-pihole-state.ts";

describe("Pi-hole documents", () => {
  test("two Pi-holes holding the same items in another order and with empty comments encode to equal bytes", () => {
    const a = canonicalizeState({
      groups: [
        { name: "kids", comment: "", enabled: true },
        { name: "Default", comment: null, enabled: true },
      ],
      domains: [
        {
          domain: "b.example",
          type: "deny",
          kind: "exact",
          comment: null,
          enabled: true,
          groups: ["kids", "Default"],
        },
        {
          domain: "a.example",
          type: "deny",
          kind: "exact",
          comment: null,
          enabled: true,
          groups: ["Default"],
        },
      ],
      hosts: ["10.0.0.2  b.lan", "10.0.0.1 a.lan"],
    });
    const b = canonicalizeState({
      groups: [
        { name: "Default", comment: null, enabled: true },
        { name: "kids", comment: null, enabled: true },
      ],
      domains: [
        {
          domain: "a.example",
          type: "deny",
          kind: "exact",
          comment: null,
          enabled: true,
          groups: ["Default"],
        },
        {
          domain: "b.example",
          type: "deny",
          kind: "exact",
          comment: null,
          enabled: true,
          groups: ["Default", "kids"],
        },
      ],
      hosts: ["10.0.0.1 a.lan", "10.0.0.2 b.lan"],
    });
    for (const name of ["groups", "domains", "hosts"] as const)
      expect(encodeDocument(name, a[name])).toEqual(encodeDocument(name, b[name]));
  });

  test("decode gives back what was encoded", () => {
    const items = [
      { address: "https://x/l.txt", type: "block", comment: "c", enabled: true, groups: ["Default"] },
    ];
    expect(decodeDocument("lists", encodeDocument("lists", items))).toEqual({ ok: true, items });
  });

  test.each([
    ["not JSON", new TextEncoder().encode("{"), /^lists.json is not JSON/],
    [
      "a document of another item",
      encodeDocument("domains", []),
      /^lists.json is not a fleetsync.pihole\/1 lists document: document: /,
    ],
    [
      "a row with a database id",
      encodeDocument("lists", [
        { address: "a", type: "block", comment: null, enabled: true, groups: [], id: 3 },
      ]),
      /^lists.json is not a fleetsync.pihole\/1 lists document: items.0: /,
    ],
  ])("refuses %s with a message naming the file", (_name, bytes, message) => {
    const decoded = decodeDocument("lists", bytes);
    expect(decoded.ok).toBe(false);
    expect(decoded.ok ? "" : decoded.reason).toMatch(message);
  });

  test("picking config keys expands a section to its leaves, minus secrets, host-specific keys and unnamed upstreams", () => {
    const config = {
      dns: {
        upstreams: ["1.1.1.1"],
        interface: "eth0",
        queryLogging: true,
        hosts: ["x"],
        blocking: { active: true },
      },
      webserver: { api: { password: "********" } },
    };
    expect(pickConfigKeys(config, ["dns"])).toEqual({
      "dns.blocking.active": true,
      "dns.queryLogging": true,
    });
    expect(pickConfigKeys(config, ["dns.upstreams", "webserver.api.password"])).toEqual({
      "dns.upstreams": ["1.1.1.1"],
    });
  });
});
