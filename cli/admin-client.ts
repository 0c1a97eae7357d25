// Finds the hub and admin token (flags, env, or the hub's data dir) and calls the admin API.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { readHubError } from "../agent/hub/hub-client.ts";
import { FleetsyncError } from "../shared/errors/fleetsync-error.ts";
import { UsageError } from "./cli-error.ts";

export type AdminFlags = { hub?: string; "admin-token"?: string; data?: string };
export const ADMIN_OPTIONS = {
  hub: { type: "string" },
  "admin-token": { type: "string" },
  data: { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

export const HUB_INFO_FILE = "hub.json";

export async function resolveAdmin(flags: AdminFlags, env: NodeJS.ProcessEnv) {
  let hub = flags.hub ?? env.FLEETSYNC_HUB;
  let token = flags["admin-token"] ?? env.FLEETSYNC_ADMIN_TOKEN;
  const dataDir = flags.data ?? (hub && token ? undefined : "./data");
  if (dataDir && !token)
    token = (await readFile(join(dataDir, "admin.token"), "utf8").catch(() => "")).trim() || undefined;
  if (dataDir && !hub) {
    const info = await readFile(join(dataDir, HUB_INFO_FILE), "utf8").catch(() => "");
    hub = info ? (JSON.parse(info) as { url?: string }).url : undefined;
  }
  if (!hub)
    throw new UsageError("no hub given: use --hub URL, FLEETSYNC_HUB, or --data DIR on the hub's machine");
  if (!/^https?:\/\/[^/]/.test(hub) || !URL.canParse(hub))
    throw new UsageError(
      /^[a-z][a-z0-9+.-]*:\/\//i.test(hub)
        ? `--hub ${hub} is not an http(s) URL; e.g. --hub http://hub.lan:8787 (or https:// for a hub with --tls-cert)`
        : `--hub ${hub} is not an http(s) URL (no scheme); use --hub http://${hub} (or https://${hub} for a hub with --tls-cert)`,
    );
  if (!token)
    throw new UsageError(
      "no admin token: use --admin-token, FLEETSYNC_ADMIN_TOKEN, or --data DIR on the hub's machine",
    );
  return { hub, token };
}

export async function adminRequest(
  admin: { hub: string; token: string },
  method: string,
  path: string,
  body?: unknown,
) {
  let response: Response;
  try {
    response = await fetch(new URL(path, admin.hub), {
      method,
      headers: {
        authorization: `Bearer ${admin.token}`,
        ...(body ? { "content-type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new FleetsyncError("unavailable", `hub ${admin.hub} is unreachable (${reason}); is it running?`);
  }
  if (!response.ok) throw await readHubError(response, `${method} ${path}`);
  return (await response.json()) as unknown;
}
