// Pure: the exact API calls that carry out one planned step, batched under FTL's 64 KiB request-body limit.
import type { PiholeRequest } from "./pihole-api.ts";
import type { PiholeClient, PiholeDomain, PiholeGroup, PiholeList } from "./pihole-documents.ts";
import type { PiholeStep } from "./plan-pihole-changes.ts";

/** FTL discards JSON bodies of 64 KiB or more; stay well below. */
export const MAX_BODY_BYTES = 48 * 1024;

/** FTL adds rows one by one (tens of ms each on a busy Pi): a batch of thousands takes minutes, not seconds. */
export const BATCH_TIMEOUT_MS = 10 * 60_000;

/** Resolves a group name to this Pi-hole's id (a placeholder string in a dry run, for groups not created yet). */
export type GroupIdOf = (name: string) => number | string;

const enc = encodeURIComponent;

/** Splits `values` into runs whose JSON, wrapped by `wrap`, stays under MAX_BODY_BYTES. */
function chunk<T>(values: T[], wrap: (part: T[]) => unknown): unknown[] {
  const bodies: unknown[] = [];
  let part: T[] = [];
  let bytes = 0;
  for (const value of values) {
    const size = JSON.stringify(value).length + 1;
    if (part.length > 0 && bytes + size > MAX_BODY_BYTES) {
      bodies.push(wrap(part));
      part = [];
      bytes = 0;
    }
    part.push(value);
    bytes += size;
  }
  if (part.length > 0) bodies.push(wrap(part));
  return bodies;
}

/** Groups rows that share every attribute but their key, so one POST can create them all. */
function batches<T>(rows: T[], attrs: (row: T) => unknown): T[][] {
  const out = new Map<string, T[]>();
  for (const row of rows) {
    const k = JSON.stringify(attrs(row));
    const run = out.get(k);
    if (run) run.push(row);
    else out.set(k, [row]);
  }
  return [...out.values()];
}

function nested(config: Record<string, unknown>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const parts = key.split(".");
    let node = root;
    for (const part of parts.slice(0, -1)) {
      if (!node[part] || typeof node[part] !== "object") node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1] as string] = value;
  }
  return root;
}

export function renderPiholeRequests(step: PiholeStep, groupId: GroupIdOf): PiholeRequest[] {
  const ids = (names: string[]) => names.map(groupId);
  switch (step.do) {
    case "patchConfig":
      return [{ method: "PATCH", path: "/config", body: { config: nested(step.config) }, timeoutMs: 60_000 }];
    case "update":
      switch (step.item) {
        case "groups": {
          const g = step.row as PiholeGroup;
          return [{ method: "PUT", path: `/groups/${enc(g.name)}`, body: g }];
        }
        case "lists": {
          const l = step.row as PiholeList;
          return [
            {
              method: "PUT",
              path: `/lists/${enc(l.address)}?type=${l.type}`,
              body: { comment: l.comment, enabled: l.enabled, groups: ids(l.groups) },
            },
          ];
        }
        case "domains": {
          const d = step.row as PiholeDomain;
          return [
            {
              method: "PUT",
              path: `/domains/${d.type}/${d.kind}/${enc(d.domain)}`,
              body: { comment: d.comment, enabled: d.enabled, groups: ids(d.groups) },
            },
          ];
        }
        case "clients": {
          const c = step.row as PiholeClient;
          return [
            {
              method: "PUT",
              path: `/clients/${enc(c.client)}`,
              body: { comment: c.comment, groups: ids(c.groups) },
            },
          ];
        }
      }
      break;
    case "delete": {
      const items = step.rows.map((row): Record<string, string> => {
        switch (step.item) {
          case "groups":
            return { item: (row as PiholeGroup).name };
          case "lists":
            return { item: (row as PiholeList).address, type: (row as PiholeList).type };
          case "domains":
            return {
              item: (row as PiholeDomain).domain,
              type: (row as PiholeDomain).type,
              kind: (row as PiholeDomain).kind,
            };
          default:
            return { item: (row as PiholeClient).client };
        }
      });
      return chunk(items, (part) => part).map((body) => ({
        method: "POST" as const,
        path: `/${step.item}:batchDelete`,
        body,
        timeoutMs: BATCH_TIMEOUT_MS,
      }));
    }
    case "create": {
      const out: PiholeRequest[] = [];
      switch (step.item) {
        case "groups":
          for (const run of batches(step.rows as PiholeGroup[], (g) => [g.comment, g.enabled]))
            for (const body of chunk(
              run.map((g) => g.name),
              (name) => ({ name, comment: run[0]?.comment ?? null, enabled: run[0]?.enabled ?? true }),
            ))
              out.push({ method: "POST", path: "/groups", body, timeoutMs: BATCH_TIMEOUT_MS });
          break;
        case "lists":
          for (const run of batches(step.rows as PiholeList[], (l) => [
            l.type,
            l.comment,
            l.enabled,
            l.groups,
          ])) {
            const first = run[0] as PiholeList;
            for (const body of chunk(
              run.map((l) => l.address),
              (address) => ({
                address,
                comment: first.comment,
                enabled: first.enabled,
                groups: ids(first.groups),
              }),
            ))
              out.push({
                method: "POST",
                path: `/lists?type=${first.type}`,
                body,
                timeoutMs: BATCH_TIMEOUT_MS,
              });
          }
          break;
        case "domains":
          for (const run of batches(step.rows as PiholeDomain[], (d) => [
            d.type,
            d.kind,
            d.comment,
            d.enabled,
            d.groups,
          ])) {
            const first = run[0] as PiholeDomain;
            for (const body of chunk(
              run.map((d) => d.domain),
              (domain) => ({
                domain,
                comment: first.comment,
                enabled: first.enabled,
                groups: ids(first.groups),
              }),
            ))
              out.push({
                method: "POST",
                path: `/domains/${first.type}/${first.kind}`,
                body,
                timeoutMs: BATCH_TIMEOUT_MS,
              });
          }
          break;
        case "clients":
          for (const run of batches(step.rows as PiholeClient[], (c) => [c.comment, c.groups])) {
            const first = run[0] as PiholeClient;
            for (const body of chunk(
              run.map((c) => c.client),
              (client) => ({ client, comment: first.comment, groups: ids(first.groups) }),
            ))
              out.push({ method: "POST", path: "/clients", body, timeoutMs: BATCH_TIMEOUT_MS });
          }
          break;
      }
      return out;
    }
  }
  return [];
}
