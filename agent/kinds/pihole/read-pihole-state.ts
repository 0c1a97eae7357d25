// Reads the synced items of one Pi-hole through its API and turns them into its canonical state.

import { refusalOfConfigKey } from "../../../shared/protocol/pihole-items.ts";
import { legacyKeysOf, toCurrentKeys } from "./map-renamed-config-keys.ts";
import type { PiholeApi } from "./pihole-api.ts";
import { canonicalizeState, type PiholeState } from "./pihole-documents.ts";
import type { PiholeShareSettings } from "./pihole-share-settings.ts";

type Row = { id: number; name?: string; comment?: string | null; enabled?: boolean; groups?: number[] };
type ListRow = Row & { address: string; type: "allow" | "block" };
type DomainRow = Row & { domain: string; type: "allow" | "deny"; kind: "exact" | "regex" };
type ClientRow = Row & { client: string };

export type PiholeLiveState = {
  state: PiholeState;
  /** Group database ids of this Pi-hole, by name. */
  groupIds: Map<string, number>;
  /** Config keys this (older) FTL knows by an older name, current name → its name. */
  legacyKeys: Map<string, string>;
};

function lookup(tree: unknown, path: string[]): unknown {
  let node = tree;
  for (const part of path) {
    if (!node || typeof node !== "object" || !(part in node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** Leaves of the named config keys, minus what is never synced; a section expands to its leaves. */
export function pickConfigKeys(config: unknown, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const visit = (key: string, value: unknown, named: boolean) => {
    if (value === undefined) return;
    if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) visit(`${key}.${k}`, v, false);
      return;
    }
    if (value === "********") return;
    if (refusalOfConfigKey(key)) return;
    if (key === "dns.upstreams" && !named) return;
    out[key] = value;
  };
  for (const key of keys) visit(key, lookup(config, key.split(".")), true);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export async function readPiholeState(
  api: PiholeApi,
  settings: PiholeShareSettings,
): Promise<PiholeLiveState> {
  const items = new Set(settings.sync);
  const { groups } = await api.request<{ groups: Row[] }>({ method: "GET", path: "/groups" });
  const groupIds = new Map(groups.map((g) => [g.name ?? "", g.id]));
  const names = new Map(groups.map((g) => [g.id, g.name ?? ""]));
  const toNames = (ids: number[] | undefined) => (ids ?? []).map((id) => names.get(id) ?? `#${id}`);
  const state: PiholeState = {};
  let legacyKeys = new Map<string, string>();
  if (items.has("groups"))
    state.groups = groups.map((g) => ({
      name: g.name ?? "",
      comment: g.comment ?? null,
      enabled: g.enabled ?? true,
    }));
  if (items.has("lists")) {
    const { lists } = await api.request<{ lists: ListRow[] }>({ method: "GET", path: "/lists" });
    state.lists = lists.map((l) => ({
      address: l.address,
      type: l.type,
      comment: l.comment ?? null,
      enabled: l.enabled ?? true,
      groups: toNames(l.groups),
    }));
  }
  if (items.has("domains")) {
    const { domains } = await api.request<{ domains: DomainRow[] }>({ method: "GET", path: "/domains" });
    state.domains = domains.map((d) => ({
      domain: d.domain,
      type: d.type,
      kind: d.kind,
      comment: d.comment ?? null,
      enabled: d.enabled ?? true,
      groups: toNames(d.groups),
    }));
  }
  if (items.has("clients")) {
    const { clients } = await api.request<{ clients: ClientRow[] }>({ method: "GET", path: "/clients" });
    state.clients = clients.map((c) => ({
      client: c.client,
      comment: c.comment ?? null,
      groups: toNames(c.groups),
    }));
  }
  if (items.has("dns.hosts") || items.has("dns.cnameRecords") || settings.config.length > 0) {
    const { config } = await api.request<{ config: unknown }>({ method: "GET", path: "/config" });
    if (items.has("dns.hosts"))
      state.hosts = (lookup(config, ["dns", "hosts"]) as string[] | undefined) ?? [];
    if (items.has("dns.cnameRecords"))
      state.cnameRecords = (lookup(config, ["dns", "cnameRecords"]) as string[] | undefined) ?? [];
    legacyKeys = legacyKeysOf(config);
    if (settings.config.length > 0)
      state.config = pickConfigKeys(toCurrentKeys(config, legacyKeys), settings.config);
  }
  return { state: canonicalizeState(state), groupIds, legacyKeys };
}
