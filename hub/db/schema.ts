// The hub's tables (drizzle, SQLite dialect): one schema for embedded libSQL, remote libSQL and D1.
import { sql } from "drizzle-orm";
import { customType, index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** Block bytes as a Uint8Array on every driver (libSQL hands back ArrayBuffer, D1 may hand back number[]). */
const bytes = customType<{ data: Uint8Array; driverData: Uint8Array | ArrayBuffer | number[] }>({
  dataType: () => "blob",
  toDriver: (value) => value,
  fromDriver: (value) => (value instanceof Uint8Array ? value : new Uint8Array(value as ArrayBuffer)),
});

export const hubSettings = sqliteTable("hub_settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

export const hubKeys = sqliteTable("hub_keys", {
  kid: text("kid").primaryKey(),
  privateJwk: text("private_jwk").notNull(),
  publicJwk: text("public_jwk").notNull(),
  createdAt: integer("created_at").notNull(),
  retiredAt: integer("retired_at"),
});

export const devices = sqliteTable("devices", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  publicJwk: text("public_jwk").notNull(),
  tokenJti: text("token_jti").notNull(),
  createdAt: integer("created_at").notNull(),
  lastSeenAt: integer("last_seen_at"),
  revokedAt: integer("revoked_at"),
  /** `pending` until an admin approves a device enrolled with an approval token; `denied` for good. */
  approval: text("approval", { enum: ["approved", "pending", "denied"] })
    .notNull()
    .default("approved"),
  /** What the agent says it is (`fleetsync-agent/0.1.0` in its User-Agent), for the dashboard. */
  agentVersion: text("agent_version"),
});

export const enrolmentTokens = sqliteTable("enrolment_tokens", {
  jti: text("jti").primaryKey(),
  label: text("label").notNull().default(""),
  shares: text("shares").notNull(),
  createdAt: integer("created_at").notNull(),
  expiresAt: integer("expires_at").notNull(),
  usedAt: integer("used_at"),
  usedBy: text("used_by"),
  revokedAt: integer("revoked_at"),
  /** A device enrolled with this token waits for approval. */
  approval: integer("approval", { mode: "boolean" }).notNull().default(false),
});

export const shares = sqliteTable("shares", {
  name: text("name").primaryKey(),
  kind: text("kind", { enum: ["folder", "pihole"] }).notNull(),
  deletes: text("deletes", { enum: ["propagate", "keep"] }).notNull(),
  conflicts: text("conflicts", { enum: ["keep-both", "newest-wins"] }).notNull(),
  headSeq: integer("head_seq").notNull().default(0),
  createdAt: integer("created_at").notNull(),
  /** A Pi-hole share's items and config keys (JSON of PiholeItems); null for a folder share. */
  piholeItems: text("pihole_items"),
  /** `required`: every device that joins this share waits for approval. */
  approval: text("approval", { enum: ["none", "required"] })
    .notNull()
    .default("none"),
  /** A report held by the mass-delete guard: who sent it, how many deletes of how many live entries, when. */
  heldDeleteDevice: text("held_delete_device"),
  heldDeletes: integer("held_deletes"),
  heldLive: integer("held_live"),
  heldAt: integer("held_at"),
  /** Until when (ms) held-sized reports are let through (`share confirm-delete`). */
  deleteConfirmedUntil: integer("delete_confirmed_until"),
  /** `relay`: blocks are dropped once every receiving member acknowledged them (relay-blocks.ts). */
  storage: text("storage", { enum: ["full", "relay"] })
    .notNull()
    .default("full"),
});

export const members = sqliteTable(
  "members",
  {
    share: text("share")
      .notNull()
      .references(() => shares.name),
    deviceId: text("device_id")
      .notNull()
      .references(() => devices.id),
    role: text("role", { enum: ["source", "replica", "peer"] }).notNull(),
    cursor: integer("cursor").notNull().default(0),
    dryRun: integer("dry_run", { mode: "boolean" }).notNull().default(false),
    dryRunSeq: integer("dry_run_seq").notNull().default(0),
    lastReportAt: integer("last_report_at"),
    lastApplyAt: integer("last_apply_at"),
    lastError: text("last_error"),
    lastErrorAt: integer("last_error_at"),
  },
  (t) => [primaryKey({ columns: [t.share, t.deviceId] }), index("members_by_device").on(t.deviceId)],
);

export const entries = sqliteTable(
  "entries",
  {
    share: text("share").notNull(),
    path: text("path").notNull(),
    seq: integer("seq").notNull(),
    type: text("type", { enum: ["file", "dir", "symlink", "deleted"] }).notNull(),
    size: integer("size").notNull().default(0),
    mode: integer("mode").notNull().default(0),
    mtimeMs: integer("mtime_ms").notNull().default(0),
    blockSize: integer("block_size").notNull(),
    blocks: text("blocks").notNull().default("[]"),
    /** JSON array of each block's length for content-defined chunks; null for fixed blocks of block_size. */
    blockLengths: text("block_lengths"),
    target: text("target"),
    hash: text("hash").notNull().default(""),
    /**
     * JSON `{ baseSeq, base, ops }`: this version's block list as a delta against the file version it replaced
     * (committed at baseSeq, content hash base), when that is much smaller than the list; null otherwise. A replica
     * whose cursor is at or past baseSeq gets the delta instead of the whole list.
     */
    blocksDelta: text("blocks_delta"),
    deviceId: text("device_id").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.share, t.path] }), index("entries_by_share_seq").on(t.share, t.seq)],
);

/**
 * Which share references which block: what a member may download, and what GC keeps. A row stays while a
 * current entry of the share references the block, and for the GC grace period after (instructions in flight).
 */
export const shareBlocks = sqliteTable(
  "share_blocks",
  {
    share: text("share").notNull(),
    hash: text("hash").notNull(),
    /** The last commit (ms) that referenced the block in this share. */
    seenAt: integer("seen_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.share, t.hash] }), index("share_blocks_by_hash").on(t.hash)],
);

/**
 * Re-upload requests of a `relay` share: a receiving member asked for a block the hub had dropped. The block is kept
 * while a row for it stands; the row goes once the hub served the block to that member.
 */
export const relayWants = sqliteTable(
  "relay_wants",
  {
    share: text("share").notNull(),
    hash: text("hash").notNull(),
    /** The member that needs the block. */
    deviceId: text("device_id").notNull(),
    /** When it last asked (ms). */
    askedAt: integer("asked_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.share, t.hash, t.deviceId] }),
    index("relay_wants_by_device").on(t.deviceId),
  ],
);

/** Every device JWT the hub accepted, until it expires: a `jti` seen again is a replay. */
export const deviceJtis = sqliteTable(
  "device_jtis",
  {
    deviceId: text("device_id").notNull(),
    jti: text("jti").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.deviceId, t.jti] }), index("device_jtis_by_expiry").on(t.expiresAt)],
);

export const blocks = sqliteTable("blocks", {
  hash: text("hash").primaryKey(),
  size: integer("size").notNull(),
  data: bytes("data").notNull(),
  createdAt: integer("created_at").notNull(),
});

/** Which blocks an object store (R2 on Workers) holds: the database keeps only this index, never the bytes. */
export const objectBlocks = sqliteTable(
  "object_blocks",
  {
    hash: text("hash").primaryKey(),
    size: integer("size").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("object_blocks_by_created").on(t.createdAt)],
);

/**
 * Where each block lives in the Node hub's pack files (DATA/packs/<pack>.pack): a row is written only once its
 * bytes are durable, so the index never claims a block that is not there.
 */
export const packBlocks = sqliteTable(
  "pack_blocks",
  {
    hash: text("hash").primaryKey(),
    pack: integer("pack").notNull(),
    offset: integer("offset").notNull(),
    size: integer("size").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("pack_blocks_by_pack").on(t.pack, t.offset), index("pack_blocks_by_created").on(t.createdAt)],
);

export const instructions = sqliteTable(
  "instructions",
  {
    id: text("id").primaryKey(),
    deviceId: text("device_id").notNull(),
    share: text("share").notNull(),
    fromSeq: integer("from_seq").notNull(),
    toSeq: integer("to_seq").notNull(),
    jws: text("jws").notNull(),
    opCount: integer("op_count").notNull(),
    bytes: integer("bytes").notNull(),
    status: text("status", { enum: ["pending", "acked", "superseded"] }).notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    ackedAt: integer("acked_at"),
  },
  (t) => [index("instructions_pending_by_device").on(t.deviceId, t.status)],
);

export const syncRuns = sqliteTable(
  "sync_runs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    share: text("share").notNull(),
    deviceId: text("device_id").notNull(),
    kind: text("kind", { enum: ["report", "apply", "dry-run"] }).notNull(),
    fromSeq: integer("from_seq").notNull(),
    toSeq: integer("to_seq").notNull(),
    files: integer("files").notNull().default(0),
    bytes: integer("bytes").notNull().default(0),
    result: text("result", { enum: ["ok", "partial", "failed"] }).notNull(),
    error: text("error"),
    at: integer("at").notNull(),
  },
  (t) => [index("sync_runs_by_share").on(t.share, t.at), index("sync_runs_by_device").on(t.deviceId, t.at)],
);

export const syncOps = sqliteTable(
  "sync_ops",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    runId: integer("run_id").notNull(),
    seq: integer("seq").notNull(),
    path: text("path").notNull(),
    action: text("action").notNull(),
    bytes: integer("bytes").notNull().default(0),
    ok: integer("ok", { mode: "boolean" }).notNull(),
    error: text("error"),
  },
  (t) => [index("sync_ops_by_run").on(t.runId)],
);

export const auditEvents = sqliteTable(
  "audit_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    at: integer("at").notNull(),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    target: text("target").notNull(),
    detail: text("detail").notNull().default(sql`'{}'`),
  },
  (t) => [index("audit_by_time").on(t.at)],
);

/** Read-only tokens for scrapers (`token create --metrics`), stored as hashes only. */
export const accessTokens = sqliteTable("access_tokens", {
  id: text("id").primaryKey(),
  kind: text("kind", { enum: ["metrics"] }).notNull(),
  hash: text("hash").notNull().unique(),
  label: text("label").notNull().default(""),
  createdAt: integer("created_at").notNull(),
  revokedAt: integer("revoked_at"),
});

/** Dashboard logins: the cookie carries the id (signed); the hub keeps its hash and expiry. */
export const dashboardSessions = sqliteTable("dashboard_sessions", {
  idHash: text("id_hash").primaryKey(),
  createdAt: integer("created_at").notNull(),
  expiresAt: integer("expires_at").notNull(),
});

/** Webhooks the hub calls on error, offline, conflict and recovered events. */
export const alerts = sqliteTable("alerts", {
  id: text("id").primaryKey(),
  url: text("url").notNull(),
  events: text("events").notNull(),
  offlineAfterMs: integer("offline_after_ms").notNull(),
  createdAt: integer("created_at").notNull(),
});

/** What each alert last said about a subject (a member's errors, a device being offline), so it fires once. */
export const alertStates = sqliteTable(
  "alert_states",
  {
    alertId: text("alert_id").notNull(),
    subject: text("subject").notNull(),
    status: text("status", { enum: ["error", "offline"] }).notNull(),
    since: integer("since").notNull(),
  },
  (t) => [primaryKey({ columns: [t.alertId, t.subject] })],
);
