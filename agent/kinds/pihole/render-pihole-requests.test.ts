import { describe, expect, test } from "vitest";
import type { PiholeDomain } from "./pihole-documents.ts";
import { BATCH_TIMEOUT_MS, MAX_BODY_BYTES, renderPiholeRequests } from "./render-pihole-requests.ts";

const ids = new Map([
  ["Default", 0],
  ["kids", 7],
]);
const groupId = (name: string) => ids.get(name) ?? `<id of new group ${name}>`;
const dom = (domain: string, extra: Partial<PiholeDomain> = {}): PiholeDomain => ({
  domain,
  type: "deny",
  kind: "exact",
  comment: null,
  enabled: true,
  groups: ["kids"],
  ...extra,
});

describe("renderPiholeRequests", () => {
  test.each([
    [
      "an update of a regex domain addresses it URL-encoded, groups as this Pi-hole's ids",
      { do: "update" as const, item: "domains" as const, row: dom("^ad\\.", { kind: "regex" }) },
      [
        {
          method: "PUT",
          path: "/domains/deny/regex/%5Ead%5C.",
          body: { comment: null, enabled: true, groups: [7] },
        },
      ],
    ],
    [
      "an adlist update carries its type as the query parameter",
      {
        do: "update" as const,
        item: "lists" as const,
        row: {
          address: "https://x/y.txt",
          type: "allow" as const,
          comment: "c",
          enabled: false,
          groups: ["Default"],
        },
      },
      [
        {
          method: "PUT",
          path: "/lists/https%3A%2F%2Fx%2Fy.txt?type=allow",
          body: { comment: "c", enabled: false, groups: [0] },
        },
      ],
    ],
    [
      "deletes use the batchDelete form with type and kind for domains",
      {
        do: "delete" as const,
        item: "domains" as const,
        rows: [dom("a.example"), dom("b.example", { type: "allow" })],
      },
      [
        {
          method: "POST",
          path: "/domains:batchDelete",
          body: [
            { item: "a.example", type: "deny", kind: "exact" },
            { item: "b.example", type: "allow", kind: "exact" },
          ],
          timeoutMs: BATCH_TIMEOUT_MS,
        },
      ],
    ],
    [
      "config keys become one nested PATCH",
      {
        do: "patchConfig" as const,
        config: { "dns.hosts": ["1.2.3.4 a.lan"], "dns.cnameRecords": [] },
        restartsFtl: true,
      },
      [
        {
          method: "PATCH",
          path: "/config",
          body: { config: { dns: { hosts: ["1.2.3.4 a.lan"], cnameRecords: [] } } },
          timeoutMs: 60_000,
        },
      ],
    ],
    [
      "a group not created yet shows as a placeholder in a dry run",
      {
        do: "create" as const,
        item: "clients" as const,
        rows: [{ client: "10.0.0.1", comment: null, groups: ["new"] }],
      },
      [
        {
          method: "POST",
          path: "/clients",
          body: { client: ["10.0.0.1"], comment: null, groups: ["<id of new group new>"] },
          timeoutMs: BATCH_TIMEOUT_MS,
        },
      ],
    ],
  ])("%s", (_name, step, requests) => {
    expect(renderPiholeRequests(step, groupId)).toEqual(requests);
  });

  test("creates rows that share their attributes in one POST per run of attributes", () => {
    const requests = renderPiholeRequests(
      {
        do: "create",
        item: "domains",
        rows: [dom("a.example"), dom("b.example"), dom("c.example", { comment: "x" })],
      },
      groupId,
    );
    expect(requests).toEqual([
      {
        method: "POST",
        path: "/domains/deny/exact",
        body: { domain: ["a.example", "b.example"], comment: null, enabled: true, groups: [7] },
        timeoutMs: BATCH_TIMEOUT_MS,
      },
      {
        method: "POST",
        path: "/domains/deny/exact",
        body: { domain: ["c.example"], comment: "x", enabled: true, groups: [7] },
        timeoutMs: BATCH_TIMEOUT_MS,
      },
    ]);
  });

  test("10,000 domains are split into bodies below FTL's 64 KiB limit, none lost", () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => dom(`host-${i}.blocked.example`));
    const requests = renderPiholeRequests({ do: "create", item: "domains", rows }, groupId);
    expect(requests.length).toBeGreaterThan(1);
    for (const r of requests) expect(JSON.stringify(r.body).length).toBeLessThan(MAX_BODY_BYTES + 200);
    const sent = requests.flatMap((r) => (r.body as { domain: string[] }).domain);
    expect(sent).toEqual(rows.map((r) => r.domain));
  });
});
