// What a Pi-hole share syncs: its items and further pihole.toml keys, set on the hub per share and read by every member.
import { z } from "zod";

export const PIHOLE_SYNC_ITEMS = [
  "groups",
  "lists",
  "domains",
  "clients",
  "dns.hosts",
  "dns.cnameRecords",
] as const;
export type PiholeSyncItem = (typeof PIHOLE_SYNC_ITEMS)[number];

/** Keys no share ever copies: host-specific, secret, or owned by the web server. Matched as prefixes. */
const REFUSED_KEY_PREFIXES = ["webserver", "files", "dns.interface", "dhcp.leaseFile", "dhcp.leases"];

/** Why a config key may not be synced, or undefined when it may. */
export function refusalOfConfigKey(key: string): string | undefined {
  const lower = key.toLowerCase();
  if (!/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/.test(key))
    return "is not a dotted pihole.toml key such as dns.queryLogging";
  if (/password|pwhash|totp|secret/.test(lower))
    return "is a password, hash or secret and never leaves its Pi-hole";
  for (const prefix of REFUSED_KEY_PREFIXES) {
    if (key === prefix || key.startsWith(`${prefix}.`) || prefix.startsWith(`${key}.`))
      return `is host-specific (${prefix}) and never copied between Pi-holes`;
  }
  if (key === "dns.hosts" || key === "dns.cnameRecords")
    return "is a sync item: list it under sync, not config";
  return undefined;
}

const syncList = z
  .array(z.enum(PIHOLE_SYNC_ITEMS, { error: `use some of ${PIHOLE_SYNC_ITEMS.join(", ")}` }))
  .min(1, "name at least one item")
  .transform((items) => [...new Set(items)]);

/** Further pihole.toml keys (dotted); `dns.upstreams` is synced only when named here. */
const configKeyList = z
  .array(z.string())
  .max(100)
  .superRefine((keys, ctx) => {
    keys.forEach((key, i) => {
      const refusal = refusalOfConfigKey(key);
      if (refusal) ctx.addIssue({ code: "custom", path: [i], message: `config key "${key}" ${refusal}` });
    });
  })
  .transform((keys) => [...new Set(keys)].sort());

export const PiholeSyncSchema = syncList.default([...PIHOLE_SYNC_ITEMS]);
export const PiholeConfigKeysSchema = configKeyList.default([]);

/** The share-wide choice of what is synced (`share create --kind pihole --pihole-sync … --pihole-config …`). */
export const PiholeItemsSchema = z.strictObject({ sync: PiholeSyncSchema, config: PiholeConfigKeysSchema });
export type PiholeItems = z.infer<typeof PiholeItemsSchema>;

/** A change of either list (`share set NAME --pihole-sync … | --pihole-config …`); what is absent stays. */
export const PiholeItemsChangeSchema = z
  .strictObject({ sync: syncList.optional(), config: configKeyList.optional() })
  .refine((change) => change.sync !== undefined || change.config !== undefined, {
    message: "name the items (sync) or the config keys (config) to set",
  });

/** Splits a comma-separated command-line list ("groups, lists") into its non-empty parts. */
export function splitList(text: string): string[] {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}
