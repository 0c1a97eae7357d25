// The `pihole:` block of a Pi-hole share in agent.yaml: which local API, which credential, what is synced.
import { z } from "zod";
import { PiholeConfigKeysSchema, PiholeSyncSchema } from "../../../shared/protocol/pihole-items.ts";

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
    /** What is synced: set on the hub per share; here only where a kind runs without one (its tests). */
    sync: PiholeSyncSchema,
    config: PiholeConfigKeysSchema,
    /** Minutes between safety-net API polls on top of watching configDir. */
    pollMinutes: z.number().min(0.05).max(1440).default(5),
  })
  .refine((s) => !(s.password && s.passwordFile), {
    message: "give password or passwordFile, not both",
    path: ["passwordFile"],
  });
export type PiholeShareSettings = z.infer<typeof PiholeShareSettingsSchema>;
