// The canonical documents a Pi-hole share syncs: groups by name, no ids/timestamps/counters, stable order.
import { z } from "zod";
import type { PiholeSyncItem } from "../../../shared/protocol/pihole-items.ts";

const Comment = z.string().nullable();
const GroupNames = z.array(z.string());

export const PiholeGroupSchema = z.strictObject({
  name: z.string().min(1),
  comment: Comment,
  enabled: z.boolean(),
});
export const PiholeListSchema = z.strictObject({
  address: z.string().min(1),
  type: z.enum(["allow", "block"]),
  comment: Comment,
  enabled: z.boolean(),
  groups: GroupNames,
});
export const PiholeDomainSchema = z.strictObject({
  domain: z.string().min(1),
  type: z.enum(["allow", "deny"]),
  kind: z.enum(["exact", "regex"]),
  comment: Comment,
  enabled: z.boolean(),
  groups: GroupNames,
});
export const PiholeClientSchema = z.strictObject({
  client: z.string().min(1),
  comment: Comment,
  groups: GroupNames,
});

export type PiholeGroup = z.infer<typeof PiholeGroupSchema>;
export type PiholeList = z.infer<typeof PiholeListSchema>;
export type PiholeDomain = z.infer<typeof PiholeDomainSchema>;
export type PiholeClient = z.infer<typeof PiholeClientSchema>;

/** Everything a share may sync, as plain data; an absent member is not synced. */
export type PiholeState = {
  groups?: PiholeGroup[];
  lists?: PiholeList[];
  domains?: PiholeDomain[];
  clients?: PiholeClient[];
  hosts?: string[];
  cnameRecords?: string[];
  /** Further pihole.toml keys by dotted name. */
  config?: Record<string, unknown>;
};
export type PiholeDocumentName = keyof PiholeState;

const DOCUMENT_SCHEMAS = {
  groups: z.array(PiholeGroupSchema),
  lists: z.array(PiholeListSchema),
  domains: z.array(PiholeDomainSchema),
  clients: z.array(PiholeClientSchema),
  hosts: z.array(z.string()),
  cnameRecords: z.array(z.string()),
  config: z.record(z.string(), z.unknown()),
} as const;

/** The virtual file each document travels as. */
export const DOCUMENT_FILES: Record<PiholeDocumentName, string> = {
  groups: "groups.json",
  lists: "lists.json",
  domains: "domains.json",
  clients: "clients.json",
  hosts: "dns-hosts.json",
  cnameRecords: "dns-cnames.json",
  config: "config.json",
};

export const DOCUMENT_BY_ITEM: Record<PiholeSyncItem, PiholeDocumentName> = {
  groups: "groups",
  lists: "lists",
  domains: "domains",
  clients: "clients",
  "dns.hosts": "hosts",
  "dns.cnameRecords": "cnameRecords",
};

export function documentOfFile(path: string): PiholeDocumentName | undefined {
  return (Object.keys(DOCUMENT_FILES) as PiholeDocumentName[]).find((name) => DOCUMENT_FILES[name] === path);
}

const FORMAT = "fleetsync.pihole/1";

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, (v as Record<string, unknown>)[k]]),
        )
      : v,
  );
}

/** The bytes of one document: stable key order, one item per line so diffs of the file stay readable. */
export function encodeDocument(name: PiholeDocumentName, items: unknown): Uint8Array {
  const body = Array.isArray(items)
    ? `[\n${items.map((item) => `  ${stableJson(item)}`).join(",\n")}\n]`
    : stableJson(items);
  return new TextEncoder().encode(`{"format":"${FORMAT}","document":"${name}","items":${body}}\n`);
}

/** Parses a document's bytes; a precise message on anything else. */
export function decodeDocument(
  name: PiholeDocumentName,
  bytes: Uint8Array,
): { ok: true; items: NonNullable<PiholeState[PiholeDocumentName]> } | { ok: false; reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    return { ok: false, reason: `${DOCUMENT_FILES[name]} is not JSON (${(error as Error).message})` };
  }
  const parsed = z
    .strictObject({ format: z.literal(FORMAT), document: z.literal(name), items: DOCUMENT_SCHEMAS[name] })
    .safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: `${DOCUMENT_FILES[name]} is not a ${FORMAT} ${name} document: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`,
    };
  }
  return { ok: true, items: parsed.data.items as NonNullable<PiholeState[PiholeDocumentName]> };
}

const byKey =
  <T>(key: (item: T) => string) =>
  (a: T, b: T) =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;

export const groupKey = (g: PiholeGroup) => g.name;
export const listKey = (l: PiholeList) => `${l.type} ${l.address}`;
export const domainKey = (d: PiholeDomain) => `${d.type} ${d.kind} ${d.domain}`;
export const clientKey = (c: PiholeClient) => c.client;

const normalizeComment = (comment: string | null | undefined) => (comment ? comment : null);
const sortedUnique = (values: string[]) => [...new Set(values)].sort();

/** Sorts and normalizes a state so two equal configurations encode to equal bytes. */
export function canonicalizeState(state: PiholeState): PiholeState {
  const out: PiholeState = {};
  if (state.groups)
    out.groups = state.groups
      .map((g) => ({ name: g.name, comment: normalizeComment(g.comment), enabled: g.enabled }))
      .sort(byKey(groupKey));
  if (state.lists)
    out.lists = state.lists
      .map((l) => ({
        address: l.address,
        type: l.type,
        comment: normalizeComment(l.comment),
        enabled: l.enabled,
        groups: sortedUnique(l.groups),
      }))
      .sort(byKey(listKey));
  if (state.domains)
    out.domains = state.domains
      .map((d) => ({
        domain: d.domain,
        type: d.type,
        kind: d.kind,
        comment: normalizeComment(d.comment),
        enabled: d.enabled,
        groups: sortedUnique(d.groups),
      }))
      .sort(byKey(domainKey));
  if (state.clients)
    out.clients = state.clients
      .map((c) => ({
        client: c.client,
        comment: normalizeComment(c.comment),
        groups: sortedUnique(c.groups),
      }))
      .sort(byKey(clientKey));
  if (state.hosts) out.hosts = sortedUnique(state.hosts.map((h) => h.trim().replace(/\s+/g, " ")));
  if (state.cnameRecords) out.cnameRecords = sortedUnique(state.cnameRecords.map((c) => c.trim()));
  if (state.config) out.config = { ...state.config };
  return out;
}
