// Share vocabulary: kinds, member roles and per-share policies, as the hub stores and the agent reads them.
import { z } from "zod";
import { PiholeItemsSchema } from "./pihole-items.ts";

export const SHARE_KINDS = ["folder", "pihole"] as const;
export const ROLES = ["source", "replica", "peer"] as const;
export const DELETE_POLICIES = ["propagate", "keep"] as const;
export const CONFLICT_POLICIES = ["keep-both", "newest-wins"] as const;
/**
 * Where a share's blocks live on the hub: `full` keeps every current block (a new replica bootstraps while the
 * source is offline); `relay` keeps a block only until every member that needs it acknowledged it, and asks a
 * member that holds it to upload it again when a newcomer needs one it dropped.
 */
export const STORAGE_POLICIES = ["full", "relay"] as const;

export type ShareKind = (typeof SHARE_KINDS)[number];
export type Role = (typeof ROLES)[number];
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];
export type StoragePolicy = (typeof STORAGE_POLICIES)[number];

export const ShareNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "use 1-63 lowercase letters, digits, '.', '_' or '-'");

export const ShareGrantSchema = z.strictObject({ name: ShareNameSchema, role: z.enum(ROLES) });
export type ShareGrant = z.infer<typeof ShareGrantSchema>;

export const SharePolicySchema = z.strictObject({
  kind: z.enum(SHARE_KINDS),
  deletes: z.enum(DELETE_POLICIES),
  conflicts: z.enum(CONFLICT_POLICIES),
  /** Hub block storage (`full` when absent). Not in a device's config answer: agents that predate it parse that strictly. */
  storage: z.enum(STORAGE_POLICIES).optional(),
  /** A Pi-hole share's items and config keys; every member syncs exactly these. */
  pihole: PiholeItemsSchema.optional(),
});
export type SharePolicy = z.infer<typeof SharePolicySchema>;

export const DeviceShareSchema = SharePolicySchema.extend({
  name: ShareNameSchema,
  role: z.enum(ROLES),
  /** The share's head sequence and this member's cursor, as the hub sees them. */
  head: z.number().int().optional(),
  cursor: z.number().int().optional(),
  /** How far this member is behind the head in files and bytes, where the hub reports it. */
  lagFiles: z.number().int().min(0).optional(),
  lagBytes: z.number().int().min(0).optional(),
  /** The error this member last told the hub about, if it has not told it that it recovered. */
  lastError: z.string().nullable().optional(),
});
export type DeviceShare = z.infer<typeof DeviceShareSchema>;

/** Parses "NAME:ROLE" as typed on the command line. */
export function parseShareGrant(text: string): ShareGrant | undefined {
  const [name, role, ...rest] = text.split(":");
  const parsed = ShareGrantSchema.safeParse({ name, role });
  return rest.length === 0 && parsed.success ? parsed.data : undefined;
}
