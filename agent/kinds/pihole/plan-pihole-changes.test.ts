import { describe, expect, test } from "vitest";
import type { PiholeDomain, PiholeGroup, PiholeList, PiholeState } from "./pihole-documents.ts";
import { planPiholeChanges } from "./plan-pihole-changes.ts";

const g = (name: string, enabled = true, comment: string | null = null): PiholeGroup => ({
  name,
  comment,
  enabled,
});
const list = (address: string, extra: Partial<PiholeList> = {}): PiholeList => ({
  address,
  type: "block",
  comment: null,
  enabled: true,
  groups: ["Default"],
  ...extra,
});
const dom = (domain: string, extra: Partial<PiholeDomain> = {}): PiholeDomain => ({
  domain,
  type: "deny",
  kind: "exact",
  comment: null,
  enabled: true,
  groups: ["Default"],
  ...extra,
});

const BASE: PiholeState = {
  groups: [g("Default"), g("kids")],
  lists: [list("https://a.example/list.txt")],
  domains: [dom("bad.example")],
  clients: [{ client: "10.0.0.5", comment: null, groups: ["kids"] }],
  hosts: ["10.0.0.10 nas.lan"],
  cnameRecords: ["files.lan,nas.lan"],
};

describe("planPiholeChanges", () => {
  test.each<[string, PiholeState, PiholeState, unknown, boolean]>([
    ["equal states plan nothing", BASE, BASE, [], false],
    [
      "a new group is created before the lists that use it",
      {
        ...BASE,
        groups: [...(BASE.groups ?? []), g("iot")],
        lists: [list("https://a.example/list.txt", { groups: ["iot"] })],
      },
      BASE,
      [
        { do: "create", item: "groups", rows: [g("iot")] },
        { do: "update", item: "lists", row: list("https://a.example/list.txt", { groups: ["iot"] }) },
      ],
      false,
    ],
    [
      "a removed group is deleted after the rows that referenced it changed",
      {
        ...BASE,
        groups: [g("Default")],
        clients: [{ client: "10.0.0.5", comment: null, groups: ["Default"] }],
      },
      BASE,
      [
        { do: "update", item: "clients", row: { client: "10.0.0.5", comment: null, groups: ["Default"] } },
        { do: "delete", item: "groups", rows: [g("kids")] },
      ],
      false,
    ],
    [
      "a new adlist is created and gravity runs",
      { ...BASE, lists: [...(BASE.lists ?? []), list("https://b.example/x.txt")] },
      BASE,
      [{ do: "create", item: "lists", rows: [list("https://b.example/x.txt")] }],
      true,
    ],
    [
      "a deleted adlist is deleted and gravity runs",
      { ...BASE, lists: [] },
      BASE,
      [{ do: "delete", item: "lists", rows: [list("https://a.example/list.txt")] }],
      true,
    ],
    [
      "disabling an adlist runs gravity",
      { ...BASE, lists: [list("https://a.example/list.txt", { enabled: false })] },
      BASE,
      [{ do: "update", item: "lists", row: list("https://a.example/list.txt", { enabled: false }) }],
      true,
    ],
    [
      "a comment or group change on an adlist runs no gravity",
      { ...BASE, lists: [list("https://a.example/list.txt", { comment: "new", groups: ["kids"] })] },
      BASE,
      [
        {
          do: "update",
          item: "lists",
          row: list("https://a.example/list.txt", { comment: "new", groups: ["kids"] }),
        },
      ],
      false,
    ],
    [
      "a domain that moves from deny to allow is deleted and created, keyed by type and kind",
      { ...BASE, domains: [dom("bad.example", { type: "allow" })] },
      BASE,
      [
        { do: "delete", item: "domains", rows: [dom("bad.example")] },
        { do: "create", item: "domains", rows: [dom("bad.example", { type: "allow" })] },
      ],
      false,
    ],
    [
      "local DNS records are one live PATCH; CNAME records mark the PATCH as restarting FTL",
      { ...BASE, hosts: ["10.0.0.11 tv.lan"], cnameRecords: ["www.lan,nas.lan"] },
      BASE,
      [
        {
          do: "patchConfig",
          config: { "dns.hosts": ["10.0.0.11 tv.lan"], "dns.cnameRecords": ["www.lan,nas.lan"] },
          restartsFtl: true,
        },
      ],
      false,
    ],
    [
      "a hosts-only change does not restart FTL",
      { ...BASE, hosts: [] },
      BASE,
      [{ do: "patchConfig", config: { "dns.hosts": [] }, restartsFtl: false }],
      false,
    ],
    [
      "only the named config keys are compared; dns.upstreams restarts FTL",
      { config: { "dns.upstreams": ["9.9.9.9"], "dns.queryLogging": true } },
      { ...BASE, config: { "dns.upstreams": ["1.1.1.1"], "dns.queryLogging": true } },
      [{ do: "patchConfig", config: { "dns.upstreams": ["9.9.9.9"] }, restartsFtl: true }],
      false,
    ],
    [
      "the Default group is never created or deleted, only updated",
      { groups: [g("Default", false)] },
      { groups: [g("Default"), g("kids")] },
      [
        { do: "update", item: "groups", row: g("Default", false) },
        { do: "delete", item: "groups", rows: [g("kids")] },
      ],
      false,
    ],
    [
      "a document not being applied is left alone",
      { domains: BASE.domains },
      { ...BASE, lists: [] },
      [],
      false,
    ],
  ])("%s", (_name, wanted, current, steps, runGravity) => {
    const plan = planPiholeChanges({ wanted, current, deletes: "propagate" });
    expect(plan.steps).toEqual(steps);
    expect(plan.runGravity).toBe(runGravity);
    expect(plan.problems).toEqual({});
  });

  test("with deletes kept, rows and records only on the replica stay", () => {
    const plan = planPiholeChanges({
      wanted: { domains: [dom("new.example")], hosts: ["10.0.0.1 a.lan"] },
      current: { groups: [g("Default")], domains: [dom("local.example")], hosts: ["10.0.0.2 b.lan"] },
      deletes: "keep",
    });
    expect(plan.steps).toEqual([
      { do: "create", item: "domains", rows: [dom("new.example")] },
      {
        do: "patchConfig",
        config: { "dns.hosts": ["10.0.0.1 a.lan", "10.0.0.2 b.lan"] },
        restartsFtl: false,
      },
    ]);
  });

  test("a document naming a group the replica lacks and that is not synced is refused, nothing of it planned", () => {
    const plan = planPiholeChanges({
      wanted: { domains: [dom("x.example", { groups: ["guests", "Default"] })], hosts: ["10.0.0.1 a.lan"] },
      current: { groups: [g("Default")], domains: [], hosts: [] },
      deletes: "propagate",
    });
    expect(plan.problems).toEqual({
      domains: 'names group "guests", which this Pi-hole does not have; sync groups too, or create it here',
    });
    expect(plan.steps).toEqual([
      { do: "patchConfig", config: { "dns.hosts": ["10.0.0.1 a.lan"] }, restartsFtl: false },
    ]);
  });

  test("applying the plan's target a second time plans nothing", () => {
    const wanted: PiholeState = { ...BASE, domains: [dom("a.example"), dom("b.example", { kind: "regex" })] };
    expect(planPiholeChanges({ wanted, current: wanted, deletes: "propagate" }).steps).toEqual([]);
  });
});
