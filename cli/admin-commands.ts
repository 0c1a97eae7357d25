// Admin commands: share, device and token, each a thin call to /v1/admin with a table or --json output.
import { parseArgs } from "node:util";
import { describeZodError } from "../shared/errors/fleetsync-error.ts";
import {
  PIHOLE_SYNC_ITEMS,
  type PiholeItems,
  PiholeItemsChangeSchema,
  splitList,
} from "../shared/protocol/pihole-items.ts";
import {
  CONFLICT_POLICIES,
  DELETE_POLICIES,
  parseShareGrant,
  SHARE_KINDS,
  STORAGE_POLICIES,
} from "../shared/protocol/shares.ts";
import { parseDurationMs } from "../shared/time/parse-duration.ts";
import { ADMIN_OPTIONS, adminRequest, resolveAdmin } from "./admin-client.ts";
import { UsageError } from "./cli-error.ts";
import { formatTable } from "./format-table.ts";

export const ADMIN_FLAGS_HELP = `Finding the hub: --hub URL and --admin-token T, or env FLEETSYNC_HUB and FLEETSYNC_ADMIN_TOKEN,
or --data DIR (default ./data) on the hub's machine. --json prints the hub's answer for scripts.`;

type Row = Record<string, unknown>;
export type Subcommand = { help: string; run(args: string[], env: NodeJS.ProcessEnv): Promise<number> };

/** A byte count for people: 0 B, 15 B, 1.5 KiB, 2.0 GiB. */
function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** "syncs groups, lists; config keys dns.upstreams" for a Pi-hole share's items. */
function formatPiholeItems(items: PiholeItems): string {
  return `syncs ${items.sync.join(", ")}; config keys ${items.config.length > 0 ? items.config.join(", ") : "none"}`;
}

/** The --pihole-sync and --pihole-config flags as the hub takes them, checked here so a typo is named at once. */
function piholeItemsFlags(values: Record<string, unknown>): Partial<PiholeItems> | undefined {
  const change: Record<string, string[]> = {};
  if (typeof values["pihole-sync"] === "string") change.sync = splitList(values["pihole-sync"]);
  if (typeof values["pihole-config"] === "string") change.config = splitList(values["pihole-config"]);
  if (Object.keys(change).length === 0) return undefined;
  const parsed = PiholeItemsChangeSchema.safeParse(change);
  if (!parsed.success) {
    const flag = (path: PropertyKey[]) => (path[0] === "sync" ? "--pihole-sync" : "--pihole-config");
    const issue = parsed.error.issues[0];
    throw new UsageError(
      issue ? `${flag(issue.path)}: ${issue.message}` : describeZodError(parsed.error, "Pi-hole items"),
    );
  }
  return parsed.data;
}

function formatShare(share: Row & { members: Row[]; recentRuns: Row[]; heldDelete: Row | null }): string {
  const lines = [
    `share ${share.name}: ${share.kind}, deletes ${share.deletes}, conflicts ${share.conflicts}, storage ${share.storage ?? "full"}, head ${share.head}, ${share.entries} entries`,
  ];
  if (share.pihole) lines.push(`pihole: ${formatPiholeItems(share.pihole as PiholeItems)}`);
  const held = share.heldDelete;
  if (held) {
    lines.push(
      `held delete: ${held.deletes} entries (of ${held.live}) from device ${held.deviceId}, since ${held.since}; nothing was deleted. If intended, confirm with: ${held.confirm}`,
    );
  }
  const copies = share.conflictCopies as { count: number; paths: string[] } | undefined;
  if (copies && copies.count > 0) {
    lines.push(
      `conflict copies: ${copies.count} (the losing side of concurrent edits; keep what you need and delete the rest): ${copies.paths.join(", ")}${copies.count > copies.paths.length ? ", …" : ""}`,
    );
  }
  if (share.deleteConfirmedUntil)
    lines.push(`mass delete confirmed: mass deletes are let through until ${share.deleteConfirmedUntil}`);
  lines.push(
    "",
    formatTable(
      ["DEVICE", "NAME", "ROLE", "LAST SEEN", "CURSOR", "LAG", "LAST ERROR"],
      share.members.map((m) => [
        m.deviceId as string,
        `${m.name}${m.revoked ? " (revoked)" : ""}`,
        `${m.role}${m.dryRun ? " (dry run)" : ""}`,
        m.lastSeenAt as string | null,
        m.cursor as number,
        `${m.lag} (${m.lagFiles} files, ${formatBytes(Number(m.lagBytes))})`,
        m.lastError ? `${m.lastError}${m.lastErrorAt ? ` (at ${m.lastErrorAt})` : ""}` : null,
      ]),
    ),
  );
  if (share.recentRuns.length > 0) {
    lines.push(
      "",
      "recent runs (newest first):",
      formatTable(
        ["AT", "DEVICE", "KIND", "SEQ", "FILES", "BYTES", "RESULT", "ERROR"],
        share.recentRuns.map((r) => [
          r.at as string,
          r.deviceId as string,
          r.kind as string,
          `${r.fromSeq}..${r.toSeq}`,
          r.files as number,
          formatBytes(Number(r.bytes)),
          r.result as string,
          r.error as string | null,
        ]),
      ),
    );
  }
  return lines.join("\n");
}

export function print(json: boolean, value: unknown, table: () => string) {
  console.log(json ? JSON.stringify(value, null, 2) : table());
}

export function adminCommand(
  help: string,
  extraOptions: Record<
    string,
    { type: "string" | "boolean"; multiple?: boolean; default?: string | boolean }
  >,
  body: (
    admin: { hub: string; token: string },
    values: Record<string, unknown>,
    positionals: string[],
  ) => Promise<number>,
): Subcommand {
  return {
    help,
    async run(args, env) {
      const { values, positionals } = parseArgs({
        args,
        options: { ...ADMIN_OPTIONS, ...extraOptions },
        allowPositionals: true,
      });
      if (values.help) {
        console.log(help);
        return 0;
      }
      const admin = await resolveAdmin(
        values as { hub?: string; "admin-token"?: string; data?: string },
        env,
      );
      return body(admin, values, positionals);
    },
  };
}

function oneOf(flag: string, value: unknown, allowed: readonly string[]): void {
  if (!allowed.includes(value as string))
    throw new UsageError(`--${flag} ${String(value)}: use one of ${allowed.join(", ")}`);
}

export function one(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected exactly one ${what}; see --help`);
  return positionals[0]!;
}

export const SHARE_COMMANDS: Record<string, Subcommand> = {
  create: adminCommand(
    `Usage: fleetsync share create NAME [--kind folder|pihole] [--deletes propagate|keep] [--conflicts keep-both|newest-wins] [--approval none|required]
                              [--storage full|relay] [--pihole-sync ITEMS] [--pihole-config KEYS]

Creates a share. Defaults: --kind folder --deletes propagate --conflicts keep-both --approval none --storage full.
--storage full keeps every current block on the hub, so a new replica bootstraps while the source is offline.
--storage relay keeps a block only until every member that needs it acknowledged it (hub storage ~0 once
synced); a newcomer then waits for a member that holds a block to come online and upload it again.
With --approval required every device that joins it waits for 'fleetsync device approve ID'.
A Pi-hole share (--kind pihole) syncs the comma-separated ITEMS (default all of
${PIHOLE_SYNC_ITEMS.join(",")}) and the further pihole.toml KEYS of --pihole-config
(default none; dns.upstreams only when named). Never synced, and refused: webserver.*, files.*,
passwords and hashes, dns.interface, DHCP leases. Change them later with 'share set'.
${ADMIN_FLAGS_HELP}

Examples:
  npx fleetsync share create configs --deletes keep
  npx fleetsync share create media --storage relay
  npx fleetsync share create dns --kind pihole --pihole-sync groups,lists,domains --pihole-config dns.upstreams`,
    {
      kind: { type: "string", default: "folder" },
      deletes: { type: "string", default: "propagate" },
      conflicts: { type: "string", default: "keep-both" },
      approval: { type: "string", default: "none" },
      storage: { type: "string", default: "full" },
      "pihole-sync": { type: "string" },
      "pihole-config": { type: "string" },
    },
    async (admin, values, positionals) => {
      const name = one(positionals, "share name");
      oneOf("kind", values.kind, SHARE_KINDS);
      oneOf("approval", values.approval, ["none", "required"]);
      oneOf("deletes", values.deletes, DELETE_POLICIES);
      oneOf("conflicts", values.conflicts, CONFLICT_POLICIES);
      oneOf("storage", values.storage, STORAGE_POLICIES);
      const pihole = piholeItemsFlags(values);
      if (pihole && values.kind !== "pihole")
        throw new UsageError(
          "--pihole-sync and --pihole-config belong to a Pi-hole share: add --kind pihole",
        );
      const share = (await adminRequest(admin, "POST", "/v1/admin/shares", {
        name,
        kind: values.kind,
        deletes: values.deletes,
        conflicts: values.conflicts,
        approval: values.approval,
        storage: values.storage,
        ...(pihole ? { pihole } : {}),
      })) as Row;
      print(
        values.json as boolean,
        share,
        () =>
          `share "${name}" created (${values.kind}, deletes ${values.deletes}, conflicts ${values.conflicts}, storage ${values.storage}${values.approval === "required" ? ", approval required" : ""})${share.pihole ? `; it ${formatPiholeItems(share.pihole as PiholeItems)}` : ""}`,
      );
      return 0;
    },
  ),
  set: adminCommand(
    `Usage: fleetsync share set NAME [--pihole-sync ITEMS] [--pihole-config KEYS]

Changes what a Pi-hole share syncs (see share create); what you do not name stays. Its members
read the new choice at their next scan or apply. --pihole-config "" syncs no further keys.
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync share set dns --pihole-config dns.upstreams,dns.queryLogging`,
    { "pihole-sync": { type: "string" }, "pihole-config": { type: "string" } },
    async (admin, values, positionals) => {
      const name = one(positionals, "share name");
      const pihole = piholeItemsFlags(values);
      if (!pihole) throw new UsageError("share set: name --pihole-sync ITEMS or --pihole-config KEYS");
      const answer = (await adminRequest(admin, "PATCH", `/v1/admin/shares/${encodeURIComponent(name)}`, {
        pihole,
      })) as Row & { pihole: PiholeItems };
      print(values.json as boolean, answer, () => `share "${name}" now ${formatPiholeItems(answer.pihole)}`);
      return 0;
    },
  ),
  list: adminCommand(
    `Usage: fleetsync share list [--json]

Lists shares with their kind, policies, head sequence and member count.
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync share list --data ./data`,
    {},
    async (admin, values) => {
      const answer = (await adminRequest(admin, "GET", "/v1/admin/shares")) as { shares: Row[] };
      print(values.json as boolean, answer, () =>
        formatTable(
          ["NAME", "KIND", "DELETES", "CONFLICTS", "HEAD", "MEMBERS"],
          answer.shares.map((s) => [s.name, s.kind, s.deletes, s.conflicts, s.head, s.members] as string[]),
        ),
      );
      return 0;
    },
  ),
  show: adminCommand(
    `Usage: fleetsync share show NAME [--json]

Shows a share: policies, head, a held mass delete if any, per member its role (revoked ones marked),
last seen, cursor, lag (sequence numbers, files, bytes) and last error with its time, and the newest
20 runs (newest first).
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync share show configs`,
    {},
    async (admin, values, positionals) => {
      const name = one(positionals, "share name");
      const share = (await adminRequest(
        admin,
        "GET",
        `/v1/admin/shares/${encodeURIComponent(name)}`,
      )) as Row & {
        members: Row[];
        recentRuns: Row[];
        heldDelete: Row | null;
      };
      print(values.json as boolean, share, () => formatShare(share));
      return 0;
    },
  ),
  delete: adminCommand(
    `Usage: fleetsync share delete NAME --yes

Deletes a share from the hub: its entries, members, instructions and block index. Files on the
machines are not touched; blocks no other share uses go at the next garbage collection. Without
--yes it only says what would be deleted.
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync share delete old-configs --yes`,
    { yes: { type: "boolean", default: false } },
    async (admin, values, positionals) => {
      const name = one(positionals, "share name");
      if (!values.yes) {
        const share = (await adminRequest(
          admin,
          "GET",
          `/v1/admin/shares/${encodeURIComponent(name)}`,
        )) as Row & {
          members: Row[];
        };
        throw new UsageError(
          `share delete ${name} would delete share "${name}" from the hub: ${share.entries} entries, ${share.members.length} members and their pending instructions (files on the machines stay); run it again with --yes`,
        );
      }
      const answer = (await adminRequest(
        admin,
        "DELETE",
        `/v1/admin/shares/${encodeURIComponent(name)}`,
      )) as Row;
      print(
        values.json as boolean,
        answer,
        () =>
          `share "${name}" deleted (${answer.entries} entries, ${answer.members} members); files on the machines are untouched`,
      );
      return 0;
    },
  ),
  "confirm-delete": adminCommand(
    `Usage: fleetsync share confirm-delete NAME

Lets reports of share NAME through that would delete at least half of its entries (a mass delete
the hub held; see share show), for the next 15 minutes: a large delete may arrive in several reports.
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync share confirm-delete configs`,
    {},
    async (admin, values, positionals) => {
      const name = one(positionals, "share name");
      const answer = (await adminRequest(
        admin,
        "POST",
        `/v1/admin/shares/${encodeURIComponent(name)}/confirm-delete`,
      )) as Row;
      print(
        values.json as boolean,
        answer,
        () =>
          `share "${name}": the next mass delete is allowed until ${answer.until}${answer.held ? ` (held: ${answer.held})` : ""}`,
      );
      return 0;
    },
  ),
};

export const DEVICE_COMMANDS: Record<string, Subcommand> = {
  list: adminCommand(
    `Usage: fleetsync device list [--json]

Lists enrolled devices: id, name, state, shares and roles, last seen.
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync device list`,
    {},
    async (admin, values) => {
      const answer = (await adminRequest(admin, "GET", "/v1/admin/devices")) as {
        devices: (Row & { shares: string[] })[];
      };
      print(values.json as boolean, answer, () =>
        formatTable(
          ["ID", "NAME", "STATE", "SHARES", "LAST SEEN"],
          answer.devices.map((d) => [d.id, d.name, d.state, d.shares.join(","), d.lastSeenAt] as string[]),
        ),
      );
      return 0;
    },
  ),
  revoke: adminCommand(
    `Usage: fleetsync device revoke ID

Revokes a device: its next request is refused. Enroll it again with a new token to bring it back.
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync device revoke dev_3f2a9c`,
    {},
    async (admin, values, positionals) => {
      const id = one(positionals, "device id");
      const answer = await adminRequest(admin, "POST", `/v1/admin/devices/${encodeURIComponent(id)}/revoke`);
      print(values.json as boolean, answer, () => `device ${id} revoked`);
      return 0;
    },
  ),
  approve: adminCommand(
    `Usage: fleetsync device approve ID

Lets a device that enrolled with an approval token (or into a share with --approval required) sync.
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync device approve dev_3f2a9c`,
    {},
    async (admin, values, positionals) => {
      const id = one(positionals, "device id");
      const answer = await adminRequest(admin, "POST", `/v1/admin/devices/${encodeURIComponent(id)}/approve`);
      print(
        values.json as boolean,
        answer,
        () => `device ${id} approved; it starts syncing on its next poll`,
      );
      return 0;
    },
  ),
  rename: adminCommand(
    `Usage: fleetsync device rename ID NAME

Changes the name the hub shows for a device (device list, share show).
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync device rename dev_3f2a9c pi-kitchen`,
    {},
    async (admin, values, positionals) => {
      if (positionals.length !== 2) throw new UsageError("expected a device id and a new name; see --help");
      const [id, name] = positionals as [string, string];
      const answer = await adminRequest(admin, "PATCH", `/v1/admin/devices/${encodeURIComponent(id)}`, {
        name,
      });
      print(values.json as boolean, answer, () => `device ${id} is now called ${name}`);
      return 0;
    },
  ),
  remove: adminCommand(
    `Usage: fleetsync device remove ID

Forgets a revoked device: its memberships, pending instructions and token records go; its
history in the op log stays. Revoke it first (fleetsync device revoke ID).
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync device remove dev_3f2a9c`,
    {},
    async (admin, values, positionals) => {
      const id = one(positionals, "device id");
      const answer = (await adminRequest(admin, "DELETE", `/v1/admin/devices/${encodeURIComponent(id)}`)) as {
        shares: string[];
      };
      print(
        values.json as boolean,
        answer,
        () =>
          `device ${id} removed${answer.shares.length > 0 ? ` (was in ${answer.shares.join(", ")})` : ""}; its history stays in the op log`,
      );
      return 0;
    },
  ),
  deny: adminCommand(
    `Usage: fleetsync device deny ID

Refuses a device that is waiting for approval, for good (it would have to enroll again with a new token).
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync device deny dev_3f2a9c`,
    {},
    async (admin, values, positionals) => {
      const id = one(positionals, "device id");
      const answer = await adminRequest(admin, "POST", `/v1/admin/devices/${encodeURIComponent(id)}/deny`);
      print(values.json as boolean, answer, () => `device ${id} denied`);
      return 0;
    },
  ),
};

export const TOKEN_COMMANDS: Record<string, Subcommand> = {
  create: adminCommand(
    `Usage: fleetsync token create --share NAME:ROLE [--share NAME:ROLE ...] [--ttl 24h] [--label TEXT] [--approval] [--command]
       fleetsync token create --metrics [--label TEXT]

Mints a single-use enrolment token. ROLE is source, replica or peer. Prints only the token,
or with --command the whole 'agent enroll' line to paste on the device. With --approval the device
waits after enrolling until 'fleetsync device approve ID'.
With --metrics it mints instead a read-only token for GET /metrics (Prometheus: authorization bearer).
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync token create --share configs:replica --ttl 1h --label pi-kitchen --command`,
    {
      share: { type: "string", multiple: true },
      ttl: { type: "string", default: "24h" },
      label: { type: "string", default: "" },
      command: { type: "boolean", default: false },
      approval: { type: "boolean", default: false },
      metrics: { type: "boolean", default: false },
    },
    async (admin, values) => {
      if (values.metrics) {
        if (values.share) throw new UsageError("--metrics mints a metrics token; it takes no --share");
        const minted = (await adminRequest(admin, "POST", "/v1/admin/metrics-tokens", {
          label: values.label,
        })) as { id: string; token: string };
        print(values.json as boolean, minted, () => minted.token);
        return 0;
      }
      const grants = ((values.share as string[] | undefined) ?? []).map((text) => {
        const grant = parseShareGrant(text);
        if (!grant)
          throw new UsageError(`--share ${text}: expected NAME:ROLE with ROLE source, replica or peer`);
        return grant;
      });
      if (grants.length === 0) throw new UsageError("name at least one --share NAME:ROLE");
      if (parseDurationMs(values.ttl as string) === undefined)
        throw new UsageError(`--ttl ${String(values.ttl)}: use a duration such as 30m, 24h or 7d`);
      const answer = (await adminRequest(admin, "POST", "/v1/admin/tokens", {
        shares: grants,
        ttl: values.ttl,
        label: values.label,
        approval: values.approval,
      })) as { token: string; jti: string; expiresAt: string };
      if (values.json) console.log(JSON.stringify(answer, null, 2));
      else if (values.command) {
        const paths = grants.map((g) => ` --path ${g.name}=/path/to/${g.name}`).join("");
        const host = new URL(admin.hub).hostname;
        if (host === "0.0.0.0" || host === "[::]") {
          process.stderr.write(
            `note: the hub listens on every address (${host}); replace it with one the device can reach\n`,
          );
        }
        console.log(
          `npx fleetsync agent enroll --hub ${admin.hub} --token ${answer.token} --state ./fleetsync-agent${paths}`,
        );
      } else console.log(answer.token);
      return 0;
    },
  ),
  list: adminCommand(
    `Usage: fleetsync token list [--json]

Lists enrolment tokens: id (jti), label, shares, state (unused, used, expired, revoked), expiry;
then metrics tokens (id mt_…, label, state).
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync token list`,
    {},
    async (admin, values) => {
      const answer = (await adminRequest(admin, "GET", "/v1/admin/tokens")) as {
        tokens: (Row & { shares: { name: string; role: string }[] })[];
        metricsTokens?: Row[];
      };
      const metrics = (await adminRequest(admin, "GET", "/v1/admin/metrics-tokens")) as { tokens: Row[] };
      answer.metricsTokens = metrics.tokens;
      const metricsTable = () =>
        metrics.tokens.length === 0
          ? ""
          : `\n\n${formatTable(
              ["ID", "LABEL", "KIND", "STATE", "CREATED"],
              metrics.tokens.map((t) => [t.id, t.label, t.kind, t.state, t.createdAt] as string[]),
            )}`;
      print(
        values.json as boolean,
        answer,
        () =>
          formatTable(
            ["JTI", "LABEL", "SHARES", "STATE", "EXPIRES", "USED BY"],
            answer.tokens.map(
              (t) =>
                [
                  t.jti,
                  t.label,
                  t.shares.map((s) => `${s.name}:${s.role}`).join(","),
                  t.state,
                  t.expiresAt,
                  t.usedBy,
                ] as string[],
            ),
          ) + metricsTable(),
      );
      return 0;
    },
  ),
  revoke: adminCommand(
    `Usage: fleetsync token revoke JTI

Revokes an unused enrolment token so nobody can enroll with it, or a metrics token (id mt_…).
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync token revoke 0b6c3c1e-7d1e-4b8e-9a53-1f0f2c1d9e77`,
    {},
    async (admin, values, positionals) => {
      const jti = one(positionals, "token id");
      const kind = jti.startsWith("mt_") ? "metrics-tokens" : "tokens";
      const answer = await adminRequest(admin, "POST", `/v1/admin/${kind}/${encodeURIComponent(jti)}/revoke`);
      print(values.json as boolean, answer, () => `token ${jti} revoked`);
      return 0;
    },
  ),
};
