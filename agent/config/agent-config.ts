// agent.yaml: the hub, this device's identity, and per share its root, role and sync settings.
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { z } from "zod";
import { describeZodError, FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { DELETE_POLICIES, ROLES, type SHARE_KINDS, ShareNameSchema } from "../../shared/protocol/shares.ts";
import { type OnApply, OnApplySchema } from "../hooks/on-apply-setting.ts";

export const CONFIG_FILE = "agent.yaml";

const SyncSettingsSchema = z.strictObject({
  debounceMs: z.number().int().min(0).max(60_000).optional(),
  maxDebounceMs: z.number().int().min(0).max(600_000).optional(),
  rescanMinutes: z.number().min(0).max(10_080).optional(),
  retentionDays: z.number().min(0).max(3650).optional(),
  ignore: z.array(z.string()).optional(),
  dryRun: z.boolean().optional(),
  /** Replicate setuid, setgid and sticky bits too (off: replicas apply permission bits only, 0o777). */
  specialModeBits: z.boolean().optional(),
});

const ShareBaseSchema = SyncSettingsSchema.extend({
  role: z.enum(ROLES),
  /** A command run after each applied instruction that changed something (this device's own config only). */
  onApply: OnApplySchema.optional(),
  deletes: z.enum(DELETE_POLICIES).default("propagate"),
});

/** A share's config is a union on `kind`; each kind's own block (`pihole:`) is checked by that kind. */
const ShareConfigSchema = z.preprocess(
  (raw) => (raw && typeof raw === "object" && !("kind" in raw) ? { ...raw, kind: "folder" } : raw),
  z.discriminatedUnion("kind", [
    ShareBaseSchema.extend({ kind: z.literal("folder"), path: z.string() }),
    ShareBaseSchema.extend({
      kind: z.literal("pihole"),
      path: z.string().default(""),
      pihole: z.record(z.string(), z.unknown()).default({}),
    }),
  ]),
);

export const AgentConfigSchema = z.strictObject({
  hub: z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL, e.g. http://hub.lan:8787" }),
  hubId: z.string().min(1),
  deviceId: z.string().min(1),
  name: z.string().min(1),
  defaults: SyncSettingsSchema.default({}),
  log: z
    .strictObject({
      level: z.enum(["debug", "info", "warn", "error"]).default("info"),
      destination: z.string().default("stdout"),
      /** Unset or auto: text on a terminal or under journald, JSON lines elsewhere. */
      format: z.enum(["auto", "text", "json"]).optional(),
    })
    .default({ level: "info", destination: "stdout" }),
  shares: z.record(ShareNameSchema, ShareConfigSchema).default({}),
});
export type AgentConfig = z.infer<typeof AgentConfigSchema>;

export type ResolvedShare = {
  name: string;
  path: string;
  role: (typeof ROLES)[number];
  kind: (typeof SHARE_KINDS)[number];
  deletes: (typeof DELETE_POLICIES)[number];
  debounceMs: number;
  maxDebounceMs: number;
  rescanMinutes: number;
  retentionDays: number;
  ignore: string[];
  dryRun: boolean;
  specialModeBits: boolean;
  /** The kind's own settings block (`pihole:` for a Pi-hole share), checked by the kind when it is created. */
  settings?: Record<string, unknown>;
  onApply?: OnApply;
};

export const SHARE_DEFAULTS = {
  debounceMs: 200,
  maxDebounceMs: 2000,
  rescanMinutes: 60,
  retentionDays: 30,
  ignore: [] as string[],
  dryRun: false,
  specialModeBits: false,
};

/** Each share's settings: its own, else the `defaults:` section, else the built-in default. */
export function resolveShares(config: AgentConfig): ResolvedShare[] {
  return Object.entries(config.shares).map(([name, share]) => ({
    name,
    path: share.path,
    role: share.role,
    kind: share.kind,
    deletes: share.deletes,
    debounceMs: share.debounceMs ?? config.defaults.debounceMs ?? SHARE_DEFAULTS.debounceMs,
    maxDebounceMs: share.maxDebounceMs ?? config.defaults.maxDebounceMs ?? SHARE_DEFAULTS.maxDebounceMs,
    rescanMinutes: share.rescanMinutes ?? config.defaults.rescanMinutes ?? SHARE_DEFAULTS.rescanMinutes,
    retentionDays: share.retentionDays ?? config.defaults.retentionDays ?? SHARE_DEFAULTS.retentionDays,
    ignore: [...(config.defaults.ignore ?? []), ...(share.ignore ?? [])],
    dryRun: share.dryRun ?? config.defaults.dryRun ?? SHARE_DEFAULTS.dryRun,
    specialModeBits:
      share.specialModeBits ?? config.defaults.specialModeBits ?? SHARE_DEFAULTS.specialModeBits,
    ...(share.kind === "pihole" ? { settings: share.pihole } : {}),
    ...(share.onApply ? { onApply: share.onApply } : {}),
  }));
}

const CONFIG_FIX = "fix the file, or re-enroll with a new token: fleetsync agent enroll --force --help";

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}

export function parseAgentConfig(text: string, source: string): AgentConfig {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    throw new FleetsyncError(
      "invalid",
      `${source} is not valid YAML: ${firstLine((error as Error).message)}; ${CONFIG_FIX}`,
      { cause: error },
    );
  }
  const parsed = AgentConfigSchema.safeParse(raw);
  if (!parsed.success)
    throw new FleetsyncError("invalid", `${describeZodError(parsed.error, source)}; ${CONFIG_FIX}`);
  return parsed.data;
}

export async function loadAgentConfig(stateDir: string): Promise<AgentConfig> {
  const file = join(stateDir, CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new FleetsyncError(
      "not_found",
      `cannot read ${file} (${(error as NodeJS.ErrnoException).code}); enroll first: fleetsync agent enroll --help`,
    );
  }
  return parseAgentConfig(text, file);
}

export async function saveAgentConfig(stateDir: string, config: AgentConfig): Promise<void> {
  const file = join(stateDir, CONFIG_FILE);
  await writeFile(`${file}.tmp`, stringify(config), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}
