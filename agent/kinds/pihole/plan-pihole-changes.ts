// Pure planner: the row-level and config changes that turn a Pi-hole's current state into the wanted one.
import {
  clientKey,
  domainKey,
  groupKey,
  listKey,
  type PiholeClient,
  type PiholeDocumentName,
  type PiholeDomain,
  type PiholeGroup,
  type PiholeList,
  type PiholeState,
} from "./pihole-documents.ts";

export type PiholeRowItem = "groups" | "lists" | "domains" | "clients";
export type PiholeRow = PiholeGroup | PiholeList | PiholeDomain | PiholeClient;

export type PiholeStep =
  | { do: "create"; item: PiholeRowItem; rows: PiholeRow[] }
  | { do: "update"; item: PiholeRowItem; row: PiholeRow }
  | { do: "delete"; item: PiholeRowItem; rows: PiholeRow[] }
  | { do: "patchConfig"; config: Record<string, unknown>; restartsFtl: boolean };

export type PiholePlan = {
  steps: PiholeStep[];
  /** True when the set of adlists changed (added, removed, enabled or disabled): gravity must run once. */
  runGravity: boolean;
  /** Wanted documents that cannot be applied as they are, with why (nothing of them is planned). */
  problems: Partial<Record<PiholeDocumentName, string>>;
};

/** Config keys whose change makes FTL restart by its own rules (FLAG_RESTART_FTL in FTL v6.4). */
const RESTART_KEY_PREFIXES = [
  "dns.cnameRecords",
  "dns.upstreams",
  "dns.interface",
  "dns.port",
  "dns.domain",
  "dns.listeningMode",
  "dns.revServers",
  "dhcp",
  "webserver.port",
  "webserver.api.max_sessions",
];

export function restartsFtl(key: string): boolean {
  return RESTART_KEY_PREFIXES.some((p) => key === p || key.startsWith(`${p}.`));
}

/** The Default group (id 0) exists on every Pi-hole and can never be created or deleted. */
export const DEFAULT_GROUP = "Default";

const KEYS = { groups: groupKey, lists: listKey, domains: domainKey, clients: clientKey } as const;

function stable(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  );
}

function diffRows(
  item: PiholeRowItem,
  wanted: PiholeRow[],
  current: PiholeRow[],
  deletes: "propagate" | "keep",
): { create: PiholeRow[]; update: PiholeRow[]; remove: PiholeRow[] } {
  const key = KEYS[item] as (row: PiholeRow) => string;
  const have = new Map(current.map((row) => [key(row), row]));
  const want = new Map(wanted.map((row) => [key(row), row]));
  const create: PiholeRow[] = [];
  const update: PiholeRow[] = [];
  const remove: PiholeRow[] = [];
  for (const [k, row] of want) {
    const existing = have.get(k);
    if (!existing) create.push(row);
    else if (stable(existing) !== stable(row)) update.push(row);
  }
  if (deletes === "propagate") for (const [k, row] of have) if (!want.has(k)) remove.push(row);
  if (item === "groups") {
    return {
      create: create.filter((g) => (g as PiholeGroup).name !== DEFAULT_GROUP),
      update,
      remove: remove.filter((g) => (g as PiholeGroup).name !== DEFAULT_GROUP),
    };
  }
  return { create, update, remove };
}

function gravityRelevant(l: PiholeList): string {
  return `${l.type} ${l.address} ${l.enabled}`;
}

export function planPiholeChanges(input: {
  wanted: PiholeState;
  current: PiholeState;
  deletes: "propagate" | "keep";
}): PiholePlan {
  const { wanted, current, deletes } = input;
  const problems: PiholePlan["problems"] = {};
  const knownGroups = new Set([DEFAULT_GROUP, ...(wanted.groups ?? current.groups ?? []).map((g) => g.name)]);
  for (const item of ["lists", "domains", "clients"] as const) {
    const rows = wanted[item] as Array<{ groups: string[] }> | undefined;
    const missing = [...new Set((rows ?? []).flatMap((r) => r.groups).filter((g) => !knownGroups.has(g)))];
    if (missing.length > 0)
      problems[item] =
        `names group${missing.length > 1 ? "s" : ""} ${missing.map((g) => `"${g}"`).join(", ")}, which this Pi-hole does not have; sync groups too, or create ${missing.length > 1 ? "them" : "it"} here`;
  }

  const steps: PiholeStep[] = [];
  const groupDiff = wanted.groups
    ? diffRows("groups", wanted.groups, current.groups ?? [], deletes)
    : { create: [], update: [], remove: [] };
  if (groupDiff.create.length > 0) steps.push({ do: "create", item: "groups", rows: groupDiff.create });
  for (const row of groupDiff.update) steps.push({ do: "update", item: "groups", row });

  let runGravity = false;
  for (const item of ["lists", "domains", "clients"] as const) {
    const rows = wanted[item] as PiholeRow[] | undefined;
    if (!rows || problems[item]) continue;
    const diff = diffRows(item, rows, (current[item] as PiholeRow[] | undefined) ?? [], deletes);
    if (diff.remove.length > 0) steps.push({ do: "delete", item, rows: diff.remove });
    if (diff.create.length > 0) steps.push({ do: "create", item, rows: diff.create });
    for (const row of diff.update) steps.push({ do: "update", item, row });
    if (item === "lists") {
      const before = new Set(((current.lists ?? []) as PiholeList[]).map(gravityRelevant));
      const after = new Set((rows as PiholeList[]).map(gravityRelevant));
      const removed = diff.remove.length > 0;
      runGravity = removed || [...after].some((l) => !before.has(l));
    }
  }
  if (groupDiff.remove.length > 0) steps.push({ do: "delete", item: "groups", rows: groupDiff.remove });

  const config: Record<string, unknown> = {};
  const mergeSet = (want: string[], have: string[]) =>
    deletes === "keep" ? [...new Set([...have, ...want])].sort() : want;
  if (wanted.hosts) {
    const next = mergeSet(wanted.hosts, current.hosts ?? []);
    if (stable(next) !== stable(current.hosts ?? [])) config["dns.hosts"] = next;
  }
  if (wanted.cnameRecords) {
    const next = mergeSet(wanted.cnameRecords, current.cnameRecords ?? []);
    if (stable(next) !== stable(current.cnameRecords ?? [])) config["dns.cnameRecords"] = next;
  }
  for (const [key, value] of Object.entries(wanted.config ?? {})) {
    if (stable(value) !== stable(current.config?.[key])) config[key] = value;
  }
  const keys = Object.keys(config);
  if (keys.length > 0) steps.push({ do: "patchConfig", config, restartsFtl: keys.some(restartsFtl) });
  return { steps, runGravity, problems };
}
