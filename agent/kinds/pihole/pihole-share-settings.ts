// The `pihole:` block of a Pi-hole share in agent.yaml: which local API, which credential, what is synced.
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

/** True when `url` is http(s) on a loopback address: the agent only ever talks to the Pi-hole on its own host. */
export function isLoopbackUrl(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

export const PiholeShareSettingsSchema = z
  .strictObject({
    /** The local API, e.g. http://127.0.0.1:80 (the `/api` suffix is optional). */
    url: z
      .string()
      .default("http://127.0.0.1:80")
      .transform((value, ctx) => {
        let url: URL;
        try {
          url = new URL(value);
        } catch {
          ctx.addIssue({ code: "custom", message: `"${value}" is not a URL; use e.g. http://127.0.0.1:80` });
          return z.NEVER;
        }
        if (url.protocol !== "http:" && url.protocol !== "https:") {
          ctx.addIssue({ code: "custom", message: `"${value}" must be http:// or https://` });
          return z.NEVER;
        }
        if (!isLoopbackUrl(url)) {
          ctx.addIssue({
            code: "custom",
            message: `"${value}" is not on loopback: the agent talks only to the Pi-hole on its own host (127.0.0.1 or ::1), so no Pi-hole password crosses the network`,
          });
          return z.NEVER;
        }
        return `${url.origin}${url.pathname.replace(/\/+$/, "").replace(/\/api$/, "")}`;
      }),
    /** The web or app password; prefer passwordFile. Omit both for a Pi-hole without a password. */
    password: z.string().min(1).optional(),
    passwordFile: z.string().min(1).optional(),
    /** FTL's directory (pihole.toml, gravity.db), watched for changes. */
    configDir: z.string().min(1).default("/etc/pihole"),
    sync: z
      .array(z.enum(PIHOLE_SYNC_ITEMS))
      .min(1)
      .default([...PIHOLE_SYNC_ITEMS])
      .transform((items) => [...new Set(items)]),
    /** Further pihole.toml keys (dotted); `dns.upstreams` is synced only when named here. */
    config: z
      .array(z.string())
      .default([])
      .superRefine((keys, ctx) => {
        keys.forEach((key, i) => {
          const refusal = refusalOfConfigKey(key);
          if (refusal) ctx.addIssue({ code: "custom", path: [i], message: `config key "${key}" ${refusal}` });
        });
      })
      .transform((keys) => [...new Set(keys)].sort()),
    /** Minutes between safety-net API polls on top of watching configDir. */
    pollMinutes: z.number().min(0.05).max(1440).default(5),
  })
  .refine((s) => !(s.password && s.passwordFile), {
    message: "give password or passwordFile, not both",
    path: ["passwordFile"],
  });
export type PiholeShareSettings = z.infer<typeof PiholeShareSettingsSchema>;
